/* err: one error type for the whole pair. A function returns 0 or -1 and
 * fills a struct err; the first error set wins. msg is for the log only,
 * never for the client: http_util.c maps the code to a public answer. */
#ifndef JWT_ERR_H
#define JWT_ERR_H

enum err_code {
	ERR_OK = 0,
	ERR_INTERNAL,        /* 500: a bug or an unexpected library failure */
	ERR_NOMEM,           /* 500 */
	ERR_IO,              /* 500: file or database I/O */
	ERR_CONFIG,          /* bad configuration file, flag or environment */
	ERR_KEY,             /* unusable key material */
	ERR_INVALID_REQUEST, /* 400 invalid_request: malformed body/header */
	ERR_INVALID_CREDENTIALS, /* 401 invalid_credentials (login) */
	ERR_INVALID_GRANT,       /* 400 invalid_grant (refresh) */
	ERR_THROTTLED,           /* 429 too many failed attempts */
	ERR_UNAVAILABLE,         /* 503 busy or not ready */
	ERR_NOT_FOUND,           /* 404 */
	ERR_METHOD,              /* 405 */
	ERR_FORBIDDEN,           /* 403 access_denied: no rule allows it */
	ERR_PAYLOAD_TOO_LARGE,   /* 413 */
	/* 401 with WWW-Authenticate: Bearer, no error attribute (RFC 6750 3.1)
	 */
	ERR_TOKEN_MISSING,
	/* 401 error="invalid_token" (RFC 6750 3.1) */
	ERR_TOKEN_MALFORMED, /* not three canonical base64url parts, bad JSON */
	ERR_TOKEN_ALG,       /* alg not the key's, none, HMAC, unknown */
	ERR_TOKEN_HEADER,    /* crit, jku, x5u, jwk, x5c, b64, zip, typ */
	ERR_TOKEN_KID,       /* no published key for this kid */
	ERR_TOKEN_SIGNATURE, /* signature does not verify */
	ERR_TOKEN_EXPIRED,
	ERR_TOKEN_NOT_YET_VALID, /* nbf or iat in the future */
	ERR_TOKEN_ISSUER,
	ERR_TOKEN_AUDIENCE,
	ERR_TOKEN_CLAIMS, /* a required claim missing or of the wrong type */
	/* 400 error="invalid_request" with a Bearer challenge (RFC 6750 3.1):
	 * a repeated or malformed Authorization header */
	ERR_BEARER_MALFORMED,
	/* 403 error="insufficient_scope" (RFC 6750 3.1) */
	ERR_INSUFFICIENT_SCOPE,
	ERR_REQUEST_TIMEOUT, /* 408: request head or body not in time */
	/* OAuth 2.0 token endpoint errors (RFC 6749 5.2, RFC 7009 2.2.1) */
	ERR_INVALID_CLIENT,         /* 401 with WWW-Authenticate: Basic */
	ERR_UNAUTHORIZED_CLIENT,    /* 400: grant not allowed to the client */
	ERR_UNSUPPORTED_GRANT_TYPE, /* 400 */
	ERR_INVALID_SCOPE,          /* 400: more than the subject holds */
	ERR_UNSUPPORTED_TOKEN_TYPE, /* 400 (RFC 7009 2.2.1) */
	ERR_CONFLICT,               /* 409: the name is taken */
	ERR_WEAK_PASSWORD,          /* 400: refused by the password policy */
	ERR_CODE_COUNT
};

struct err {
	enum err_code code;
	char msg[128]; /* for the log, never for the client */
};

/* Sets code and message unless an error is already set; returns -1. */
int err_set(struct err *e, enum err_code code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* A stable lower-case name for logs: "token_expired", "nomem", ... */
const char *err_code_name(enum err_code code);

/* True for the ERR_TOKEN_* codes (401 invalid_token or missing). */
int err_is_token_error(enum err_code code);

#endif

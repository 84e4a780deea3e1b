/* err: set the first error, name codes for logs. */
#include "err.h"

#include <stdarg.h>
#include <stdio.h>

static const char *const err_names[ERR_CODE_COUNT] = {
	[ERR_OK] = "ok",
	[ERR_INTERNAL] = "internal",
	[ERR_NOMEM] = "nomem",
	[ERR_IO] = "io",
	[ERR_CONFIG] = "config",
	[ERR_KEY] = "key",
	[ERR_INVALID_REQUEST] = "invalid_request",
	[ERR_INVALID_CREDENTIALS] = "invalid_credentials",
	[ERR_INVALID_GRANT] = "invalid_grant",
	[ERR_THROTTLED] = "throttled",
	[ERR_UNAVAILABLE] = "unavailable",
	[ERR_NOT_FOUND] = "not_found",
	[ERR_METHOD] = "method_not_allowed",
	[ERR_FORBIDDEN] = "forbidden",
	[ERR_PAYLOAD_TOO_LARGE] = "payload_too_large",
	[ERR_TOKEN_MISSING] = "token_missing",
	[ERR_TOKEN_MALFORMED] = "token_malformed",
	[ERR_TOKEN_ALG] = "token_alg",
	[ERR_TOKEN_HEADER] = "token_header",
	[ERR_TOKEN_KID] = "token_kid",
	[ERR_TOKEN_SIGNATURE] = "token_signature",
	[ERR_TOKEN_EXPIRED] = "token_expired",
	[ERR_TOKEN_NOT_YET_VALID] = "token_not_yet_valid",
	[ERR_TOKEN_ISSUER] = "token_issuer",
	[ERR_TOKEN_AUDIENCE] = "token_audience",
	[ERR_TOKEN_CLAIMS] = "token_claims",
	[ERR_BEARER_MALFORMED] = "bearer_malformed",
	[ERR_INSUFFICIENT_SCOPE] = "insufficient_scope",
	[ERR_REQUEST_TIMEOUT] = "request_timeout",
	[ERR_INVALID_CLIENT] = "invalid_client",
	[ERR_UNAUTHORIZED_CLIENT] = "unauthorized_client",
	[ERR_UNSUPPORTED_GRANT_TYPE] = "unsupported_grant_type",
	[ERR_INVALID_SCOPE] = "invalid_scope",
	[ERR_UNSUPPORTED_TOKEN_TYPE] = "unsupported_token_type",
	[ERR_CONFLICT] = "conflict",
	[ERR_WEAK_PASSWORD] = "weak_password",
};

int
err_set(struct err *e, enum err_code code, const char *fmt, ...)
{
	va_list ap;

	if (e == NULL || e->code != ERR_OK)
		return -1;
	e->code = code == ERR_OK ? ERR_INTERNAL : code;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return -1;
}

const char *
err_code_name(enum err_code code)
{
	if ((unsigned)code >= ERR_CODE_COUNT || err_names[code] == NULL)
		return "unknown";
	return err_names[code];
}

int
err_is_token_error(enum err_code code)
{
	return code >= ERR_TOKEN_MISSING && code <= ERR_TOKEN_CLAIMS;
}

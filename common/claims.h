/* claims: the registered-claim checks of RFC 7519 section 4.1 and RFC 9068
 * section 4 for an access token: typ, iss, aud, exp, nbf, iat, with a
 * leeway for clock skew. All arithmetic is overflow-free. */
#ifndef JWT_CLAIMS_H
#define JWT_CLAIMS_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "jose_reader.h"

#define CLAIMS_DEFAULT_LEEWAY 30
#define CLAIMS_MAX_LEEWAY 600

struct claims {
	const char *iss; /* borrowed from the payload, with length */
	size_t iss_len;
	struct json_object *aud; /* string or array of strings, borrowed */
	/* From claims_parse_read instead: iss and aud as jose_reader read
	 * them (iss and aud above are then NULL). */
	const struct jose_str *iss_read;
	const struct jose_val *aud_read;
	int64_t exp, nbf, iat;
	bool has_nbf, has_iat;
};

struct claims_policy {
	const char *issuer;   /* required; compared exactly */
	const char *audience; /* required; one of aud must equal it */
	int64_t leeway;       /* seconds, 0..CLAIMS_MAX_LEEWAY */
};

/* Reads the registered claims from payload into c. exp and iss and aud are
 * required (RFC 9068 section 2.2); nbf and iat are optional but must be
 * NumericDates when present. Error: ERR_TOKEN_CLAIMS. */
int claims_parse(struct json_object *payload, struct claims *c, struct err *e);

/* claims_parse on the members jose_reader read: the same rules and
 * errors. c borrows from jc. */
int claims_parse_read(
    const struct jose_claims *jc, struct claims *c, struct err *e);

/* Checks at time now: exp is exclusive (now >= exp + leeway is expired,
 * RFC 7519 4.1.4), nbf (now + leeway < nbf is not yet valid, 4.1.5), iat not
 * in the future beyond the leeway, iss equal, aud containing the audience.
 * Errors: ERR_TOKEN_EXPIRED, ERR_TOKEN_NOT_YET_VALID, ERR_TOKEN_ISSUER,
 * ERR_TOKEN_AUDIENCE, ERR_TOKEN_CLAIMS. */
int claims_check(const struct claims *c, const struct claims_policy *p,
    int64_t now, struct err *e);

/* The JOSE header "typ" must be "at+jwt" (RFC 9068 section 2.1); the
 * "application/" prefix form is accepted, compared case-insensitively as
 * RFC 7515 4.1.9 asks. Error: ERR_TOKEN_HEADER. */
int claims_check_typ(struct json_object *header, struct err *e);

/* claims_check_typ on the header jose_reader read. */
int claims_check_typ_read(const struct jose_header *h, struct err *e);

#endif

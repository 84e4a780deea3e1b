/* explain: the verification of verify.c told step by step, for people.
 * Each step runs the same check function the daemons run (jws_verify,
 * claims_check_typ, claims_parse, claims_check, verify_access_token) and
 * records whether it passed, the RFC clause that asks for it and, on a
 * failure, why. Nothing here decides on its own: the verdict is always
 * the one verify_access_token() gives. */
#ifndef JWT_EXPLAIN_H
#define JWT_EXPLAIN_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "verify.h"

#define EXPLAIN_MAX_STEPS 16
#define EXPLAIN_DETAIL_LEN 320

enum explain_result {
	EXPLAIN_PASS,
	EXPLAIN_FAIL,
	EXPLAIN_NOT_REACHED, /* an earlier step failed */
};

struct explain_step {
	const char *check; /* "signature", "exp", ... (static) */
	const char *rfc;   /* "RFC 7519 4.1.4" (static) */
	enum explain_result result;
	char detail[EXPLAIN_DETAIL_LEN];
};

struct explain {
	struct explain_step steps[EXPLAIN_MAX_STEPS];
	size_t n;
	struct err verdict; /* verify_access_token's error; ERR_OK: valid */
};

/* Runs every check on token[0..len) under p (keys required) and fills x.
 * Returns 0 when the token is valid, -1 when it is not (x->verdict says
 * why, and exactly one step is EXPLAIN_FAIL unless the failure was an
 * internal one). */
int explain_token(const char *token, size_t len, const struct verify_policy *p,
    struct explain *x);

/* A NumericDate as text: "14:02:11" when it falls on the UTC day of now,
 * "2026-11-23 14:02:11" otherwise, always UTC. */
void explain_time(int64_t t, int64_t now, char *buf, size_t len);

#endif

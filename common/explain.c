/* explain: verify.c's checks run one at a time, each outcome written down
 * with the RFC clause behind it. The registered claims are checked one
 * clause at a time by handing claims_check() a copy of the claims in
 * which every other clause is made to pass (the policy's own issuer and
 * audience, an expiry far ahead), so each line is claims_check()'s own
 * answer for that clause alone, never a second implementation of it. */
#include "explain.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "claims.h"
#include "jws.h"

/* Far ahead of any clock, so only the clause under test can fail. */
#define EXPLAIN_FAR_FUTURE ((int64_t)1 << 61)
#define EXPLAIN_QUOTE_MAX 96

/* jws_verify's own order of checks, and the error code each one fails
 * with: a failure is named by its code, earlier checks have passed. */
static const struct {
	enum err_code code;
	const char *check;
	const char *rfc;
	const char *rule;
} explain_jws_stages[] = {
	{ ERR_TOKEN_MALFORMED, "compact form", "RFC 7515 7.1",
	    "three canonical base64url parts; header and payload are JSON "
	    "objects" },
	{ ERR_TOKEN_HEADER, "header parameters",
	    "RFC 8725 3.10, RFC 7515 4.1.11",
	    "no crit, jku, x5u, jwk, x5c or b64; kid is a string" },
	{ ERR_TOKEN_ALG, "alg", "RFC 8725 3.1",
	    "the algorithm is the key's own, never none or HMAC" },
	{ ERR_TOKEN_KID, "kid", "RFC 7515 4.1.4",
	    "the kid names a key we publish" },
	{ ERR_TOKEN_SIGNATURE, "signature", "RFC 7515 5.2",
	    "the signature verifies with that key" },
};

#define EXPLAIN_N_JWS (sizeof(explain_jws_stages) / sizeof(*explain_jws_stages))

enum explain_clause {
	CLAUSE_EXP,
	CLAUSE_NBF,
	CLAUSE_IAT,
	CLAUSE_ISS,
	CLAUSE_AUD
};

void
explain_time(int64_t t, int64_t now, char *buf, size_t len)
{
	struct tm tt, tn;
	time_t a = (time_t)t, b = (time_t)now;

	if (gmtime_r(&a, &tt) == NULL || gmtime_r(&b, &tn) == NULL) {
		snprintf(buf, len, "%lld", (long long)t);
		return;
	}
	if (tt.tm_year == tn.tm_year && tt.tm_yday == tn.tm_yday)
		strftime(buf, len, "%H:%M:%S", &tt);
	else
		strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tt);
}

/* Token text shown to a person: printable ASCII as is, anything else as
 * \xNN, cut short, so a hostile token cannot write to the terminal. */
static void
explain_quote(const char *s, size_t n, char *buf, size_t len)
{
	size_t o = 0;

	for (size_t i = 0; i < n && o + 8 < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (o >= EXPLAIN_QUOTE_MAX) {
			o += (size_t)snprintf(buf + o, len - o, "...");
			break;
		}
		if (c >= 0x20 && c < 0x7f && c != '\\')
			buf[o++] = (char)c;
		else
			o += (size_t)snprintf(buf + o, len - o, "\\x%02x", c);
	}
	buf[o < len ? o : len - 1] = '\0';
}

static struct explain_step *
step_add(struct explain *x, const char *check, const char *rfc,
    enum explain_result result)
{
	struct explain_step *s;

	if (x->n == EXPLAIN_MAX_STEPS)
		return &x->steps[EXPLAIN_MAX_STEPS - 1];
	s = &x->steps[x->n++];
	*s = (struct explain_step){
		.check = check, .rfc = rfc, .result = result
	};
	return s;
}

static void step_say(struct explain_step *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
step_say(struct explain_step *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s->detail, sizeof(s->detail), fmt, ap);
	va_end(ap);
}

/* The JWS steps from one jws_verify() call. */
static int
explain_jws(const char *token, size_t len, const struct verify_policy *p,
    struct explain *x, struct json_object **header,
    struct json_object **payload)
{
	const struct jws_key *key = NULL;
	struct err e = { 0 };
	size_t failed = EXPLAIN_N_JWS;
	int rc;

	rc = jws_verify(token, len, p->keys, header, payload, &key, &e);
	if (rc == -1)
		for (size_t i = 0; i < EXPLAIN_N_JWS; i++)
			if (explain_jws_stages[i].code == e.code)
				failed = i;
	for (size_t i = 0; i < EXPLAIN_N_JWS; i++) {
		enum explain_result r = rc == 0 || i < failed ? EXPLAIN_PASS
		                        : i == failed         ? EXPLAIN_FAIL
		                                      : EXPLAIN_NOT_REACHED;
		struct explain_step *s = step_add(x,
		    explain_jws_stages[i].check, explain_jws_stages[i].rfc, r);
		if (r == EXPLAIN_FAIL)
			step_say(
			    s, "%s: %s", explain_jws_stages[i].rule, e.msg);
		else if (r == EXPLAIN_PASS && key != NULL &&
		         explain_jws_stages[i].code == ERR_TOKEN_ALG)
			step_say(s, "%s is the key's algorithm",
			    jws_alg_name(key->alg));
		else if (r == EXPLAIN_PASS &&
		         explain_jws_stages[i].code == ERR_TOKEN_ALG)
			/* No key found yet (the kid failed): only the first
			 * half of the rule could be checked. */
			step_say(s, "not none or HMAC; whether it is the key's "
			            "own needs the key the kid names");
		else if (r == EXPLAIN_PASS && key != NULL &&
		         explain_jws_stages[i].code == ERR_TOKEN_KID)
			step_say(s, "%s is a published %s key", key->kid,
			    jws_alg_name(key->alg));
		else if (r == EXPLAIN_PASS)
			step_say(s, "%s", explain_jws_stages[i].rule);
	}
	/* A failure with no stage of its own (out of memory, no keys). */
	if (rc == -1 && failed == EXPLAIN_N_JWS)
		step_say(step_add(x, "jws", "RFC 7515 5.2", EXPLAIN_FAIL), "%s",
		    e.msg);
	return rc;
}

/* claims_check() on a copy of c where only one clause can fail. */
static int
clause_check(const struct claims *c, const struct claims_policy *cp,
    int64_t now, enum explain_clause which, struct json_object *own_aud,
    struct err *e)
{
	struct claims one = { .iss = cp->issuer,
		.iss_len = strlen(cp->issuer),
		.aud = own_aud,
		.exp = EXPLAIN_FAR_FUTURE };

	switch (which) {
	case CLAUSE_EXP:
		one.exp = c->exp;
		break;
	case CLAUSE_NBF:
		one.nbf = c->nbf;
		one.has_nbf = c->has_nbf;
		break;
	case CLAUSE_IAT:
		one.iat = c->iat;
		one.has_iat = c->has_iat;
		break;
	case CLAUSE_ISS:
		one.iss = c->iss;
		one.iss_len = c->iss_len;
		break;
	case CLAUSE_AUD:
		one.aud = c->aud;
		break;
	}
	return claims_check(&one, cp, now, e);
}

static void
say_exp(struct explain_step *s, const struct claims *c, int64_t now,
    int64_t leeway, bool ok)
{
	char t[32], n[32];

	explain_time(c->exp, now, t, sizeof(t));
	explain_time(now, now, n, sizeof(n));
	step_say(s, "exp %s is %s now %s minus leeway %lld s%s", t,
	    ok ? "after" : "at or before", n, (long long)leeway,
	    ok ? "" : ": the token has expired");
}

static void
say_not_after(struct explain_step *s, const char *name, bool present,
    int64_t when, int64_t now, int64_t leeway, bool ok, const char *why)
{
	char t[32], n[32];

	if (!present) {
		/* nbf is optional; iat is not (RFC 9068 2.2), which the
		 * access token claims step reports. */
		step_say(s, "%s absent%s", name,
		    strcmp(name, "iat") == 0
		        ? ": nothing to compare, but RFC 9068 2.2 requires it"
		        : " (optional)");
		return;
	}
	explain_time(when, now, t, sizeof(t));
	explain_time(now, now, n, sizeof(n));
	step_say(s, "%s %s is %s now %s plus leeway %lld s%s%s", name, t,
	    ok ? "not after" : "after", n, (long long)leeway, ok ? "" : ": ",
	    ok ? "" : why);
}

static void
say_iss(
    struct explain_step *s, const struct claims *c, const char *issuer, bool ok)
{
	char got[EXPLAIN_QUOTE_MAX * 4 + 8], want[EXPLAIN_QUOTE_MAX * 4 + 8];

	explain_quote(c->iss, c->iss_len, got, sizeof(got));
	explain_quote(issuer, strlen(issuer), want, sizeof(want));
	if (ok)
		step_say(s, "iss \"%s\" is the expected issuer", got);
	else
		step_say(s, "iss \"%s\" is not the expected \"%s\"", got, want);
}

static void
say_aud(struct explain_step *s, struct json_object *aud, const char *audience,
    bool ok)
{
	const char *text = json_object_to_json_string_ext(
	    aud, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	char got[EXPLAIN_QUOTE_MAX * 4 + 8], want[EXPLAIN_QUOTE_MAX * 4 + 8];

	explain_quote(text, strlen(text), got, sizeof(got));
	explain_quote(audience, strlen(audience), want, sizeof(want));
	step_say(s, "aud %s %s \"%s\"", got,
	    ok ? "includes" : "does not include", want);
}

/* One step per registered-claim clause, in claims_check's order. */
static int
explain_claims(const struct claims *c, const struct verify_policy *p,
    int64_t now, struct explain *x)
{
	static const struct {
		enum explain_clause which;
		const char *check;
		const char *rfc;
	} clauses[] = {
		{ CLAUSE_EXP, "exp", "RFC 7519 4.1.4" },
		{ CLAUSE_NBF, "nbf", "RFC 7519 4.1.5" },
		{ CLAUSE_IAT, "iat", "RFC 7519 4.1.6" },
		{ CLAUSE_ISS, "iss", "RFC 7519 4.1.1, RFC 9068 4" },
		{ CLAUSE_AUD, "aud", "RFC 7519 4.1.3, RFC 9068 4" },
	};
	struct claims_policy cp = { .issuer = p->issuer,
		.audience = p->audience,
		.leeway = p->leeway };
	struct json_object *own_aud = json_object_new_string(p->audience);
	bool failed = false;
	int rc = -1;

	if (own_aud == NULL)
		goto out;
	for (size_t i = 0; i < sizeof(clauses) / sizeof(*clauses); i++) {
		struct err e = { 0 };
		struct explain_step *s;
		bool ok;

		if (failed) {
			step_add(x, clauses[i].check, clauses[i].rfc,
			    EXPLAIN_NOT_REACHED);
			continue;
		}
		ok = clause_check(c, &cp, now, clauses[i].which, own_aud, &e) ==
		     0;
		if (!ok && (e.code == ERR_INTERNAL || e.code == ERR_NOMEM))
			goto out;
		s = step_add(x, clauses[i].check, clauses[i].rfc,
		    ok ? EXPLAIN_PASS : EXPLAIN_FAIL);
		failed = !ok;
		switch (clauses[i].which) {
		case CLAUSE_EXP:
			say_exp(s, c, now, p->leeway, ok);
			break;
		case CLAUSE_NBF:
			say_not_after(s, "nbf", c->has_nbf, c->nbf, now,
			    p->leeway, ok, "not yet valid");
			break;
		case CLAUSE_IAT:
			say_not_after(s, "iat", c->has_iat, c->iat, now,
			    p->leeway, ok, "issued in the future");
			break;
		case CLAUSE_ISS:
			say_iss(s, c, p->issuer, ok);
			break;
		case CLAUSE_AUD:
			say_aud(s, c->aud, p->audience, ok);
			break;
		}
	}
	rc = failed ? -1 : 0;
out:
	json_object_put(own_aud);
	return rc;
}

static void
skip_rest(struct explain *x, bool typ, bool parse, bool clauses)
{
	static const char *const names[] = { "exp", "nbf", "iat", "iss",
		"aud" };

	if (typ)
		step_add(x, "typ", "RFC 9068 2.1, RFC 8725 3.11",
		    EXPLAIN_NOT_REACHED);
	if (parse)
		step_add(x, "registered claims", "RFC 9068 2.2",
		    EXPLAIN_NOT_REACHED);
	if (clauses)
		for (size_t i = 0; i < sizeof(names) / sizeof(*names); i++)
			step_add(
			    x, names[i], "RFC 7519 4.1", EXPLAIN_NOT_REACHED);
	step_add(x, "access token claims", "RFC 9068 2.2", EXPLAIN_NOT_REACHED);
}

int
explain_token(const char *token, size_t len, const struct verify_policy *p,
    struct explain *x)
{
	struct json_object *header = NULL, *payload = NULL;
	struct access_token *t = NULL;
	struct explain_step *s;
	struct claims c = { 0 };
	struct err e = { 0 };
	int64_t now = verify_now(p);
	bool failed = true;

	*x = (struct explain){ 0 };
	if (explain_jws(token, len, p, x, &header, &payload) == -1) {
		skip_rest(x, true, true, true);
		goto verdict;
	}
	s = step_add(x, "typ", "RFC 9068 2.1, RFC 8725 3.11", EXPLAIN_PASS);
	if (claims_check_typ(header, &e) == -1) {
		s->result = EXPLAIN_FAIL;
		step_say(s, "%s", e.msg);
		skip_rest(x, false, true, true);
		goto verdict;
	}
	step_say(s, "typ is at+jwt: this JWT is an access token");
	s = step_add(x, "registered claims", "RFC 9068 2.2", EXPLAIN_PASS);
	if (claims_parse(payload, &c, &e) == -1) {
		s->result = EXPLAIN_FAIL;
		step_say(s, "%s", e.msg);
		skip_rest(x, false, false, true);
		goto verdict;
	}
	step_say(s, "iss, aud and exp present; dates are NumericDates");
	if (explain_claims(&c, p, now, x) == -1) {
		skip_rest(x, false, false, false);
		goto verdict;
	}
	failed = false;
verdict:
	/* The one verdict that counts, and the claims only verify.c reads
	 * (sub, permissions, roles, ...). */
	if (verify_access_token(token, len, p, &t, &x->verdict) == 0) {
		s = step_add(
		    x, "access token claims", "RFC 9068 2.2", EXPLAIN_PASS);
		step_say(s,
		    "sub present, permissions an array of %zu string(s)",
		    t->n_permissions);
	} else if (!failed) {
		s = step_add(
		    x, "access token claims", "RFC 9068 2.2", EXPLAIN_FAIL);
		step_say(s, "%s", x->verdict.msg);
	}
	access_token_free(t);
	json_object_put(header);
	json_object_put(payload);
	return x->verdict.code == ERR_OK ? 0 : -1;
}

/* test_claims: parsing the registered claims, every boundary of the time
 * checks (with and without leeway, at the ends of the NumericDate range),
 * issuer and audience matching by length and bytes, and the typ header;
 * every case through both readers (jose_reader, the verifier's; json-c,
 * explain's), which must agree. */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "claims.h"
#include "jose_reader.h"
#include "json_util.h"
#include "test.h"

#define S(lit) lit, sizeof(lit) - 1

#define ISS "https://auth.example"
#define AUD "resource_service"

/* Strict parse; NULL for a JSON null and for a parse error. */
static struct json_object *
parse(const char *s, size_t len)
{
	struct json_object *o = NULL;
	struct err e = { 0 };

	json_parse_strict(
	    s, len, JSON_DEFAULT_MAX_DEPTH, ERR_TOKEN_MALFORMED, &o, &e);
	return o;
}

/* The verifier reads a token with jose_reader (claims_parse_read,
 * claims_check_typ_read); explain and the tools with json-c (claims_parse,
 * claims_check_typ). Every case below runs both, and they must agree:
 * json_c and rd are the two verdicts, rd_read whether jose_reader read the
 * text at all. Where it did not (bad JSON, not an object) the verifier
 * refuses the token as malformed, so json-c must refuse it too, with its
 * own code. A disagreement is ERR_INTERNAL, which no case expects. */
static enum err_code
both(enum err_code json_c, bool rd_read, enum err_code rd)
{
	if (!rd_read)
		return rd == ERR_TOKEN_MALFORMED && json_c != ERR_OK
		           ? json_c
		           : ERR_INTERNAL;
	return json_c == rd ? json_c : ERR_INTERNAL;
}

/* Normalizes a verdict: success must not set an error, a failure must
 * say why. */
static enum err_code
verdict(int rc, const struct err *e)
{
	if (rc == 0)
		return e->code == ERR_OK ? ERR_OK : ERR_INTERNAL;
	return e->code == ERR_OK ? ERR_INTERNAL : e->code;
}

/* claims_parse on a payload text, by both paths: the error code, ERR_OK
 * on success. */
static enum err_code
parse_code(const char *s, size_t len)
{
	struct json_object *o = NULL;
	struct jose_claims jc;
	struct claims c;
	struct err e = { 0 }, er = { 0 };
	enum err_code json_c;
	bool rd_read;

	if (json_parse_strict(s, len, JSON_DEFAULT_MAX_DEPTH,
	        ERR_TOKEN_MALFORMED, &o, &e) == -1)
		json_c = e.code;
	else
		json_c = verdict(claims_parse(o, &c, &e), &e);
	json_object_put(o);
	rd_read = jose_read_claims(s, len, &jc, &er) == 0;
	return both(json_c, rd_read,
	    rd_read ? verdict(claims_parse_read(&jc, &c, &er), &er) : er.code);
}

/* Parses the payload and checks it at time now with the test policy, by
 * both paths. */
static enum err_code
check_code(const char *s, size_t len, int64_t now, int64_t leeway)
{
	struct json_object *o = parse(s, len);
	struct jose_claims jc;
	struct claims c;
	struct claims_policy p = {
		.issuer = ISS, .audience = AUD, .leeway = leeway
	};
	struct err e = { 0 }, er = { 0 };
	enum err_code json_c = ERR_TOKEN_MALFORMED;
	bool rd_read;
	int rc;

	if (o != NULL) {
		if ((rc = claims_parse(o, &c, &e)) == 0)
			rc = claims_check(&c, &p, now, &e);
		json_c = verdict(rc, &e);
	}
	json_object_put(o);
	if ((rd_read = jose_read_claims(s, len, &jc, &er) == 0)) {
		if ((rc = claims_parse_read(&jc, &c, &er)) == 0)
			rc = claims_check(&c, &p, now, &er);
	}
	return both(json_c, rd_read, rd_read ? verdict(rc, &er) : er.code);
}

#define BASE "\"iss\":\"" ISS "\",\"aud\":\"" AUD "\""

static void
test_parse_complete(void)
{
	struct json_object *o = parse(S("{" BASE ",\"exp\":2000,\"nbf\":900,"
	                                "\"iat\":1000.7,\"sub\":\"u\"}"));
	struct claims c;
	struct err e = { 0 };

	CHECK(claims_parse(o, &c, &e) == 0);
	CHECK(c.iss_len == strlen(ISS) && memcmp(c.iss, ISS, c.iss_len) == 0);
	CHECK(json_string_equals(c.aud, S(AUD)));
	CHECK(c.exp == 2000);
	CHECK(c.has_nbf && c.nbf == 900);
	CHECK(c.has_iat && c.iat == 1000);
	json_object_put(o);

	o = parse(S("{" BASE ",\"exp\":2000}"));
	CHECK(claims_parse(o, &c, &e) == 0);
	CHECK(!c.has_nbf && !c.has_iat && c.nbf == 0 && c.iat == 0);
	json_object_put(o);
}

/* RFC 9068 section 2.2: iss, aud and exp are required. */
static void
test_parse_required(void)
{
	CHECK(parse_code(S("{" BASE ",\"exp\":1}")) == ERR_OK);
	CHECK(parse_code(S("{\"aud\":\"" AUD "\",\"exp\":1}")) ==
	      ERR_TOKEN_CLAIMS);
	CHECK(parse_code(S("{\"iss\":\"" ISS "\",\"exp\":1}")) ==
	      ERR_TOKEN_CLAIMS);
	CHECK(parse_code(S("{" BASE "}")) == ERR_TOKEN_CLAIMS);
	CHECK(parse_code(S("{}")) == ERR_TOKEN_CLAIMS);
	CHECK(parse_code(S("[]")) == ERR_TOKEN_CLAIMS);
	CHECK(parse_code(S("\"claims\"")) == ERR_TOKEN_CLAIMS);
	CHECK(parse_code(S("null")) == ERR_TOKEN_CLAIMS);
}

static void
test_parse_types(void)
{
	/* iss must be a string. */
	CHECK(
	    parse_code(S("{\"iss\":\"\",\"aud\":\"a\",\"exp\":1}")) == ERR_OK);
	CHECK(parse_code(S("{\"iss\":1,\"aud\":\"a\",\"exp\":1}")) ==
	      ERR_TOKEN_CLAIMS);
	CHECK(parse_code(S("{\"iss\":null,\"aud\":\"a\",\"exp\":1}")) ==
	      ERR_TOKEN_CLAIMS);
	CHECK(
	    parse_code(S("{\"iss\":[\"" ISS "\"],\"aud\":\"a\",\"exp\":1}")) ==
	    ERR_TOKEN_CLAIMS);
	/* aud: a string or a non-empty array of strings (RFC 7519 4.1.3). */
	CHECK(
	    parse_code(S("{\"iss\":\"i\",\"aud\":[\"a\",\"b\"],\"exp\":1}")) ==
	    ERR_OK);
	CHECK(parse_code(S("{\"iss\":\"i\",\"aud\":[\"a\"],\"exp\":1}")) ==
	      ERR_OK);
	CHECK(parse_code(S("{\"iss\":\"i\",\"aud\":[],\"exp\":1}")) ==
	      ERR_TOKEN_CLAIMS);
	CHECK(parse_code(S("{\"iss\":\"i\",\"aud\":[\"a\",1],\"exp\":1}")) ==
	      ERR_TOKEN_CLAIMS);
	CHECK(parse_code(S("{\"iss\":\"i\",\"aud\":[\"a\",null],\"exp\":1}")) ==
	      ERR_TOKEN_CLAIMS);
	CHECK(parse_code(S("{\"iss\":\"i\",\"aud\":[[\"a\"]],\"exp\":1}")) ==
	      ERR_TOKEN_CLAIMS);
	CHECK(parse_code(S("{\"iss\":\"i\",\"aud\":1,\"exp\":1}")) ==
	      ERR_TOKEN_CLAIMS);
	CHECK(parse_code(S("{\"iss\":\"i\",\"aud\":{\"a\":1},\"exp\":1}")) ==
	      ERR_TOKEN_CLAIMS);
	CHECK(parse_code(S("{\"iss\":\"i\",\"aud\":null,\"exp\":1}")) ==
	      ERR_TOKEN_CLAIMS);
	/* Dates must be NumericDates: JSON numbers in int64 range. */
	CHECK(parse_code(S("{" BASE ",\"exp\":1.5}")) == ERR_OK);
	CHECK(parse_code(S("{" BASE ",\"exp\":\"1000\"}")) == ERR_TOKEN_CLAIMS);
	CHECK(parse_code(S("{" BASE ",\"exp\":true}")) == ERR_TOKEN_CLAIMS);
	CHECK(parse_code(S("{" BASE ",\"exp\":null}")) == ERR_TOKEN_CLAIMS);
	CHECK(parse_code(S("{" BASE ",\"exp\":[1]}")) == ERR_TOKEN_CLAIMS);
	CHECK(parse_code(S("{" BASE ",\"exp\":-1}")) == ERR_OK);
	CHECK(
	    parse_code(S("{" BASE ",\"exp\":4611686018427387905}")) == ERR_OK);
	CHECK(
	    parse_code(S("{" BASE ",\"exp\":9223372036854775807}")) == ERR_OK);
	CHECK(parse_code(S("{" BASE ",\"exp\":9223372036854775808}")) ==
	      ERR_TOKEN_CLAIMS);
	CHECK(parse_code(S("{" BASE ",\"exp\":18446744073709551615}")) ==
	      ERR_TOKEN_CLAIMS);
	CHECK(
	    parse_code(S("{" BASE ",\"exp\":-9223372036854775808}")) == ERR_OK);
	CHECK(parse_code(S("{" BASE ",\"exp\":1e18}")) == ERR_OK);
	CHECK(parse_code(S("{" BASE ",\"exp\":1e19}")) == ERR_TOKEN_CLAIMS);
	CHECK(parse_code(S("{" BASE ",\"exp\":1e300}")) == ERR_TOKEN_CLAIMS);
	CHECK(parse_code(S("{" BASE ",\"exp\":-1e300}")) == ERR_TOKEN_CLAIMS);
	/* NaN and 1e400 never get past the strict parser. */
	CHECK(parse_code(S("{" BASE ",\"exp\":NaN}")) == ERR_TOKEN_MALFORMED);
	CHECK(parse_code(S("{" BASE ",\"exp\":1e400}")) == ERR_TOKEN_MALFORMED);
	CHECK(parse_code(S("{" BASE ",\"exp\":1,\"nbf\":0}")) == ERR_OK);
	CHECK(parse_code(S("{" BASE ",\"exp\":1,\"nbf\":\"0\"}")) ==
	      ERR_TOKEN_CLAIMS);
	CHECK(parse_code(S("{" BASE ",\"exp\":1,\"nbf\":null}")) ==
	      ERR_TOKEN_CLAIMS);
	CHECK(parse_code(S("{" BASE ",\"exp\":1,\"iat\":0}")) == ERR_OK);
	CHECK(parse_code(S("{" BASE ",\"exp\":1,\"iat\":false}")) ==
	      ERR_TOKEN_CLAIMS);
	CHECK(parse_code(S("{" BASE ",\"exp\":1,\"iat\":1e19}")) ==
	      ERR_TOKEN_CLAIMS);
}

/* exp is exclusive (RFC 7519 4.1.4). The policy has an issuer and an
 * audience: one without them is refused (see test_policy). */
static void
test_exp_is_exclusive(void)
{
	struct claims c = { .iss = ISS, .iss_len = strlen(ISS), .exp = 1000 };
	struct claims_policy p = {
		.issuer = ISS, .audience = AUD, .leeway = 30
	};
	struct err e = { 0 };

	c.aud = json_object_new_string(AUD);
	CHECK(claims_check(&c, &p, 1030, &e) == -1);
	CHECK(e.code == ERR_TOKEN_EXPIRED);
	e = (struct err){ 0 };
	CHECK(claims_check(&c, &p, 1029, &e) == 0);
	CHECK(e.code == ERR_OK);
	json_object_put(c.aud);
}

/* RFC 7519 4.1.4: expired iff now >= exp + leeway. */
static void
test_exp_boundaries(void)
{
	const char *t = "{" BASE ",\"exp\":1000}";
	size_t n = strlen(t);

	CHECK(check_code(t, n, 999, 0) == ERR_OK);
	CHECK(check_code(t, n, 1000, 0) == ERR_TOKEN_EXPIRED);
	CHECK(check_code(t, n, 1029, 30) == ERR_OK);
	CHECK(check_code(t, n, 1030, 30) == ERR_TOKEN_EXPIRED);
	CHECK(check_code(t, n, 1599, 600) == ERR_OK);
	CHECK(check_code(t, n, 1600, 600) == ERR_TOKEN_EXPIRED);
	CHECK(check_code(t, n, INT64_MAX, 600) == ERR_TOKEN_EXPIRED);
	CHECK(check_code(t, n, INT64_MIN, 600) == ERR_OK);
	/* A fractional exp floors: 1000.9 expires at 1000. */
	CHECK(check_code(S("{" BASE ",\"exp\":1000.9}"), 999, 0) == ERR_OK);
	CHECK(check_code(S("{" BASE ",\"exp\":1000.9}"), 1000, 0) ==
	      ERR_TOKEN_EXPIRED);
	/* The ends of int64, for exp and for the clock: exp + leeway beyond
	 * INT64_MAX is never reached, and nothing overflows (UBSan). */
	CHECK(check_code(S("{" BASE ",\"exp\":9223372036854775807}"), INT64_MAX,
	          600) == ERR_OK);
	CHECK(check_code(S("{" BASE ",\"exp\":9223372036854775807}"), INT64_MAX,
	          0) == ERR_TOKEN_EXPIRED);
	CHECK(check_code(S("{" BASE ",\"exp\":9223372036854775807}"),
	          INT64_MAX - 1, 0) == ERR_OK);
	CHECK(check_code(S("{" BASE ",\"exp\":9223372036854775207}"),
	          INT64_MAX - 1, 600) == ERR_OK);
	CHECK(check_code(S("{" BASE ",\"exp\":9223372036854775207}"), INT64_MAX,
	          600) == ERR_TOKEN_EXPIRED);
	CHECK(check_code(S("{" BASE ",\"exp\":-9223372036854775808}"),
	          INT64_MIN, 0) == ERR_TOKEN_EXPIRED);
	CHECK(check_code(S("{" BASE ",\"exp\":-9223372036854775808}"),
	          INT64_MIN, 600) == ERR_OK);
	CHECK(check_code(S("{" BASE ",\"exp\":-9223372036854775808}"),
	          INT64_MIN + 599, 600) == ERR_OK);
	CHECK(check_code(S("{" BASE ",\"exp\":-9223372036854775808}"),
	          INT64_MIN + 600, 600) == ERR_TOKEN_EXPIRED);
	CHECK(
	    check_code(S("{" BASE ",\"exp\":-1}"), 0, 0) == ERR_TOKEN_EXPIRED);
	CHECK(check_code(S("{" BASE ",\"exp\":-1}"), -2, 0) == ERR_OK);
}

/* RFC 7519 4.1.5: not yet valid iff now + leeway < nbf. */
static void
test_nbf_boundaries(void)
{
	const char *t = "{" BASE ",\"exp\":5000,\"nbf\":1000}";
	size_t n = strlen(t);

	CHECK(check_code(t, n, 1000, 0) == ERR_OK);
	CHECK(check_code(t, n, 999, 0) == ERR_TOKEN_NOT_YET_VALID);
	CHECK(check_code(t, n, 970, 30) == ERR_OK);
	CHECK(check_code(t, n, 969, 30) == ERR_TOKEN_NOT_YET_VALID);
	CHECK(check_code(t, n, 400, 600) == ERR_OK);
	CHECK(check_code(t, n, 399, 600) == ERR_TOKEN_NOT_YET_VALID);
	CHECK(check_code(t, n, INT64_MIN, 600) == ERR_TOKEN_NOT_YET_VALID);
	CHECK(check_code(t, n, 4999, 0) == ERR_OK);
	/* nbf == exp: an empty window, never valid. */
	CHECK(check_code(S("{" BASE ",\"exp\":1000,\"nbf\":1000}"), 999, 0) ==
	      ERR_TOKEN_NOT_YET_VALID);
	CHECK(check_code(S("{" BASE ",\"exp\":1000,\"nbf\":1000}"), 1000, 0) ==
	      ERR_TOKEN_EXPIRED);
	/* Fractional nbf floors: 1000.5 is valid from 1000. */
	CHECK(check_code(S("{" BASE ",\"exp\":5000,\"nbf\":1000.5}"), 1000,
	          0) == ERR_OK);
	CHECK(check_code(S("{" BASE ",\"exp\":5000,\"nbf\":1000.5}"), 999, 0) ==
	      ERR_TOKEN_NOT_YET_VALID);
	/* The ends of int64: nbf - leeway below INT64_MIN is always past. */
	CHECK(check_code(S("{" BASE ",\"exp\":9223372036854775807,"
	                   "\"nbf\":9223372036854775807}"),
	          INT64_MAX - 30, 30) == ERR_OK);
	CHECK(check_code(S("{" BASE ",\"exp\":9223372036854775807,"
	                   "\"nbf\":9223372036854775807}"),
	          INT64_MAX - 31, 30) == ERR_TOKEN_NOT_YET_VALID);
	CHECK(check_code(S("{" BASE ",\"exp\":5000,"
	                   "\"nbf\":-9223372036854775808}"),
	          INT64_MIN, 600) == ERR_OK);
	CHECK(check_code(S("{" BASE ",\"exp\":5000,"
	                   "\"nbf\":-9223372036854775208}"),
	          INT64_MIN, 600) == ERR_OK);
	CHECK(check_code(S("{" BASE ",\"exp\":5000,"
	                   "\"nbf\":-9223372036854775207}"),
	          INT64_MIN, 600) == ERR_TOKEN_NOT_YET_VALID);
}

/* An iat in the future beyond the leeway. */
static void
test_iat_boundaries(void)
{
	const char *t = "{" BASE ",\"exp\":5000,\"iat\":1000}";
	size_t n = strlen(t);

	CHECK(check_code(t, n, 1000, 0) == ERR_OK);
	CHECK(check_code(t, n, 999, 0) == ERR_TOKEN_NOT_YET_VALID);
	CHECK(check_code(t, n, 970, 30) == ERR_OK);
	CHECK(check_code(t, n, 969, 30) == ERR_TOKEN_NOT_YET_VALID);
	CHECK(check_code(t, n, INT64_MIN, 30) == ERR_TOKEN_NOT_YET_VALID);
	/* An old iat is fine: exp decides the lifetime. */
	CHECK(check_code(
	          S("{" BASE ",\"exp\":5000,\"iat\":-9223372036854775808}"),
	          4000, 30) == ERR_OK);
	/* An iat at the end of int64: in the future of every clock but the
	 * last leeway seconds, with no overflow. */
	CHECK(check_code(S("{" BASE ",\"exp\":9223372036854775807,"
	                   "\"iat\":9223372036854775807}"),
	          1000, 30) == ERR_TOKEN_NOT_YET_VALID);
	CHECK(check_code(S("{" BASE ",\"exp\":9223372036854775807,"
	                   "\"iat\":9223372036854775807}"),
	          INT64_MAX - 30, 30) == ERR_OK);
	/* Without iat (or nbf) nothing is checked but exp. */
	CHECK(check_code(S("{" BASE ",\"exp\":5000}"), INT64_MIN, 0) == ERR_OK);
}

/* RFC 7519 4.1.1: the issuer must match exactly. */
static void
test_issuer(void)
{
	CHECK(check_code(S("{" BASE ",\"exp\":5000}"), 1, 0) == ERR_OK);
	CHECK(check_code(S("{\"iss\":\"https://auth.example/\",\"aud\":\"" AUD
	                   "\",\"exp\":5000}"),
	          1, 0) == ERR_TOKEN_ISSUER);
	CHECK(check_code(S("{\"iss\":\"https://auth.exampl\",\"aud\":\"" AUD
	                   "\",\"exp\":5000}"),
	          1, 0) == ERR_TOKEN_ISSUER);
	CHECK(check_code(S("{\"iss\":\"https://AUTH.example\",\"aud\":\"" AUD
	                   "\",\"exp\":5000}"),
	          1, 0) == ERR_TOKEN_ISSUER);
	CHECK(check_code(S("{\"iss\":\"\",\"aud\":\"" AUD "\",\"exp\":5000}"),
	          1, 0) == ERR_TOKEN_ISSUER);
	/* An embedded NUL must not make "issuer\0junk" equal "issuer". */
	CHECK(check_code(
	          S("{\"iss\":\"https://auth.example\\u0000x\",\"aud\":\"" AUD
	            "\",\"exp\":5000}"),
	          1, 0) == ERR_TOKEN_ISSUER);
	CHECK(check_code(
	          S("{\"iss\":\"https://auth.example\\u0000\",\"aud\":\"" AUD
	            "\",\"exp\":5000}"),
	          1, 0) == ERR_TOKEN_ISSUER);
	/* Escapes are compared after unescaping: the same issuer. */
	CHECK(
	    check_code(S("{\"iss\":\"https:\\/\\/auth.\\u0065xample\",\"aud\":"
	                 "\"" AUD "\",\"exp\":5000}"),
	        1, 0) == ERR_OK);
}

/* RFC 7519 4.1.3: one of the audiences must be ours. */
static void
test_audience(void)
{
	CHECK(check_code(
	          S("{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"exp\":5000}"),
	          1, 0) == ERR_OK);
	CHECK(check_code(S("{\"iss\":\"" ISS "\",\"aud\":\"other\","
	                   "\"exp\":5000}"),
	          1, 0) == ERR_TOKEN_AUDIENCE);
	CHECK(check_code(S("{\"iss\":\"" ISS "\",\"aud\":\"resource\","
	                   "\"exp\":5000}"),
	          1, 0) == ERR_TOKEN_AUDIENCE);
	CHECK(check_code(S("{\"iss\":\"" ISS "\",\"aud\":\"resource_service2\","
	                   "\"exp\":5000}"),
	          1, 0) == ERR_TOKEN_AUDIENCE);
	CHECK(check_code(S("{\"iss\":\"" ISS "\",\"aud\":\"Resource_service\","
	                   "\"exp\":5000}"),
	          1, 0) == ERR_TOKEN_AUDIENCE);
	CHECK(check_code(S("{\"iss\":\"" ISS "\",\"aud\":\"resource_service"
	                   "\\u0000\",\"exp\":5000}"),
	          1, 0) == ERR_TOKEN_AUDIENCE);
	CHECK(check_code(S("{\"iss\":\"" ISS "\",\"aud\":[\"a\",\"" AUD
	                   "\",\"b\"],\"exp\":5000}"),
	          1, 0) == ERR_OK);
	CHECK(check_code(
	          S("{\"iss\":\"" ISS "\",\"aud\":[\"" AUD "\"],\"exp\":5000}"),
	          1, 0) == ERR_OK);
	CHECK(check_code(S("{\"iss\":\"" ISS "\",\"aud\":[\"a\",\"b\"],"
	                   "\"exp\":5000}"),
	          1, 0) == ERR_TOKEN_AUDIENCE);
	CHECK(check_code(S("{\"iss\":\"" ISS "\",\"aud\":[\"resource_service"
	                   "\\u0000x\"],\"exp\":5000}"),
	          1, 0) == ERR_TOKEN_AUDIENCE);
	CHECK(check_code(S("{\"iss\":\"" ISS "\",\"aud\":[\"" AUD "\",7],"
	                   "\"exp\":5000}"),
	          1, 0) == ERR_TOKEN_CLAIMS);
	CHECK(check_code(S("{\"iss\":\"" ISS "\",\"aud\":\"\",\"exp\":5000}"),
	          1, 0) == ERR_TOKEN_AUDIENCE);
}

/* The clock decides first, then the issuer, then the audience. */
static void
test_check_order(void)
{
	CHECK(check_code(S("{\"iss\":\"x\",\"aud\":\"y\",\"exp\":10}"), 20,
	          0) == ERR_TOKEN_EXPIRED);
	CHECK(check_code(S("{\"iss\":\"x\",\"aud\":\"y\",\"exp\":10}"), 5, 0) ==
	      ERR_TOKEN_ISSUER);
	CHECK(check_code(S("{\"iss\":\"" ISS "\",\"aud\":\"y\",\"exp\":10}"), 5,
	          0) == ERR_TOKEN_AUDIENCE);
}

/* A policy that could only fail open is refused, as is a leeway outside
 * 0..CLAIMS_MAX_LEEWAY; hand-built claims are bounded like parsed ones. */
static void
test_policy(void)
{
	struct claims c = { .iss = ISS, .iss_len = strlen(ISS), .exp = 1000 };
	struct claims_policy p = { .issuer = ISS, .audience = AUD };
	struct err e = { 0 };

	c.aud = json_object_new_string(AUD);
	CHECK(claims_check(&c, &p, 10, &e) == 0);

	p.issuer = NULL;
	CHECK(claims_check(&c, &p, 10, &e) == -1 && e.code == ERR_INTERNAL);
	e = (struct err){ 0 };
	p.issuer = "";
	CHECK(claims_check(&c, &p, 10, &e) == -1 && e.code == ERR_INTERNAL);
	e = (struct err){ 0 };
	p.issuer = ISS;
	p.audience = NULL;
	CHECK(claims_check(&c, &p, 10, &e) == -1 && e.code == ERR_INTERNAL);
	e = (struct err){ 0 };
	p.audience = "";
	CHECK(claims_check(&c, &p, 10, &e) == -1 && e.code == ERR_INTERNAL);
	e = (struct err){ 0 };
	p.audience = AUD;

	p.leeway = -1;
	CHECK(claims_check(&c, &p, 10, &e) == -1 && e.code == ERR_INTERNAL);
	e = (struct err){ 0 };
	p.leeway = CLAIMS_MAX_LEEWAY + 1;
	CHECK(claims_check(&c, &p, 10, &e) == -1 && e.code == ERR_INTERNAL);
	e = (struct err){ 0 };
	p.leeway = INT64_MAX;
	CHECK(claims_check(&c, &p, 10, &e) == -1 && e.code == ERR_INTERNAL);
	e = (struct err){ 0 };
	p.leeway = CLAIMS_MAX_LEEWAY;
	CHECK(claims_check(&c, &p, 10, &e) == 0);

	/* Extreme times in a hand-built struct, with the largest leeway:
	 * every comparison stays in range (UBSan). */
	c.exp = INT64_MAX;
	CHECK(claims_check(&c, &p, 10, &e) == 0);
	CHECK(claims_check(&c, &p, INT64_MAX, &e) == 0);
	c.exp = INT64_MIN;
	CHECK(claims_check(&c, &p, INT64_MIN, &e) == 0);
	CHECK(
	    claims_check(&c, &p, 10, &e) == -1 && e.code == ERR_TOKEN_EXPIRED);
	e = (struct err){ 0 };
	c.exp = INT64_MAX;
	c.nbf = INT64_MAX;
	CHECK(claims_check(&c, &p, 10, &e) == 0); /* has_nbf is false */
	c.has_nbf = true;
	CHECK(claims_check(&c, &p, 10, &e) == -1 &&
	      e.code == ERR_TOKEN_NOT_YET_VALID);
	e = (struct err){ 0 };
	c.nbf = INT64_MIN;
	CHECK(claims_check(&c, &p, INT64_MIN, &e) == 0);
	c.iat = INT64_MIN;
	c.has_iat = true;
	CHECK(claims_check(&c, &p, INT64_MIN, &e) == 0);
	c.nbf = 0;
	c.iat = INT64_MAX;
	CHECK(claims_check(&c, &p, 10, &e) == -1 &&
	      e.code == ERR_TOKEN_NOT_YET_VALID);
	e = (struct err){ 0 };
	c.iat = 0;
	CHECK(claims_check(&c, &p, 10, &e) == 0);

	/* Missing iss or aud in a hand-built struct. */
	c.iss = NULL;
	c.iss_len = 0;
	CHECK(claims_check(&c, &p, 10, &e) == -1 && e.code == ERR_TOKEN_ISSUER);
	e = (struct err){ 0 };
	c.iss = ISS;
	c.iss_len = strlen(ISS);
	json_object_put(c.aud);
	c.aud = NULL;
	CHECK(claims_check(&c, &p, 10, &e) == -1 && e.code == ERR_TOKEN_CLAIMS);
}

static enum err_code
typ_code(const char *s, size_t len)
{
	struct json_object *o = parse(s, len);
	struct jose_header h;
	struct err e = { 0 }, er = { 0 };
	enum err_code json_c;
	bool rd_read;

	json_c = verdict(claims_check_typ(o, &e), &e);
	json_object_put(o);
	rd_read = jose_read_header(s, len, &h, &er) == 0;
	return both(json_c, rd_read,
	    rd_read ? verdict(claims_check_typ_read(&h, &er), &er) : er.code);
}

/* RFC 9068 section 2.1 and RFC 7515 4.1.9. */
static void
test_typ(void)
{
	CHECK(typ_code(S("{\"alg\":\"RS256\",\"typ\":\"at+jwt\"}")) == ERR_OK);
	CHECK(typ_code(S("{\"typ\":\"AT+JWT\"}")) == ERR_OK);
	CHECK(typ_code(S("{\"typ\":\"At+Jwt\"}")) == ERR_OK);
	CHECK(typ_code(S("{\"typ\":\"application/at+jwt\"}")) == ERR_OK);
	CHECK(typ_code(S("{\"typ\":\"Application/AT+JWT\"}")) == ERR_OK);
	CHECK(typ_code(S("{\"typ\":\"at\\u002bjwt\"}")) == ERR_OK);
	CHECK(typ_code(S("{\"typ\":\"JWT\"}")) == ERR_TOKEN_HEADER);
	CHECK(typ_code(S("{\"typ\":\"jwt\"}")) == ERR_TOKEN_HEADER);
	CHECK(typ_code(S("{\"typ\":\"application/jwt\"}")) == ERR_TOKEN_HEADER);
	CHECK(typ_code(S("{\"typ\":\"at+jw\"}")) == ERR_TOKEN_HEADER);
	CHECK(typ_code(S("{\"typ\":\"at+jwt \"}")) == ERR_TOKEN_HEADER);
	CHECK(typ_code(S("{\"typ\":\" at+jwt\"}")) == ERR_TOKEN_HEADER);
	CHECK(typ_code(S("{\"typ\":\"at+jwtx\"}")) == ERR_TOKEN_HEADER);
	/* The right length is not enough: every byte of the short form and
	 * of the long form is compared (case aside). */
	CHECK(typ_code(S("{\"typ\":\"at+jws\"}")) == ERR_TOKEN_HEADER);
	CHECK(typ_code(S("{\"typ\":\"id+jwt\"}")) == ERR_TOKEN_HEADER);
	CHECK(typ_code(S("{\"typ\":\"at-jwt\"}")) == ERR_TOKEN_HEADER);
	CHECK(typ_code(S("{\"typ\":\"application/id+jwt\"}")) ==
	      ERR_TOKEN_HEADER);
	CHECK(typ_code(S("{\"typ\":\"applicatiom/at+jwt\"}")) ==
	      ERR_TOKEN_HEADER);
	CHECK(typ_code(S("{\"typ\":\"at+jwt\\u0000\"}")) == ERR_TOKEN_HEADER);
	CHECK(typ_code(S("{\"typ\":\"application/at+jwt\\u0000x\"}")) ==
	      ERR_TOKEN_HEADER);
	CHECK(typ_code(S("{\"typ\":\"x-application/at+jwt\"}")) ==
	      ERR_TOKEN_HEADER);
	CHECK(typ_code(S("{\"typ\":\"application/at+jwt/\"}")) ==
	      ERR_TOKEN_HEADER);
	CHECK(typ_code(S("{\"typ\":\"applicationXat+jwt\"}")) ==
	      ERR_TOKEN_HEADER);
	CHECK(typ_code(S("{\"typ\":\"\"}")) == ERR_TOKEN_HEADER);
	/* Only ASCII folds: the Kelvin sign U+212A is not a K. */
	CHECK(
	    typ_code(S("{\"typ\":\"at+jw\xe2\x84\xaa\"}")) == ERR_TOKEN_HEADER);
	CHECK(typ_code(S("{\"alg\":\"RS256\"}")) == ERR_TOKEN_HEADER);
	CHECK(typ_code(S("{\"typ\":null}")) == ERR_TOKEN_HEADER);
	CHECK(typ_code(S("{\"typ\":[\"at+jwt\"]}")) == ERR_TOKEN_HEADER);
	CHECK(typ_code(S("{\"typ\":1}")) == ERR_TOKEN_HEADER);
	CHECK(typ_code(S("[\"at+jwt\"]")) == ERR_TOKEN_HEADER);
	CHECK(typ_code(S("\"at+jwt\"")) == ERR_TOKEN_HEADER);
	CHECK(typ_code(S("null")) == ERR_TOKEN_HEADER);
}

int
main(void)
{
	RUN(test_parse_complete);
	RUN(test_parse_required);
	RUN(test_parse_types);
	RUN(test_exp_is_exclusive);
	RUN(test_exp_boundaries);
	RUN(test_nbf_boundaries);
	RUN(test_iat_boundaries);
	RUN(test_issuer);
	RUN(test_audience);
	RUN(test_check_order);
	RUN(test_policy);
	RUN(test_typ);
	return test_report();
}

/* test_jose_reader: every refusal of the non-allocating JOSE reader, each
 * next to json_parse_strict's verdict on the same text (they must agree),
 * and every field it reads: strings with and without escapes, embedded
 * U+0000 kept by length, aud as a string or an array, NumericDates at the
 * ends of their range, and names repeated under another spelling. */
#include <stdint.h>
#include <string.h>

#include "jose_reader.h"
#include "json_util.h"
#include "test.h"

#define S(lit) lit, sizeof(lit) - 1

/* Both readers and json-c on one text; returns the reader's error code
 * (ERR_OK on success) after checking json-c says the same. */
static enum err_code
verdict(const char *s, size_t len)
{
	struct json_object *o = NULL;
	struct jose_header h;
	struct jose_claims c;
	struct err ej = { 0 }, eh = { 0 }, ec = { 0 };
	bool ref;

	ref = json_parse_strict(s, len, JSON_DEFAULT_MAX_DEPTH,
	          ERR_TOKEN_MALFORMED, &o, &ej) == 0 &&
	      json_object_is_type(o, json_type_object);
	json_object_put(o);
	CHECK((jose_read_header(s, len, &h, &eh) == 0) == ref);
	CHECK((jose_read_claims(s, len, &c, &ec) == 0) == ref);
	CHECK(eh.code == ec.code);
	return eh.code;
}

#define REFUSED(lit) CHECK(verdict(S(lit)) == ERR_TOKEN_MALFORMED)
#define ACCEPTED(lit) CHECK(verdict(S(lit)) == ERR_OK)

static void
test_grammar_refusals(void)
{
	REFUSED("");
	REFUSED(" ");
	REFUSED("{");
	REFUSED("}");
	REFUSED("{\"a\":1,}");
	REFUSED("{\"a\":1 \"b\":2}");
	REFUSED("{\"a\" 1}");
	REFUSED("{a:1}");
	REFUSED("{'a':1}");
	REFUSED("{\"a\":'x'}");
	REFUSED("{\"a\":[1,]}");
	REFUSED("{\"a\":[,1]}");
	REFUSED("{\"a\":tru}");
	REFUSED("{\"a\":True}");
	REFUSED("{\"a\":nul}");
	REFUSED("{\"a\":1}x");
	REFUSED("{\"a\":1}{}");
	REFUSED("{\"a\":1}\0");
	REFUSED("\f{\"a\":1}");
	REFUSED("{\"a\":1}\v");
	REFUSED("{/*c*/\"a\":1}");
	REFUSED("{\"a\":1}//c");
	ACCEPTED(" \t\r\n{ \t\r\n\"a\" \t\r\n: \t\r\n1 \t\r\n} \t\r\n");
	ACCEPTED("{}");
}

static void
test_number_refusals(void)
{
	REFUSED("{\"a\":01}");
	REFUSED("{\"a\":-01}");
	REFUSED("{\"a\":00}");
	REFUSED("{\"a\":1.}");
	REFUSED("{\"a\":.5}");
	REFUSED("{\"a\":1.e5}");
	REFUSED("{\"a\":1e}");
	REFUSED("{\"a\":1e+}");
	REFUSED("{\"a\":-}");
	REFUSED("{\"a\":+1}");
	REFUSED("{\"a\":NaN}");
	REFUSED("{\"a\":Infinity}");
	REFUSED("{\"a\":-Infinity}");
	REFUSED("{\"a\":0x10}");
	/* Beyond 64 bits json-c would saturate; beyond double, infinity. */
	REFUSED("{\"a\":18446744073709551616}");
	REFUSED("{\"a\":-9223372036854775809}");
	REFUSED("{\"a\":1e400}");
	REFUSED("{\"a\":-1e400}");
	REFUSED("{\"a\":[{\"b\":1e400}]}");
	ACCEPTED("{\"a\":18446744073709551615}");
	ACCEPTED("{\"a\":-9223372036854775808}");
	ACCEPTED("{\"a\":1e-400}");
	ACCEPTED("{\"a\":-0}");
	ACCEPTED("{\"a\":-0.0e-0}");
	ACCEPTED("{\"a\":1E+2}");
}

static void
test_string_refusals(void)
{
	REFUSED("{\"a\":\"x\ty\"}");
	REFUSED("{\"a\":\"x\ny\"}");
	REFUSED("{\"a\":\"x\0y\"}");
	REFUSED("{\"a\":\"\\x\"}");
	REFUSED("{\"a\":\"\\U0041\"}");
	REFUSED("{\"a\":\"\\u00g1\"}");
	REFUSED("{\"a\":\"\\u00\"}");
	REFUSED("{\"a\":\"\\");
	REFUSED("{\"a\":\"abc");
	REFUSED("{\"a\":\"\\udc00\"}");
	REFUSED("{\"a\":\"\\ud800\"}");
	REFUSED("{\"a\":\"\\ud800x\"}");
	REFUSED("{\"a\":\"\\ud800\\u0041\"}");
	REFUSED("{\"a\":\"\\ud800\\ud800\"}");
	/* json-c keeps names as C strings: a NUL would cut "typ\0x". */
	REFUSED("{\"typ\\u0000x\":1}");
	/* RFC 3629: overlong, surrogates, beyond U+10FFFF, truncated,
	 * stray continuation and impossible bytes. */
	REFUSED("{\"a\":\"\xc0\x80\"}");
	REFUSED("{\"a\":\"\xc1\xbf\"}");
	REFUSED("{\"a\":\"\xe0\x80\x80\"}");
	REFUSED("{\"a\":\"\xed\xa0\x80\"}");
	REFUSED("{\"a\":\"\xf0\x80\x80\x80\"}");
	REFUSED("{\"a\":\"\xf4\x90\x80\x80\"}");
	REFUSED("{\"a\":\"\xf5\x80\x80\x80\"}");
	REFUSED("{\"a\":\"\xc3\"}");
	REFUSED("{\"a\":\"\xe2\x82\"}");
	REFUSED("{\"a\":\"\x80\"}");
	REFUSED("{\"a\":\"\xff\"}");
	REFUSED("{\"\xc3\":1}");
	ACCEPTED("{\"a\":\"\\u0000\"}");
	ACCEPTED("{\"a\":\"\xf4\x8f\xbf\xbf\xed\x9f\xbf\xc3\xa9\"}");
	ACCEPTED("{\"a\":\"\\ud83d\\ude00\"}");
	/* json-c 0.16 would make these U+FFFD: refused by both. */
	REFUSED("{\"a\":\"\\ud836\\ude00\"}");
	REFUSED("{\"a\":\"\\udbf7\\udc00\"}");
	ACCEPTED("{\"a\":\"\xf0\x9d\xa0\x80\"}");
}

static void
test_duplicates(void)
{
	REFUSED("{\"alg\":\"RS256\",\"alg\":\"none\"}");
	/* The same name however it is spelled. */
	REFUSED("{\"alg\":\"RS256\",\"\\u0061lg\":\"none\"}");
	REFUSED("{\"\\u0061lg\":\"RS256\",\"al\\u0067\":\"none\"}");
	REFUSED("{\"\\/\":1,\"/\":2}");
	REFUSED("{\"\xc3\xa9\":1,\"\\u00e9\":2}");
	REFUSED("{\"\\ud83d\\ude00\":1,\"\xf0\x9f\x98\x80\":2}");
	REFUSED("{\"\":1,\"\":2}");
	/* In nested objects, and in objects inside arrays. */
	REFUSED("{\"a\":{\"b\":1,\"b\":2}}");
	REFUSED("{\"a\":[{\"b\":1},{\"c\":1,\"c\":2}]}");
	REFUSED("{\"a\":{\"x\":{}},\"b\":1,\"a\":2}");
	/* The same name in different objects is no duplicate. */
	ACCEPTED("{\"a\":{\"a\":{\"a\":1}},\"b\":[{\"a\":1},{\"a\":2}]}");
	ACCEPTED(
	    "{\"ab\":1,\"a\\u0062c\":2,\"a\":4,\"\\u0061\\u0062\\u0063d\":5}");
}

/* depth containers around a scalar, as the text {"a":[[...1...]]}. */
static enum err_code
nested(int depth)
{
	char buf[256];
	size_t n = 0;

	n += (size_t)snprintf(buf, sizeof(buf), "{\"a\":");
	for (int i = 1; i < depth; i++)
		buf[n++] = '[';
	buf[n++] = '1';
	for (int i = 1; i < depth; i++)
		buf[n++] = ']';
	buf[n++] = '}';
	return verdict(buf, n);
}

static void
test_depth(void)
{
	/* A value inside d containers needs d < 16 (json-c's rule). */
	CHECK(nested(JSON_DEFAULT_MAX_DEPTH - 1) == ERR_OK);
	CHECK(nested(JSON_DEFAULT_MAX_DEPTH) == ERR_TOKEN_MALFORMED);
	CHECK(nested(JSON_DEFAULT_MAX_DEPTH + 20) == ERR_TOKEN_MALFORMED);
}

static void
test_not_an_object(void)
{
	struct jose_claims c;
	struct err e = { 0 };

	REFUSED("[]");
	REFUSED("\"x\"");
	REFUSED("1");
	REFUSED("null");
	CHECK(jose_read_claims(S("[1]"), &c, &e) == -1);
	CHECK(strstr(e.msg, "not an object") != NULL);
	CHECK(c.iss.type == JOSE_ABSENT);
}

static void
test_too_large(void)
{
	static char big[JOSE_READER_MAX_INPUT + 2];
	struct jose_header h;
	struct err e = { 0 };

	memset(big, ' ', sizeof(big));
	big[0] = '{';
	big[sizeof(big) - 1] = '}';
	CHECK(jose_read_header(big, sizeof(big) - 1, &h, &e) == -1);
	CHECK(e.code == ERR_INTERNAL);
	/* The largest input is read, whitespace and all. */
	big[JOSE_READER_MAX_INPUT - 1] = '}';
	e = (struct err){ 0 };
	CHECK(jose_read_header(big, JOSE_READER_MAX_INPUT, &h, &e) == 0);
}

static bool
str_is(const struct jose_val *v, const char *s, size_t len)
{
	char buf[256];

	return v->type == JOSE_STRING && v->str.dec_len == len &&
	       jose_str_equals(&v->str, s, len) &&
	       jose_str_decode(&v->str, buf) == len && memcmp(buf, s, len) == 0;
}

static void
test_header_fields(void)
{
	struct jose_header h;
	struct err e = { 0 };

	CHECK(
	    jose_read_header(
	        S("{\"alg\":\"RS256\",\"typ\":\"at+jwt\",\"kid\":\"k\\u0031\","
	          "\"crit\":[],\"jku\":null,\"x5u\":1,\"jwk\":{},"
	          "\"x5c\":[\"\"],\"b64\":false,\"zip\":\"DEF\"}"),
	        &h, &e) == 0);
	CHECK(str_is(&h.alg, S("RS256")) && !h.alg.str.escaped);
	CHECK(str_is(&h.typ, S("at+jwt")));
	CHECK(str_is(&h.kid, S("k1")) && h.kid.str.escaped);
	CHECK(h.kid.str.len == 7);
	CHECK(h.crit.type == JOSE_ARRAY && h.crit.n == 0);
	CHECK(h.jku.type == JOSE_NULL);
	CHECK(h.x5u.type == JOSE_NUMBER);
	CHECK(h.jwk.type == JOSE_OBJECT);
	CHECK(h.x5c.type == JOSE_ARRAY && h.x5c.n == 1);
	CHECK(h.b64.type == JOSE_BOOL);
	CHECK(str_is(&h.zip, S("DEF")));

	/* Absent members, and members the reader does not name. */
	CHECK(jose_read_header(
	          S("{\"ALG\":1,\"kid \":2,\"x\":{\"alg\":3}}"), &h, &e) == 0);
	CHECK(h.alg.type == JOSE_ABSENT && h.kid.type == JOSE_ABSENT);
	CHECK(h.typ.type == JOSE_ABSENT && h.crit.type == JOSE_ABSENT);
}

static void
test_claims_fields(void)
{
	struct jose_claims c;
	struct jose_iter it;
	struct jose_str s;
	struct err e = { 0 };

	CHECK(jose_read_claims(
	          S("{\"\\u0069ss\":\"https:\\/\\/auth.example\","
	            "\"aud\":[\"a\",\"\\u00e9\\ud83d\\ude00\",\"\"],"
	            "\"sub\":\"a\\u0000b\",\"exp\":1700000800,\"nbf\":1.5,"
	            "\"iat\":-1.5,\"jti\":\"\\\"\\\\\\b\\f\\n\\r\\t\","
	            "\"client_id\":\"c\",\"username\":\"\xc3\xa9\","
	            "\"roles\":[\"r\",1,\"s\"],\"permissions\":[ ],"
	            "\"scope\":\"read:data write:data\"}"),
	          &c, &e) == 0);
	CHECK(str_is(&c.iss, S("https://auth.example")));
	CHECK(c.aud.type == JOSE_ARRAY && c.aud.n == 3 &&
	      c.aud.first_non_string == 3);
	jose_iter_init(&c.aud, &it);
	CHECK(jose_iter_next(&it, &s) && s.dec_len == 1 && !s.escaped);
	CHECK(jose_iter_next(&it, &s) && s.escaped &&
	      jose_str_equals(&s, S("\xc3\xa9\xf0\x9f\x98\x80")));
	CHECK(jose_iter_next(&it, &s) && s.dec_len == 0);
	CHECK(!jose_iter_next(&it, &s));
	/* U+0000 is kept: the value is three bytes, not "a". */
	CHECK(str_is(&c.sub, S("a\0b")));
	CHECK(!jose_str_equals(&c.sub.str, S("a")));
	CHECK(c.exp.type == JOSE_NUMBER && c.exp.date_ok &&
	      c.exp.date == 1700000800);
	CHECK(c.nbf.date_ok && c.nbf.date == 1);
	CHECK(c.iat.date_ok && c.iat.date == -2);
	CHECK(str_is(&c.jti, S("\"\\\b\f\n\r\t")));
	CHECK(str_is(&c.client_id, S("c")));
	CHECK(str_is(&c.username, S("\xc3\xa9")));
	CHECK(c.roles.type == JOSE_ARRAY && c.roles.n == 3 &&
	      c.roles.first_non_string == 1);
	CHECK(c.permissions.type == JOSE_ARRAY && c.permissions.n == 0 &&
	      c.permissions.first_non_string == 0);
	jose_iter_init(&c.permissions, &it);
	CHECK(!jose_iter_next(&it, &s));
	CHECK(str_is(&c.scope, S("read:data write:data")));

	CHECK(jose_read_claims(S("{\"aud\":\"x\",\"iss\":7}"), &c, &e) == 0);
	CHECK(str_is(&c.aud, S("x")));
	CHECK(c.iss.type == JOSE_NUMBER && c.sub.type == JOSE_ABSENT);
}

/* The NumericDate of {"exp":text}: as json_get_numeric_date gives it. */
static void
check_date(const char *text, bool ok, int64_t want)
{
	char buf[128];
	struct jose_claims c;
	struct json_object *o = NULL, *v = NULL;
	struct err e = { 0 };
	int64_t ref = 0;
	size_t n = (size_t)snprintf(buf, sizeof(buf), "{\"exp\":%s}", text);

	CHECK(jose_read_claims(buf, n, &c, &e) == 0);
	CHECK(c.exp.type == JOSE_NUMBER && c.exp.date_ok == ok);
	if (ok)
		CHECK(c.exp.date == want);
	CHECK(json_parse_strict(buf, n, JSON_DEFAULT_MAX_DEPTH,
	          ERR_TOKEN_MALFORMED, &o, &e) == 0);
	CHECK(json_object_object_get_ex(o, "exp", &v));
	CHECK((json_get_numeric_date(v, &ref) == 0) == ok);
	if (ok)
		CHECK(ref == want);
	json_object_put(o);
}

static void
test_dates(void)
{
	check_date("0", true, 0);
	check_date("-0", true, 0);
	check_date("-0.0", true, 0);
	check_date("9223372036854775807", true, INT64_MAX);
	check_date("-9223372036854775808", true, INT64_MIN);
	/* json-c keeps these as uint64: no NumericDate. */
	check_date("9223372036854775808", false, 0);
	check_date("18446744073709551615", false, 0);
	check_date("1.5", true, 1);
	check_date("-1.5", true, -2);
	check_date("1e3", true, 1000);
	check_date("1.7e9", true, 1700000000);
	check_date("1e-400", true, 0);
	check_date("-1e-400", true, 0); /* strtod: -0.0 */
	check_date("-1e-300", true, -1);
	check_date("-9.223372036854775808e18", true, INT64_MIN);
	check_date("9.223372036854775808e18", false, 0);
	check_date("1e300", false, 0);
	check_date("-1e300", false, 0);
}

int
main(void)
{
	RUN(test_grammar_refusals);
	RUN(test_number_refusals);
	RUN(test_string_refusals);
	RUN(test_duplicates);
	RUN(test_depth);
	RUN(test_not_an_object);
	RUN(test_too_large);
	RUN(test_header_fields);
	RUN(test_claims_fields);
	RUN(test_dates);
	return test_report();
}

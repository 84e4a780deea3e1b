/* test_json_util: the strict parser against RFC 8259 and every gap json-c
 * 0.16 leaves open in strict mode, each rejection next to an accepted
 * control; then the typed getters. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json_util.h"
#include "test.h"

#define S(lit) lit, sizeof(lit) - 1

static int
parses_depth(const char *s, size_t len, int depth)
{
	struct json_object *o = NULL;
	struct err e = { 0 };
	int ok = json_parse_strict(
	             s, len, depth, ERR_INVALID_REQUEST, &o, &e) == 0 &&
	         e.code == ERR_OK;

	json_object_put(o);
	return ok;
}

static int
parses(const char *s, size_t len)
{
	return parses_depth(s, len, JSON_DEFAULT_MAX_DEPTH);
}

/* Rejected with the caller's code, a message for the log, and no tree. */
static int
rejected_depth(const char *s, size_t len, int depth)
{
	struct json_object *o = (struct json_object *)&o;
	struct err e = { 0 };

	return json_parse_strict(s, len, depth, ERR_INVALID_REQUEST, &o, &e) ==
	           -1 &&
	       e.code == ERR_INVALID_REQUEST && e.msg[0] != '\0' && o == NULL;
}

static int
rejected(const char *s, size_t len)
{
	return rejected_depth(s, len, JSON_DEFAULT_MAX_DEPTH);
}

/* Parses (must succeed) for the getter tests; NULL on failure. */
static struct json_object *
parse(const char *s, size_t len)
{
	struct json_object *o = NULL;
	struct err e = { 0 };

	if (json_parse_strict(s, len, JSON_DEFAULT_MAX_DEPTH,
	        ERR_INVALID_REQUEST, &o, &e) == -1)
		fprintf(stderr, "parse failed: %s\n", e.msg);
	return o;
}

static void
test_literals(void)
{
	CHECK(parses(S("true")));
	CHECK(parses(S("false")));
	CHECK(parses(S("null")));
	CHECK(parses(S(" null\n")));
	CHECK(parses(S("[true,false,null]")));
	CHECK(rejected(S("True")));
	CHECK(rejected(S("TRUE")));
	CHECK(rejected(S("nul")));
	CHECK(rejected(S("nulll")));
	CHECK(rejected(S("truefalse")));
	CHECK(rejected(S("undefined")));
}

/* json-c strict mode accepts NaN and +-Infinity; RFC 8259 section 6 has no
 * such numbers. */
static void
test_nan_infinity(void)
{
	CHECK(parses(S("[1.5,-2]")));
	CHECK(rejected(S("NaN")));
	CHECK(rejected(S("[NaN]")));
	CHECK(rejected(S("{\"exp\":NaN}")));
	CHECK(rejected(S("Infinity")));
	CHECK(rejected(S("-Infinity")));
	CHECK(rejected(S("[Infinity]")));
	CHECK(rejected(S("{\"exp\":-Infinity}")));
	CHECK(rejected(S("nan")));
	CHECK(rejected(S("inf")));
	/* Finite in the text, infinite as a double. */
	CHECK(parses(S("[1e308]")));
	CHECK(rejected(S("[1e400]")));
	CHECK(rejected(S("[-1e400]")));
	CHECK(rejected(S("{\"exp\":1E+999}")));
	/* Underflow is just a tiny number. */
	CHECK(parses(S("[1e-400]")));
}

static void
test_numbers(void)
{
	CHECK(parses(S("0")));
	CHECK(parses(S("-0")));
	CHECK(parses(S("7")));
	CHECK(parses(S("-12")));
	CHECK(parses(S("0.5")));
	CHECK(parses(S("-0.0e0")));
	CHECK(parses(S("1e5")));
	CHECK(parses(S("1E+5")));
	CHECK(parses(S("1e-5")));
	CHECK(parses(S("123.456e-7")));
	CHECK(parses(S("[0,10,-10]")));
	/* Leading zeros: json-c strict accepts "00" and "-01". */
	CHECK(rejected(S("00")));
	CHECK(rejected(S("01")));
	CHECK(rejected(S("-01")));
	CHECK(rejected(S("[-01]")));
	CHECK(rejected(S("[01]")));
	CHECK(rejected(S("-00")));
	/* Fractions need digits on both sides: json-c accepts "1." and
	 * "1.e5". */
	CHECK(rejected(S("1.")));
	CHECK(rejected(S("[1.]")));
	CHECK(rejected(S("[1.e5]")));
	CHECK(rejected(S(".5")));
	CHECK(rejected(S("-.5")));
	/* Signs, hex, broken exponents. */
	CHECK(rejected(S("+1")));
	CHECK(rejected(S("[+1]")));
	CHECK(rejected(S("0x10")));
	CHECK(rejected(S("1e")));
	CHECK(rejected(S("1e+")));
	CHECK(rejected(S("[1e+-5]")));
	CHECK(rejected(S("[1e5e5]")));
	CHECK(rejected(S("-")));
	CHECK(rejected(S("[-]")));
	CHECK(rejected(S("[--1]")));
	CHECK(rejected(S("[1.5.5]")));
	CHECK(rejected(S("[1-2]")));
	CHECK(rejected(S("1 2")));
}

/* json-c saturates integers beyond 64 bits, which would make distinct texts
 * the same number: they are refused. A double of any size is fine. */
static void
test_integer_range(void)
{
	CHECK(parses(S("9223372036854775807")));
	CHECK(parses(S("-9223372036854775808")));
	CHECK(parses(S("9223372036854775808")));
	CHECK(parses(S("18446744073709551615")));
	CHECK(rejected(S("18446744073709551616")));
	CHECK(rejected(S("-9223372036854775809")));
	CHECK(rejected(S("[123456789012345678901234567890]")));
	CHECK(rejected(S("{\"exp\":-99999999999999999999}")));
	CHECK(parses(S("[123456789012345678901234567890.0]")));
	CHECK(parses(S("[123456789012345678901234567890e0]")));
	CHECK(parses(S("[-99999999999999999999.5]")));
}

static void
test_strings(void)
{
	struct json_object *o;

	CHECK(parses(S("\"\"")));
	CHECK(parses(S("\"plain\"")));
	CHECK(parses(S("\"\\\" \\\\ \\/ \\b \\f \\n \\r \\t \\u00e9\"")));
	CHECK(parses(S("\"\x7f\""))); /* DEL needs no escape */
	/* RFC 8259 section 7: control characters must be escaped; json-c
	 * strict takes them raw. */
	CHECK(rejected(S("\"a\tb\"")));
	CHECK(rejected(S("\"a\nb\"")));
	CHECK(rejected(S("\"a\rb\"")));
	CHECK(rejected(S("\"a\x01"
	                 "b\"")));
	CHECK(rejected(S("\"a\x1f"
	                 "b\"")));
	CHECK(parses(S("\"a\\tb\"")));
	/* Escapes outside the eight of RFC 8259 section 7. */
	CHECK(rejected(S("\"\\x41\"")));
	CHECK(rejected(S("\"\\a\"")));
	CHECK(rejected(S("\"\\'\"")));
	CHECK(rejected(S("\"\\u12\"")));
	CHECK(rejected(S("\"\\u12G4\"")));
	CHECK(rejected(S("\"\\U0041\"")));
	CHECK(rejected(S("\"\\")));
	CHECK(parses(S("\"\\u0041\\u00E9\"")));
	/* Unterminated. */
	CHECK(rejected(S("\"abc")));
	CHECK(rejected(S("[\"abc]")));
	/* Single quotes: json-c strict accepts them around member names. */
	CHECK(parses(S("{\"a\":1}")));
	CHECK(rejected(S("{'a':1}")));
	CHECK(rejected(S("'a'")));
	CHECK(rejected(S("['a']")));
	CHECK(rejected(S("{\"a\":'b'}")));

	/* The unescaped bytes and length come through. */
	o = parse(S("\"a\\u0000b\\u00e9\""));
	CHECK(o != NULL && json_object_get_string_len(o) == 5 &&
	      memcmp(json_object_get_string(o), "a\0b\xc3\xa9", 5) == 0);
	json_object_put(o);
}

/* RFC 8259 section 7 and 8.2: surrogate escapes only in pairs. json-c turns
 * a lone one into U+FFFD, so "\ud800" and "\ufffd" would read the same. */
static void
test_surrogates(void)
{
	struct json_object *o;

	o = parse(S("\"\\ud83d\\ude00\""));
	CHECK(o != NULL && json_object_get_string_len(o) == 4 &&
	      memcmp(json_object_get_string(o), "\xf0\x9f\x98\x80", 4) == 0);
	json_object_put(o);
	CHECK(parses(S("\"\\uD800\\uDC00\"")));
	CHECK(parses(S("\"\\udbff\\udfff\"")));
	CHECK(parses(S("\"\\ud7ff\\ue000\""))); /* just outside the range */
	CHECK(rejected(S("\"\\ud800\"")));
	CHECK(rejected(S("\"\\udbff\"")));
	CHECK(rejected(S("\"\\udc00\"")));
	CHECK(rejected(S("\"\\udfff\"")));
	CHECK(rejected(S("\"\\ude00\\ud83d\""))); /* reversed pair */
	CHECK(rejected(S("\"\\ud800\\u0041\"")));
	CHECK(rejected(S("\"\\ud800x\"")));
	CHECK(rejected(S("\"\\ud800\\n\"")));
	CHECK(rejected(S("\"\\ud800\\ud800\"")));
	CHECK(rejected(S("\"\\ud800\\")));
	CHECK(rejected(S("{\"\\ud800\":1}")));
	/* json-c 0.16 makes U+1D800..U+1DFFF (and each plane's like range)
	 * U+FFFD when escaped; as UTF-8 bytes they are kept. */
	CHECK(rejected(S("\"\\ud836\\ude00\"")));
	CHECK(rejected(S("\"\\udbf7\\udfff\"")));
	CHECK(parses(S("\"\\ud835\\udfff\\ud838\\udc00\"")));
	CHECK(parses(S("\"\xf0\x9d\xa0\x80\"")));
}

/* RFC 8259 section 8.1 and RFC 3629 section 4. json-c's validator only
 * counts continuation bytes: it takes overlong forms, encoded surrogates
 * and code points above U+10FFFF. */
static void
test_utf8(void)
{
	CHECK(parses(S("\"\xc3\xa9\"")));                /* U+00E9 */
	CHECK(parses(S("\"\xc2\x80\"")));                /* U+0080 */
	CHECK(parses(S("\"\xdf\xbf\"")));                /* U+07FF */
	CHECK(parses(S("\"\xe0\xa0\x80\"")));            /* U+0800 */
	CHECK(parses(S("\"\xe2\x82\xac\"")));            /* U+20AC */
	CHECK(parses(S("\"\xed\x9f\xbf\"")));            /* U+D7FF */
	CHECK(parses(S("\"\xee\x80\x80\"")));            /* U+E000 */
	CHECK(parses(S("\"\xef\xbf\xbf\"")));            /* U+FFFF */
	CHECK(parses(S("\"\xf0\x90\x80\x80\"")));        /* U+10000 */
	CHECK(parses(S("\"\xf0\x9f\x98\x80\"")));        /* U+1F600 */
	CHECK(parses(S("\"\xf4\x8f\xbf\xbf\"")));        /* U+10FFFF */
	CHECK(parses(S("{\"\xc3\xa9\":\"\xc3\xa9\"}"))); /* in a name */
	/* Overlong. */
	CHECK(rejected(S("\"\xc0\x80\"")));
	CHECK(rejected(S("\"\xc0\xaf\"")));
	CHECK(rejected(S("\"\xc1\xbf\"")));
	CHECK(rejected(S("\"\xe0\x80\x80\"")));
	CHECK(rejected(S("\"\xe0\x9f\xbf\"")));
	CHECK(rejected(S("\"\xf0\x80\x80\x80\"")));
	CHECK(rejected(S("\"\xf0\x8f\xbf\xbf\"")));
	/* UTF-16 surrogates encoded as UTF-8. */
	CHECK(rejected(S("\"\xed\xa0\x80\"")));
	CHECK(rejected(S("\"\xed\xbf\xbf\"")));
	CHECK(rejected(S("\"\xed\xa0\xbd\xed\xb8\x80\"")));
	/* Beyond U+10FFFF, and lead bytes that never occur. */
	CHECK(rejected(S("\"\xf4\x90\x80\x80\"")));
	CHECK(rejected(S("\"\xf5\x80\x80\x80\"")));
	CHECK(rejected(S("\"\xf8\x88\x80\x80\x80\"")));
	CHECK(rejected(S("\"\xfe\"")));
	CHECK(rejected(S("\"\xff\"")));
	/* Stray and missing continuation bytes. */
	CHECK(rejected(S("\"\x80\"")));
	CHECK(rejected(S("\"\xbf\"")));
	CHECK(rejected(S("\"\xc3\"")));
	CHECK(rejected(S("\"\xc3")));
	CHECK(rejected(S("\"\xe2\x82\"")));
	CHECK(rejected(S("\"\xe2\x82")));
	CHECK(rejected(S("\"\xf0\x9f\x98\"")));
	CHECK(rejected(S("\"\xc3\xc3\xa9\"")));
	CHECK(rejected(S("\"\xe2\x28\xa1\"")));
	/* Outside strings, non-ASCII is never valid; nor is a BOM (RFC 8259
	 * section 8.1). */
	CHECK(rejected(S("\xef\xbb\xbf{}")));
	CHECK(rejected(S("[1,\xc3\xa9]")));
	CHECK(rejected(S("{\"a\":1}\xc2\xa0")));
}

/* A NUL byte is never whitespace or the end of input: json-c stops at it,
 * so everything after would be silently ignored. */
static void
test_nul_bytes(void)
{
	struct json_object *o;

	CHECK(parses(S("[1,2]")));
	CHECK(rejected(S("[1,2]\0")));
	CHECK(rejected(S("[]\0junk")));
	CHECK(rejected(S("{}\0{\"alg\":\"none\"}")));
	CHECK(rejected(S("12\0"
	                 "3")));
	CHECK(rejected(S("[1,\0 2]")));
	CHECK(rejected(S("\0[1]")));
	CHECK(rejected(S("\"a\0b\"")));
	CHECK(rejected(S("{\"a\0b\":1}")));
	/* Escaped U+0000 is fine inside a value, which keeps its length... */
	o = parse(S("{\"p\":\"read:data\\u0000x\"}"));
	CHECK(o != NULL);
	json_object_put(o);
	/* ...but not in a member name, which json-c would cut short. */
	CHECK(parses(S("{\"typ\":1}")));
	CHECK(rejected(S("{\"typ\\u0000x\":1}")));
	CHECK(rejected(S("{\"\\u0000\":1}")));
}

static void
test_trailing(void)
{
	CHECK(parses(S("{}")));
	CHECK(parses(S("{} ")));
	CHECK(parses(S("{}\n\t\r ")));
	CHECK(parses(S("1 ")));
	CHECK(rejected(S("{} {}")));
	CHECK(rejected(S("{}{}")));
	CHECK(rejected(S("{}x")));
	CHECK(rejected(S("{},")));
	CHECK(rejected(S("[1]]")));
	CHECK(rejected(S("\"a\"\"b\"")));
	CHECK(rejected(S("1 2")));
	CHECK(rejected(S("true false")));
	/* Only the four whitespace bytes of RFC 8259 section 2. */
	CHECK(rejected(S("{}\f")));
	CHECK(rejected(S("{}\v")));
	CHECK(rejected(S("\f{}")));
	CHECK(rejected(S("[1,\v2]")));
	CHECK(parses(S(" \t\n\r[ 1 , 2 ]\r\n")));
	/* Comments (json-c strict refuses them too). */
	CHECK(rejected(S("/*c*/1")));
	CHECK(rejected(S("1//c")));
	CHECK(rejected(S("[1/*c*/]")));
	CHECK(rejected(S("{}#")));
}

static void
test_structure(void)
{
	CHECK(parses(S("{\"a\":[1,{\"b\":[]}],\"c\":{}}")));
	CHECK(rejected(S("")));
	CHECK(rejected(S("   ")));
	CHECK(rejected(S("[")));
	CHECK(rejected(S("{")));
	CHECK(rejected(S("]")));
	CHECK(rejected(S("}")));
	CHECK(rejected(S("{\"a\"")));
	CHECK(rejected(S("{\"a\":")));
	CHECK(rejected(S("{\"a\":1")));
	CHECK(rejected(S("[1,2")));
	/* Trailing and doubled commas. */
	CHECK(rejected(S("[1,]")));
	CHECK(rejected(S("{\"a\":1,}")));
	CHECK(rejected(S("[,]")));
	CHECK(rejected(S("{,}")));
	CHECK(rejected(S("[1,,2]")));
	CHECK(rejected(S("[,1]")));
	/* Separators. */
	CHECK(rejected(S("[1 2]")));
	CHECK(rejected(S("{\"a\" 1}")));
	CHECK(rejected(S("{\"a\":1 \"b\":2}")));
	CHECK(rejected(S("{\"a\"=1}")));
	CHECK(rejected(S("{\"a\":}")));
	CHECK(rejected(S("[\"a\":1]")));
	CHECK(rejected(S("{\"a\",1}")));
	/* Names must be strings. */
	CHECK(rejected(S("{1:2}")));
	CHECK(rejected(S("{a:1}")));
	CHECK(rejected(S("{null:1}")));
	/* Mismatched brackets. */
	CHECK(rejected(S("[}")));
	CHECK(rejected(S("{]")));
	CHECK(rejected(S("{\"a\":[}]")));
}

/* RFC 7515 section 4: a JOSE header with a repeated name must be rejected;
 * json-c keeps the last value, so here every object is checked. */
static void
test_duplicates(void)
{
	CHECK(parses(S("{\"a\":1,\"b\":2}")));
	CHECK(rejected(S("{\"a\":1,\"a\":2}")));
	CHECK(rejected(S("{\"a\":1,\"a\":1}")));
	CHECK(rejected(S("{\"alg\":\"RS256\",\"alg\":\"none\"}")));
	/* The same name spelled with escapes. */
	CHECK(rejected(S("{\"alg\":\"RS256\",\"\\u0061lg\":\"none\"}")));
	CHECK(rejected(S("{\"\\u0061lg\":\"RS256\",\"al\\u0067\":\"none\"}")));
	CHECK(rejected(S("{\"a/b\":1,\"a\\/b\":2}")));
	CHECK(rejected(S("{\"\xc3\xa9\":1,\"\\u00e9\":2}")));
	CHECK(rejected(S("{\"\\ud83d\\ude00\":1,\"\xf0\x9f\x98\x80\":2}")));
	/* Nested, in arrays, and around replaced subtrees. */
	CHECK(rejected(S("{\"x\":{\"a\":1,\"a\":2}}")));
	CHECK(rejected(S("[{\"a\":1},{\"b\":1,\"b\":2}]")));
	CHECK(rejected(S("{\"a\":{\"b\":1,\"c\":2},\"a\":3}")));
	CHECK(rejected(S("{\"a\":3,\"a\":{\"b\":1,\"c\":2}}")));
	CHECK(rejected(S("{\"a\":{\"x\":1},\"a\":{\"y\":1}}")));
	CHECK(rejected(S("{\"a\":{},\"b\":{},\"a\":{}}")));
	CHECK(rejected(S("{\"\":1,\"\":2}")));
	/* Controls: the same name in different objects, names that differ
	 * only in case or by a byte, and escapes of distinct names. */
	CHECK(parses(S("{\"a\":{\"a\":1}}")));
	CHECK(parses(S("[{\"a\":1},{\"a\":2}]")));
	CHECK(parses(S("{\"a\":1,\"A\":2}")));
	CHECK(parses(S("{\"a\":1,\"a \":2}")));
	CHECK(parses(S("{\"\\u0061\":1,\"\\u0062\":2}")));
	CHECK(parses(S("{\"\":1}")));
}

static void
build_nested(char *buf, size_t levels, const char *open, const char *core,
    const char *close)
{
	size_t at = 0, ol = strlen(open), cl = strlen(close);

	for (size_t i = 0; i < levels; i++, at += ol)
		memcpy(buf + at, open, ol);
	strcpy(buf + at, core);
	at += strlen(core);
	for (size_t i = 0; i < levels; i++, at += cl)
		memcpy(buf + at, close, cl);
	buf[at] = '\0';
}

/* json-c counts every value against its depth, scalars too: with
 * max_depth N a value may sit inside at most N - 1 containers. */
static void
test_depth(void)
{
	static char buf[1 << 20];
	struct json_object *o = NULL;
	struct err e = { 0 };

	CHECK(parses_depth(S("1"), 1));
	CHECK(parses_depth(S("[]"), 1));
	CHECK(parses_depth(S("{}"), 1));
	CHECK(rejected_depth(S("[1]"), 1));
	CHECK(rejected_depth(S("{\"a\":1}"), 1));
	CHECK(parses_depth(S("[1]"), 2));
	CHECK(parses_depth(S("[[]]"), 2));
	CHECK(parses_depth(S("{\"a\":{}}"), 2));
	CHECK(rejected_depth(S("[[1]]"), 2));
	CHECK(rejected_depth(S("{\"a\":{\"b\":null}}"), 2));

	build_nested(buf, JSON_DEFAULT_MAX_DEPTH - 1, "[", "1", "]");
	CHECK(parses(buf, strlen(buf)));
	build_nested(buf, JSON_DEFAULT_MAX_DEPTH, "[", "1", "]");
	CHECK(rejected(buf, strlen(buf)));
	build_nested(buf, JSON_DEFAULT_MAX_DEPTH - 1, "{\"a\":", "1", "}");
	CHECK(parses(buf, strlen(buf)));
	build_nested(buf, JSON_DEFAULT_MAX_DEPTH, "{\"a\":", "1", "}");
	CHECK(rejected(buf, strlen(buf)));

	/* Absurd nesting: refused early, no deep recursion anywhere. */
	memset(buf, '[', sizeof(buf) - 1);
	buf[sizeof(buf) - 1] = '\0';
	CHECK(rejected(buf, strlen(buf)));
	build_nested(buf, 100000, "{\"a\":[", "1", "]}");
	CHECK(rejected(buf, strlen(buf)));
	CHECK(rejected_depth(buf, strlen(buf), 512));

	/* A nonsensical max_depth is the caller's bug. */
	CHECK(json_parse_strict(S("1"), 0, ERR_INVALID_REQUEST, &o, &e) == -1);
	CHECK(e.code == ERR_INTERNAL && o == NULL);
	e = (struct err){ 0 };
	CHECK(
	    json_parse_strict(S("1"), 513, ERR_INVALID_REQUEST, &o, &e) == -1);
	CHECK(e.code == ERR_INTERNAL);
	e = (struct err){ 0 };
	CHECK(json_parse_strict(S("1"), 512, ERR_INVALID_REQUEST, &o, &e) == 0);
	json_object_put(o);
}

static void
test_fail_code_and_types(void)
{
	struct json_object *o = NULL;
	struct err e = { 0 };

	CHECK(json_parse_strict(S("{\"a\":1,\"a\":2}"), 4, ERR_TOKEN_MALFORMED,
	          &o, &e) == -1);
	CHECK(e.code == ERR_TOKEN_MALFORMED);
	e = (struct err){ 0 };
	CHECK(json_parse_strict(S("[01]"), 4, ERR_CONFIG, &o, &e) == -1);
	CHECK(e.code == ERR_CONFIG);
	/* The first error wins. */
	CHECK(json_parse_strict(S("x"), 4, ERR_INVALID_REQUEST, &o, &e) == -1);
	CHECK(e.code == ERR_CONFIG);

	/* Top-level values of every type, including a bare number, which
	 * json-c only finishes when told the input ended. */
	e = (struct err){ 0 };
	CHECK(json_parse_strict(S("42"), 4, ERR_CONFIG, &o, &e) == 0);
	CHECK(json_object_is_type(o, json_type_int) &&
	      json_object_get_int64(o) == 42);
	json_object_put(o);
	CHECK(json_parse_strict(S("-1.5e1"), 4, ERR_CONFIG, &o, &e) == 0);
	CHECK(json_object_is_type(o, json_type_double) &&
	      json_object_get_double(o) == -15.0);
	json_object_put(o);
	CHECK(json_parse_strict(S("\"s\""), 4, ERR_CONFIG, &o, &e) == 0);
	CHECK(json_object_is_type(o, json_type_string));
	json_object_put(o);
	/* null is a value: success, and json-c's null is NULL. */
	o = (struct json_object *)&o;
	CHECK(json_parse_strict(S("null"), 4, ERR_CONFIG, &o, &e) == 0);
	CHECK(o == NULL);
	CHECK(e.code == ERR_OK);
	/* The length is authoritative: bytes past it are never read. */
	CHECK(json_parse_strict("{\"a\":1}garbage", 7, 4, ERR_CONFIG, &o, &e) ==
	      0);
	CHECK(json_object_is_type(o, json_type_object));
	json_object_put(o);
	CHECK(json_parse_strict("123456", 3, 4, ERR_CONFIG, &o, &e) == 0);
	CHECK(json_object_get_int64(o) == 123);
	json_object_put(o);
}

static void
test_get_string(void)
{
	struct json_object *o = parse(S("{\"u\":\"alice\",\"n\":1,\"z\":null,"
	                                "\"p\":\"pw\\u0000x\",\"e\":\"\"}"));
	const char *s = NULL;
	size_t len = 99;
	struct err e = { 0 };

	CHECK(json_get_string(o, "u", &s, &len, &e) == 0);
	CHECK(s != NULL && len == 5 && memcmp(s, "alice", 5) == 0);
	CHECK(json_get_string(o, "e", &s, &len, &e) == 0);
	CHECK(s != NULL && len == 0);
	/* An embedded NUL is kept and counted. */
	CHECK(json_get_string(o, "p", &s, &len, &e) == 0);
	CHECK(len == 4 && memcmp(s, "pw\0x", 4) == 0);
	CHECK(e.code == ERR_OK);
	/* Without a length the caller would read a C string: refused. */
	CHECK(json_get_string(o, "p", &s, NULL, &e) == -1);
	CHECK(e.code == ERR_INVALID_REQUEST && s == NULL);
	e = (struct err){ 0 };
	CHECK(json_get_string(o, "u", &s, NULL, &e) == 0 &&
	      strcmp(s, "alice") == 0);

	CHECK(json_get_string(o, "missing", &s, &len, &e) == -1);
	CHECK(e.code == ERR_INVALID_REQUEST && strstr(e.msg, "missing"));
	CHECK(s == NULL && len == 0);
	e = (struct err){ 0 };
	CHECK(json_get_string(o, "n", &s, &len, &e) == -1);
	CHECK(e.code == ERR_INVALID_REQUEST && strstr(e.msg, "\"n\""));
	e = (struct err){ 0 };
	CHECK(json_get_string(o, "z", &s, &len, &e) == -1);
	CHECK(e.code == ERR_INVALID_REQUEST);
	e = (struct err){ 0 };
	CHECK(json_get_string(NULL, "u", &s, &len, &e) == -1);
	CHECK(e.code == ERR_INVALID_REQUEST);
	e = (struct err){ 0 };
	CHECK(json_get_string(
	          json_object_object_get(o, "u"), "u", &s, &len, &e) == -1);
	CHECK(e.code == ERR_INVALID_REQUEST);
	json_object_put(o);
}

static void
test_get_string_opt(void)
{
	struct json_object *o = parse(S("{\"u\":\"bob\",\"n\":1,\"z\":null}"));
	const char *s = "x";
	size_t len = 99;
	struct err e = { 0 };

	CHECK(json_get_string_opt(o, "u", &s, &len, &e) == 0);
	CHECK(len == 3 && memcmp(s, "bob", 3) == 0);
	CHECK(json_get_string_opt(o, "absent", &s, &len, &e) == 0);
	CHECK(s == NULL && len == 0 && e.code == ERR_OK);
	CHECK(json_get_string_opt(o, "n", &s, &len, &e) == -1);
	CHECK(e.code == ERR_INVALID_REQUEST);
	e = (struct err){ 0 };
	/* Present but null is a wrong type, not absence. */
	CHECK(json_get_string_opt(o, "z", &s, &len, &e) == -1);
	CHECK(e.code == ERR_INVALID_REQUEST);
	e = (struct err){ 0 };
	CHECK(json_get_string_opt(NULL, "u", &s, &len, &e) == -1);
	json_object_put(o);
}

static void
test_add_string(void)
{
	struct json_object *o = json_object_new_object(), *v = NULL;

	CHECK(json_add_string(o, "alg", "RS256") == 0);
	CHECK(json_object_object_get_ex(o, "alg", &v) &&
	      json_string_equals(v, "RS256", 5));
	CHECK(json_add_string(o, "alg", "ES256") == 0); /* replaces */
	CHECK(json_object_object_length(o) == 1);
	json_object_put(o);
}

static void
test_string_equals(void)
{
	struct json_object *o =
	    parse(S("[\"read:data\",\"read:data\\u0000x\",\"\",7]"));
	struct json_object *plain = json_object_array_get_idx(o, 0);
	struct json_object *nul = json_object_array_get_idx(o, 1);
	struct json_object *empty = json_object_array_get_idx(o, 2);

	CHECK(json_string_equals(plain, S("read:data")));
	CHECK(!json_string_equals(plain, S("read:dat")));
	CHECK(!json_string_equals(plain, S("read:datA")));
	CHECK(!json_string_equals(plain, S("read:data\0x")));
	CHECK(json_string_equals(nul, S("read:data\0x")));
	CHECK(!json_string_equals(nul, S("read:data")));
	CHECK(json_string_equals(empty, "", 0));
	CHECK(json_string_equals(empty, NULL, 0));
	CHECK(!json_string_equals(empty, S("x")));
	CHECK(!json_string_equals(json_object_array_get_idx(o, 3), S("7")));
	CHECK(!json_string_equals(NULL, "", 0));
	json_object_put(o);
}

static void
test_get_int64(void)
{
	struct json_object *o = parse(
	    S("[0,-1,9223372036854775807,-9223372036854775808,"
	      "9223372036854775808,18446744073709551615,1.0,\"1\",true,null]"));
	struct json_object *u = json_object_new_uint64(UINT64_MAX);
	int64_t v = 5;

	CHECK(
	    json_get_int64(json_object_array_get_idx(o, 0), &v) == 0 && v == 0);
	CHECK(json_get_int64(json_object_array_get_idx(o, 1), &v) == 0 &&
	      v == -1);
	CHECK(json_get_int64(json_object_array_get_idx(o, 2), &v) == 0 &&
	      v == INT64_MAX);
	CHECK(json_get_int64(json_object_array_get_idx(o, 3), &v) == 0 &&
	      v == INT64_MIN);
	/* json-c answers INT64_MAX for both of these. */
	v = 5;
	CHECK(json_get_int64(json_object_array_get_idx(o, 4), &v) == -1);
	CHECK(json_get_int64(json_object_array_get_idx(o, 5), &v) == -1);
	CHECK(json_get_int64(u, &v) == -1);
	CHECK(v == 5);
	/* Not integers. */
	CHECK(json_get_int64(json_object_array_get_idx(o, 6), &v) == -1);
	CHECK(json_get_int64(json_object_array_get_idx(o, 7), &v) == -1);
	CHECK(json_get_int64(json_object_array_get_idx(o, 8), &v) == -1);
	CHECK(json_get_int64(json_object_array_get_idx(o, 9), &v) == -1);
	CHECK(v == 5);
	json_object_put(u);
	json_object_put(o);
}

static int
date_of(const char *text, size_t len, int64_t *out)
{
	struct json_object *o = parse(text, len);
	int rc = o != NULL ? json_get_numeric_date(o, out) : -1;

	json_object_put(o);
	return rc;
}

static void
test_numeric_date(void)
{
	struct json_object *d;
	int64_t v = 0;

	CHECK(date_of(S("1000"), &v) == 0 && v == 1000);
	CHECK(date_of(S("0"), &v) == 0 && v == 0);
	CHECK(date_of(S("-1000"), &v) == 0 && v == -1000);
	/* Fractions floor (RFC 7519 section 2 allows them). */
	CHECK(date_of(S("1000.9"), &v) == 0 && v == 1000);
	CHECK(date_of(S("1e3"), &v) == 0 && v == 1000);
	CHECK(date_of(S("0.5"), &v) == 0 && v == 0);
	CHECK(date_of(S("-0.5"), &v) == 0 && v == -1);
	CHECK(date_of(S("-1.5"), &v) == 0 && v == -2);
	CHECK(date_of(S("1e-400"), &v) == 0 && v == 0);
	/* Every int64 is a NumericDate (RFC 7519 section 2: any JSON
	 * number); beyond int64 is not. */
	CHECK(date_of(S("4611686018427387905"), &v) == 0 &&
	      v == INT64_C(4611686018427387905));
	CHECK(date_of(S("9223372036854775807"), &v) == 0 && v == INT64_MAX);
	CHECK(date_of(S("-9223372036854775808"), &v) == 0 && v == INT64_MIN);
	CHECK(date_of(S("9223372036854775808"), &v) == -1);
	CHECK(date_of(S("18446744073709551615"), &v) == -1);
	CHECK(date_of(S("-9223372036854775809"), &v) == -1);
	/* Doubles: floor into [-2^63, 2^63). The double next below 2^63 is
	 * 2^63 - 1024. */
	CHECK(date_of(S("9223372036854774784.0"), &v) == 0 &&
	      v == INT64_C(9223372036854774784));
	CHECK(date_of(S("9223372036854775808.0"), &v) == -1);
	CHECK(date_of(S("9.3e18"), &v) == -1);
	CHECK(date_of(S("-9223372036854775808.0"), &v) == 0 && v == INT64_MIN);
	CHECK(date_of(S("-9223372036854777856.0"), &v) == -1);
	CHECK(date_of(S("1e18"), &v) == 0 && v == INT64_C(1000000000000000000));
	CHECK(date_of(S("1e19"), &v) == -1);
	CHECK(date_of(S("1e300"), &v) == -1);
	CHECK(date_of(S("-1e300"), &v) == -1);
	/* Not numbers. */
	CHECK(date_of(S("\"1000\""), &v) == -1);
	CHECK(date_of(S("true"), &v) == -1);
	CHECK(date_of(S("[1000]"), &v) == -1);
	CHECK(json_get_numeric_date(NULL, &v) == -1);
	/* Non-finite doubles built in code (the parser never makes them). */
	d = json_object_new_double(NAN);
	CHECK(json_get_numeric_date(d, &v) == -1);
	json_object_put(d);
	d = json_object_new_double(INFINITY);
	CHECK(json_get_numeric_date(d, &v) == -1);
	json_object_put(d);
	d = json_object_new_double(-INFINITY);
	CHECK(json_get_numeric_date(d, &v) == -1);
	json_object_put(d);
}

int
main(void)
{
	RUN(test_literals);
	RUN(test_nan_infinity);
	RUN(test_numbers);
	RUN(test_integer_range);
	RUN(test_strings);
	RUN(test_surrogates);
	RUN(test_utf8);
	RUN(test_nul_bytes);
	RUN(test_trailing);
	RUN(test_structure);
	RUN(test_duplicates);
	RUN(test_depth);
	RUN(test_fail_code_and_types);
	RUN(test_get_string);
	RUN(test_get_string_opt);
	RUN(test_add_string);
	RUN(test_string_equals);
	RUN(test_get_int64);
	RUN(test_numeric_date);
	return test_report();
}

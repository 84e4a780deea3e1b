/* json_util: strict JSON in (RFC 8259) over json-c, and typed getters.
 *
 * json-c 0.16, even with JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8,
 * accepts NaN and Infinity, single-quoted member names, "-01", "00", "1."
 * and "1.e5", control characters inside strings, overlong and surrogate
 * UTF-8 sequences, lone \ud800 escapes (silently turned into U+FFFD),
 * integers beyond 64 bits (saturated) and 1e400 (infinity); it keeps the
 * last of two equal member names, and cuts a member name at a \u0000. So a
 * small validator checks the RFC 8259 grammar first and counts member
 * names, json-c then builds the tree, and a walk over that tree compares the
 * count of unique names json-c kept with the count seen in the text. */
#include "json_util.h"

#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <string.h>

/* Bounds the validator's container stack (and the tree walk's recursion).
 * Callers ask for 16 or so; a request above this is a bug. */
#define JSON_MAX_DEPTH_LIMIT 512

/* RFC 7519 section 2 allows any JSON number as a NumericDate; one that is
 * an int64 is kept whole (claims.c compares without overflow), a double
 * must floor into [-2^63, 2^63). 2^63 is an exact double. */
#define NUMERIC_DATE_DOUBLE_LIMIT 9223372036854775808.0

struct scan {
	const unsigned char *start, *p, *end;
	int max_depth;
	size_t members;  /* member names seen, over every object */
	const char *why; /* the first problem, for the log */
	size_t at;       /* its byte offset */
};

static int
scan_fail(struct scan *s, const char *why)
{
	if (s->why == NULL) {
		s->why = why;
		s->at = (size_t)(s->p - s->start);
	}
	return -1;
}

static int
scan_peek(const struct scan *s)
{
	return s->p < s->end ? *s->p : -1;
}

/* RFC 8259 section 2: the four insignificant whitespace bytes, no more
 * (no form feed, vertical tab, NUL or Unicode spaces). */
static void
scan_ws(struct scan *s)
{
	while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' ||
	                            *s->p == '\n' || *s->p == '\r'))
		s->p++;
}

static bool
is_digit(int c)
{
	return c >= '0' && c <= '9';
}

/* One UTF-8 sequence of two to four bytes, as RFC 3629 section 4 spells
 * it: no overlong forms, no encoded surrogates, nothing above U+10FFFF. */
static int
scan_utf8(struct scan *s)
{
	unsigned int c = s->p[0], lo = 0x80, hi = 0xbf;
	size_t n;

	if (c >= 0xc2 && c <= 0xdf) {
		n = 1;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 2;
		if (c == 0xe0)
			lo = 0xa0; /* below is overlong */
		else if (c == 0xed)
			hi = 0x9f; /* above is a surrogate, U+D800..U+DFFF */
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 3;
		if (c == 0xf0)
			lo = 0x90; /* below is overlong */
		else if (c == 0xf4)
			hi = 0x8f; /* above is beyond U+10FFFF */
	} else {
		return scan_fail(s, "invalid UTF-8");
	}
	if ((size_t)(s->end - s->p) <= n)
		return scan_fail(s, "truncated UTF-8");
	if (s->p[1] < lo || s->p[1] > hi)
		return scan_fail(s, "invalid UTF-8");
	for (size_t i = 2; i <= n; i++)
		if ((s->p[i] & 0xc0) != 0x80)
			return scan_fail(s, "invalid UTF-8");
	s->p += n + 1;
	return 0;
}

static int
scan_hex4(struct scan *s, unsigned int *out)
{
	unsigned int v = 0;

	if (s->end - s->p < 4)
		return scan_fail(s, "truncated \\u escape");
	for (int i = 0; i < 4; i++) {
		int c = s->p[i];

		if (is_digit(c))
			v = v << 4 | (unsigned int)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v = v << 4 | (unsigned int)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v = v << 4 | (unsigned int)(c - 'A' + 10);
		else
			return scan_fail(s, "bad hex digit in \\u escape");
	}
	s->p += 4;
	*out = v;
	return 0;
}

/* After a backslash in a string (RFC 8259 section 7). */
static int
scan_escape(struct scan *s, bool name)
{
	unsigned int u, low;

	if (s->p == s->end)
		return scan_fail(s, "unterminated string");
	switch (*s->p++) {
	case '"':
	case '\\':
	case '/':
	case 'b':
	case 'f':
	case 'n':
	case 'r':
	case 't':
		return 0;
	case 'u':
		break;
	default:
		return scan_fail(s, "invalid escape");
	}
	if (scan_hex4(s, &u) == -1)
		return -1;
	/* A surrogate escape only means something as a high-low pair; json-c
	 * would replace a lone one with U+FFFD, so two different texts would
	 * give the same string. */
	if (u >= 0xdc00 && u <= 0xdfff)
		return scan_fail(s, "lone low surrogate escape");
	if (u >= 0xd800 && u <= 0xdbff) {
		if (s->end - s->p < 2 || s->p[0] != '\\' || s->p[1] != 'u')
			return scan_fail(s, "lone high surrogate escape");
		s->p += 2;
		if (scan_hex4(s, &low) == -1)
			return -1;
		if (low < 0xdc00 || low > 0xdfff)
			return scan_fail(s, "lone high surrogate escape");
		/* json-c 0.16 tests the pair's code point for a surrogate
		 * by its low 16 bits, so U+1D800..U+1DFFF and every plane's
		 * like range come out as U+FFFD: the same value as "\ufffd".
		 * Written as UTF-8 bytes they are kept; escaped, refused. */
		if (((0x10000 + ((u - 0xd800) << 10) + (low - 0xdc00)) &
		        0xf800) == 0xd800)
			return scan_fail(s, "escape json-c would replace");
	}
	/* json-c keeps member names as C strings: "typ\u0000x" would become
	 * "typ". Values keep their length and may hold U+0000. */
	if (u == 0 && name)
		return scan_fail(s, "U+0000 in a member name");
	return 0;
}

/* After the opening quote. */
static int
scan_string(struct scan *s, bool name)
{
	while (s->p < s->end) {
		unsigned int c = *s->p;

		if (c == '"') {
			s->p++;
			return 0;
		}
		if (c == '\\') {
			s->p++;
			if (scan_escape(s, name) == -1)
				return -1;
		} else if (c < 0x20) {
			/* RFC 8259 section 7: control characters must be
			 * escaped. */
			return scan_fail(s, "control character in a string");
		} else if (c < 0x80) {
			s->p++;
		} else if (scan_utf8(s) == -1) {
			return -1;
		}
	}
	return scan_fail(s, "unterminated string");
}

/* RFC 8259 section 6:
 * -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?
 * An integer must also fit json-c's 64-bit integers: json-c saturates a
 * larger one, which would make "-9223372036854775809" read as INT64_MIN. */
static int
scan_number(struct scan *s)
{
	bool neg = false, integer = true, big = false;
	uint64_t mag = 0;

	if (scan_peek(s) == '-') {
		neg = true;
		s->p++;
	}
	if (!is_digit(scan_peek(s)))
		return scan_fail(s, "digit expected");
	if (*s->p == '0') {
		s->p++;
	} else {
		while (is_digit(scan_peek(s))) {
			unsigned int d = (unsigned int)(*s->p - '0');

			/* Too big for an integer, but it may still turn out
			 * to be a double: decide after the last digit. */
			if (mag > (UINT64_MAX - d) / 10)
				big = true;
			else
				mag = mag * 10 + d;
			s->p++;
		}
	}
	if (scan_peek(s) == '.') {
		integer = false;
		s->p++;
		if (!is_digit(scan_peek(s)))
			return scan_fail(s, "digit expected after '.'");
		while (is_digit(scan_peek(s)))
			s->p++;
	}
	if (scan_peek(s) == 'e' || scan_peek(s) == 'E') {
		integer = false;
		s->p++;
		if (scan_peek(s) == '+' || scan_peek(s) == '-')
			s->p++;
		if (!is_digit(scan_peek(s)))
			return scan_fail(s, "digit expected in exponent");
		while (is_digit(scan_peek(s)))
			s->p++;
	}
	/* Only a plain integer becomes a json-c integer: int64 when negative,
	 * uint64 otherwise. */
	if (integer && (big || (neg && mag > (uint64_t)INT64_MAX + 1)))
		return scan_fail(s, "integer out of range");
	return 0;
}

static int
scan_literal(struct scan *s, const char *word)
{
	size_t n = strlen(word);

	if ((size_t)(s->end - s->p) < n || memcmp(s->p, word, n) != 0)
		return scan_fail(s, "unexpected byte");
	s->p += n;
	return 0;
}

static int
scan_scalar(struct scan *s, int c)
{
	if (c == '"') {
		s->p++;
		return scan_string(s, false);
	}
	if (c == '-' || is_digit(c))
		return scan_number(s);
	if (c == 't')
		return scan_literal(s, "true");
	if (c == 'f')
		return scan_literal(s, "false");
	if (c == 'n')
		return scan_literal(s, "null");
	return scan_fail(s, c == -1 ? "unexpected end" : "unexpected byte");
}

/* The whole text: one value, whitespace around it, nothing else. Iterative,
 * so absurd nesting costs one byte per level and stops at max_depth. */
static int
scan_text(struct scan *s)
{
	unsigned char stack[JSON_MAX_DEPTH_LIMIT]; /* '{' or '[' per level */
	enum { WANT_VALUE, WANT_NAME, AFTER_VALUE } state = WANT_VALUE;
	int depth = 0;

	scan_ws(s);
	for (;;) {
		int c = scan_peek(s), close;

		switch (state) {
		case WANT_VALUE:
			/* json-c counts every value against its depth, a
			 * scalar too: a value inside depth containers needs
			 * depth < max_depth. The same rule here keeps the two
			 * parsers in agreement. */
			if (depth >= s->max_depth)
				return scan_fail(s, "nesting too deep");
			if (c != '{' && c != '[') {
				if (scan_scalar(s, c) == -1)
					return -1;
				state = AFTER_VALUE;
				break;
			}
			s->p++;
			scan_ws(s);
			if (scan_peek(s) == (c == '{' ? '}' : ']')) {
				s->p++;
				state = AFTER_VALUE;
				break;
			}
			stack[depth++] = (unsigned char)c;
			state = c == '{' ? WANT_NAME : WANT_VALUE;
			break;
		case WANT_NAME:
			if (c != '"')
				return scan_fail(s, "member name expected");
			s->p++;
			if (scan_string(s, true) == -1)
				return -1;
			s->members++;
			scan_ws(s);
			if (scan_peek(s) != ':')
				return scan_fail(s, "':' expected");
			s->p++;
			scan_ws(s);
			state = WANT_VALUE;
			break;
		case AFTER_VALUE:
			scan_ws(s);
			c = scan_peek(s);
			if (depth == 0)
				return c == -1 ? 0
				               : scan_fail(s, "trailing bytes");
			close = stack[depth - 1] == '{' ? '}' : ']';
			if (c == close) {
				s->p++;
				depth--;
			} else if (c == ',') {
				s->p++;
				scan_ws(s);
				state = close == '}' ? WANT_NAME : WANT_VALUE;
			} else {
				return scan_fail(s, "',' or end of container "
				                    "expected");
			}
			break;
		}
	}
}

/* Counts the unique member names json-c kept and refuses numbers it turned
 * into infinities. Recursion depth is bounded by max_depth. */
static int
tree_walk(struct json_object *v, size_t *members, const char **why)
{
	switch (json_object_get_type(v)) {
	case json_type_double:
		/* RFC 8259 section 6 lets a parser limit the range; an
		 * overflowing 1e400 is not a number anyone meant. */
		if (!isfinite(json_object_get_double(v))) {
			*why = "number out of range";
			return -1;
		}
		return 0;
	case json_type_object: {
		struct json_object_iterator it = json_object_iter_begin(v);
		struct json_object_iterator end = json_object_iter_end(v);

		*members += (size_t)json_object_object_length(v);
		for (; !json_object_iter_equal(&it, &end);
		     json_object_iter_next(&it))
			if (tree_walk(json_object_iter_peek_value(&it), members,
			        why) == -1)
				return -1;
		return 0;
	}
	case json_type_array: {
		size_t n = json_object_array_length(v);

		for (size_t i = 0; i < n; i++)
			if (tree_walk(json_object_array_get_idx(v, i), members,
			        why) == -1)
				return -1;
		return 0;
	}
	default:
		return 0;
	}
}

/* One tokener per thread for the usual depth, reset between uses: a new
 * one costs four allocations, one of them the depth-sized stack, on every
 * token verified. Freed with the thread (the key's destructor). */
static pthread_key_t json_tokener_key;
static pthread_once_t json_tokener_once = PTHREAD_ONCE_INIT;
static bool json_tokener_key_ok;

static void
json_tokener_destroy(void *tok)
{
	json_tokener_free(tok);
}

static void
json_tokener_key_make(void)
{
	json_tokener_key_ok =
	    pthread_key_create(&json_tokener_key, json_tokener_destroy) == 0;
}

static struct json_tokener *
json_tokener_take(int max_depth, bool *cached)
{
	struct json_tokener *tok = NULL;

	*cached = false;
	if (max_depth == JSON_DEFAULT_MAX_DEPTH) {
		pthread_once(&json_tokener_once, json_tokener_key_make);
		if (json_tokener_key_ok &&
		    (tok = pthread_getspecific(json_tokener_key)) != NULL) {
			*cached = true;
			json_tokener_reset(tok);
			return tok;
		}
	}
	if ((tok = json_tokener_new_ex(max_depth)) != NULL &&
	    max_depth == JSON_DEFAULT_MAX_DEPTH && json_tokener_key_ok &&
	    pthread_setspecific(json_tokener_key, tok) == 0)
		*cached = true;
	return tok;
}

int
json_parse_strict(const char *buf, size_t len, int max_depth,
    enum err_code fail_code, struct json_object **out, struct err *e)
{
	struct scan s = { 0 };
	struct json_tokener *tok = NULL;
	struct json_object *root = NULL;
	enum json_tokener_error jerr;
	const char *why = NULL;
	size_t unique = 0;
	bool cached = false;
	int rc = -1;

	*out = NULL;
	if (max_depth < 1 || max_depth > JSON_MAX_DEPTH_LIMIT) {
		err_set(e, ERR_INTERNAL, "json: max_depth %d out of range",
		    max_depth);
		goto out;
	}
	if (len == 0) {
		err_set(e, fail_code, "json: empty input");
		goto out;
	}
	/* json-c takes an int length. */
	if (len >= INT_MAX) {
		err_set(e, fail_code, "json: %zu bytes is too large", len);
		goto out;
	}
	s.start = s.p = (const unsigned char *)buf;
	s.end = s.p + len;
	s.max_depth = max_depth;
	if (scan_text(&s) == -1) {
		err_set(e, fail_code, "json: %s at byte %zu", s.why, s.at);
		goto out;
	}

	if ((tok = json_tokener_take(max_depth, &cached)) == NULL) {
		err_set(e, ERR_NOMEM, "json: out of memory");
		goto out;
	}
	json_tokener_set_flags(
	    tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	root = json_tokener_parse_ex(tok, buf, (int)len);
	jerr = json_tokener_get_error(tok);
	if (jerr == json_tokener_continue) {
		/* A top-level number or literal has no closing byte: json-c
		 * learns that the input ended from a NUL, which buf need not
		 * have. Everything before it was consumed. */
		root = json_tokener_parse_ex(tok, "", 1);
		jerr = json_tokener_get_error(tok);
	} else if (jerr == json_tokener_success) {
		/* Only whitespace may follow the value; the validator saw
		 * to that, and a NUL (json-c's end of input) is not
		 * whitespace. Checked again so json-c can never have stopped
		 * early on bytes it did not read. */
		for (size_t i = json_tokener_get_parse_end(tok); i < len; i++)
			if (buf[i] != ' ' && buf[i] != '\t' && buf[i] != '\n' &&
			    buf[i] != '\r')
				jerr = json_tokener_error_parse_unexpected;
	}
	if (jerr != json_tokener_success) {
		err_set(
		    e, fail_code, "json: %s", json_tokener_error_desc(jerr));
		goto out;
	}
	if (tree_walk(root, &unique, &why) == -1) {
		err_set(e, fail_code, "json: %s", why);
		goto out;
	}
	/* json-c keeps one member per distinct (unescaped) name, so fewer
	 * kept than written means a name was repeated, maybe spelled
	 * differently ("alg" and "\u0061lg"). RFC 8259 section 4 leaves
	 * duplicates to the implementation and RFC 7515 section 4 asks a JWS
	 * parser to reject them: one reader must never see another value
	 * than the next. */
	if (unique != s.members) {
		err_set(e, fail_code, "json: duplicate member name");
		goto out;
	}
	*out = root;
	root = NULL;
	rc = 0;
out:
	json_object_put(root);
	if (tok != NULL && !cached)
		json_tokener_free(tok);
	return rc;
}

/* v is the member's value; key only names it in the message. */
static int
string_of(struct json_object *v, const char *key, const char **s, size_t *len,
    struct err *e)
{
	const char *str;
	size_t n;

	if (!json_object_is_type(v, json_type_string))
		return err_set(e, ERR_INVALID_REQUEST,
		    "member \"%s\": expected a string", key);
	str = json_object_get_string(v);
	n = (size_t)json_object_get_string_len(v);
	/* A caller that takes no length will treat the string as a C
	 * string: then an embedded NUL would shorten it, so refuse it. */
	if (len == NULL && memchr(str, '\0', n) != NULL)
		return err_set(
		    e, ERR_INVALID_REQUEST, "member \"%s\": embedded NUL", key);
	*s = str;
	if (len != NULL)
		*len = n;
	return 0;
}

int
json_get_string(struct json_object *obj, const char *key, const char **s,
    size_t *len, struct err *e)
{
	struct json_object *v = NULL;

	*s = NULL;
	if (len != NULL)
		*len = 0;
	if (!json_object_is_type(obj, json_type_object))
		return err_set(e, ERR_INVALID_REQUEST,
		    "member \"%s\": not in an object", key);
	if (!json_object_object_get_ex(obj, key, &v))
		return err_set(
		    e, ERR_INVALID_REQUEST, "member \"%s\" missing", key);
	return string_of(v, key, s, len, e);
}

int
json_get_string_opt(struct json_object *obj, const char *key, const char **s,
    size_t *len, struct err *e)
{
	struct json_object *v = NULL;

	*s = NULL;
	if (len != NULL)
		*len = 0;
	if (!json_object_is_type(obj, json_type_object))
		return err_set(e, ERR_INVALID_REQUEST,
		    "member \"%s\": not in an object", key);
	/* Present but null is not absent: it is a value of the wrong type. */
	if (!json_object_object_get_ex(obj, key, &v))
		return 0;
	return string_of(v, key, s, len, e);
}

int
json_add_string(struct json_object *obj, const char *key, const char *value)
{
	struct json_object *v = json_object_new_string(value);

	if (v == NULL || json_object_object_add(obj, key, v) != 0) {
		json_object_put(v);
		return -1;
	}
	return 0;
}

bool
json_string_equals(struct json_object *v, const char *s, size_t len)
{
	if (!json_object_is_type(v, json_type_string) ||
	    (size_t)json_object_get_string_len(v) != len)
		return false;
	return len == 0 || memcmp(json_object_get_string(v), s, len) == 0;
}

int
json_get_int64(struct json_object *v, int64_t *out)
{
	int64_t i;

	if (!json_object_is_type(v, json_type_int))
		return -1;
	i = json_object_get_int64(v);
	/* json-c stores 2^63..2^64-1 as unsigned and answers INT64_MAX for
	 * them here; the unsigned view tells them apart. Integers beyond
	 * 64 bits, which json-c would saturate, never get past
	 * json_parse_strict. */
	if (i == INT64_MAX && json_object_get_uint64(v) != (uint64_t)INT64_MAX)
		return -1;
	*out = i;
	return 0;
}

int
json_get_numeric_date(struct json_object *v, int64_t *out)
{
	int64_t i;
	double d;

	if (json_object_is_type(v, json_type_int)) {
		if (json_get_int64(v, &i) == -1)
			return -1;
		*out = i;
		return 0;
	}
	if (!json_object_is_type(v, json_type_double))
		return -1;
	d = floor(json_object_get_double(v));
	/* Written so that NaN fails too. -2^63 converts exactly; every
	 * double below 2^63 is at most 2^63 - 1024, so the cast is defined
	 * (C11 6.3.1.4). */
	if (!(d >= -NUMERIC_DATE_DOUBLE_LIMIT && d < NUMERIC_DATE_DOUBLE_LIMIT))
		return -1;
	*out = (int64_t)d;
	return 0;
}

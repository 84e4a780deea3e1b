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

#include "json_lex.h"

/* Bounds the validator's container stack (and the tree walk's recursion).
 * Callers ask for 16 or so; a request above this is a bug. */
#define JSON_MAX_DEPTH_LIMIT 512

/* RFC 7519 section 2 allows any JSON number as a NumericDate; one that is
 * an int64 is kept whole (claims.c compares without overflow), a double
 * must floor into [-2^63, 2^63). 2^63 is an exact double. */
#define NUMERIC_DATE_DOUBLE_LIMIT 9223372036854775808.0

struct scan {
	struct json_lex l;
	int max_depth;
	size_t members; /* member names seen, over every object */
};

/* The whole text: one value, whitespace around it, nothing else. Iterative,
 * so absurd nesting costs one byte per level and stops at max_depth. */
static int
scan_text(struct scan *s)
{
	unsigned char stack[JSON_MAX_DEPTH_LIMIT]; /* '{' or '[' per level */
	enum { WANT_VALUE, WANT_NAME, AFTER_VALUE } state = WANT_VALUE;
	struct json_lex *l = &s->l;
	struct json_lex_scalar tok;
	int depth = 0;

	json_lex_ws(l);
	for (;;) {
		int c = json_lex_peek(l), close;

		switch (state) {
		case WANT_VALUE:
			/* json-c counts every value against its depth, a
			 * scalar too: a value inside depth containers needs
			 * depth < max_depth. The same rule here keeps the two
			 * parsers in agreement. */
			if (depth >= s->max_depth)
				return json_lex_fail(l, "nesting too deep");
			if (c != '{' && c != '[') {
				if (json_lex_scalar(l, c, &tok) == -1)
					return -1;
				state = AFTER_VALUE;
				break;
			}
			l->p++;
			json_lex_ws(l);
			if (json_lex_peek(l) == (c == '{' ? '}' : ']')) {
				l->p++;
				state = AFTER_VALUE;
				break;
			}
			stack[depth++] = (unsigned char)c;
			state = c == '{' ? WANT_NAME : WANT_VALUE;
			break;
		case WANT_NAME:
			if (c != '"')
				return json_lex_fail(l, "member name expected");
			l->p++;
			if (json_lex_string(l, true, &tok) == -1)
				return -1;
			s->members++;
			json_lex_ws(l);
			if (json_lex_peek(l) != ':')
				return json_lex_fail(l, "':' expected");
			l->p++;
			json_lex_ws(l);
			state = WANT_VALUE;
			break;
		case AFTER_VALUE:
			json_lex_ws(l);
			c = json_lex_peek(l);
			if (depth == 0)
				return c == -1
				           ? 0
				           : json_lex_fail(l, "trailing bytes");
			close = stack[depth - 1] == '{' ? '}' : ']';
			if (c == close) {
				l->p++;
				depth--;
			} else if (c == ',') {
				l->p++;
				json_lex_ws(l);
				state = close == '}' ? WANT_NAME : WANT_VALUE;
			} else {
				return json_lex_fail(l,
				    "',' or end of container "
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
	s.l.start = s.l.p = (const unsigned char *)buf;
	s.l.end = s.l.p + len;
	s.max_depth = max_depth;
	if (scan_text(&s) == -1) {
		err_set(e, fail_code, "json: %s at byte %zu", s.l.why, s.l.at);
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

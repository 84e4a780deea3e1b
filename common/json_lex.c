/* json_lex: strict JSON tokens (RFC 8259, RFC 3629) on a byte cursor, for
 * json_util's validator and jose_reader; see json_lex.h. */
#include "json_lex.h"

#include <string.h>

#include "hex.h"

int
json_lex_fail(struct json_lex *l, const char *why)
{
	if (l->why == NULL) {
		l->why = why;
		l->at = (size_t)(l->p - l->start);
	}
	return -1;
}

static bool
is_digit(int c)
{
	return c >= '0' && c <= '9';
}

/* One UTF-8 sequence of two to four bytes, as RFC 3629 section 4 spells
 * it: no overlong forms, no encoded surrogates, nothing above U+10FFFF.
 * Returns its length, or -1. */
static int
lex_utf8(struct json_lex *l)
{
	unsigned int c = l->p[0], lo = 0x80, hi = 0xbf;
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
		return json_lex_fail(l, "invalid UTF-8");
	}
	if ((size_t)(l->end - l->p) <= n)
		return json_lex_fail(l, "truncated UTF-8");
	if (l->p[1] < lo || l->p[1] > hi)
		return json_lex_fail(l, "invalid UTF-8");
	for (size_t i = 2; i <= n; i++)
		if ((l->p[i] & 0xc0) != 0x80)
			return json_lex_fail(l, "invalid UTF-8");
	l->p += n + 1;
	return (int)n + 1;
}

static int
lex_hex4(struct json_lex *l, unsigned int *out)
{
	unsigned int v = 0;

	if (l->end - l->p < 4)
		return json_lex_fail(l, "truncated \\u escape");
	for (int i = 0; i < 4; i++) {
		int h = hex_value(l->p[i]);

		if (h < 0)
			return json_lex_fail(l, "bad hex digit in \\u escape");
		v = v << 4 | (unsigned int)h;
	}
	l->p += 4;
	*out = v;
	return 0;
}

/* After a backslash in a string (RFC 8259 section 7); *dec gets the
 * number of bytes the escape stands for in UTF-8. */
static int
lex_escape(struct json_lex *l, bool name, size_t *dec)
{
	unsigned int u, low;

	if (l->p == l->end)
		return json_lex_fail(l, "unterminated string");
	switch (*l->p++) {
	case '"':
	case '\\':
	case '/':
	case 'b':
	case 'f':
	case 'n':
	case 'r':
	case 't':
		*dec = 1;
		return 0;
	case 'u':
		break;
	default:
		return json_lex_fail(l, "invalid escape");
	}
	if (lex_hex4(l, &u) == -1)
		return -1;
	/* A surrogate escape only means something as a high-low pair; json-c
	 * would replace a lone one with U+FFFD, so two different texts would
	 * give the same string. */
	if (u >= 0xdc00 && u <= 0xdfff)
		return json_lex_fail(l, "lone low surrogate escape");
	if (u >= 0xd800 && u <= 0xdbff) {
		if (l->end - l->p < 2 || l->p[0] != '\\' || l->p[1] != 'u')
			return json_lex_fail(l, "lone high surrogate escape");
		l->p += 2;
		if (lex_hex4(l, &low) == -1)
			return -1;
		if (low < 0xdc00 || low > 0xdfff)
			return json_lex_fail(l, "lone high surrogate escape");
		/* json-c 0.16 tests the pair's code point for a surrogate
		 * by its low 16 bits, so U+1D800..U+1DFFF and every plane's
		 * like range come out as U+FFFD: the same value as "\ufffd".
		 * Written as UTF-8 bytes they are kept; escaped, refused. */
		if (((0x10000 + ((u - 0xd800) << 10) + (low - 0xdc00)) &
		        0xf800) == 0xd800)
			return json_lex_fail(l, "escape json-c would replace");
		*dec = 4;
		return 0;
	}
	/* json-c keeps member names as C strings: "typ\u0000x" would become
	 * "typ". Values keep their length and may hold U+0000. */
	if (u == 0 && name)
		return json_lex_fail(l, "U+0000 in a member name");
	*dec = u < 0x80 ? 1 : u < 0x800 ? 2 : 3;
	return 0;
}

int
json_lex_string(struct json_lex *l, bool name, struct json_lex_scalar *s)
{
	/* Raw bytes other than escapes are their own value, so only the
	 * escapes make the value shorter than the text: by shrink bytes.
	 * Counting that instead of every byte keeps the loop to its tests. */
	size_t shrink = 0, n;

	s->kind = JSON_LEX_STRING;
	s->p = l->p;
	s->escaped = false;
	while (l->p < l->end) {
		unsigned int c = *l->p;

		if (c == '"') {
			s->len = (size_t)(l->p - s->p);
			s->dec_len = s->len - shrink;
			l->p++;
			return 0;
		}
		if (c == '\\') {
			const unsigned char *esc = l->p++;

			if (lex_escape(l, name, &n) == -1)
				return -1;
			shrink += (size_t)(l->p - esc) - n;
			s->escaped = true;
		} else if (c < 0x20) {
			/* RFC 8259 section 7: control characters must be
			 * escaped. */
			return json_lex_fail(
			    l, "control character in a string");
		} else if (c < 0x80) {
			l->p++;
		} else if (lex_utf8(l) == -1) {
			return -1;
		}
	}
	return json_lex_fail(l, "unterminated string");
}

/* RFC 8259 section 6:
 * -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?
 * An integer must also fit json-c's 64-bit integers (int64 when negative,
 * uint64 otherwise): json-c saturates a larger one, which would make
 * "-9223372036854775809" read as INT64_MIN. */
static int
lex_number(struct json_lex *l, struct json_lex_scalar *s)
{
	bool big = false;

	s->kind = JSON_LEX_NUMBER;
	s->p = l->p;
	s->integer = true;
	s->neg = false;
	s->mag = 0;
	if (json_lex_peek(l) == '-') {
		s->neg = true;
		l->p++;
	}
	if (!is_digit(json_lex_peek(l)))
		return json_lex_fail(l, "digit expected");
	if (*l->p == '0') {
		l->p++;
	} else {
		while (is_digit(json_lex_peek(l))) {
			unsigned int d = (unsigned int)(*l->p - '0');

			/* Too big for an integer, but it may still turn out
			 * to be a double: decide after the last digit. */
			if (s->mag > (UINT64_MAX - d) / 10)
				big = true;
			else
				s->mag = s->mag * 10 + d;
			l->p++;
		}
	}
	if (json_lex_peek(l) == '.') {
		s->integer = false;
		l->p++;
		if (!is_digit(json_lex_peek(l)))
			return json_lex_fail(l, "digit expected after '.'");
		while (is_digit(json_lex_peek(l)))
			l->p++;
	}
	if (json_lex_peek(l) == 'e' || json_lex_peek(l) == 'E') {
		s->integer = false;
		l->p++;
		if (json_lex_peek(l) == '+' || json_lex_peek(l) == '-')
			l->p++;
		if (!is_digit(json_lex_peek(l)))
			return json_lex_fail(l, "digit expected in exponent");
		while (is_digit(json_lex_peek(l)))
			l->p++;
	}
	s->len = (size_t)(l->p - s->p);
	if (s->integer && (big || (s->neg && s->mag > (uint64_t)INT64_MAX + 1)))
		return json_lex_fail(l, "integer out of range");
	return 0;
}

static int
lex_literal(struct json_lex *l, const char *word, size_t n,
    enum json_lex_kind kind, struct json_lex_scalar *s)
{
	if ((size_t)(l->end - l->p) < n || memcmp(l->p, word, n) != 0)
		return json_lex_fail(l, "unexpected byte");
	s->kind = kind;
	s->p = l->p;
	s->len = n;
	l->p += n;
	return 0;
}

int
json_lex_scalar(struct json_lex *l, int c, struct json_lex_scalar *s)
{
	if (c == '"') {
		l->p++;
		return json_lex_string(l, false, s);
	}
	if (c == '-' || is_digit(c))
		return lex_number(l, s);
	if (c == 't')
		return lex_literal(l, "true", 4, JSON_LEX_TRUE, s);
	if (c == 'f')
		return lex_literal(l, "false", 5, JSON_LEX_FALSE, s);
	if (c == 'n')
		return lex_literal(l, "null", 4, JSON_LEX_NULL, s);
	return json_lex_fail(l, c == -1 ? "unexpected end" : "unexpected byte");
}

/* RFC 3629 section 3: code point u as one to four UTF-8 bytes. */
static size_t
utf8_encode(unsigned int u, unsigned char out[4])
{
	if (u < 0x80) {
		out[0] = (unsigned char)u;
		return 1;
	}
	if (u < 0x800) {
		out[0] = (unsigned char)(0xc0 | u >> 6);
		out[1] = (unsigned char)(0x80 | (u & 0x3f));
		return 2;
	}
	if (u < 0x10000) {
		out[0] = (unsigned char)(0xe0 | u >> 12);
		out[1] = (unsigned char)(0x80 | ((u >> 6) & 0x3f));
		out[2] = (unsigned char)(0x80 | (u & 0x3f));
		return 3;
	}
	out[0] = (unsigned char)(0xf0 | u >> 18);
	out[1] = (unsigned char)(0x80 | ((u >> 12) & 0x3f));
	out[2] = (unsigned char)(0x80 | ((u >> 6) & 0x3f));
	out[3] = (unsigned char)(0x80 | (u & 0x3f));
	return 4;
}

const unsigned char *
json_lex_decode_escape(const unsigned char *p, unsigned char out[4], size_t *n)
{
	unsigned int u = 0, lo = 0;

	*n = 1;
	switch (p[1]) {
	case 'b':
		out[0] = '\b';
		return p + 2;
	case 'f':
		out[0] = '\f';
		return p + 2;
	case 'n':
		out[0] = '\n';
		return p + 2;
	case 'r':
		out[0] = '\r';
		return p + 2;
	case 't':
		out[0] = '\t';
		return p + 2;
	case 'u':
		break;
	default: /* '"', '\\', '/' */
		out[0] = p[1];
		return p + 2;
	}
	/* The body was accepted: four hex digits, and after a high surrogate
	 * "\u" and a low one. */
	for (int i = 2; i < 6; i++)
		u = u << 4 | (unsigned int)hex_value(p[i]);
	if (u < 0xd800 || u > 0xdbff) {
		*n = utf8_encode(u, out);
		return p + 6;
	}
	for (int i = 8; i < 12; i++)
		lo = lo << 4 | (unsigned int)hex_value(p[i]);
	*n = utf8_encode(0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00), out);
	return p + 12;
}

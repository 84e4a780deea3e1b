/* jose_reader: the JOSE header and the claims read from their JSON text in
 * one pass, with no allocation.
 *
 * The grammar is json_util.c's validator, rule for rule: RFC 8259 sections
 * 2-7 exactly (four whitespace bytes, no leading zeros, no "1." or ".5",
 * control characters escaped), RFC 3629 section 4 UTF-8 (no overlong forms,
 * no encoded surrogates), escaped surrogates only as a pair, no U+0000 in a
 * member name, integers within 64 bits, the depth rule json-c applies (a
 * value inside d containers needs d < 16). What json-c adds after the
 * validator is done here too: a double that strtod makes infinite is
 * refused (json_util's tree walk), and a member name written twice in one
 * object, however it is spelled ("alg" and "\u0061lg"), is refused (RFC
 * 7515 section 4, RFC 7519 section 4). Names are compared by their decoded
 * bytes; the names of every open object are kept on the stack, which one
 * input of JOSE_READER_MAX_INPUT bytes can never overflow (each name takes
 * at least four bytes of text: two quotes, a colon and a value). */
#include "jose_reader.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "json_util.h"

#define JOSE_MAX_NAMES (JOSE_READER_MAX_INPUT / 4 + 1)

/* The NumericDate range json_get_numeric_date allows a double (RFC 7519
 * section 2): its floor must be in [-2^63, 2^63). */
#define NUMERIC_DATE_DOUBLE_LIMIT 9223372036854775808.0

struct field {
	const char *name;
	size_t len;
	size_t off; /* of its struct jose_val in the output */
};

#define FIELD(type, m)                                                         \
	{                                                                      \
#m, sizeof(#m) - 1, offsetof(type, m)                          \
	}

static const struct field header_fields[] = {
	FIELD(struct jose_header, alg),
	FIELD(struct jose_header, typ),
	FIELD(struct jose_header, kid),
	FIELD(struct jose_header, crit),
	FIELD(struct jose_header, jku),
	FIELD(struct jose_header, x5u),
	FIELD(struct jose_header, jwk),
	FIELD(struct jose_header, x5c),
	FIELD(struct jose_header, b64),
	FIELD(struct jose_header, zip),
};

static const struct field claims_fields[] = {
	FIELD(struct jose_claims, iss),
	FIELD(struct jose_claims, aud),
	FIELD(struct jose_claims, sub),
	FIELD(struct jose_claims, exp),
	FIELD(struct jose_claims, nbf),
	FIELD(struct jose_claims, iat),
	FIELD(struct jose_claims, jti),
	FIELD(struct jose_claims, client_id),
	FIELD(struct jose_claims, username),
	FIELD(struct jose_claims, roles),
	FIELD(struct jose_claims, permissions),
	FIELD(struct jose_claims, scope),
};

/* A member name of an open object, as offsets into the text. */
struct name {
	uint32_t off, len, dec_len;
	bool escaped;
};

struct rd {
	const unsigned char *start, *p, *end;
	const char *why; /* the first problem, for the log */
	size_t at;
};

static int
rd_fail(struct rd *r, const char *why)
{
	if (r->why == NULL) {
		r->why = why;
		r->at = (size_t)(r->p - r->start);
	}
	return -1;
}

static int
rd_peek(const struct rd *r)
{
	return r->p < r->end ? *r->p : -1;
}

/* RFC 8259 section 2: space, tab, LF, CR and nothing else. */
static bool
is_ws(int c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static void
rd_ws(struct rd *r)
{
	while (r->p < r->end && is_ws(*r->p))
		r->p++;
}

static bool
is_digit(int c)
{
	return c >= '0' && c <= '9';
}

/* One UTF-8 sequence of two to four bytes (RFC 3629 section 4); returns
 * its length, or -1. */
static int
rd_utf8(struct rd *r)
{
	unsigned int c = r->p[0], lo = 0x80, hi = 0xbf;
	size_t n;

	if (c >= 0xc2 && c <= 0xdf) {
		n = 1;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 2;
		if (c == 0xe0)
			lo = 0xa0; /* below is overlong */
		else if (c == 0xed)
			hi = 0x9f; /* above is a surrogate */
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 3;
		if (c == 0xf0)
			lo = 0x90; /* below is overlong */
		else if (c == 0xf4)
			hi = 0x8f; /* above is beyond U+10FFFF */
	} else {
		return rd_fail(r, "invalid UTF-8");
	}
	if ((size_t)(r->end - r->p) <= n)
		return rd_fail(r, "truncated UTF-8");
	if (r->p[1] < lo || r->p[1] > hi)
		return rd_fail(r, "invalid UTF-8");
	for (size_t i = 2; i <= n; i++)
		if ((r->p[i] & 0xc0) != 0x80)
			return rd_fail(r, "invalid UTF-8");
	r->p += n + 1;
	return (int)n + 1;
}

static int
hex_value(int c)
{
	if (is_digit(c))
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int
rd_hex4(struct rd *r, unsigned int *out)
{
	unsigned int v = 0;

	if (r->end - r->p < 4)
		return rd_fail(r, "truncated \\u escape");
	for (int i = 0; i < 4; i++) {
		int h = hex_value(r->p[i]);

		if (h < 0)
			return rd_fail(r, "bad hex digit in \\u escape");
		v = v << 4 | (unsigned int)h;
	}
	r->p += 4;
	*out = v;
	return 0;
}

/* After a backslash (RFC 8259 section 7); *dec gets the bytes the escape
 * stands for in UTF-8. */
static int
rd_escape(struct rd *r, bool name, size_t *dec)
{
	unsigned int u, low;

	if (r->p == r->end)
		return rd_fail(r, "unterminated string");
	switch (*r->p++) {
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
		return rd_fail(r, "invalid escape");
	}
	if (rd_hex4(r, &u) == -1)
		return -1;
	/* json-c would turn a lone surrogate into U+FFFD: two texts, one
	 * value. Only a high-low pair means something. */
	if (u >= 0xdc00 && u <= 0xdfff)
		return rd_fail(r, "lone low surrogate escape");
	if (u >= 0xd800 && u <= 0xdbff) {
		if (r->end - r->p < 2 || r->p[0] != '\\' || r->p[1] != 'u')
			return rd_fail(r, "lone high surrogate escape");
		r->p += 2;
		if (rd_hex4(r, &low) == -1)
			return -1;
		if (low < 0xdc00 || low > 0xdfff)
			return rd_fail(r, "lone high surrogate escape");
		/* As json_util: json-c 0.16 turns these pairs into U+FFFD. */
		if (((0x10000 + ((u - 0xd800) << 10) + (low - 0xdc00)) &
		        0xf800) == 0xd800)
			return rd_fail(r, "escape json-c would replace");
		*dec = 4;
		return 0;
	}
	/* json-c cuts member names at a NUL; values keep their length. */
	if (u == 0 && name)
		return rd_fail(r, "U+0000 in a member name");
	*dec = u < 0x80 ? 1 : u < 0x800 ? 2 : 3;
	return 0;
}

/* After the opening quote: the string's body into *s. */
static int
rd_string(struct rd *r, bool name, struct jose_str *s)
{
	size_t dec = 0, n;
	int w;

	s->p = (const char *)r->p;
	s->escaped = false;
	while (r->p < r->end) {
		unsigned int c = *r->p;

		if (c == '"') {
			s->len = (size_t)((const char *)r->p - s->p);
			s->dec_len = dec;
			r->p++;
			return 0;
		}
		if (c == '\\') {
			r->p++;
			if (rd_escape(r, name, &n) == -1)
				return -1;
			dec += n;
			s->escaped = true;
		} else if (c < 0x20) {
			/* RFC 8259 section 7: control characters are
			 * escaped. */
			return rd_fail(r, "control character in a string");
		} else if (c < 0x80) {
			r->p++;
			dec++;
		} else if ((w = rd_utf8(r)) == -1) {
			return -1;
		} else {
			dec += (size_t)w;
		}
	}
	return rd_fail(r, "unterminated string");
}

/* strtod, as json-c reads a number with a fraction or an exponent. The
 * text is at most the input, so it fits. */
static double
rd_strtod(const unsigned char *p, size_t len)
{
	char buf[JOSE_READER_MAX_INPUT + 1];

	memcpy(buf, p, len);
	buf[len] = '\0';
	return strtod(buf, NULL);
}

/* RFC 8259 section 6, with json-c's ranges: a plain integer must fit
 * int64 when negative and uint64 otherwise (json-c would saturate), a
 * double must be finite. v, when given, gets the NumericDate. */
static int
rd_number(struct rd *r, struct jose_val *v)
{
	const unsigned char *start = r->p;
	bool neg = false, integer = true, big = false;
	uint64_t mag = 0;
	double d;

	if (rd_peek(r) == '-') {
		neg = true;
		r->p++;
	}
	if (!is_digit(rd_peek(r)))
		return rd_fail(r, "digit expected");
	if (*r->p == '0') {
		r->p++;
	} else {
		while (is_digit(rd_peek(r))) {
			unsigned int dg = (unsigned int)(*r->p - '0');

			if (mag > (UINT64_MAX - dg) / 10)
				big = true;
			else
				mag = mag * 10 + dg;
			r->p++;
		}
	}
	if (rd_peek(r) == '.') {
		integer = false;
		r->p++;
		if (!is_digit(rd_peek(r)))
			return rd_fail(r, "digit expected after '.'");
		while (is_digit(rd_peek(r)))
			r->p++;
	}
	if (rd_peek(r) == 'e' || rd_peek(r) == 'E') {
		integer = false;
		r->p++;
		if (rd_peek(r) == '+' || rd_peek(r) == '-')
			r->p++;
		if (!is_digit(rd_peek(r)))
			return rd_fail(r, "digit expected in exponent");
		while (is_digit(rd_peek(r)))
			r->p++;
	}
	if (integer) {
		if (big || (neg && mag > (uint64_t)INT64_MAX + 1))
			return rd_fail(r, "integer out of range");
		if (v != NULL) {
			v->type = JOSE_NUMBER;
			/* json-c keeps 2^63.. as uint64, which is no
			 * NumericDate for json_get_int64. */
			v->date_ok = neg || mag <= (uint64_t)INT64_MAX;
			if (!neg)
				v->date = v->date_ok ? (int64_t)mag : 0;
			else if (mag == (uint64_t)INT64_MAX + 1)
				v->date = INT64_MIN;
			else
				v->date = -(int64_t)mag;
		}
		return 0;
	}
	d = rd_strtod(start, (size_t)(r->p - start));
	if (!isfinite(d))
		return rd_fail(r, "number out of range");
	if (v != NULL) {
		v->type = JOSE_NUMBER;
		d = floor(d);
		/* As json_get_numeric_date: every double below 2^63 is at
		 * most 2^63 - 1024, so the cast is defined (C11 6.3.1.4). */
		v->date_ok = d >= -NUMERIC_DATE_DOUBLE_LIMIT &&
		             d < NUMERIC_DATE_DOUBLE_LIMIT;
		v->date = v->date_ok ? (int64_t)d : 0;
	}
	return 0;
}

static int
rd_literal(struct rd *r, const char *word, size_t n)
{
	if ((size_t)(r->end - r->p) < n || memcmp(r->p, word, n) != 0)
		return rd_fail(r, "unexpected byte");
	r->p += n;
	return 0;
}

/* A scalar; v (a wanted top-level member) gets its type and value. */
static int
rd_scalar(struct rd *r, int c, struct jose_val *v)
{
	struct jose_str s;

	if (c == '"') {
		r->p++;
		if (rd_string(r, false, &s) == -1)
			return -1;
		if (v != NULL) {
			v->type = JOSE_STRING;
			v->str = s;
		}
		return 0;
	}
	if (c == '-' || is_digit(c))
		return rd_number(r, v);
	if (c == 't' || c == 'f' || c == 'n') {
		if ((c == 't' && rd_literal(r, "true", 4) == -1) ||
		    (c == 'f' && rd_literal(r, "false", 5) == -1) ||
		    (c == 'n' && rd_literal(r, "null", 4) == -1))
			return -1;
		if (v != NULL)
			v->type = c == 'n' ? JOSE_NULL : JOSE_BOOL;
		return 0;
	}
	return rd_fail(r, c == -1 ? "unexpected end" : "unexpected byte");
}

/* One decoded unit of a validated string body: the UTF-8 bytes of one
 * escape, or one raw byte. */
static size_t
decode_unit(const unsigned char **pp, unsigned char out[4])
{
	const unsigned char *p = *pp;
	unsigned int u = 0, lo = 0;

	if (p[0] != '\\') {
		out[0] = p[0];
		*pp = p + 1;
		return 1;
	}
	*pp = p + 2;
	switch (p[1]) {
	case 'b':
		out[0] = '\b';
		return 1;
	case 'f':
		out[0] = '\f';
		return 1;
	case 'n':
		out[0] = '\n';
		return 1;
	case 'r':
		out[0] = '\r';
		return 1;
	case 't':
		out[0] = '\t';
		return 1;
	case 'u':
		break;
	default: /* '"', '\\', '/' */
		out[0] = p[1];
		return 1;
	}
	for (int i = 2; i < 6; i++)
		u = u << 4 | (unsigned int)hex_value(p[i]);
	*pp = p + 6;
	if (u >= 0xd800 && u <= 0xdbff) {
		for (int i = 8; i < 12; i++)
			lo = lo << 4 | (unsigned int)hex_value(p[i]);
		*pp = p + 12;
		u = 0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00);
	}
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

size_t
jose_str_decode(const struct jose_str *s, char *out)
{
	const unsigned char *p = (const unsigned char *)s->p, *end = p + s->len;
	size_t n = 0;

	if (!s->escaped) {
		if (s->len > 0)
			memcpy(out, s->p, s->len);
		return s->len;
	}
	while (p < end)
		n += decode_unit(&p, (unsigned char *)out + n);
	return n;
}

/* Decoded bytes of a validated body, one at a time. */
struct byte_reader {
	const unsigned char *p, *end;
	unsigned char buf[4];
	size_t n, i;
};

static int
byte_next(struct byte_reader *b)
{
	if (b->i < b->n)
		return b->buf[b->i++];
	if (b->p >= b->end)
		return -1;
	b->n = decode_unit(&b->p, b->buf);
	b->i = 1;
	return b->buf[0];
}

/* Two validated bodies with the same decoded bytes? */
static bool
str_equal_decoded(const char *a, size_t alen, const char *b, size_t blen)
{
	struct byte_reader x = { .p = (const unsigned char *)a,
		.end = (const unsigned char *)a + alen };
	struct byte_reader y = { .p = (const unsigned char *)b,
		.end = (const unsigned char *)b + blen };
	int c;

	do {
		if ((c = byte_next(&x)) != byte_next(&y))
			return false;
	} while (c != -1);
	return true;
}

bool
jose_str_equals(const struct jose_str *s, const char *b, size_t blen)
{
	struct byte_reader x = { .p = (const unsigned char *)s->p,
		.end = (const unsigned char *)s->p + s->len };

	if (s->dec_len != blen)
		return false;
	if (!s->escaped)
		return blen == 0 || memcmp(s->p, b, blen) == 0;
	for (size_t i = 0; i < blen; i++)
		if (byte_next(&x) != (unsigned char)b[i])
			return false;
	return true;
}

void
jose_iter_init(const struct jose_val *a, struct jose_iter *it)
{
	it->p = a->type == JOSE_ARRAY ? a->arr : NULL;
	it->end = a->type == JOSE_ARRAY ? a->arr + a->arr_len : NULL;
}

bool
jose_iter_next(struct jose_iter *it, struct jose_str *s)
{
	const unsigned char *p = (const unsigned char *)it->p;
	const unsigned char *end = (const unsigned char *)it->end;
	unsigned char unit[4];
	size_t dec = 0;

	while (p < end && (is_ws(*p) || *p == ','))
		p++;
	if (p >= end || *p != '"') {
		it->p = it->end;
		return false;
	}
	s->p = (const char *)++p;
	s->escaped = false;
	/* The array was validated: the closing quote is there. */
	while (*p != '"') {
		if (*p == '\\') {
			dec += decode_unit(&p, unit);
			s->escaped = true;
		} else {
			p++;
			dec++;
		}
	}
	s->len = (size_t)((const char *)p - s->p);
	s->dec_len = dec;
	it->p = (const char *)p + 1;
	return true;
}

/* Is the name s a repeat of one of names[from..top)? */
static bool
name_seen(const struct rd *r, const struct name *names, size_t from, size_t top,
    const struct jose_str *s)
{
	for (size_t i = from; i < top; i++) {
		const struct name *n = &names[i];
		const char *np = (const char *)r->start + n->off;

		if (n->dec_len != s->dec_len)
			continue;
		if (!n->escaped && !s->escaped) {
			if (n->len == 0 || memcmp(np, s->p, n->len) == 0)
				return true;
		} else if (str_equal_decoded(np, n->len, s->p, s->len)) {
			return true;
		}
	}
	return false;
}

/* The wanted member named s, or NULL. */
static struct jose_val *
field_of(const struct field *fields, size_t n_fields, void *out,
    const struct jose_str *s)
{
	for (size_t i = 0; i < n_fields; i++)
		if (jose_str_equals(s, fields[i].name, fields[i].len))
			return (struct jose_val *)((char *)out + fields[i].off);
	return NULL;
}

/* The whole text, as json_util's scan_text, filling the wanted top-level
 * members of out. Iterative; the depth is JSON_DEFAULT_MAX_DEPTH. */
static int
rd_text(struct rd *r, const struct field *fields, size_t n_fields, void *out,
    bool *object)
{
	struct name names[JOSE_MAX_NAMES];
	unsigned char stack[JSON_DEFAULT_MAX_DEPTH]; /* '{' or '[' */
	size_t name_base[JSON_DEFAULT_MAX_DEPTH];
	enum { WANT_VALUE, WANT_NAME, AFTER_VALUE } state = WANT_VALUE;
	struct jose_val *cur = NULL, *arr = NULL;
	size_t top = 0;
	int depth = 0;

	rd_ws(r);
	*object = rd_peek(r) == '{';
	for (;;) {
		int c = rd_peek(r), close;
		struct jose_str s;

		switch (state) {
		case WANT_VALUE:
			/* json-c's depth rule, as json_util keeps it. */
			if (depth >= JSON_DEFAULT_MAX_DEPTH)
				return rd_fail(r, "nesting too deep");
			if (arr != NULL && depth == 2) {
				if (c != '"' &&
				    arr->first_non_string == SIZE_MAX)
					arr->first_non_string = arr->n;
				arr->n++;
			}
			if (c != '{' && c != '[') {
				if (rd_scalar(r, c, cur) == -1)
					return -1;
				cur = NULL;
				state = AFTER_VALUE;
				break;
			}
			r->p++;
			if (cur != NULL) {
				cur->type = c == '{' ? JOSE_OBJECT : JOSE_ARRAY;
				if (c == '[') {
					cur->arr = (const char *)r->p;
					cur->first_non_string = SIZE_MAX;
					arr = cur;
				}
				cur = NULL;
			}
			rd_ws(r);
			if (rd_peek(r) == (c == '{' ? '}' : ']')) {
				if (arr != NULL && depth == 1) {
					arr->arr_len =
					    (size_t)((const char *)r->p -
					             arr->arr);
					arr->first_non_string = 0;
					arr = NULL;
				}
				r->p++;
				state = AFTER_VALUE;
				break;
			}
			name_base[depth] = top;
			stack[depth++] = (unsigned char)c;
			state = c == '{' ? WANT_NAME : WANT_VALUE;
			break;
		case WANT_NAME:
			if (c != '"')
				return rd_fail(r, "member name expected");
			r->p++;
			if (rd_string(r, true, &s) == -1)
				return -1;
			/* RFC 7515 section 4 and RFC 7519 section 4: a
			 * repeated name is refused, not resolved. */
			if (name_seen(r, names, name_base[depth - 1], top, &s))
				return rd_fail(r, "duplicate member name");
			if (top == JOSE_MAX_NAMES)
				return rd_fail(r, "too many member names");
			names[top++] = (struct name){
				.off = (uint32_t)((const unsigned char *)s.p -
				                  r->start),
				.len = (uint32_t)s.len,
				.dec_len = (uint32_t)s.dec_len,
				.escaped = s.escaped,
			};
			if (depth == 1)
				cur = field_of(fields, n_fields, out, &s);
			rd_ws(r);
			if (rd_peek(r) != ':')
				return rd_fail(r, "':' expected");
			r->p++;
			rd_ws(r);
			state = WANT_VALUE;
			break;
		case AFTER_VALUE:
			rd_ws(r);
			c = rd_peek(r);
			if (depth == 0)
				return c == -1 ? 0
				               : rd_fail(r, "trailing bytes");
			close = stack[depth - 1] == '{' ? '}' : ']';
			if (c == close) {
				if (arr != NULL && depth == 2) {
					arr->arr_len =
					    (size_t)((const char *)r->p -
					             arr->arr);
					if (arr->first_non_string == SIZE_MAX)
						arr->first_non_string = arr->n;
					arr = NULL;
				}
				r->p++;
				depth--;
				top = name_base[depth];
			} else if (c == ',') {
				r->p++;
				rd_ws(r);
				state = close == '}' ? WANT_NAME : WANT_VALUE;
			} else {
				return rd_fail(r, "',' or end of container "
				                  "expected");
			}
			break;
		}
	}
}

static int
jose_read(const char *buf, size_t len, const struct field *fields,
    size_t n_fields, void *out, size_t out_size, struct err *e)
{
	struct rd r = { 0 };
	bool object = false;

	memset(out, 0, out_size);
	if (len > JOSE_READER_MAX_INPUT)
		return err_set(
		    e, ERR_INTERNAL, "jose: %zu bytes is too large", len);
	if (len == 0)
		return err_set(e, ERR_TOKEN_MALFORMED, "json: empty input");
	r.start = r.p = (const unsigned char *)buf;
	r.end = r.p + len;
	if (rd_text(&r, fields, n_fields, out, &object) == -1) {
		memset(out, 0, out_size);
		return err_set(e, ERR_TOKEN_MALFORMED, "json: %s at byte %zu",
		    r.why, r.at);
	}
	/* RFC 7515 section 4 (header), RFC 7519 section 7.2 step 10
	 * (claims): both are JSON objects. */
	if (!object) {
		memset(out, 0, out_size);
		return err_set(
		    e, ERR_TOKEN_MALFORMED, "jws: part is not an object");
	}
	return 0;
}

int
jose_read_header(
    const char *buf, size_t len, struct jose_header *h, struct err *e)
{
	return jose_read(buf, len, header_fields,
	    sizeof(header_fields) / sizeof(*header_fields), h, sizeof(*h), e);
}

int
jose_read_claims(
    const char *buf, size_t len, struct jose_claims *c, struct err *e)
{
	return jose_read(buf, len, claims_fields,
	    sizeof(claims_fields) / sizeof(*claims_fields), c, sizeof(*c), e);
}

/* jose_reader: the JOSE header and the claims read from their JSON text in
 * one pass, with no allocation.
 *
 * The grammar is json_util.c's validator, rule for rule, over the same
 * tokens (json_lex.c: RFC 8259 whitespace, numbers and strings, RFC 3629
 * UTF-8, escaped surrogates only as a pair, no U+0000 in a member name,
 * integers within 64 bits) and the depth rule json-c applies (a value
 * inside d containers needs d < 16). What json-c adds after the validator
 * is done here too: a double that strtod makes infinite is refused
 * (json_util's tree walk), and a member name written twice in one object,
 * however it is spelled ("alg" and "\u0061lg"), is refused (RFC 7515
 * section 4, RFC 7519 section 4). Names are compared by their decoded
 * bytes; the names of every open object are kept on the stack, which one
 * input of JOSE_READER_MAX_INPUT bytes can never overflow (each name takes
 * at least four bytes of text: two quotes, a colon and a value). */
#include "jose_reader.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "json_lex.h"
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

/* A number json_lex accepted, with json-c's last range check: a double
 * must be finite (json_util's tree walk). v, when given, gets the
 * NumericDate. */
static int
rd_number(
    struct json_lex *l, const struct json_lex_scalar *t, struct jose_val *v)
{
	double d;

	if (t->integer) {
		if (v != NULL) {
			v->type = JOSE_NUMBER;
			/* json-c keeps 2^63.. as uint64, which is no
			 * NumericDate for json_get_int64. */
			v->date_ok = t->neg || t->mag <= (uint64_t)INT64_MAX;
			if (!t->neg)
				v->date = v->date_ok ? (int64_t)t->mag : 0;
			else if (t->mag == (uint64_t)INT64_MAX + 1)
				v->date = INT64_MIN;
			else
				v->date = -(int64_t)t->mag;
		}
		return 0;
	}
	d = rd_strtod(t->p, t->len);
	if (!isfinite(d))
		return json_lex_fail(l, "number out of range");
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

static struct jose_str
str_of(const struct json_lex_scalar *t)
{
	return (struct jose_str){ .p = (const char *)t->p,
		.len = t->len,
		.dec_len = t->dec_len,
		.escaped = t->escaped };
}

/* A scalar; v (a wanted top-level member) gets its type and value. */
static int
rd_scalar(struct json_lex *l, int c, struct jose_val *v)
{
	struct json_lex_scalar t;

	if (json_lex_scalar(l, c, &t) == -1)
		return -1;
	if (t.kind == JSON_LEX_NUMBER)
		return rd_number(l, &t, v);
	if (v == NULL)
		return 0;
	if (t.kind == JSON_LEX_STRING) {
		v->type = JOSE_STRING;
		v->str = str_of(&t);
	} else {
		v->type = t.kind == JSON_LEX_NULL ? JOSE_NULL : JOSE_BOOL;
	}
	return 0;
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
		n += json_lex_decode_unit(&p, (unsigned char *)out + n);
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
	b->n = json_lex_decode_unit(&b->p, b->buf);
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
	struct byte_reader x;

	if (s->dec_len != blen)
		return false;
	if (!s->escaped)
		return blen == 0 || memcmp(s->p, b, blen) == 0;
	/* Set only here: the calls above run for every member name against
	 * every wanted field. */
	x = (struct byte_reader){ .p = (const unsigned char *)s->p,
		.end = (const unsigned char *)s->p + s->len };
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

	while (p < end && (json_lex_is_ws(*p) || *p == ','))
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
			dec += json_lex_decode_unit(&p, unit);
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
name_seen(const struct json_lex *r, const struct name *names, size_t from,
    size_t top, const struct jose_str *s)
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
rd_text(struct json_lex *r, const struct field *fields, size_t n_fields,
    void *out, bool *object)
{
	struct name names[JOSE_MAX_NAMES];
	unsigned char stack[JSON_DEFAULT_MAX_DEPTH]; /* '{' or '[' */
	size_t name_base[JSON_DEFAULT_MAX_DEPTH];
	enum { WANT_VALUE, WANT_NAME, AFTER_VALUE } state = WANT_VALUE;
	struct jose_val *cur = NULL, *arr = NULL;
	size_t top = 0;
	int depth = 0;

	json_lex_ws(r);
	*object = json_lex_peek(r) == '{';
	for (;;) {
		int c = json_lex_peek(r), close;
		struct json_lex_scalar t;
		struct jose_str s;

		switch (state) {
		case WANT_VALUE:
			/* json-c's depth rule, as json_util keeps it. */
			if (depth >= JSON_DEFAULT_MAX_DEPTH)
				return json_lex_fail(r, "nesting too deep");
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
			json_lex_ws(r);
			if (json_lex_peek(r) == (c == '{' ? '}' : ']')) {
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
				return json_lex_fail(r, "member name expected");
			r->p++;
			if (json_lex_string(r, true, &t) == -1)
				return -1;
			s = str_of(&t);
			/* RFC 7515 section 4 and RFC 7519 section 4: a
			 * repeated name is refused, not resolved. */
			if (name_seen(r, names, name_base[depth - 1], top, &s))
				return json_lex_fail(
				    r, "duplicate member name");
			if (top == JOSE_MAX_NAMES)
				return json_lex_fail(
				    r, "too many member names");
			names[top++] = (struct name){
				.off = (uint32_t)((const unsigned char *)s.p -
				                  r->start),
				.len = (uint32_t)s.len,
				.dec_len = (uint32_t)s.dec_len,
				.escaped = s.escaped,
			};
			if (depth == 1)
				cur = field_of(fields, n_fields, out, &s);
			json_lex_ws(r);
			if (json_lex_peek(r) != ':')
				return json_lex_fail(r, "':' expected");
			r->p++;
			json_lex_ws(r);
			state = WANT_VALUE;
			break;
		case AFTER_VALUE:
			json_lex_ws(r);
			c = json_lex_peek(r);
			if (depth == 0)
				return c == -1
				           ? 0
				           : json_lex_fail(r, "trailing bytes");
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
				json_lex_ws(r);
				state = close == '}' ? WANT_NAME : WANT_VALUE;
			} else {
				return json_lex_fail(r,
				    "',' or end of container "
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
	struct json_lex r = { 0 };
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

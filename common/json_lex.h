/* json_lex: the lexical rules of strict JSON on a byte cursor, written once
 * for the two readers that must agree byte for byte: json_util's validator
 * (run before json-c) and jose_reader's one-pass reader (the verifier's hot
 * path). Whitespace (RFC 8259 section 2), numbers (section 6), strings and
 * escapes (section 7), UTF-8 (RFC 3629 section 4), and the json-c 0.16
 * quirks both refuse; then the decoding of a string body they accepted.
 * The grammar of values (objects, arrays, depth) stays with each reader,
 * which adds its own bookkeeping to it. */
#ifndef JWT_JSON_LEX_H
#define JWT_JSON_LEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The text [start, end) read from p on; the first problem is kept. */
struct json_lex {
	const unsigned char *start, *p, *end;
	const char *why; /* the first problem, for the log */
	size_t at;       /* its byte offset */
};

/* Records why (if nothing was recorded yet) at the cursor; returns -1. */
int json_lex_fail(struct json_lex *l, const char *why);

/* The three below run between every two tokens of both readers, so they
 * are inline here rather than a call into json_lex.c. */

/* The byte at the cursor, or -1 at the end. */
static inline int
json_lex_peek(const struct json_lex *l)
{
	return l->p < l->end ? *l->p : -1;
}

/* RFC 8259 section 2: space, tab, LF, CR and nothing else (no form feed,
 * vertical tab, NUL or Unicode spaces). */
static inline bool
json_lex_is_ws(int c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static inline void
json_lex_ws(struct json_lex *l)
{
	while (l->p < l->end && json_lex_is_ws(*l->p))
		l->p++;
}

enum json_lex_kind {
	JSON_LEX_STRING,
	JSON_LEX_NUMBER,
	JSON_LEX_TRUE,
	JSON_LEX_FALSE,
	JSON_LEX_NULL
};

/* One scalar as written. */
struct json_lex_scalar {
	enum json_lex_kind kind;
	/* the token's first byte: for a string its body, after the quote */
	const unsigned char *p;
	size_t len;     /* JSON_LEX_STRING: raw bytes of the body */
	size_t dec_len; /* JSON_LEX_STRING: bytes of the decoded value */
	bool escaped;   /* JSON_LEX_STRING: the body holds an escape */
	/* JSON_LEX_NUMBER: len is the token's; integer when it has neither
	 * fraction nor exponent, and then -mag (neg) or mag is its value */
	bool integer, neg;
	uint64_t mag;
};

/* A string body, the cursor just after its opening quote; leaves the
 * cursor after the closing quote. A member name (name) may not hold
 * U+0000: json-c keeps names as C strings. */
int json_lex_string(struct json_lex *l, bool name, struct json_lex_scalar *s);

/* The scalar at the cursor (c == json_lex_peek(l)): a string, a number
 * (within json-c's 64-bit integers), true, false or null. */
int json_lex_scalar(struct json_lex *l, int c, struct json_lex_scalar *s);

/* The escape at p (a backslash) of a body json_lex_string accepted: its
 * UTF-8 bytes into out, their count into *n; returns the byte after it. */
const unsigned char *json_lex_decode_escape(
    const unsigned char *p, unsigned char out[4], size_t *n);

/* One unit of a body json_lex_string accepted: the UTF-8 bytes of one
 * escape, or one raw byte, into out; advances *pp past it. Inline, and the
 * cursor not handed to a call, so it stays in a register in the loops that
 * compare and decode claims. */
static inline size_t
json_lex_decode_unit(const unsigned char **pp, unsigned char out[4])
{
	size_t n;

	if (**pp != '\\') {
		out[0] = *(*pp)++;
		return 1;
	}
	*pp = json_lex_decode_escape(*pp, out, &n);
	return n;
}

#endif

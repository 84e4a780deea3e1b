/* jose_reader: the JOSE header and the access-token claims read from their
 * decoded JSON text in one pass, without allocating: strings come back as
 * (pointer, length) slices into the text, arrays as spans to iterate, and
 * NumericDates as int64. Accepts and refuses exactly what json_parse_strict
 * does (fuzz/fuzz_jose_reader.c checks it against json-c), so the verifier
 * can use it on every request and json-c elsewhere. */
#ifndef JWT_JOSE_READER_H
#define JWT_JOSE_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

/* The longest text read: a compact token is at most 8192 bytes
 * (JWT_MAX_TOKEN_LEN), so a decoded part is at most 6144. */
#define JOSE_READER_MAX_INPUT 6144

enum jose_type {
	JOSE_ABSENT = 0,
	JOSE_NULL,
	JOSE_BOOL,
	JOSE_NUMBER,
	JOSE_STRING,
	JOSE_ARRAY,
	JOSE_OBJECT
};

/* A JSON string as written: p[0..len) is the text between the quotes. Only
 * when escaped is false is that text also the value; otherwise decode it
 * (jose_str_decode) or compare it (jose_str_equals). */
struct jose_str {
	const char *p;
	size_t len;     /* raw bytes */
	size_t dec_len; /* bytes of the value */
	bool escaped;
};

struct jose_val {
	enum jose_type type;
	struct jose_str str; /* JOSE_STRING */
	/* JOSE_ARRAY: the text between the brackets, the element count, and
	 * the index of the first element that is not a string (n if none) */
	const char *arr;
	size_t arr_len, n, first_non_string;
	/* JOSE_NUMBER: the NumericDate json_get_numeric_date would give
	 * (date_ok false where it would fail) */
	bool date_ok;
	int64_t date;
};

/* RFC 7515 section 4.1: what jws.c looks at. */
struct jose_header {
	struct jose_val alg, typ, kid;
	struct jose_val crit, jku, x5u, jwk, x5c, b64, zip;
};

/* RFC 7519 section 4.1, RFC 9068 section 2.2 and this pair's own claims. */
struct jose_claims {
	struct jose_val iss, aud, sub, exp, nbf, iat, jti, client_id, username,
	    roles, permissions, scope;
};

/* Reads buf[0..len), which must be one JSON object, into h or c. Fails
 * with ERR_TOKEN_MALFORMED where json_parse_strict (depth
 * JSON_DEFAULT_MAX_DEPTH) would fail or the text is not an object;
 * ERR_INTERNAL if len > JOSE_READER_MAX_INPUT. */
int jose_read_header(
    const char *buf, size_t len, struct jose_header *h, struct err *e);
int jose_read_claims(
    const char *buf, size_t len, struct jose_claims *c, struct err *e);

/* The value's bytes into out (room for s->dec_len); returns dec_len. */
size_t jose_str_decode(const struct jose_str *s, char *out);

/* Is the value exactly b[0..blen)? Length-aware, so a U+0000 counts. */
bool jose_str_equals(const struct jose_str *s, const char *b, size_t blen);

/* The elements of an array whose first_non_string == n, in order. */
struct jose_iter {
	const char *p, *end;
};
void jose_iter_init(const struct jose_val *a, struct jose_iter *it);
bool jose_iter_next(struct jose_iter *it, struct jose_str *s);

#endif

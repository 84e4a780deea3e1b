/* form: application/x-www-form-urlencoded request bodies (the OAuth 2.0
 * endpoints: RFC 6749 3.2, RFC 7009 2.1, RFC 7662 2.1), parsed strictly:
 * names and values percent-decoded with their lengths, '+' a space. */
#ifndef AUTH_FORM_H
#define AUTH_FORM_H

#include <event2/http.h>
#include <stddef.h>

#include "err.h"

struct form_field {
	char *name;
	size_t name_len;
	char *value; /* NUL-terminated; no embedded NUL (refused) */
	size_t value_len;
};

struct form {
	struct form_field *fields;
	size_t n;
};

/* Parses body. A parameter without a value counts as omitted (RFC 6749
 * 3.2); one given twice, a bad %-escape or %00 is ERR_INVALID_REQUEST. */
int form_parse(const char *body, size_t len, struct form **out, struct err *e);

/* The request's body: Content-Type application/x-www-form-urlencoded
 * (parameters after ';' allowed), at most max bytes (else
 * ERR_PAYLOAD_TOO_LARGE). */
int form_read(
    struct evhttp_request *req, size_t max, struct form **out, struct err *e);

/* The value of name, or NULL when absent; *len its length if len. */
const char *form_get(const struct form *f, const char *name, size_t *len);

/* Decodes one name or value (s[0..len)) into a new string; -1 on a bad
 * escape, %00 or a NUL, or out of memory. */
int form_decode(const char *s, size_t len, char **out, size_t *out_len);

/* Wipes every value (passwords, secrets, tokens) and frees. */
void form_free(struct form *f);

#endif

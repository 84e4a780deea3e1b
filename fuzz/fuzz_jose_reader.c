/* fuzz_jose_reader: differential target. Every input is read by
 * jose_reader (as a header and as claims) and by json_parse_strict over
 * json-c, the reference; the run aborts unless:
 *   - both accept, or both refuse (ERR_TOKEN_MALFORMED), where "accept"
 *     for json-c means parsed and an object;
 *   - on acceptance, every member the reader knows has the same presence,
 *     type and value as json-c's: a string's decoded bytes and length
 *     (jose_str_decode and jose_str_equals), an array's length, its first
 *     non-string element and each string element, a number's NumericDate
 *     exactly as json_get_numeric_date gives it (or fails). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jose_reader.h"
#include "json_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static enum jose_type
type_of(struct json_object *o)
{
	switch (json_object_get_type(o)) {
	case json_type_null:
		return JOSE_NULL;
	case json_type_boolean:
		return JOSE_BOOL;
	case json_type_int:
	case json_type_double:
		return JOSE_NUMBER;
	case json_type_string:
		return JOSE_STRING;
	case json_type_array:
		return JOSE_ARRAY;
	case json_type_object:
		return JOSE_OBJECT;
	}
	abort();
}

static void
same_string(const struct jose_str *s, struct json_object *o)
{
	const char *want = json_object_get_string(o);
	size_t len = (size_t)json_object_get_string_len(o);
	char buf[JOSE_READER_MAX_INPUT];

	if (s->dec_len != len || s->dec_len > sizeof(buf))
		abort();
	if (jose_str_decode(s, buf) != len ||
	    (len > 0 && memcmp(buf, want, len) != 0))
		abort();
	if (!jose_str_equals(s, want, len))
		abort();
	/* One byte more or less is never equal. */
	if (len > 0 && jose_str_equals(s, want, len - 1))
		abort();
	if (!s->escaped && (s->len != len || memcmp(s->p, want, len) != 0))
		abort();
}

static void
same_value(const struct jose_val *v, struct json_object *obj, const char *name)
{
	struct json_object *o = NULL;
	int64_t date = 0;
	bool date_ok;

	if (!json_object_object_get_ex(obj, name, &o)) {
		if (v->type != JOSE_ABSENT)
			abort();
		return;
	}
	if (v->type != type_of(o))
		abort();
	switch (v->type) {
	case JOSE_STRING:
		same_string(&v->str, o);
		break;
	case JOSE_NUMBER:
		date_ok = json_get_numeric_date(o, &date) == 0;
		if (v->date_ok != date_ok || (date_ok && v->date != date))
			abort();
		break;
	case JOSE_ARRAY: {
		size_t n = json_object_array_length(o), first = n, i = 0;
		struct jose_iter it;
		struct jose_str s;

		for (size_t k = 0; k < n && first == n; k++)
			if (!json_object_is_type(
			        json_object_array_get_idx(o, k),
			        json_type_string))
				first = k;
		if (v->n != n || v->first_non_string != first)
			abort();
		if (first != n)
			break;
		jose_iter_init(v, &it);
		while (jose_iter_next(&it, &s)) {
			if (i >= n)
				abort();
			same_string(&s, json_object_array_get_idx(o, i++));
		}
		if (i != n)
			abort();
		break;
	}
	default:
		break;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	struct json_object *o = NULL;
	struct jose_header h;
	struct jose_claims c;
	struct err ej = { 0 }, eh = { 0 }, ec = { 0 };
	bool ref, hdr, clm;

	if (size > JOSE_READER_MAX_INPUT)
		return 0;
	ref = json_parse_strict(text, size, JSON_DEFAULT_MAX_DEPTH,
	          ERR_TOKEN_MALFORMED, &o, &ej) == 0 &&
	      json_object_is_type(o, json_type_object);
	hdr = jose_read_header(text, size, &h, &eh) == 0;
	clm = jose_read_claims(text, size, &c, &ec) == 0;
	if (hdr != ref || clm != ref)
		abort();
	if (!ref) {
		if (eh.code != ERR_TOKEN_MALFORMED ||
		    ec.code != ERR_TOKEN_MALFORMED)
			abort();
		json_object_put(o);
		return 0;
	}
	same_value(&h.alg, o, "alg");
	same_value(&h.typ, o, "typ");
	same_value(&h.kid, o, "kid");
	same_value(&h.crit, o, "crit");
	same_value(&h.jku, o, "jku");
	same_value(&h.x5u, o, "x5u");
	same_value(&h.jwk, o, "jwk");
	same_value(&h.x5c, o, "x5c");
	same_value(&h.b64, o, "b64");
	same_value(&h.zip, o, "zip");
	same_value(&c.iss, o, "iss");
	same_value(&c.aud, o, "aud");
	same_value(&c.sub, o, "sub");
	same_value(&c.exp, o, "exp");
	same_value(&c.nbf, o, "nbf");
	same_value(&c.iat, o, "iat");
	same_value(&c.jti, o, "jti");
	same_value(&c.client_id, o, "client_id");
	same_value(&c.username, o, "username");
	same_value(&c.roles, o, "roles");
	same_value(&c.permissions, o, "permissions");
	same_value(&c.scope, o, "scope");
	json_object_put(o);
	return 0;
}

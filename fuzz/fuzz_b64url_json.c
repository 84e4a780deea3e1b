/* fuzz_b64url_json: arbitrary bytes through base64url decode and encode,
 * the strict JSON parser, its getters and the claims checks. Beyond "no
 * crash, no leak, no undefined behaviour" it checks properties that a
 * silent bug would break:
 *   - base64url is canonical: what decodes re-encodes to the same text,
 *     and every byte string survives encode then decode;
 *   - what the strict parser accepts, json-c serializes back into text the
 *     strict parser accepts again, unchanged by a second round;
 *   - a text accepted at a small depth is accepted at the default depth;
 *   - json-c never refuses what the RFC 8259 validator let through (the
 *     two parsers disagreeing would be a gap in one of them). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "b64url.h"
#include "claims.h"
#include "json_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_b64url(const uint8_t *data, size_t size)
{
	unsigned char *raw = NULL;
	size_t rawlen = 0;
	char *text;
	struct err e = { 0 };

	if (b64url_decode((const char *)data, size, &raw, &rawlen, &e) == 0) {
		text = b64url_encode(raw, rawlen);
		if (text == NULL || strlen(text) != size ||
		    memcmp(text, data, size) != 0)
			abort(); /* two texts for one byte string */
		free(text);
	} else if (e.code != ERR_TOKEN_MALFORMED || raw != NULL) {
		abort();
	}
	free(raw);

	text = b64url_encode(data, size);
	if (text == NULL || strlen(text) != b64url_encoded_len(size))
		abort();
	e = (struct err){ 0 };
	if (b64url_decode(text, strlen(text), &raw, &rawlen, &e) == -1 ||
	    rawlen != size || (size > 0 && memcmp(raw, data, size) != 0))
		abort();
	free(raw);
	free(text);
}

/* The getters and claim checks on whatever object came out. */
static void
check_getters(struct json_object *o, size_t size)
{
	static const char *const keys[] = { "alg", "typ", "kid", "iss", "aud",
		"sub", "exp", "nbf", "iat", "a", "" };
	struct claims_policy p = { .issuer = "https://auth.example",
		.audience = "resource_service",
		.leeway = (int64_t)(size % (CLAIMS_MAX_LEEWAY + 1)) };
	struct claims c;
	int64_t i;
	struct err e = { 0 };

	for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
		struct json_object *v = NULL;
		const char *s;
		size_t len;

		e = (struct err){ 0 };
		if (json_get_string(o, keys[k], &s, &len, &e) == 0 &&
		    (s == NULL || strlen(s) > len))
			abort();
		/* Without a length, only a string without NUL is given. */
		e = (struct err){ 0 };
		if (json_get_string(o, keys[k], &s, NULL, &e) == 0 &&
		    strlen(s) != len)
			abort();
		e = (struct err){ 0 };
		(void)json_get_string_opt(o, keys[k], &s, &len, &e);
		if (json_object_object_get_ex(o, keys[k], &v)) {
			(void)json_string_equals(v, "at+jwt", 6);
			if (json_get_int64(v, &i) == 0 &&
			    !json_object_is_type(v, json_type_int))
				abort();
			/* Any int64 is a NumericDate; UBSan watches the
			 * conversion of doubles. */
			(void)json_get_numeric_date(v, &i);
		}
	}
	e = (struct err){ 0 };
	(void)claims_check_typ(o, &e);
	e = (struct err){ 0 };
	if (claims_parse(o, &c, &e) == 0) {
		int64_t now = (int64_t)size * 1000003 - 500000;

		e = (struct err){ 0 };
		if (claims_check(&c, &p, now, &e) == -1 && e.code == ERR_OK)
			abort();
		e = (struct err){ 0 };
		(void)claims_check(&c, &p, INT64_MAX, &e);
		e = (struct err){ 0 };
		(void)claims_check(&c, &p, INT64_MIN, &e);
	} else if (e.code != ERR_TOKEN_CLAIMS) {
		abort();
	}
}

static void
check_json(const uint8_t *data, size_t size)
{
	struct json_object *o = NULL, *again = NULL, *small = NULL;
	const char *text, *text2;
	char *copy;
	struct err e = { 0 };
	int small_depth = 1 + (int)(size % 8);

	if (json_parse_strict((const char *)data, size, JSON_DEFAULT_MAX_DEPTH,
	        ERR_INVALID_REQUEST, &o, &e) == -1) {
		if (e.code != ERR_INVALID_REQUEST || o != NULL)
			abort();
		/* The validator's messages say where; the others come from
		 * checks made after json-c accepted. Anything else is json-c
		 * refusing what RFC 8259 allows. */
		if (strstr(e.msg, " at byte ") == NULL &&
		    strcmp(e.msg, "json: duplicate member name") != 0 &&
		    strcmp(e.msg, "json: number out of range") != 0 &&
		    strcmp(e.msg, "json: empty input") != 0)
			abort();
		e = (struct err){ 0 };
		if (json_parse_strict((const char *)data, size, small_depth,
		        ERR_INVALID_REQUEST, &small, &e) == 0)
			abort(); /* accepted deeper than the default refuses */
		return;
	}

	/* Serialize and parse again: the same text must come back. */
	text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	if (text == NULL || (copy = strdup(text)) == NULL)
		abort();
	e = (struct err){ 0 };
	if (json_parse_strict(copy, strlen(copy), JSON_DEFAULT_MAX_DEPTH,
	        ERR_INVALID_REQUEST, &again, &e) == -1)
		abort();
	text2 = json_object_to_json_string_ext(again, JSON_C_TO_STRING_PLAIN);
	if (text2 == NULL || strcmp(copy, text2) != 0)
		abort();
	free(copy);

	if (json_object_is_type(o, json_type_object))
		check_getters(o, size);
	json_object_put(again);
	json_object_put(o);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char *raw = NULL;
	size_t rawlen = 0;
	struct err e = { 0 };

	check_b64url(data, size);
	check_json(data, size);
	/* The token path: base64url first, then JSON on the bytes. */
	if (b64url_decode((const char *)data, size, &raw, &rawlen, &e) == 0)
		check_json(raw, rawlen);
	free(raw);
	return 0;
}

/* claims: the registered-claim checks of an access token (RFC 7519 section
 * 4.1, RFC 9068 sections 2 and 4): typ, iss, aud, exp, nbf, iat. Times are
 * any int64 NumericDate (json_get_numeric_date) and the leeway is bounded
 * to CLAIMS_MAX_LEEWAY; a time plus or minus the leeway is computed only
 * after checking that it fits, and the clock is only ever compared, so no
 * expression here can overflow. */
#include "claims.h"

#include <string.h>

#include "json_util.h"

/* A required or optional NumericDate member (RFC 7519 section 2). */
static int
claims_date(struct json_object *payload, const char *name, bool required,
    int64_t *out, bool *present, struct err *e)
{
	struct json_object *v = NULL;

	*out = 0;
	if (!json_object_object_get_ex(payload, name, &v)) {
		if (required)
			return err_set(
			    e, ERR_TOKEN_CLAIMS, "claim \"%s\" missing", name);
		if (present != NULL)
			*present = false;
		return 0;
	}
	if (json_get_numeric_date(v, out) == -1)
		return err_set(e, ERR_TOKEN_CLAIMS,
		    "claim \"%s\": not a NumericDate", name);
	if (present != NULL)
		*present = true;
	return 0;
}

/* RFC 7519 section 4.1.3: a string, or an array of strings. An empty array
 * names no audience at all, so it can never be for us. */
static int
claims_aud_shape(struct json_object *aud, struct err *e)
{
	size_t n;

	if (json_object_is_type(aud, json_type_string))
		return 0;
	if (!json_object_is_type(aud, json_type_array))
		return err_set(e, ERR_TOKEN_CLAIMS,
		    "claim \"aud\": expected a string or an array");
	if ((n = json_object_array_length(aud)) == 0)
		return err_set(
		    e, ERR_TOKEN_CLAIMS, "claim \"aud\": empty array");
	for (size_t i = 0; i < n; i++)
		if (!json_object_is_type(
		        json_object_array_get_idx(aud, i), json_type_string))
			return err_set(e, ERR_TOKEN_CLAIMS,
			    "claim \"aud\": element %zu is not a string", i);
	return 0;
}

int
claims_parse(struct json_object *payload, struct claims *c, struct err *e)
{
	struct json_object *v = NULL;

	*c = (struct claims){ 0 };
	if (!json_object_is_type(payload, json_type_object))
		return err_set(e, ERR_TOKEN_CLAIMS, "payload is not an object");

	/* RFC 9068 section 2.2: iss, exp and aud are required. */
	if (!json_object_object_get_ex(payload, "iss", &v))
		return err_set(e, ERR_TOKEN_CLAIMS, "claim \"iss\" missing");
	if (!json_object_is_type(v, json_type_string))
		return err_set(
		    e, ERR_TOKEN_CLAIMS, "claim \"iss\": expected a string");
	c->iss = json_object_get_string(v);
	c->iss_len = (size_t)json_object_get_string_len(v);

	if (!json_object_object_get_ex(payload, "aud", &v))
		return err_set(e, ERR_TOKEN_CLAIMS, "claim \"aud\" missing");
	if (claims_aud_shape(v, e) == -1)
		return -1;
	c->aud = v;

	if (claims_date(payload, "exp", true, &c->exp, NULL, e) == -1 ||
	    claims_date(payload, "nbf", false, &c->nbf, &c->has_nbf, e) == -1 ||
	    claims_date(payload, "iat", false, &c->iat, &c->has_iat, e) == -1)
		return -1;
	return 0;
}

/* claims_date on a member jose_reader read. */
static int
claims_date_read(const struct jose_val *v, const char *name, bool required,
    int64_t *out, bool *present, struct err *e)
{
	*out = 0;
	if (v->type == JOSE_ABSENT) {
		if (required)
			return err_set(
			    e, ERR_TOKEN_CLAIMS, "claim \"%s\" missing", name);
		if (present != NULL)
			*present = false;
		return 0;
	}
	if (v->type != JOSE_NUMBER || !v->date_ok)
		return err_set(e, ERR_TOKEN_CLAIMS,
		    "claim \"%s\": not a NumericDate", name);
	*out = v->date;
	if (present != NULL)
		*present = true;
	return 0;
}

/* claims_aud_shape on a member jose_reader read. */
static int
claims_aud_shape_read(const struct jose_val *aud, struct err *e)
{
	if (aud->type == JOSE_STRING)
		return 0;
	if (aud->type != JOSE_ARRAY)
		return err_set(e, ERR_TOKEN_CLAIMS,
		    "claim \"aud\": expected a string or an array");
	if (aud->n == 0)
		return err_set(
		    e, ERR_TOKEN_CLAIMS, "claim \"aud\": empty array");
	if (aud->first_non_string < aud->n)
		return err_set(e, ERR_TOKEN_CLAIMS,
		    "claim \"aud\": element %zu is not a string",
		    aud->first_non_string);
	return 0;
}

int
claims_parse_read(const struct jose_claims *jc, struct claims *c, struct err *e)
{
	*c = (struct claims){ 0 };
	/* RFC 9068 section 2.2: iss, exp and aud are required. */
	if (jc->iss.type == JOSE_ABSENT)
		return err_set(e, ERR_TOKEN_CLAIMS, "claim \"iss\" missing");
	if (jc->iss.type != JOSE_STRING)
		return err_set(
		    e, ERR_TOKEN_CLAIMS, "claim \"iss\": expected a string");
	c->iss_read = &jc->iss.str;

	if (jc->aud.type == JOSE_ABSENT)
		return err_set(e, ERR_TOKEN_CLAIMS, "claim \"aud\" missing");
	if (claims_aud_shape_read(&jc->aud, e) == -1)
		return -1;
	c->aud_read = &jc->aud;

	if (claims_date_read(&jc->exp, "exp", true, &c->exp, NULL, e) == -1 ||
	    claims_date_read(&jc->nbf, "nbf", false, &c->nbf, &c->has_nbf, e) ==
	        -1 ||
	    claims_date_read(&jc->iat, "iat", false, &c->iat, &c->has_iat, e) ==
	        -1)
		return -1;
	return 0;
}

/* now >= t + leeway, for any int64 t (leeway is 0..CLAIMS_MAX_LEEWAY). When
 * t + leeway is beyond INT64_MAX no clock has reached it. */
static bool
claims_reached(int64_t t, int64_t leeway, int64_t now)
{
	if (t > INT64_MAX - leeway)
		return false;
	return now >= t + leeway;
}

/* now + leeway < t, for any int64 t: written as now < t - leeway, and when
 * t - leeway is below INT64_MIN every clock is past it. */
static bool
claims_before(int64_t t, int64_t leeway, int64_t now)
{
	if (t < INT64_MIN + leeway)
		return false;
	return now < t - leeway;
}

/* aud is checked for shape again: c may not come from claims_parse. */
static int
claims_check_aud(struct json_object *aud, const char *audience, struct err *e)
{
	size_t alen = strlen(audience), n;

	if (claims_aud_shape(aud, e) == -1)
		return -1;
	if (json_object_is_type(aud, json_type_string)) {
		if (json_string_equals(aud, audience, alen))
			return 0;
	} else {
		n = json_object_array_length(aud);
		for (size_t i = 0; i < n; i++)
			if (json_string_equals(
			        json_object_array_get_idx(aud, i), audience,
			        alen))
				return 0;
	}
	/* RFC 7519 section 4.1.3: not among the audiences, reject. */
	return err_set(e, ERR_TOKEN_AUDIENCE, "audience not accepted");
}

/* claims_check_aud on a member jose_reader read. */
static int
claims_check_aud_read(
    const struct jose_val *aud, const char *audience, struct err *e)
{
	size_t alen = strlen(audience);
	struct jose_iter it;
	struct jose_str s;

	if (claims_aud_shape_read(aud, e) == -1)
		return -1;
	if (aud->type == JOSE_STRING) {
		if (jose_str_equals(&aud->str, audience, alen))
			return 0;
	} else {
		jose_iter_init(aud, &it);
		while (jose_iter_next(&it, &s))
			if (jose_str_equals(&s, audience, alen))
				return 0;
	}
	return err_set(e, ERR_TOKEN_AUDIENCE, "audience not accepted");
}

int
claims_check(const struct claims *c, const struct claims_policy *p, int64_t now,
    struct err *e)
{
	/* A policy without an issuer or audience would accept tokens minted
	 * for anyone: refuse to check rather than fail open. */
	if (p->issuer == NULL || p->issuer[0] == '\0' || p->audience == NULL ||
	    p->audience[0] == '\0')
		return err_set(e, ERR_INTERNAL,
		    "claims policy without issuer or audience");
	if (p->leeway < 0 || p->leeway > CLAIMS_MAX_LEEWAY)
		return err_set(e, ERR_INTERNAL,
		    "claims leeway %lld out of range", (long long)p->leeway);
	/* exp is exclusive: RFC 7519 4.1.4, expired iff now >= exp + leeway. */
	if (claims_reached(c->exp, p->leeway, now))
		return err_set(e, ERR_TOKEN_EXPIRED, "token expired");
	/* RFC 7519 4.1.5: valid from nbf on, with the leeway for clock skew:
	 * not yet valid iff now + leeway < nbf. */
	if (c->has_nbf && claims_before(c->nbf, p->leeway, now))
		return err_set(
		    e, ERR_TOKEN_NOT_YET_VALID, "token not yet valid");
	/* RFC 7519 4.1.6 only records the issue time; a token issued in our
	 * future (beyond the skew) comes from a wrong clock or a forger. */
	if (c->has_iat && claims_before(c->iat, p->leeway, now))
		return err_set(
		    e, ERR_TOKEN_NOT_YET_VALID, "token issued in the future");

	/* RFC 7519 4.1.1 and RFC 9068 section 4: the issuer must match
	 * exactly, byte for byte and length for length, so "issuer\0x" is not
	 * "issuer". */
	if (c->iss_read != NULL) {
		if (!jose_str_equals(c->iss_read, p->issuer, strlen(p->issuer)))
			return err_set(
			    e, ERR_TOKEN_ISSUER, "issuer not accepted");
	} else if (c->iss == NULL || c->iss_len != strlen(p->issuer) ||
	           memcmp(c->iss, p->issuer, c->iss_len) != 0) {
		return err_set(e, ERR_TOKEN_ISSUER, "issuer not accepted");
	}
	if (c->aud == NULL && c->aud_read != NULL)
		return claims_check_aud_read(c->aud_read, p->audience, e);
	return claims_check_aud(c->aud, p->audience, e);
}

/* ASCII case folding only: media types are ASCII (RFC 6838 section 4.2)
 * and the locale must not decide what a token means. */
static bool
claims_ascii_caseeq(const char *a, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char x = (unsigned char)a[i], y = (unsigned char)b[i];

		if (x >= 'A' && x <= 'Z')
			x = (unsigned char)(x - 'A' + 'a');
		if (y >= 'A' && y <= 'Z')
			y = (unsigned char)(y - 'A' + 'a');
		if (x != y)
			return false;
	}
	return true;
}

/* RFC 7515 4.1.9: "application/" may be omitted, and media types compare
 * case-insensitively (RFC 2045 section 5.1). Lengths first, so an embedded
 * NUL never passes. */
static bool
claims_typ_ok(const char *typ, size_t len)
{
	static const char short_form[] = "at+jwt";
	static const char long_form[] = "application/at+jwt";

	return (len == sizeof(short_form) - 1 &&
	           claims_ascii_caseeq(typ, short_form, len)) ||
	       (len == sizeof(long_form) - 1 &&
	           claims_ascii_caseeq(typ, long_form, len));
}

int
claims_check_typ_read(const struct jose_header *h, struct err *e)
{
	char buf[32];

	/* RFC 9068 section 4, as claims_check_typ. */
	if (h->typ.type == JOSE_ABSENT)
		return err_set(e, ERR_TOKEN_HEADER, "header \"typ\" missing");
	if (h->typ.type != JOSE_STRING)
		return err_set(
		    e, ERR_TOKEN_HEADER, "header \"typ\": expected a string");
	/* No accepted form is longer than buf: a longer value is refused
	 * without being decoded. */
	if (h->typ.str.dec_len <= sizeof(buf) &&
	    claims_typ_ok(h->typ.str.escaped ? buf : h->typ.str.p,
	        jose_str_decode(&h->typ.str, buf)))
		return 0;
	return err_set(e, ERR_TOKEN_HEADER, "header \"typ\" is not at+jwt");
}

int
claims_check_typ(struct json_object *header, struct err *e)
{
	struct json_object *v = NULL;
	const char *typ;
	size_t len;

	if (!json_object_is_type(header, json_type_object))
		return err_set(e, ERR_TOKEN_HEADER, "header is not an object");
	/* RFC 9068 section 4: the resource server must check typ, so that an
	 * ID token or any other JWT signed by the same key is not taken for
	 * an access token (RFC 8725 section 3.11). */
	if (!json_object_object_get_ex(header, "typ", &v))
		return err_set(e, ERR_TOKEN_HEADER, "header \"typ\" missing");
	if (!json_object_is_type(v, json_type_string))
		return err_set(
		    e, ERR_TOKEN_HEADER, "header \"typ\": expected a string");
	typ = json_object_get_string(v);
	len = (size_t)json_object_get_string_len(v);
	if (claims_typ_ok(typ, len))
		return 0;
	return err_set(e, ERR_TOKEN_HEADER, "header \"typ\" is not at+jwt");
}

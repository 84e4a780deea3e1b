/* form: a strict application/x-www-form-urlencoded parser (WHATWG URL
 * "application/x-www-form-urlencoded parsing", minus its leniency). */
#include "form.h"

#include <event2/buffer.h>
#include <event2/keyvalq_struct.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "hex.h"
#include "secret.h"

int
form_decode(const char *s, size_t len, char **out, size_t *out_len)
{
	char *d = malloc(len + 1);
	size_t o = 0;

	if (d == NULL)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '+') {
			d[o++] = ' ';
		} else if (s[i] == '%') {
			int hi, lo;
			if (i + 2 >= len)
				goto bad;
			hi = hex_value(s[i + 1]);
			lo = hex_value(s[i + 2]);
			if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
				goto bad;
			d[o++] = (char)(hi * 16 + lo);
			i += 2;
		} else if (s[i] == '\0') {
			goto bad;
		} else {
			d[o++] = s[i];
		}
	}
	d[o] = '\0';
	*out = d;
	*out_len = o;
	return 0;
bad:
	secret_wipe(d, len + 1);
	free(d);
	return -1;
}

void
form_free(struct form *f)
{
	if (f == NULL)
		return;
	for (size_t i = 0; i < f->n; i++) {
		free(f->fields[i].name);
		if (f->fields[i].value != NULL)
			secret_wipe(f->fields[i].value, f->fields[i].value_len);
		free(f->fields[i].value);
	}
	free(f->fields);
	free(f);
}

static bool
has_field(const struct form *f, const char *name, size_t len)
{
	for (size_t i = 0; i < f->n; i++)
		if (f->fields[i].name_len == len &&
		    memcmp(f->fields[i].name, name, len) == 0)
			return true;
	return false;
}

int
form_parse(const char *body, size_t len, struct form **out, struct err *e)
{
	struct form *f = calloc(1, sizeof(*f));
	size_t pos = 0, cap = 0;

	*out = NULL;
	if (f == NULL)
		return err_set(e, ERR_NOMEM, "form");
	while (pos < len) {
		const char *pair = body + pos;
		const char *amp = memchr(pair, '&', len - pos);
		size_t plen = amp != NULL ? (size_t)(amp - pair) : len - pos;
		const char *eq = memchr(pair, '=', plen);
		struct form_field fld = { 0 };

		pos += plen + 1;
		if (plen == 0)
			continue;
		if (eq == NULL || eq == pair) {
			err_set(e, ERR_INVALID_REQUEST,
			    "form: pair without name "
			    "or '='");
			goto fail;
		}
		if (form_decode(pair, (size_t)(eq - pair), &fld.name,
		        &fld.name_len) == -1 ||
		    form_decode(eq + 1, plen - (size_t)(eq - pair) - 1,
		        &fld.value, &fld.value_len) == -1) {
			free(fld.name);
			err_set(e, ERR_INVALID_REQUEST, "form: bad escape");
			goto fail;
		}
		/* RFC 6749 3.2: a parameter without a value is omitted; one
		 * sent twice is an invalid_request. */
		if (fld.value_len == 0) {
			free(fld.name);
			free(fld.value);
			continue;
		}
		if (has_field(f, fld.name, fld.name_len)) {
			free(fld.name);
			secret_wipe(fld.value, fld.value_len);
			free(fld.value);
			err_set(e, ERR_INVALID_REQUEST, "form: repeated name");
			goto fail;
		}
		if (f->n == cap) {
			struct form_field *grown;
			cap = cap == 0 ? 8 : cap * 2;
			if ((grown = realloc(
			         f->fields, cap * sizeof(*grown))) == NULL) {
				free(fld.name);
				secret_wipe(fld.value, fld.value_len);
				free(fld.value);
				err_set(e, ERR_NOMEM, "form");
				goto fail;
			}
			f->fields = grown;
		}
		f->fields[f->n++] = fld;
	}
	*out = f;
	return 0;
fail:
	form_free(f);
	return -1;
}

/* application/x-www-form-urlencoded, any case, parameters allowed. */
static bool
is_form_type(const char *ct)
{
	static const char type[] = "application/x-www-form-urlencoded";
	size_t n = sizeof(type) - 1;

	if (ct == NULL || strncasecmp(ct, type, n) != 0)
		return false;
	ct += n;
	while (*ct == ' ' || *ct == '\t')
		ct++;
	return *ct == '\0' || *ct == ';';
}

int
form_read(
    struct evhttp_request *req, size_t max, struct form **out, struct err *e)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	size_t len = evbuffer_get_length(in);
	const char *data;

	*out = NULL;
	if (len > max)
		return err_set(
		    e, ERR_PAYLOAD_TOO_LARGE, "body of %zu bytes", len);
	if (!is_form_type(evhttp_find_header(
	        evhttp_request_get_input_headers(req), "Content-Type")))
		return err_set(e, ERR_INVALID_REQUEST,
		    "expected application/x-www-form-urlencoded");
	if (len == 0)
		return form_parse("", 0, out, e);
	if ((data = (const char *)evbuffer_pullup(in, -1)) == NULL)
		return err_set(e, ERR_NOMEM, "body");
	return form_parse(data, len, out, e);
}

const char *
form_get(const struct form *f, const char *name, size_t *len)
{
	size_t n = strlen(name);

	for (size_t i = 0; i < f->n; i++)
		if (f->fields[i].name_len == n &&
		    memcmp(f->fields[i].name, name, n) == 0) {
			if (len != NULL)
				*len = f->fields[i].value_len;
			return f->fields[i].value;
		}
	return NULL;
}

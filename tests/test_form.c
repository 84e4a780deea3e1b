/* test_form: the strict form-urlencoded parser of the OAuth endpoints:
 * decoding with lengths, '+', empty values omitted, repeats and bad
 * escapes refused. */
#include <string.h>

#include "form.h"
#include "test.h"

static struct form *
parse(const char *body, struct err *e)
{
	struct form *f = NULL;

	*e = (struct err){ 0 };
	if (form_parse(body, strlen(body), &f, e) == -1)
		return NULL;
	return f;
}

static void
test_decodes_names_and_values(void)
{
	struct err e;
	struct form *f = parse("grant_type=password&user%6Eame=a+b%2Bc"
	                       "&scope=read%3Adata%20x",
	    &e);
	size_t len = 0;

	CHECK(f != NULL);
	if (f == NULL)
		return;
	CHECK(strcmp(form_get(f, "grant_type", NULL), "password") == 0);
	CHECK(strcmp(form_get(f, "username", &len), "a b+c") == 0);
	CHECK(len == 5);
	CHECK(strcmp(form_get(f, "scope", NULL), "read:data x") == 0);
	CHECK(form_get(f, "password", NULL) == NULL);
	form_free(f);
}

static void
test_empty_values_are_omitted(void)
{
	struct err e;
	/* RFC 6749 3.2: a parameter without a value counts as omitted, so
	 * it is no repeat either. */
	struct form *f = parse("scope=&scope=a&&client_secret=", &e);

	CHECK(f != NULL);
	if (f == NULL)
		return;
	CHECK(strcmp(form_get(f, "scope", NULL), "a") == 0);
	CHECK(form_get(f, "client_secret", NULL) == NULL);
	form_free(f);
}

static void
test_refusals(void)
{
	static const char *const bad[] = { "a=1&a=2", "a=%zz", "a=%4", "a=%",
		"a=b%00c", "=x", "novalue", "a%3D=1&a%3D=2" };
	struct err e;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK(parse(bad[i], &e) == NULL);
		CHECK(e.code == ERR_INVALID_REQUEST);
	}
	/* Positive control: the same shapes, well formed. */
	struct form *f = parse("a=1&b=2&c=%41", &e);
	CHECK(f != NULL && strcmp(form_get(f, "c", NULL), "A") == 0);
	form_free(f);
}

static void
test_decode_lengths(void)
{
	char *out = NULL;
	size_t len = 0;

	CHECK(form_decode("a%3Ab", 5, &out, &len) == 0);
	CHECK(len == 3 && strcmp(out, "a:b") == 0);
	free(out);
	/* Only len bytes are read: the escape is cut short. */
	CHECK(form_decode("a%3Ab", 3, &out, &len) == -1);
}

int
main(void)
{
	RUN(test_decodes_names_and_values);
	RUN(test_empty_values_are_omitted);
	RUN(test_refusals);
	RUN(test_decode_lengths);
	return test_report();
}

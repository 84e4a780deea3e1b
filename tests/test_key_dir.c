/* Tests for key_dir: the listing (sorted, *.pem only, a missing directory
 * is empty) and the loading of published keys (the signing key's own
 * public half folded away, a broken file refused by name). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "key_dir.h"
#include "test.h"

static char dir[] = "/tmp/test_key_dir_XXXXXX";
static struct jws_key *a, *b;

static void
path_of(const char *name, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s", dir, name);
}

static void
test_list(void)
{
	char **names = NULL, p[256];
	size_t n = 0;
	struct err e = { 0 };
	FILE *f;

	path_of("missing", p, sizeof(p));
	CHECK(key_dir_list(p, &names, &n, &e) == 0);
	CHECK(n == 0 && names == NULL);
	path_of("b.pem", p, sizeof(p));
	CHECK(jwk_save_public_pem(b, p, false, &e) == 0);
	path_of("a.pem", p, sizeof(p));
	CHECK(jwk_save_public_pem(a, p, false, &e) == 0);
	path_of("notes.txt", p, sizeof(p));
	if ((f = fopen(p, "w")) != NULL)
		fclose(f);
	path_of(".hidden.pem", p, sizeof(p));
	if ((f = fopen(p, "w")) != NULL)
		fclose(f);
	CHECK(key_dir_list(dir, &names, &n, &e) == 0);
	CHECK(n == 2);
	if (n == 2) {
		CHECK(strcmp(names[0], "a.pem") == 0);
		CHECK(strcmp(names[1], "b.pem") == 0);
	}
	key_dir_list_free(names, n);
}

static void
test_add_published(void)
{
	struct jwks *set = jwks_new();
	struct err e = { 0 };
	char p[256];
	FILE *f;

	/* a signs; its public half in the directory is folded away. */
	CHECK(jwks_add(set, a, &e) == 0);
	a = NULL;
	CHECK(key_dir_add_published(dir, set, &e) == 0);
	CHECK(set->n == 2);
	CHECK(jwks_find(set, b->kid, strlen(b->kid)) != NULL);
	path_of("missing", p, sizeof(p));
	CHECK(key_dir_add_published(p, set, &e) == 0);
	CHECK(set->n == 2);
	/* A file that is not a key is an error naming it. */
	path_of("c.pem", p, sizeof(p));
	if ((f = fopen(p, "w")) != NULL) {
		fputs("not a key\n", f);
		fclose(f);
	}
	CHECK(key_dir_add_published(dir, set, &e) == -1);
	CHECK(e.code == ERR_KEY && strstr(e.msg, "c.pem") != NULL);
	unlink(p);
	jwks_free(set);
}

/* Every thumbprint is a kid a .kid file may hold: base64url starts with
 * '-' once in 64 keys, and such a key once kept a SIGHUP from reloading
 * the published set ("not a kid"). */
static void
test_kid_valid(void)
{
	CHECK(key_dir_kid_valid("-pIsC9dlXwict4TiMpeMvU_E6rXaPZNopQMmi2tBHL0"));
	CHECK(key_dir_kid_valid("_x"));
	CHECK(key_dir_kid_valid("next-2027.v1"));
	CHECK(!key_dir_kid_valid(""));
	CHECK(!key_dir_kid_valid("."));
	CHECK(!key_dir_kid_valid(".."));
	CHECK(!key_dir_kid_valid("a/b"));
	CHECK(!key_dir_kid_valid("a b"));
	CHECK(!key_dir_kid_valid("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	                         "aaaaaaaaaaaaaaaaaaaa"));
}

int
main(void)
{
	const char *names[] = { "a.pem", "b.pem", "notes.txt", ".hidden.pem" };
	struct err e = { 0 };
	char p[256];

	if (mkdtemp(dir) == NULL ||
	    (a = jwk_generate(JWS_ALG_EDDSA, 0, &e)) == NULL ||
	    (b = jwk_generate(JWS_ALG_ES256, 0, &e)) == NULL)
		return EXIT_FAILURE;
	RUN(test_kid_valid);
	RUN(test_list);
	RUN(test_add_published);
	for (size_t i = 0; i < sizeof(names) / sizeof(*names); i++) {
		path_of(names[i], p, sizeof(p));
		unlink(p);
	}
	rmdir(dir);
	jwk_free(a);
	jwk_free(b);
	return test_report();
}

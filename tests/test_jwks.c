/* Tests for jwks: lookup by kid (with its length), the reference count
 * under concurrent use, export, and import of JWKS documents. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jwks.h"
#include "test.h"

static struct jws_key *keys[3];

static struct jws_key *
copy_public(const struct jws_key *k)
{
	struct json_object *jwk = jwk_to_json(k);
	struct jws_key *pub = jwk != NULL ? jwk_from_json(jwk, NULL) : NULL;

	json_object_put(jwk);
	return pub;
}

static void
test_find_by_kid_with_length(void)
{
	struct jwks *set = jwks_new();
	struct err e = { 0 };
	const char *kid;
	char longer[JWK_KID_MAX + 8];
	size_t n;

	CHECK(set != NULL);
	if (set == NULL)
		return;
	CHECK(jwks_add(set, copy_public(keys[0]), &e) == 0);
	CHECK(jwks_add(set, copy_public(keys[1]), &e) == 0);
	kid = keys[1]->kid;
	n = strlen(kid);
	CHECK(jwks_find(set, kid, n) == set->keys[1]);
	CHECK(
	    jwks_find(set, keys[0]->kid, strlen(keys[0]->kid)) == set->keys[0]);
	/* A prefix, a longer string with an embedded NUL, or a different
	 * kid never matches. */
	CHECK(jwks_find(set, kid, n - 1) == NULL);
	memcpy(longer, kid, n);
	longer[n] = '\0';
	longer[n + 1] = 'x';
	CHECK(jwks_find(set, longer, n + 2) == NULL);
	CHECK(jwks_find(set, keys[2]->kid, strlen(keys[2]->kid)) == NULL);
	CHECK(jwks_find(set, "", 0) == NULL);
	CHECK(jwks_find(NULL, kid, n) == NULL);

	/* The same kid twice is refused, and the key freed. */
	CHECK(jwks_add(set, copy_public(keys[0]), &e) == -1);
	CHECK(e.code == ERR_KEY);
	CHECK(set->n == 2);
	e = (struct err){ 0 };
	CHECK(jwks_add(set, NULL, &e) == -1);
	CHECK(e.code == ERR_INTERNAL);
	jwks_free(set);
	jwks_free(NULL);
}

static void
test_grows_past_initial_capacity(void)
{
	struct jwks *set = jwks_new();
	struct err e = { 0 };
	struct jws_key *k;
	size_t added = 0;

	for (int i = 0; i < 9; i++) {
		k = jwk_generate(JWS_ALG_EDDSA, 0, &e);
		if (k != NULL && jwks_add(set, k, &e) == 0)
			added++;
	}
	CHECK(added == 9 && set->n == 9 && set->cap >= 9);
	for (size_t i = 0; i < set->n; i++)
		CHECK(jwks_find(set, set->keys[i]->kid,
		          strlen(set->keys[i]->kid)) == set->keys[i]);
	jwks_free(set);
}

#define REF_LOOPS 200000

static void *
ref_worker(void *arg)
{
	struct jwks *set = arg;

	for (int i = 0; i < REF_LOOPS; i++) {
		struct jwks *mine = jwks_retain(set);

		if (mine->n != 1)
			abort();
		jwks_free(mine);
	}
	return NULL;
}

/* Readers take and drop references while another thread holds the set;
 * a lost update would show as a count other than 1 (or as a use after
 * free under ASan). */
static void
test_refcount_is_atomic(void)
{
	struct jwks *set = jwks_new();
	pthread_t t[4];
	struct err e = { 0 };

	CHECK(jwks_add(set, copy_public(keys[0]), &e) == 0);
	CHECK(set->refs == 1);
	for (int i = 0; i < 4; i++)
		CHECK(pthread_create(&t[i], NULL, ref_worker, set) == 0);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	CHECK(__atomic_load_n(&set->refs, __ATOMIC_SEQ_CST) == 1);
	/* The last holder frees: the retained copy outlives the first. */
	CHECK(jwks_retain(set) == set);
	jwks_free(set);
	CHECK(set->n == 1 && set->refs == 1);
	jwks_free(set);
}

static void
test_export_import_roundtrip(void)
{
	struct jwks *set = jwks_new(), *back = NULL;
	struct json_object *doc = NULL;
	struct err e = { 0 };
	const char *text;

	for (int i = 0; i < 3; i++)
		CHECK(jwks_add(set, copy_public(keys[i]), &e) == 0);
	CHECK((doc = jwks_to_json(set)) != NULL);
	text = json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PLAIN);
	/* Public members only. */
	CHECK(strstr(text, "\"d\"") == NULL);
	CHECK((back = jwks_from_json_text(text, strlen(text), &e)) != NULL);
	if (back != NULL) {
		CHECK(back->n == 3);
		for (int i = 0; i < 3; i++) {
			const struct jws_key *k =
			    jwks_find(back, keys[i]->kid, strlen(keys[i]->kid));
			CHECK(k != NULL && k->alg == keys[i]->alg);
			CHECK(k != NULL && !k->has_private);
			CHECK(k != NULL &&
			      EVP_PKEY_eq(k->pkey, keys[i]->pkey) == 1);
		}
	}
	jwks_free(back);
	json_object_put(doc);
	jwks_free(set);
	CHECK(jwks_to_json(NULL) == NULL);
}

static struct jwks *
import(const char *text, struct err *e)
{
	return jwks_from_json_text(text, strlen(text), e);
}

/* One good key as JWK text, with one member set if name is not NULL. */
static char *
jwk_with(const char *name, const char *value)
{
	struct json_object *jwk = jwk_to_json(keys[1]);
	char *s;

	if (name != NULL)
		json_object_object_add(
		    jwk, name, json_object_new_string(value));
	s = strdup(json_object_to_json_string(jwk));

	json_object_put(jwk);
	return s;
}

static void
expect_doc_refused(const char *text)
{
	struct err e = { 0 };
	struct jwks *set = import(text, &e);

	CHECK(set == NULL);
	CHECK(e.code == ERR_KEY);
	if (set != NULL || e.code != ERR_KEY)
		fprintf(stderr, "  accepted: %.80s\n", text);
	jwks_free(set);
}

/* RFC 7517 section 5: unusable keys are skipped, the rest is used; a
 * document without a usable key is an error. */
static void
test_import_skips_unusable_keys(void)
{
	char *good = jwk_with(NULL, NULL), doc[4096];
	struct err e = { 0 };
	struct jwks *set;

	snprintf(doc, sizeof(doc),
	    "{\"keys\":[{\"kty\":\"oct\",\"k\":\"c2VjcmV0\"},"
	    "{\"kty\":\"RSA\",\"n\":\"AQAB\",\"e\":\"AQAB\"},%s,"
	    "{\"kty\":\"EC\",\"crv\":\"P-384\",\"x\":\"AA\",\"y\":\"AA\"},"
	    "%s]}",
	    good, good);
	CHECK((set = import(doc, &e)) != NULL);
	CHECK(set != NULL && set->n == 1); /* the same key kept once */
	CHECK(set != NULL &&
	      jwks_find(set, keys[1]->kid, strlen(keys[1]->kid)) != NULL);
	jwks_free(set);

	expect_doc_refused("{\"keys\":[{\"kty\":\"oct\",\"k\":\"c2VjcmV0\"}]}");
	expect_doc_refused("{\"keys\":[]}");
	expect_doc_refused("{\"keys\":{}}");
	expect_doc_refused("{\"key\":[]}");
	expect_doc_refused("[]");
	expect_doc_refused("");
	expect_doc_refused("{\"keys\":[]} x");
	/* Duplicate member names: one reader could see another key. */
	snprintf(doc, sizeof(doc), "{\"keys\":[%s],\"keys\":[]}", good);
	expect_doc_refused(doc);
	/* The same key with "use":"enc" is skipped, so nothing is left. */
	free(good);
	good = jwk_with("use", "enc");
	snprintf(doc, sizeof(doc), "{\"keys\":[%s]}", good);
	expect_doc_refused(doc);
	free(good);
}

/* One key of keys[] as JWK text with its kid replaced (NULL: removed) and,
 * if name is not NULL, one member set. */
static char *
jwk_of(int i, const char *kid, const char *name, const char *value)
{
	struct json_object *jwk = jwk_to_json(keys[i]);
	char *s;

	json_object_object_del(jwk, "kid");
	if (kid != NULL)
		json_object_object_add(jwk, "kid", json_object_new_string(kid));
	if (name != NULL)
		json_object_object_add(
		    jwk, name, json_object_new_string(value));
	s = strdup(json_object_to_json_string(jwk));
	json_object_put(jwk);
	return s;
}

/* RFC 7517 section 4.5: one kid, one key. Two different keys under one kid
 * are both ignored; the rest of the set is still used. */
static void
test_import_duplicate_kids(void)
{
	char *a = jwk_of(0, "k1", NULL, NULL), *b = jwk_of(1, "k1", NULL, NULL);
	char *c = jwk_of(2, "k2", NULL, NULL), doc[8192];
	struct err e = { 0 };
	struct jwks *set;

	snprintf(doc, sizeof(doc), "{\"keys\":[%s,%s,%s]}", a, b, c);
	CHECK((set = import(doc, &e)) != NULL);
	CHECK(set != NULL && set->n == 1);
	CHECK(set != NULL && jwks_find(set, "k1", 2) == NULL);
	CHECK(set != NULL && jwks_find(set, "k2", 2) != NULL);
	jwks_free(set);
	/* Only the two that clash: nothing usable is left. */
	snprintf(doc, sizeof(doc), "{\"keys\":[%s,%s]}", a, b);
	expect_doc_refused(doc);
	snprintf(doc, sizeof(doc), "{\"keys\":[%s,%s,%s]}", a, c, a);
	/* Control: the same key twice under its kid is one key. */
	e = (struct err){ 0 };
	CHECK((set = import(doc, &e)) != NULL);
	CHECK(set != NULL && set->n == 2);
	CHECK(set != NULL && jwks_find(set, "k1", 2) != NULL &&
	      jwks_find(set, "k1", 2)->alg == keys[0]->alg);
	jwks_free(set);
	/* Control: distinct kids, all three kept. */
	free(b);
	b = jwk_of(1, "k3", NULL, NULL);
	snprintf(doc, sizeof(doc), "{\"keys\":[%s,%s,%s]}", a, b, c);
	e = (struct err){ 0 };
	CHECK((set = import(doc, &e)) != NULL);
	CHECK(set != NULL && set->n == 3);
	jwks_free(set);
	free(a);
	free(b);
	free(c);
}

/* A key without kid is found by its RFC 7638 thumbprint; "use":"enc" and
 * an "alg" for another key type are skipped, each next to a key that is
 * kept. */
static void
test_import_member_rules(void)
{
	char *nokid = jwk_of(1, NULL, NULL, NULL), *other, doc[8192];
	struct err e = { 0 };
	struct jwks *set;

	snprintf(doc, sizeof(doc), "{\"keys\":[%s]}", nokid);
	CHECK((set = import(doc, &e)) != NULL);
	CHECK(set != NULL &&
	      jwks_find(set, keys[1]->kid, strlen(keys[1]->kid)) != NULL);
	jwks_free(set);

	other = jwk_of(2, "enc-key", "use", "enc");
	snprintf(doc, sizeof(doc), "{\"keys\":[%s,%s]}", other, nokid);
	e = (struct err){ 0 };
	CHECK((set = import(doc, &e)) != NULL);
	CHECK(
	    set != NULL && set->n == 1 && jwks_find(set, "enc-key", 7) == NULL);
	jwks_free(set);
	free(other);

	/* keys[1] with "alg":"RS256" (and the other way round, keys[0] with
	 * its own alg replaced by ES256). */
	other = jwk_of(1, "x", "alg", "RS256");
	snprintf(doc, sizeof(doc), "{\"keys\":[%s]}", other);
	expect_doc_refused(doc);
	free(other);
	other = jwk_of(0, "x", "alg", "ES256");
	snprintf(doc, sizeof(doc), "{\"keys\":[%s]}", other);
	expect_doc_refused(doc);
	free(other);
	other = jwk_of(0, "x", "alg", "rs256");
	snprintf(doc, sizeof(doc), "{\"keys\":[%s]}", other);
	expect_doc_refused(doc);
	free(other);
	/* Control: the key's own alg. */
	other = jwk_of(0, "x", "alg", jws_alg_name(keys[0]->alg));
	snprintf(doc, sizeof(doc), "{\"keys\":[%s]}", other);
	e = (struct err){ 0 };
	CHECK((set = import(doc, &e)) != NULL);
	CHECK(set != NULL && jwks_find(set, "x", 1) != NULL);
	jwks_free(set);
	free(other);
	free(nokid);
}

static void
test_import_bounds_key_count(void)
{
	char *good = jwk_with(NULL, NULL), *doc;
	size_t glen = strlen(good), cap = 65 * (glen + 1) + 32, used;
	struct err e = { 0 };
	struct jwks *set;

	doc = malloc(cap);
	CHECK(doc != NULL);
	if (doc == NULL)
		return;
	/* 64 entries (the same key: 63 skipped as duplicates) pass. */
	used = (size_t)sprintf(doc, "{\"keys\":[");
	for (int i = 0; i < 64; i++)
		used += (size_t)sprintf(doc + used, "%s%s", i ? "," : "", good);
	sprintf(doc + used, "]}");
	CHECK((set = import(doc, &e)) != NULL);
	jwks_free(set);
	/* 65 are refused before any is validated. */
	sprintf(doc + used, ",%s]}", good);
	e = (struct err){ 0 };
	CHECK(import(doc, &e) == NULL);
	CHECK(e.code == ERR_KEY && strstr(e.msg, "65 keys") != NULL);
	free(doc);
	free(good);
}

int
main(void)
{
	struct err e = { 0 };
	int rc;

	keys[0] = jwk_generate(JWS_ALG_RS256, 2048, &e);
	keys[1] = jwk_generate(JWS_ALG_ES256, 0, &e);
	keys[2] = jwk_generate(JWS_ALG_EDDSA, 0, &e);
	if (keys[0] == NULL || keys[1] == NULL || keys[2] == NULL) {
		fprintf(stderr, "key generation failed: %s\n", e.msg);
		return EXIT_FAILURE;
	}
	RUN(test_find_by_kid_with_length);
	RUN(test_grows_past_initial_capacity);
	RUN(test_refcount_is_atomic);
	RUN(test_export_import_roundtrip);
	RUN(test_import_skips_unusable_keys);
	RUN(test_import_duplicate_kids);
	RUN(test_import_member_rules);
	RUN(test_import_bounds_key_count);
	rc = test_report();
	for (int i = 0; i < 3; i++)
		jwk_free(keys[i]);
	return rc;
}

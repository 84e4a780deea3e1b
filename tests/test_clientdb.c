/* test_clientdb: the store's OAuth operations on a real SQLite file, or
 * a real PostgreSQL database (store_backend.h, under tests/pgserver.py):
 * clients (add, conflict, find, list, new secret, remove revoking their
 * families), a family's client and scope, rotation refused to another
 * client with nothing changed, find_family, and create_user; on PostgreSQL
 * also schema step 3 over a database that already has families. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "refresh_token.h"
#include "secret.h"
#include "store.h"
#include "store_backend.h"
#include "test.h"

static char dir[] = "/tmp/test_clientdb.XXXXXX";
static char path[512];

static struct store *
open_store(void)
{
	struct err e = { 0 };
	struct store *s = store_open(path, 5000, &e);

	if (s == NULL)
		fprintf(stderr, "open: %s\n", e.msg);
	return s;
}

static void
test_clients(void)
{
	struct store *s = open_store();
	char *roles[] = { "admin", NULL };
	struct store_client c = { .client_id = "svc",
		.secret_hash = "blake2b256$ab",
		.grant_types = STORE_GRANT_CLIENT_CREDENTIALS,
		.roles = roles,
		.n_roles = 1,
		.access_ttl = 30 };
	struct store_client p = { .client_id = "pub",
		.grant_types = STORE_GRANT_PASSWORD };
	struct store_client *found = NULL, *all = NULL;
	struct err e = { 0 };
	size_t n = 0;
	bool ok = false;
	int64_t revoked = -1;

	CHECK(s != NULL);
	if (s == NULL)
		return;
	CHECK(store_add_client(s, &c, 100, &e) == 0);
	CHECK(store_add_client(s, &p, 100, &e) == 0);
	CHECK(store_add_client(s, &p, 100, &e) == -1);
	CHECK(e.code == ERR_CONFLICT);
	e = (struct err){ 0 };
	CHECK(store_find_client(s, "svc", 3, &found, &e) == 0);
	CHECK(found != NULL);
	if (found != NULL) {
		CHECK(strcmp(found->secret_hash, "blake2b256$ab") == 0);
		CHECK(found->grant_types == STORE_GRANT_CLIENT_CREDENTIALS);
		CHECK(found->n_roles == 1 &&
		      strcmp(found->roles[0], "admin") == 0);
		CHECK(found->access_ttl == 30 && found->created_at == 100);
	}
	store_client_free(found);
	found = NULL;
	/* Lengths count: "sv" is no client. */
	CHECK(store_find_client(s, "svc", 2, &found, &e) == 0 && !found);
	CHECK(store_find_client(s, "pub", 3, &found, &e) == 0 && found);
	CHECK(found != NULL && found->secret_hash == NULL);
	store_client_free(found);
	CHECK(store_list_clients(s, &all, &n, &e) == 0 && n == 2);
	CHECK(n == 2 && strcmp(all[0].client_id, "pub") == 0);
	store_clients_free(all, n);
	CHECK(
	    store_set_client_secret(s, "pub", "blake2b256$cd", &ok, &e) == 0 &&
	    ok);
	CHECK(store_set_client_secret(s, "none", "x", &ok, &e) == 0 && !ok);
	CHECK(store_delete_client(s, "pub", 200, &ok, &revoked, &e) == 0);
	CHECK(ok && revoked == 0);
	CHECK(store_delete_client(s, "pub", 200, &ok, &revoked, &e) == 0);
	CHECK(!ok);
	CHECK(store_grant_type_parse("password", 8) == STORE_GRANT_PASSWORD);
	CHECK(store_grant_type_parse("password", 7) == 0);
	store_free(s);
}

static void
test_families_know_their_client(void)
{
	struct store *s = open_store();
	char *roles[] = { "user", NULL };
	struct store_user *u = NULL, *ru = NULL;
	struct store_grant g, g2;
	char family[STORE_FAMILY_ID_LEN + 1];
	enum store_refusal why;
	struct err e = { 0 };
	bool found = false;
	int64_t revoked = 0;

	CHECK(s != NULL);
	if (s == NULL)
		return;
	CHECK(store_create_user(
	          s, "reg", 3, "$argon2id$x", roles, 1, 100, &u, &e) == 0);
	CHECK(u != NULL && strcmp(u->username, "reg") == 0);
	CHECK(store_create_user(
	          s, "reg", 3, "$argon2id$y", roles, 1, 100, &ru, &e) == -1);
	CHECK(e.code == ERR_CONFLICT && ru == NULL);
	e = (struct err){ 0 };
	if (u == NULL) {
		store_free(s);
		return;
	}
	refresh_family_new(family);
	CHECK(store_create_family(s, family, u->id, "a", "read:data", 100, 100,
	          1000, &g, &e) == 0);
	CHECK(
	    strcmp(g.client_id, "a") == 0 && strcmp(g.scope, "read:data") == 0);
	/* Another client: refused, and the family is as it was. */
	CHECK(store_rotate(s, family, 0, "b", 110, 100, &g2, &ru, &why, &e) ==
	      -1);
	CHECK(e.code == ERR_INVALID_GRANT && why == STORE_REFUSED_CLIENT);
	e = (struct err){ 0 };
	CHECK(store_find_family(s, family, &g2, &found, &e) == 0 && found);
	CHECK(g2.generation == 0 && !g2.revoked);
	CHECK(strcmp(g2.scope, "read:data") == 0);
	/* Its own client rotates it. */
	CHECK(
	    store_rotate(s, family, 0, "a", 110, 100, &g2, &ru, &why, &e) == 0);
	CHECK(ru != NULL && g2.generation == 1);
	store_user_free(ru);
	/* Removing client a revokes the family. */
	{
		struct store_client a = { .client_id = "a",
			.grant_types = STORE_GRANT_PASSWORD };
		CHECK(store_add_client(s, &a, 100, &e) == 0);
		CHECK(store_delete_client(s, "a", 120, &found, &revoked, &e) ==
		      0);
		CHECK(found && revoked == 1);
	}
	CHECK(store_find_family(s, family, &g2, &found, &e) == 0 && found);
	CHECK(g2.revoked);
	CHECK(store_find_family(s, "nope", &g2, &found, &e) == 0 && !found);
	store_user_free(u);
	store_free(s);
}

/* PostgreSQL: a database at schema 2 with a live family (made from a
 * fresh one by undoing steps 4 and 3 by hand) is taken to 4 on open: the family
 * gets scope "" and rotates for its own client only. */
static void
test_pg_step3_keeps_families(void)
{
	struct store *s = open_store();
	char *roles[] = { "user", NULL };
	struct store_user *u = NULL, *ru = NULL;
	struct store_grant g;
	enum store_refusal why;
	struct err e = { 0 };
	char id[24];
	static const char *const undo[] = {
		"ALTER TABLE families DROP COLUMN token_issued_at",
		"DELETE FROM schema_migrations WHERE version = 4",
		"DROP TABLE clients",
		"DROP INDEX families_client",
		"ALTER TABLE families DROP COLUMN scope",
		"DELETE FROM schema_migrations WHERE version = 3",
	};

	CHECK(s != NULL);
	if (s == NULL)
		return;
	CHECK(store_create_user(
	          s, "old", 3, "$argon2id$x", roles, 1, 100, &u, &e) == 0);
	store_free(s);
	if (u == NULL)
		return;
	snprintf(id, sizeof(id), "%lld", (long long)u->id);
	store_user_free(u);
	/* One statement per call: libpq's parameterised calls take one. */
	for (size_t i = 0; i < sizeof(undo) / sizeof(undo[0]); i++)
		CHECK(tb_exec(path, undo[i], NULL, NULL) != -1);
	CHECK(tb_exec(path,
	          "INSERT INTO families (id, user_id, client_id, created_at,"
	          " expires_at, generation, token_expires_at) VALUES"
	          " ('fam-v2', ?1::bigint, 'web', 100, 9000, 0, 9000)",
	          id, NULL) == 1);
	CHECK(tb_scalar(path, "SELECT max(version) FROM schema_migrations",
	          NULL) == 2);
	if ((s = open_store()) == NULL) {
		CHECK(s != NULL);
		return;
	}
	CHECK(tb_scalar(path, "SELECT max(version) FROM schema_migrations",
	          NULL) == 4);
	CHECK(store_rotate(
	          s, "fam-v2", 0, "app", 200, 100, &g, &ru, &why, &e) == -1);
	CHECK(why == STORE_REFUSED_CLIENT && g.generation == 0);
	e = (struct err){ 0 };
	CHECK(store_rotate(
	          s, "fam-v2", 0, "web", 200, 100, &g, &ru, &why, &e) == 0);
	CHECK(ru != NULL && g.generation == 1 && g.scope[0] == '\0');
	CHECK(strcmp(g.client_id, "web") == 0);
	store_user_free(ru);
	store_free(s);
}

int
main(void)
{
	if (secret_init() == -1 || mkdtemp(dir) == NULL)
		return 1;
	tb_fresh(dir, "clientdb", path, sizeof(path));
	RUN(test_clients);
	RUN(test_families_know_their_client);
	if (tb_pg())
		RUN(test_pg_step3_keeps_families);
	{
		char cmd[300];
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", dir);
	}
	return test_report();
}

/* test_service: what service_open builds that nothing else shows. The
 * dummy hash unknown usernames are checked against must be made at the
 * configured argon2id cost, exactly as the stored users' hashes are: a
 * cheaper one answers unknown users faster and lets anyone enumerate
 * usernames by timing (the login reply is the same for both). The cost is
 * read from the hash's own PHC string ($argon2id$v=19$m=..,t=..,p=..), a
 * property that holds or not, where a timing comparison could only flake
 * (bench/login_timing.sh measures the time itself, outside CI). */
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jwk.h"
#include "routes.h"
#include "secret.h"
#include "service.h"
#include "test.h"

/* Not the defaults (t=2, m=19456), so a cost taken from anywhere but the
 * configuration shows. Small enough to keep the test quick. */
#define TEST_OPSLIMIT 3
#define TEST_MEMLIMIT_KIB 9216

static char dir[] = "/tmp/test_service.XXXXXX";

/* The m, t and p of an argon2id PHC string; -1 if it is not one. */
static int
phc_params(const char *hash, unsigned *m, unsigned *t, unsigned *p)
{
	int used = 0;

	if (sscanf(hash, "$argon2id$v=19$m=%u,t=%u,p=%u$%n", m, t, p, &used) !=
	        3 ||
	    used == 0 || hash[used] == '\0')
		return -1;
	return 0;
}

static void
test_dummy_hash_has_the_configured_cost(void)
{
	char key[300], db[300], perms[300], secrets[300];
	struct auth_config cfg;
	struct auth_ctx ctx = { 0 };
	struct event_base *base = event_base_new();
	struct jws_key *k = NULL;
	struct store_user *u = NULL;
	struct err e = { 0 };
	unsigned m = 0, t = 0, p = 0, um = 0, ut = 0, up = 0;

	snprintf(key, sizeof(key), "%s/private_key.pem", dir);
	snprintf(db, sizeof(db), "%s/auth.db", dir);
	CHECK(base != NULL);
	CHECK((k = jwk_generate(JWS_ALG_ES256, 0, &e)) != NULL);
	CHECK(k != NULL && jwk_save_private_pem(k, key, false, &e) == 0);
	jwk_free(k);
	auth_config_defaults(&cfg);
	cfg.private_key = key;
	cfg.db = db;
	cfg.permissions = (char *)test_source_path(
	    "config/permissions.json", perms, sizeof(perms));
	cfg.secrets = (char *)test_source_path(
	    "config/secrets.json", secrets, sizeof(secrets));
	cfg.demo_dir = (char *)"";
	cfg.openapi_dir = (char *)"";
	cfg.hash_threads = 1;
	cfg.argon2_opslimit = TEST_OPSLIMIT;
	cfg.argon2_memlimit_kib = TEST_MEMLIMIT_KIB;
	if (base == NULL || service_open(&ctx, &cfg, base, &e) == -1) {
		fprintf(stderr, "service_open: %s\n", e.msg);
		CHECK(!"service_open failed");
		if (base != NULL)
			event_base_free(base);
		return;
	}
	CHECK(phc_params(ctx.dummy_hash, &m, &t, &p) == 0);
	CHECK(m == TEST_MEMLIMIT_KIB);
	CHECK(t == TEST_OPSLIMIT);
	CHECK(p == 1);
	CHECK(!password_needs_rehash(ctx.dummy_hash, &ctx.cost));
	/* The same cost as a real user's hash (the seed import made it),
	 * read on a connection of the test's own. */
	{
		struct store *st = store_open(db, 1000, &e);
		CHECK(st != NULL);
		CHECK(st != NULL &&
		      store_find_user(st, "admin", 5, &u, &e) == 0 &&
		      u != NULL);
		store_free(st);
	}
	CHECK(u != NULL && phc_params(u->password_hash, &um, &ut, &up) == 0);
	CHECK(um == m && ut == t && up == p);
	/* Positive control of the parser: another cost reads differently. */
	CHECK(phc_params("$argon2id$v=19$m=8192,t=1,p=1$c2FsdA$aGFzaA", &m, &t,
	          &p) == 0 &&
	      m == 8192 && t == 1);
	CHECK(phc_params("$argon2i$v=19$m=8192,t=1,p=1$c2FsdA$aGFzaA", &m, &t,
	          &p) == -1);
	/* Nobody can match the dummy: not even an empty password. */
	CHECK(!password_verify(ctx.dummy_hash, "", 0));
	store_user_free(u);
	service_close(&ctx);
	event_base_free(base);
}

int
main(void)
{
	char cmd[300];
	int rc;

	if (secret_init() == -1 || mkdtemp(dir) == NULL)
		return 1;
	RUN(test_dummy_hash_has_the_configured_cost);
	rc = test_report();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	return rc;
}

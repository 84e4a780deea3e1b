/* service: build and tear down auth_service's state. */
#include "service.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "auth_metrics.h"
#include "key_dir.h"
#include "log.h"
#include "metrics.h"
#include "secret.h"
#include "seed.h"

#define SERVICE_PROBE_MS 1000 /* database health probe interval */

static const struct static_file service_openapi[] = {
	{ "/openapi.json", "auth.json", "application/json" },
};

int64_t
service_monotonic(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec;
}

/* The signing key first (it signs), then the extra public keys that keep
 * tokens from a previous key verifiable during a rotation. */
int
service_load_keys(
    const struct auth_config *cfg, struct jwks **out, struct err *e)
{
	struct jwks *set = jwks_new();
	struct jws_key *k = NULL;
	struct err ke = { 0 };

	if (set == NULL)
		return err_set(e, ERR_NOMEM, "jwks");
	if ((k = jwk_load_private_pem(cfg->private_key, &ke)) == NULL ||
	    key_dir_apply_kid(cfg->private_key, k, &ke) == -1) {
		jwk_free(k);
		err_set(e, ERR_CONFIG, "private_key: %s", ke.msg);
		goto fail;
	}
	if (jwks_add(set, k, &ke) == -1) {
		err_set(e, ERR_CONFIG, "private_key: %s", ke.msg);
		goto fail;
	}
	for (char **p = cfg->public_keys; p != NULL && *p != NULL; p++) {
		if ((k = jwk_load_public_pem(*p, &ke)) == NULL ||
		    key_dir_apply_kid(*p, k, &ke) == -1) {
			jwk_free(k);
			err_set(e, ERR_CONFIG, "public_keys: %s", ke.msg);
			goto fail;
		}
		/* Listing the signing key's own public half is harmless. */
		if (jwks_find(set, k->kid, strlen(k->kid)) != NULL) {
			jwk_free(k);
			continue;
		}
		if (jwks_add(set, k, &ke) == -1) {
			err_set(
			    e, ERR_CONFIG, "public_keys: %s: %s", *p, ke.msg);
			goto fail;
		}
	}
	if (cfg->public_keys_dir[0] != '\0' &&
	    key_dir_add_published(cfg->public_keys_dir, set, &ke) == -1) {
		err_set(e, ERR_CONFIG, "public_keys_dir: %s", ke.msg);
		goto fail;
	}
	/* The verifiers refuse a larger JWKS (jwks_from_json). */
	if (set->n > JWKS_MAX_KEYS) {
		err_set(e, ERR_CONFIG,
		    "public_keys, public_keys_dir: %zu keys with the signing "
		    "key, at most %d can be published; retire some",
		    set->n, JWKS_MAX_KEYS);
		goto fail;
	}
	*out = set;
	metrics_touch(AUTH_M_KEYS_AGE);
	return 0;
fail:
	jwks_free(set);
	return -1;
}

int
service_check(const struct auth_config *cfg, struct err *e)
{
	struct jwks *keys = NULL;
	struct permissions *perms = NULL;
	struct seed *seed = NULL;
	int rc = -1;

	if (service_load_keys(cfg, &keys, e) == -1 ||
	    permissions_load(cfg->permissions, &perms, e) == -1 ||
	    seed_load(cfg->secrets, &seed, e) == -1)
		goto out;
	rc = 0;
out:
	seed_free(seed);
	permissions_free(perms);
	jwks_free(keys);
	return rc;
}

/* Opens the database (creating and migrating it) before the loop runs:
 * the pool's connections then open a database that is already at the
 * current schema. A failure names the setting, as a missing file does. */
static struct store *
open_db(const struct auth_config *cfg, struct err *e)
{
	struct store *s;
	struct err se = { 0 };

	if ((s = store_open(cfg->db, (int)cfg->db_busy_timeout_ms, &se)) ==
	    NULL)
		err_set(e, se.code == ERR_OK ? ERR_CONFIG : se.code, "db: %s",
		    se.msg);
	return s;
}

/* Imports the seed users into the database open_db opened; frees s. */
static int
import_seed(struct auth_ctx *ctx, struct store *s, const struct seed *seed,
    struct err *e)
{
	struct seed_stats st;
	bool client_added = false;
	int rc;

	rc = seed_apply(s, seed, &ctx->cost, (int64_t)time(NULL), &st, e);
	if (rc == 0 &&
	    (rc = seed_default_client(s, ctx->cfg->client_id,
	         (int64_t)time(NULL), &client_added, e)) == 0 &&
	    client_added)
		log_msg(
		    LOG_INFO, "client %s added (public)", ctx->cfg->client_id);
	store_free(s);
	if (rc == -1)
		return -1;
	log_msg(LOG_INFO,
	    "users imported: %zu created, %zu password set, "
	    "%zu unchanged",
	    st.created, st.password_set, st.unchanged);
	return 0;
}

/* The refresh_key setting, or by default refresh_token.key in the
 * private key's directory: the secrets of an issuer live together. */
static int
load_refresh_key(
    const struct auth_config *cfg, struct refresh_key *out, struct err *e)
{
	char path[PATH_MAX];
	const char *slash = strrchr(cfg->private_key, '/');

	if (cfg->refresh_key[0] != '\0')
		return refresh_key_load(cfg->refresh_key, true, out, e);
	if (slash == NULL)
		snprintf(path, sizeof(path), "refresh_token.key");
	else if ((size_t)snprintf(path, sizeof(path), "%.*s/refresh_token.key",
	             (int)(slash - cfg->private_key),
	             cfg->private_key) >= sizeof(path))
		return err_set(e, ERR_CONFIG, "refresh_key: path too long");
	return refresh_key_load(path, true, out, e);
}

/* A thread count setting: 0 means one per online CPU. */
static int
threads_of(int64_t setting)
{
	long n = (long)setting;

	if (n == 0)
		n = sysconf(_SC_NPROCESSORS_ONLN);
	return n < 1 ? 1 : (int)n;
}

int
service_open(struct auth_ctx *ctx, const struct auth_config *cfg,
    struct event_base *base, struct err *e)
{
	struct throttle_policy tp[THROTTLE_KINDS] = {
		[THROTTLE_USER] = { cfg->throttle_user_free,
		    cfg->throttle_base_delay, cfg->throttle_max_delay,
		    cfg->throttle_window },
		[THROTTLE_ADDR] = { cfg->throttle_addr_free,
		    cfg->throttle_base_delay, cfg->throttle_max_delay,
		    cfg->throttle_window },
	};
	struct seed *seed = NULL;
	struct store *db = NULL;
	bool no_list = false;
	int rc;
	char dummy[32];

	*ctx = (struct auth_ctx){ .cfg = cfg, .base = base };
	ctx->cost.opslimit = (unsigned long long)cfg->argon2_opslimit;
	ctx->cost.memlimit = (size_t)cfg->argon2_memlimit_kib * 1024;
	if (service_load_keys(cfg, &ctx->keys, e) == -1 ||
	    permissions_load(cfg->permissions, &ctx->perms, e) == -1 ||
	    seed_load(cfg->secrets, &seed, e) == -1 ||
	    (db = open_db(cfg, e)) == NULL)
		goto fail;
	/* Every file is read (the database opened) before anything else is
	 * written or logged, so a bad one is the only line on stderr; the
	 * optional pages come after them, since a missing default only
	 * warns. */
	if (static_files_load_optional(cfg->demo_dir, AUTH_DEMO_DIR_DEFAULT,
	        "demo_dir", static_files_demo, static_files_demo_n,
	        cfg->demo_resource_origin, &ctx->demo, e) == -1 ||
	    static_files_load_optional(cfg->openapi_dir,
	        AUTH_OPENAPI_DIR_DEFAULT, "openapi_dir", service_openapi, 1,
	        NULL, &ctx->openapi, e) == -1 ||
	    password_policy_load(cfg->common_passwords,
	        strcmp(cfg->common_passwords, AUTH_COMMON_PASSWORDS_DEFAULT) ==
	            0,
	        &ctx->policy, &no_list, e) == -1)
		goto fail;
	if (no_list)
		log_msg(LOG_WARN,
		    "%s missing: new passwords are checked for length only",
		    cfg->common_passwords);
	if ((ctx->jwks_json = jwks_to_json(ctx->keys)) == NULL) {
		err_set(e, ERR_NOMEM, "jwks");
		goto fail;
	}
	ctx->issuer = (struct issuer){ ctx->keys->keys[0], ctx->issuer_url,
		cfg->audience, cfg->client_id, cfg->access_ttl };
	if (service_set_issuer(ctx, cfg->port, e) == -1)
		goto fail;
	if (load_refresh_key(cfg, &ctx->refresh_key, e) == -1)
		goto fail;
	rc = import_seed(ctx, db, seed, e); /* frees db */
	db = NULL;
	if (rc == -1)
		goto fail;
	seed_free(seed);
	seed = NULL;
	/* A hash of a random password at the configured cost: nobody can
	 * match it, and checking it costs what a real user's check does. */
	secret_random(dummy, sizeof(dummy));
	if (password_hash(
	        &ctx->cost, dummy, sizeof(dummy), ctx->dummy_hash, e) == -1)
		goto fail;
	secret_wipe(dummy, sizeof(dummy));
	if ((ctx->throttle = throttle_new(
	         tp, (size_t)cfg->throttle_max_entries, e)) == NULL ||
	    (ctx->pool = password_pool_new(base, threads_of(cfg->hash_threads),
	         (int)cfg->hash_nice, (size_t)cfg->hash_queue, &ctx->cost,
	         e)) == NULL)
		goto fail;
	{
		struct store_pool_config pc = { .database = cfg->db,
			.busy_timeout_ms = (int)cfg->db_busy_timeout_ms,
			.threads = threads_of(cfg->db_threads),
			.queue_max = (size_t)cfg->db_queue,
			.probe_interval_ms = SERVICE_PROBE_MS,
			/* At most one busy wait behind the turn, then 503. */
			.write_deadline_ms = cfg->db_busy_timeout_ms > 0
			                         ? cfg->db_busy_timeout_ms
			                         : 1000 };
		if ((ctx->db = store_pool_new(base, &pc, e)) == NULL)
			goto fail;
	}
	return 0;
fail:
	store_free(db);
	seed_free(seed);
	service_close(ctx);
	return -1;
}

int
service_set_issuer(struct auth_ctx *ctx, int64_t port, struct err *e)
{
	return auth_config_issuer(
	    ctx->cfg, port, ctx->issuer_url, sizeof(ctx->issuer_url), e);
}

void
service_close(struct auth_ctx *ctx)
{
	/* Each pool delivers what it still holds as cancelled; a login
	 * between its steps must then not queue on the other pool. */
	ctx->closing = true;
	password_pool_free(ctx->pool);
	ctx->pool = NULL;
	store_pool_free(ctx->db); /* its last deliveries still settle the
	                             throttle */
	ctx->db = NULL;
	throttle_free(ctx->throttle);
	ctx->throttle = NULL;
	json_object_put(ctx->jwks_json);
	jwks_free(ctx->keys);
	permissions_free(ctx->perms);
	static_files_free(ctx->demo);
	static_files_free(ctx->openapi);
	password_policy_free(ctx->policy);
	secret_wipe(ctx->dummy_hash, sizeof(ctx->dummy_hash));
	secret_wipe(&ctx->refresh_key, sizeof(ctx->refresh_key));
	*ctx = (struct auth_ctx){ 0 };
}

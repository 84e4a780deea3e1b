/* reload: SIGHUP handling: swap permissions, import secrets.json off the
 * event loop, report the outcome as one audit line. */
#include "reload.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "seed.h"
#include "service.h"

struct reloader {
	struct auth_ctx *ctx;
	struct event *done_ev;
	pthread_t thread;
	bool running, again;
	/* Written by the thread, read by the loop after the join. */
	struct err seed_err;
	struct seed_stats stats;
	struct err perm_err;
	struct err key_err;
};

static void *
seed_thread(void *arg)
{
	struct reloader *r = arg;
	const struct auth_config *cfg = r->ctx->cfg;
	struct store *st = NULL;
	struct seed *s = NULL;

	/* Parse first: a bad file changes nothing. */
	if (seed_load(cfg->secrets, &s, &r->seed_err) == 0 &&
	    (st = store_open_existing(
	         cfg->db, (int)cfg->db_busy_timeout_ms, &r->seed_err)) != NULL)
		seed_apply(st, s, &r->ctx->cost, (int64_t)time(NULL), &r->stats,
		    &r->seed_err);
	store_free(st);
	seed_free(s);
	event_active(r->done_ev, EV_READ, 0);
	return NULL;
}

static void
report(struct reloader *r)
{
	struct json_object *o = json_object_new_object();

	if (o == NULL)
		return;
	json_object_object_add(o, "permissions",
	    json_object_new_string(r->perm_err.code == ERR_OK ? "ok" : "kept"));
	json_object_object_add(o, "keys",
	    json_object_new_string(r->key_err.code == ERR_OK ? "ok" : "kept"));
	json_object_object_add(o, "users",
	    json_object_new_string(r->seed_err.code == ERR_OK ? "ok" : "kept"));
	json_object_object_add(
	    o, "created", json_object_new_int64((int64_t)r->stats.created));
	json_object_object_add(o, "password_set",
	    json_object_new_int64((int64_t)r->stats.password_set));
	json_object_object_add(
	    o, "unchanged", json_object_new_int64((int64_t)r->stats.unchanged));
	log_event("reload", o);
	if (r->perm_err.code != ERR_OK)
		log_msg(
		    LOG_ERROR, "reload: permissions kept: %s", r->perm_err.msg);
	if (r->seed_err.code != ERR_OK)
		log_msg(LOG_ERROR, "reload: users: %s", r->seed_err.msg);
	if (r->key_err.code != ERR_OK)
		log_msg(LOG_ERROR, "reload: keys kept: %s", r->key_err.msg);
}

static void
done_cb(evutil_socket_t fd, short what, void *arg)
{
	struct reloader *r = arg;

	(void)fd;
	(void)what;
	if (!r->running)
		return;
	pthread_join(r->thread, NULL);
	r->running = false;
	report(r);
	if (r->again) {
		r->again = false;
		reloader_start(r);
	}
}

/* The signing key and the published ones, read again (jwt-admin keys
 * rotate / retire). On the loop thread, which owns ctx->keys: a login
 * finishing later signs with the new key; a bad file keeps the old set. */
static void
reload_keys(struct reloader *r)
{
	struct jwks *keys = NULL;
	struct json_object *doc = NULL;

	if (service_load_keys(r->ctx->cfg, &keys, &r->key_err) == -1)
		return;
	if ((doc = jwks_to_json(keys)) == NULL) {
		err_set(&r->key_err, ERR_NOMEM, "jwks");
		jwks_free(keys);
		return;
	}
	jwks_free(r->ctx->keys);
	json_object_put(r->ctx->jwks_json);
	r->ctx->keys = keys;
	r->ctx->jwks_json = doc;
	r->ctx->issuer.key = keys->keys[0];
}

struct reloader *
reloader_new(struct auth_ctx *ctx, struct err *e)
{
	struct reloader *r = calloc(1, sizeof(*r));

	if (r == NULL ||
	    (r->done_ev = event_new(ctx->base, -1, 0, done_cb, r)) == NULL) {
		free(r);
		err_set(e, ERR_NOMEM, "reloader");
		return NULL;
	}
	r->ctx = ctx;
	return r;
}

void
reloader_start(struct reloader *r)
{
	struct permissions *p = NULL;

	if (r->running) {
		r->again = true;
		return;
	}
	r->perm_err = (struct err){ 0 };
	r->key_err = (struct err){ 0 };
	r->seed_err = (struct err){ 0 };
	r->stats = (struct seed_stats){ 0 };
	/* The loop owns ctx->perms, so the swap needs no lock. */
	if (permissions_load(r->ctx->cfg->permissions, &p, &r->perm_err) == 0) {
		permissions_free(r->ctx->perms);
		r->ctx->perms = p;
	}
	reload_keys(r);
	if (pthread_create(&r->thread, NULL, seed_thread, r) != 0) {
		err_set(&r->seed_err, ERR_INTERNAL, "cannot start seed thread");
		report(r);
		return;
	}
	r->running = true;
}

bool
reloader_busy(const struct reloader *r)
{
	return r->running;
}

void
reloader_free(struct reloader *r)
{
	if (r == NULL)
		return;
	if (r->running) {
		pthread_join(r->thread, NULL);
		r->running = false;
		report(r);
	}
	event_free(r->done_ev);
	free(r);
}

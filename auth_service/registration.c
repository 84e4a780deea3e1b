/* registration: checks on the loop, then a chain of two store tasks: is
 * the name free (and the hash, on that worker), then the insert (which
 * decides a race for the name). */
#include "registration.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "json_util.h"
#include "log.h"
#include "secret.h"
#include "seed.h"

struct registration {
	struct store_task task; /* first */
	struct auth_ctx *ctx;
	char *name;
	size_t name_len;
	char *password;
	size_t password_len;
	char hash[PASSWORD_HASH_MAX];
	struct password_cost cost;
	char addr[SESSION_ADDR_MAX];
	struct store_user *user;
	registration_done done;
	void *arg;
};

static void
registration_free(struct registration *g)
{
	if (g == NULL)
		return;
	free(g->name);
	if (g->password != NULL)
		secret_wipe(g->password, g->password_len);
	free(g->password);
	secret_wipe(g->hash, sizeof(g->hash));
	store_user_free(g->user);
	free(g);
}

static void
audit(const struct registration *g, const char *event, const char *reason)
{
	struct json_object *o = json_object_new_object();

	if (o == NULL)
		return;
	json_object_object_add(
	    o, "user", json_object_new_string_len(g->name, (int)g->name_len));
	json_add_string(o, "client_address", g->addr);
	if (reason != NULL)
		json_add_string(o, "reason", reason);
	log_event(event, o);
}

static void
finish(struct registration *g, const struct err *e)
{
	struct session_refusal r = { 0 };

	if (e == NULL) {
		audit(g, "register", NULL);
		g->done(g->user, NULL, g->arg);
	} else {
		r.e = *e;
		if (e->code == ERR_IO) {
			r.e = (struct err){ 0 };
			err_set(&r.e, ERR_UNAVAILABLE, "database: %s", e->msg);
		}
		if (r.e.code == ERR_UNAVAILABLE)
			r.retry_after = 1;
		audit(g, "register_failed", err_code_name(e->code));
		g->done(NULL, &r, g->arg);
	}
	registration_free(g);
}

/* Step 3, worker: the insert; a name taken meanwhile is ERR_CONFLICT. */
static int
insert_run(struct store *s, struct store_task *t, struct err *e)
{
	struct registration *g = (struct registration *)t;
	char *const *roles = g->ctx->cfg->registration_roles;
	size_t n = 0;

	while (roles[n] != NULL)
		n++;
	return store_create_user(s, g->name, g->name_len, g->hash, roles, n,
	    (int64_t)time(NULL), &g->user, e);
}

static void
insert_done(struct store_task *t, const struct err *e)
{
	finish((struct registration *)t, e->code == ERR_OK ? NULL : e);
}

/* Step 1, worker: a taken name is answered before any hashing. */
static int
check_run(struct store *s, struct store_task *t, struct err *e)
{
	struct registration *g = (struct registration *)t;
	struct store_user *u = NULL;

	if (store_find_user(s, g->name, g->name_len, &u, e) == -1)
		return -1;
	if (u != NULL) {
		store_user_free(u);
		return err_set(e, ERR_CONFLICT, "username taken");
	}
	return 0;
}

/* Step 1, same worker, off the database: argon2id. */
static int
check_hash(struct store_task *t, struct err *e)
{
	struct registration *g = (struct registration *)t;
	int rc =
	    password_hash(&g->cost, g->password, g->password_len, g->hash, e);

	secret_wipe(g->password, g->password_len);
	return rc;
}

/* Step 2, loop: queue the insert. */
static void
check_done(struct store_task *t, const struct err *e)
{
	struct registration *g = (struct registration *)t;
	struct err se = { 0 };

	if (e->code != ERR_OK) {
		finish(g, e);
		return;
	}
	if (g->ctx->closing) {
		err_set(&se, ERR_UNAVAILABLE, "shutting down");
		finish(g, &se);
		return;
	}
	g->task = (struct store_task){
		.run = insert_run, .done = insert_done, .writes = true
	};
	if (store_pool_submit(g->ctx->db, &g->task, &se) == -1)
		finish(g, &se);
}

/* Printable names only: they reach log lines and admin listings. */
static bool
name_ok(const char *name, size_t len)
{
	if (len == 0 || len > STORE_MAX_USERNAME)
		return false;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f)
			return false;
	return true;
}

static char *
copy(const char *s, size_t len)
{
	char *c = malloc(len + 1);

	if (c != NULL) {
		memcpy(c, s, len);
		c[len] = '\0';
	}
	return c;
}

int
registration_start(struct auth_ctx *ctx, const char *name, size_t name_len,
    const char *password, size_t password_len, const char *addr,
    registration_done done, void *arg, struct session_refusal *r)
{
	char key[SESSION_ADDR_MAX + 16];
	struct registration *g = NULL;
	int64_t now = service_monotonic(), wait;
	size_t key_len;

	*r = (struct session_refusal){ 0 };
	if (!ctx->cfg->allow_registration)
		return err_set(&r->e, ERR_NOT_FOUND, "registration is off");
	if (ctx->draining) {
		r->retry_after = 1;
		return err_set(&r->e, ERR_UNAVAILABLE, "shutting down");
	}
	if (!name_ok(name, name_len))
		return err_set(&r->e, ERR_INVALID_REQUEST, "username");
	/* Every attempt from an address counts, as a failed login does:
	 * creating accounts in bulk slows down as guessing does. */
	key_len = (size_t)snprintf(key, sizeof(key), "register:%s", addr);
	if ((wait = throttle_wait(
	         ctx->throttle, THROTTLE_ADDR, key, key_len, now)) > 0) {
		r->retry_after = wait;
		return err_set(&r->e, ERR_THROTTLED, "registration throttled");
	}
	throttle_failure(ctx->throttle, THROTTLE_ADDR, key, key_len, now);
	if (password_policy_check(ctx->policy, name, name_len, password,
	        password_len, &r->e) == -1)
		return -1;
	if ((g = calloc(1, sizeof(*g))) == NULL ||
	    (g->name = copy(name, name_len)) == NULL ||
	    (g->password = copy(password, password_len)) == NULL) {
		registration_free(g);
		return err_set(&r->e, ERR_NOMEM, "registration");
	}
	g->name_len = name_len;
	g->password_len = password_len;
	g->ctx = ctx;
	g->cost = ctx->cost;
	snprintf(g->addr, sizeof(g->addr), "%s", addr);
	g->done = done;
	g->arg = arg;
	g->task = (struct store_task){
		.run = check_run, .compute = check_hash, .done = check_done
	};
	if (store_pool_submit(ctx->db, &g->task, &r->e) == -1) {
		registration_free(g);
		r->retry_after = 1;
		return -1;
	}
	return 0;
}

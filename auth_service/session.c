/* session: login, refresh and logout, end to end. Each use case is a
 * short chain of steps; a step that needs the database or the CPU for
 * long (argon2id, signing) runs on a worker and the next step continues
 * on the loop. */
#include "session.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth_metrics.h"
#include "json_util.h"
#include "log.h"
#include "request_log.h"
#include "secret.h"
#include "seed.h"
#include "shared_throttle.h"

static int64_t
wall_now(void)
{
	return (int64_t)time(NULL);
}

struct json_object *
token_pair_to_json(const struct token_pair *p)
{
	return issuer_token_reply(
	    p->access_token, p->refresh_token, p->expires_in, NULL);
}

struct json_object *
token_pair_to_oauth_json(const struct token_pair *p)
{
	return issuer_token_reply(p->access_token, p->refresh_token,
	    p->expires_in, p->scope != NULL ? p->scope : "");
}

void
token_pair_wipe(struct token_pair *p)
{
	secret_free_str(p->access_token);
	free(p->scope);
	secret_wipe(p, sizeof(*p));
}

/* What a grant is for, as a use case keeps it (copies: the request's
 * strings go before the use case ends). */
struct grant_for {
	char client_id[STORE_MAX_CLIENT_ID + 1];
	int64_t access_ttl;
	char *scope; /* NULL: none asked */
};

static int
grant_for_set(struct grant_for *g, const struct auth_ctx *ctx,
    const struct session_client *c, struct err *e)
{
	const char *id = c != NULL ? c->client_id : ctx->cfg->client_id;

	if (strlen(id) > STORE_MAX_CLIENT_ID)
		return err_set(e, ERR_INVALID_REQUEST, "client_id too long");
	snprintf(g->client_id, sizeof(g->client_id), "%s", id);
	g->access_ttl = c != NULL ? c->access_ttl : 0;
	g->scope = NULL;
	if (c != NULL && c->scope != NULL) {
		if (strlen(c->scope) > STORE_MAX_SCOPE)
			return err_set(e, ERR_INVALID_SCOPE, "scope too long");
		if ((g->scope = strdup(c->scope)) == NULL)
			return err_set(e, ERR_NOMEM, "scope");
	}
	return 0;
}

/* An audit line: event plus who and where; never a secret. */
static void
audit(const char *event, const char *user, size_t user_len, const char *addr,
    const char *request_id, const char *family_id, const char *reason)
{
	struct json_object *o = json_object_new_object();

	auth_metrics_audit(event, reason);
	if (o == NULL)
		return;
	if (user != NULL && user_len > 0)
		json_object_object_add(
		    o, "user", json_object_new_string_len(user, (int)user_len));
	json_add_string(o, "client_address", addr != NULL ? addr : "unknown");
	/* The request's id, as its access line and its answer carry it. */
	if (request_id != NULL && request_id[0] != '\0')
		json_add_string(o, "request_id", request_id);
	if (family_id != NULL && family_id[0] != '\0')
		json_add_string(o, "family_id", family_id);
	if (reason != NULL)
		json_add_string(o, "reason", reason);
	log_event(event, o);
}

/* An audit line about a family: its user came with the family's row. */
static void
audit_grant(const char *event, const struct store_grant *g, const char *addr,
    const char *request_id, const char *reason)
{
	audit(event, g->username, strlen(g->username), addr, request_id,
	    g->family_id, reason);
}

/* A failed step as the client hears it: a database that cannot be
 * reached or is busy is 503 with Retry-After, never a 200 for work that
 * was not committed. */
static void
refusal_from(struct session_refusal *r, const struct err *e)
{
	r->e = *e;
	r->retry_after = 0;
	if (e->code == ERR_IO) {
		r->e = (struct err){ 0 }; /* err_set keeps a first error */
		err_set(&r->e, ERR_UNAVAILABLE, "database: %s", e->msg);
		r->retry_after = 1;
	} else if (e->code == ERR_UNAVAILABLE) {
		r->retry_after = 1;
	}
}

/* Signing ---------------------------------------------------------------- */

/* What signing needs, taken on the loop and used on a worker: a reload
 * may replace the loop's keys and permissions meanwhile. */
struct signer {
	struct jwks *keys;
	struct permissions *perms;
	struct issuer issuer;
	const struct refresh_key *refresh_key;
};

static void
signer_take(struct auth_ctx *ctx, struct signer *s)
{
	struct err pe = { 0 };

	/* The token carries the permissions of now (a refresh re-reads
	 * permissions.json); a broken file keeps the running set. */
	if (permissions_refresh(&ctx->perms, ctx->cfg->permissions, &pe) == -1)
		log_msg(LOG_ERROR, "permissions kept: %s", pe.msg);
	s->keys = jwks_retain(ctx->keys);
	s->perms = permissions_retain(ctx->perms);
	s->issuer = ctx->issuer;
	s->issuer.key = s->keys->keys[0];
	s->refresh_key = &ctx->refresh_key;
}

static void
signer_drop(struct signer *s)
{
	jwks_free(s->keys);
	permissions_free(s->perms);
	*s = (struct signer){ 0 };
}

/* On a worker: the pair for a family's live generation and its user,
 * within the family's scope and narrowed to what this request asks. */
static int
signer_pair(const struct signer *s, const struct store_grant *g,
    const struct store_user *u, const struct grant_for *f,
    struct token_pair *out, struct err *e)
{
	struct issuer_subject subject = { .sub = u->sub,
		.username = u->username,
		.roles = u->roles,
		.n_roles = u->n_roles,
		.client_id = g->client_id,
		.within = g->scope,
		.scope = f->scope };

	if (refresh_token_make(s->refresh_key, g->family_id, g->generation,
	        out->refresh_token) == -1)
		return err_set(e, ERR_INTERNAL, "refresh token");
	return issuer_access_token(&s->issuer, &subject, s->perms, wall_now(),
	    f->access_ttl, &out->access_token, &out->scope, &out->expires_in,
	    e);
}

/* Login ------------------------------------------------------------------ */

struct login {
	struct store_task task; /* first: the pool hands this back */
	struct auth_ctx *ctx;
	struct store_user *user; /* NULL: unknown user, dummy hash used */
	char *username;
	size_t username_len;
	char *password; /* until it is handed to the hashing pool */
	size_t password_len;
	char *new_hash; /* a re-hash at the configured cost, or NULL */
	char addr[SESSION_ADDR_MAX];
	char request_id[REQUEST_ID_MAX + 1]; /* X-Request-Id, for the audit */
	char family_id[STORE_FAMILY_ID_LEN + 1];
	struct store_grant grant;
	struct signer signer;
	struct token_pair pair;
	struct grant_for grant_for;
	/* The throttle in the store, when the store is shared by several
	 * issuers (learnt on the worker, at the first step). */
	struct shared_throttle_keys tkeys;
	bool shared;
	int64_t shared_wait;
	session_done done;
	void *arg;
};

static void
login_free(struct login *l)
{
	if (l == NULL)
		return;
	free(l->grant_for.scope);
	store_user_free(l->user);
	free(l->username);
	if (l->password != NULL)
		secret_wipe(l->password, l->password_len);
	free(l->password);
	secret_free_str(l->new_hash);
	signer_drop(&l->signer);
	token_pair_wipe(&l->pair);
	secret_wipe(&l->tkeys, sizeof(l->tkeys));
	free(l);
}

/* The attempt is no longer in flight for the throttle. */
static void
login_settle(struct login *l)
{
	throttle_end(
	    l->ctx->throttle, THROTTLE_USER, l->username, l->username_len);
	throttle_end(l->ctx->throttle, THROTTLE_ADDR, l->addr, strlen(l->addr));
}

static void
login_refuse(struct login *l, const struct err *e)
{
	struct session_refusal r;

	refusal_from(&r, e);
	if (e->code == ERR_THROTTLED)
		r.retry_after = l->shared_wait > 0 ? l->shared_wait : 1;
	l->done(NULL, &r, l->arg);
	login_free(l);
}

/* Step 4, worker: re-hash if asked, then a new family. */
static int
login_open_family(struct store *s, struct store_task *t, struct err *e)
{
	struct login *l = (struct login *)t;
	const struct auth_config *cfg = l->ctx->cfg;
	struct err re = { 0 };

	/* The stored hash is below the configured cost: upgrade it now that
	 * the password is known to be right (only if still the same). */
	if (l->new_hash != NULL &&
	    store_update_password_hash(
	        s, l->user->id, l->user->password_hash, l->new_hash, &re) == -1)
		log_msg(LOG_WARN, "re-hash not stored: %s", re.msg);
	if (store_create_family(s, l->family_id, l->user->id,
	        l->grant_for.client_id, l->grant_for.scope, wall_now(),
	        cfg->refresh_ttl, cfg->family_ttl, &l->grant, e) == -1)
		return -1;
	re = (struct err){ 0 };
	if (l->shared && shared_throttle_success(s, &l->tkeys, &re) == -1)
		log_msg(LOG_WARN, "throttle not cleared: %s", re.msg);
	return 0;
}

/* Step 4, worker, after the commit: the tokens. */
static int
login_sign(struct store_task *t, struct err *e)
{
	struct login *l = (struct login *)t;

	return signer_pair(
	    &l->signer, &l->grant, l->user, &l->grant_for, &l->pair, e);
}

/* Step 5, loop: answer. */
static void
login_opened(struct store_task *t, const struct err *e)
{
	struct login *l = (struct login *)t;

	if (e->code != ERR_OK) {
		login_refuse(l, e);
		return;
	}
	audit("login_ok", l->username, l->username_len, l->addr, l->request_id,
	    l->grant.family_id, NULL);
	l->done(&l->pair, NULL, l->arg);
	login_free(l);
}

/* Step 4 of a failure, worker: count it in the shared store. */
static int
login_count_failure(struct store *s, struct store_task *t, struct err *e)
{
	struct login *l = (struct login *)t;

	return shared_throttle_failure(
	    s, &l->tkeys, l->ctx->throttle, wall_now(), e);
}

/* Step 5 of a failure, loop: the answer is the same whatever the count
 * did (a database that failed here fails the next login's check). */
static void
login_failed(struct store_task *t, const struct err *e)
{
	struct login *l = (struct login *)t;
	struct err fe = { 0 };

	if (e->code != ERR_OK)
		log_msg(LOG_WARN, "failed login not counted: %s", e->msg);
	err_set(&fe, ERR_INVALID_CREDENTIALS, "login failed");
	login_refuse(l, &fe);
}

/* Step 3, loop: the password was checked. */
static void
login_checked(struct password_result *res, void *arg)
{
	struct login *l = arg;
	struct auth_ctx *ctx = l->ctx;
	struct err e = { 0 };
	int64_t now = service_monotonic();

	login_settle(l);
	l->new_hash = res->new_hash;
	res->new_hash = NULL;
	if (res->cancelled || ctx->closing) {
		err_set(&e, ERR_UNAVAILABLE, "shutting down");
		login_refuse(l, &e);
		return;
	}
	if (!res->match || l->user == NULL) {
		throttle_failure(ctx->throttle, THROTTLE_USER, l->username,
		    l->username_len, now);
		throttle_failure(ctx->throttle, THROTTLE_ADDR, l->addr,
		    strlen(l->addr), now);
		audit("login_failed", l->username, l->username_len, l->addr,
		    l->request_id, NULL,
		    l->user == NULL ? "unknown_user" : "bad_password");
		/* Other issuers learn of it before the answer goes out. */
		if (l->shared) {
			l->task =
			    (struct store_task){ .run = login_count_failure,
				    .done = login_failed,
				    .writes = true };
			if (store_pool_submit(ctx->db, &l->task, &e) == 0)
				return;
			e = (struct err){ 0 };
		}
		/* One answer for both: no user enumeration. */
		err_set(&e, ERR_INVALID_CREDENTIALS, "login failed");
		login_refuse(l, &e);
		return;
	}
	throttle_success(
	    ctx->throttle, THROTTLE_USER, l->username, l->username_len);
	refresh_family_new(l->family_id);
	signer_take(ctx, &l->signer);
	l->task = (struct store_task){ .run = login_open_family,
		.compute = login_sign,
		.done = login_opened,
		.writes = true };
	if (store_pool_submit(ctx->db, &l->task, &e) == -1)
		login_refuse(l, &e);
}

/* Step 1, worker: who is this? */
static int
login_find(struct store *s, struct store_task *t, struct err *e)
{
	struct login *l = (struct login *)t;

	/* Several issuers share this store: their failures count too. */
	if ((l->shared = store_shares_throttle(s))) {
		if (shared_throttle_wait(
		        s, &l->tkeys, wall_now(), &l->shared_wait, e) == -1)
			return -1;
		if (l->shared_wait > 0)
			return err_set(e, ERR_THROTTLED, "throttled");
	}
	return store_find_user(s, l->username, l->username_len, &l->user, e);
}

/* Step 2, loop: check the password (or the dummy) on the hash pool. */
static void
login_found(struct store_task *t, const struct err *e)
{
	struct login *l = (struct login *)t;
	struct auth_ctx *ctx = l->ctx;
	struct err pe = { 0 };
	int rc;

	if (e->code != ERR_OK || ctx->closing) {
		login_settle(l);
		if (e->code == ERR_THROTTLED)
			audit("login_throttled", l->username, l->username_len,
			    l->addr, l->request_id, NULL, NULL);
		if (e->code == ERR_OK)
			err_set(&pe, ERR_UNAVAILABLE, "shutting down");
		login_refuse(l, e->code != ERR_OK ? e : &pe);
		return;
	}
	rc = password_pool_verify(ctx->pool,
	    l->user != NULL ? l->user->password_hash : ctx->dummy_hash,
	    l->password, l->password_len, l->user != NULL, login_checked, l,
	    &pe);
	secret_wipe(l->password, l->password_len);
	if (rc == -1) {
		login_settle(l);
		login_refuse(l, &pe);
	}
}

/* Longest wait either key owes; 0 when neither is throttled. */
static int64_t
login_wait(struct auth_ctx *ctx, const struct login *l)
{
	int64_t now = service_monotonic();
	int64_t u = throttle_wait(
	    ctx->throttle, THROTTLE_USER, l->username, l->username_len, now);
	int64_t a = throttle_wait(
	    ctx->throttle, THROTTLE_ADDR, l->addr, strlen(l->addr), now);

	return u > a ? u : a;
}

static struct login *
login_new(struct auth_ctx *ctx, const char *name, size_t name_len,
    const char *pw, size_t pw_len, const char *addr)
{
	struct login *l = calloc(1, sizeof(*l));

	if (l == NULL || (l->username = malloc(name_len + 1)) == NULL ||
	    (l->password = malloc(pw_len + 1)) == NULL) {
		if (l != NULL)
			free(l->username);
		free(l);
		return NULL;
	}
	memcpy(l->username, name, name_len);
	l->username[name_len] = '\0';
	l->username_len = name_len;
	memcpy(l->password, pw, pw_len);
	l->password[pw_len] = '\0';
	l->password_len = pw_len;
	l->ctx = ctx;
	snprintf(l->addr, sizeof(l->addr), "%s", addr);
	snprintf(l->request_id, sizeof(l->request_id), "%s",
	    request_log_current_id());
	shared_throttle_keys(&ctx->refresh_key, l->username, l->username_len,
	    l->addr, &l->tkeys);
	return l;
}

int
session_login(struct auth_ctx *ctx, const struct session_client *c,
    const char *name, size_t name_len, const char *password,
    size_t password_len, const char *addr, session_done done, void *arg,
    struct session_refusal *r)
{
	struct login *l;
	int64_t wait;

	*r = (struct session_refusal){ 0 };
	if (name_len == 0 || name_len > STORE_MAX_USERNAME ||
	    password_len == 0 || password_len > SEED_MAX_PASSWORD)
		return err_set(
		    &r->e, ERR_INVALID_REQUEST, "username or password length");
	if (ctx->draining) {
		r->retry_after = 1;
		return err_set(&r->e, ERR_UNAVAILABLE, "shutting down");
	}
	if ((l = login_new(
	         ctx, name, name_len, password, password_len, addr)) == NULL)
		return err_set(&r->e, ERR_NOMEM, "login");
	l->done = done;
	l->arg = arg;
	if (grant_for_set(&l->grant_for, ctx, c, &r->e) == -1) {
		login_free(l);
		return -1;
	}
	if ((wait = login_wait(ctx, l)) > 0) {
		audit("login_throttled", name, name_len, l->addr, l->request_id,
		    NULL, NULL);
		login_free(l);
		r->retry_after = wait;
		return err_set(&r->e, ERR_THROTTLED, "throttled");
	}
	l->task = (struct store_task){ .run = login_find, .done = login_found };
	if (store_pool_submit(ctx->db, &l->task, &r->e) == -1) {
		login_free(l);
		r->retry_after = 1;
		return -1;
	}
	/* In flight until login_checked: concurrent guesses count. */
	throttle_begin(ctx->throttle, THROTTLE_USER, l->username,
	    l->username_len, service_monotonic());
	throttle_begin(ctx->throttle, THROTTLE_ADDR, l->addr, strlen(l->addr),
	    service_monotonic());
	return 0;
}

/* Refresh ---------------------------------------------------------------- */

struct rotation {
	struct store_task task; /* first */
	struct auth_ctx *ctx;
	char family_id[STORE_FAMILY_ID_LEN + 1];
	uint64_t generation;
	char addr[SESSION_ADDR_MAX];
	char request_id[REQUEST_ID_MAX + 1]; /* X-Request-Id, for the audit */
	enum store_refusal why;
	struct store_grant grant;
	struct store_user *user;
	struct signer signer;
	struct token_pair pair;
	struct grant_for grant_for;
	session_done done;
	void *arg;
};

static void
rotation_free(struct rotation *t)
{
	free(t->grant_for.scope);
	store_user_free(t->user);
	signer_drop(&t->signer);
	token_pair_wipe(&t->pair);
	free(t);
}

/* Worker: the single-use step, decided by the database. */
static int
rotation_run(struct store *s, struct store_task *task, struct err *e)
{
	struct rotation *t = (struct rotation *)task;

	return store_rotate(s, t->family_id, t->generation,
	    t->grant_for.client_id, wall_now(), t->ctx->cfg->refresh_ttl,
	    &t->grant, &t->user, &t->why, e);
}

/* Worker, after the commit. */
static int
rotation_sign(struct store_task *task, struct err *e)
{
	struct rotation *t = (struct rotation *)task;

	return signer_pair(
	    &t->signer, &t->grant, t->user, &t->grant_for, &t->pair, e);
}

/* Loop: audit and answer. */
static void
rotation_done(struct store_task *task, const struct err *e)
{
	struct rotation *t = (struct rotation *)task;
	struct session_refusal r;

	if (e->code == ERR_OK) {
		audit("refresh", t->user->username, strlen(t->user->username),
		    t->addr, t->request_id, t->grant.family_id, NULL);
		t->done(&t->pair, NULL, t->arg);
		rotation_free(t);
		return;
	}
	if (t->why == STORE_REFUSED_REUSED)
		audit_grant("refresh_reuse_family_revoked", &t->grant, t->addr,
		    t->request_id, "reuse");
	else if (t->why != STORE_REFUSED_NONE)
		audit_grant("refresh_failed", &t->grant, t->addr, t->request_id,
		    store_refusal_name(t->why));
	refusal_from(&r, e);
	t->done(NULL, &r, t->arg);
	rotation_free(t);
}

int
session_refresh(struct auth_ctx *ctx, const struct session_client *c,
    const char *token, size_t len, const char *addr, session_done done,
    void *arg, struct session_refusal *r)
{
	struct rotation *t;

	*r = (struct session_refusal){ 0 };
	if (len == 0)
		return err_set(
		    &r->e, ERR_INVALID_REQUEST, "empty refresh_token");
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return err_set(&r->e, ERR_NOMEM, "refresh");
	if (grant_for_set(&t->grant_for, ctx, c, &r->e) == -1) {
		rotation_free(t);
		return -1;
	}
	snprintf(t->addr, sizeof(t->addr), "%s", addr);
	snprintf(t->request_id, sizeof(t->request_id), "%s",
	    request_log_current_id());
	/* Any string, however long (the body limit bounds it), that is not
	 * one of ours is an unknown token: no database work at all. */
	if (refresh_token_open(&ctx->refresh_key, token, len, t->family_id,
	        &t->generation) == -1) {
		audit("refresh_failed", NULL, 0, addr, request_log_current_id(),
		    NULL, "unknown");
		rotation_free(t);
		return err_set(
		    &r->e, ERR_INVALID_GRANT, "unknown refresh token");
	}
	t->ctx = ctx;
	t->done = done;
	t->arg = arg;
	signer_take(ctx, &t->signer);
	t->task = (struct store_task){ .run = rotation_run,
		.compute = rotation_sign,
		.done = rotation_done,
		.writes = true };
	if (store_pool_submit(ctx->db, &t->task, &r->e) == -1) {
		rotation_free(t);
		r->retry_after = 1;
		return -1;
	}
	return 0;
}

/* Client credentials ----------------------------------------------------- */

struct client_grant {
	struct store_task task; /* first */
	struct auth_ctx *ctx;
	char addr[SESSION_ADDR_MAX];
	char request_id[REQUEST_ID_MAX + 1]; /* X-Request-Id, for the audit */
	struct grant_for grant_for;
	struct store_client *client; /* as it is now, read on the worker */
	struct signer signer;
	struct token_pair pair;
	session_done done;
	void *arg;
};

static void
client_grant_free(struct client_grant *t)
{
	free(t->grant_for.scope);
	store_client_free(t->client);
	signer_drop(&t->signer);
	token_pair_wipe(&t->pair);
	free(t);
}

/* Worker: the client's roles of now (a client removed meanwhile gets
 * nothing). */
static int
client_grant_run(struct store *s, struct store_task *task, struct err *e)
{
	struct client_grant *t = (struct client_grant *)task;

	if (store_find_client(s, t->grant_for.client_id,
	        strlen(t->grant_for.client_id), &t->client, e) == -1)
		return -1;
	if (t->client == NULL)
		return err_set(e, ERR_INVALID_CLIENT, "client gone");
	return 0;
}

/* Worker: the token. */
static int
client_grant_sign(struct store_task *task, struct err *e)
{
	struct client_grant *t = (struct client_grant *)task;
	struct issuer_subject subject = { .sub = t->client->client_id,
		.roles = t->client->roles,
		.n_roles = t->client->n_roles,
		.client_id = t->client->client_id,
		.scope = t->grant_for.scope };

	return issuer_access_token(&t->signer.issuer, &subject, t->signer.perms,
	    wall_now(), t->grant_for.access_ttl, &t->pair.access_token,
	    &t->pair.scope, &t->pair.expires_in, e);
}

static void
client_grant_done(struct store_task *task, const struct err *e)
{
	struct client_grant *t = (struct client_grant *)task;
	struct session_refusal r;

	if (e->code == ERR_OK) {
		audit("client_credentials", t->grant_for.client_id,
		    strlen(t->grant_for.client_id), t->addr, t->request_id,
		    NULL, NULL);
		t->done(&t->pair, NULL, t->arg);
	} else {
		refusal_from(&r, e);
		t->done(NULL, &r, t->arg);
	}
	client_grant_free(t);
}

int
session_client_credentials(struct auth_ctx *ctx,
    const struct store_client *client, const char *scope, const char *addr,
    session_done done, void *arg, struct session_refusal *r)
{
	struct session_client c = { client->client_id, client->access_ttl,
		scope };
	struct client_grant *t;

	*r = (struct session_refusal){ 0 };
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return err_set(&r->e, ERR_NOMEM, "client_credentials");
	if (grant_for_set(&t->grant_for, ctx, &c, &r->e) == -1) {
		client_grant_free(t);
		return -1;
	}
	snprintf(t->addr, sizeof(t->addr), "%s", addr);
	snprintf(t->request_id, sizeof(t->request_id), "%s",
	    request_log_current_id());
	t->ctx = ctx;
	t->done = done;
	t->arg = arg;
	signer_take(ctx, &t->signer);
	t->task = (struct store_task){ .run = client_grant_run,
		.compute = client_grant_sign,
		.done = client_grant_done };
	if (store_pool_submit(ctx->db, &t->task, &r->e) == -1) {
		client_grant_free(t);
		r->retry_after = 1;
		return -1;
	}
	return 0;
}

/* Logout ----------------------------------------------------------------- */

struct logout {
	struct store_task task; /* first */
	struct auth_ctx *ctx;
	char family_id[STORE_FAMILY_ID_LEN + 1];
	char addr[SESSION_ADDR_MAX];
	char request_id[REQUEST_ID_MAX + 1]; /* X-Request-Id, for the audit */
	bool found;
	struct store_grant grant;
	session_done done;
	void *arg;
};

static int
logout_run(struct store *s, struct store_task *task, struct err *e)
{
	struct logout *t = (struct logout *)task;

	return store_revoke(
	    s, t->family_id, "logout", wall_now(), &t->grant, &t->found, e);
}

static void
logout_done(struct store_task *task, const struct err *e)
{
	struct logout *t = (struct logout *)task;
	struct session_refusal r;

	if (e->code == ERR_OK) {
		audit_grant("logout", &t->grant, t->addr, t->request_id,
		    t->found ? NULL : "unknown_token");
		t->done(NULL, NULL, t->arg);
	} else {
		refusal_from(&r, e);
		t->done(NULL, &r, t->arg);
	}
	free(t);
}

/* An unknown token: nothing to revoke, answered as a revocation is, on
 * the next turn of the loop. */
static void
logout_unknown(evutil_socket_t fd, short what, void *arg)
{
	struct logout *t = arg;

	(void)fd;
	(void)what;
	audit("logout", NULL, 0, t->addr, t->request_id, NULL, "unknown_token");
	t->done(NULL, NULL, t->arg);
	free(t);
}

int
session_logout(struct auth_ctx *ctx, const char *token, size_t len,
    const char *addr, session_done done, void *arg, struct session_refusal *r)
{
	struct logout *t;
	uint64_t generation;

	*r = (struct session_refusal){ 0 };
	if (len == 0)
		return err_set(
		    &r->e, ERR_INVALID_REQUEST, "empty refresh_token");
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return err_set(&r->e, ERR_NOMEM, "logout");
	snprintf(t->addr, sizeof(t->addr), "%s", addr);
	snprintf(t->request_id, sizeof(t->request_id), "%s",
	    request_log_current_id());
	t->ctx = ctx;
	t->done = done;
	t->arg = arg;
	/* Any generation of the family ends it: a client may log out with
	 * the token it holds, whatever came after. */
	if (refresh_token_open(&ctx->refresh_key, token, len, t->family_id,
	        &generation) == -1) {
		if (event_base_once(ctx->base, -1, EV_TIMEOUT, logout_unknown,
		        t, NULL) == -1) {
			free(t);
			return err_set(&r->e, ERR_NOMEM, "logout");
		}
		return 0;
	}
	t->task = (struct store_task){
		.run = logout_run, .done = logout_done, .writes = true
	};
	if (store_pool_submit(ctx->db, &t->task, &r->e) == -1) {
		free(t);
		r->retry_after = 1;
		return -1;
	}
	return 0;
}

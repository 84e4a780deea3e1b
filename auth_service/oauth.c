/* oauth: client authentication, revocation and introspection as chains
 * of steps on the store pool (session.c's shape). */
#include "oauth.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "claims.h"
#include "client_secret.h"
#include "issuer.h"
#include "json_util.h"
#include "log.h"
#include "secret.h"
#include "verify.h"

void
oauth_credentials_clear(struct oauth_credentials *c)
{
	if (c->secret != NULL) {
		secret_wipe(c->secret, c->secret_len);
		free(c->secret);
	}
	*c = (struct oauth_credentials){ 0 };
}

/* A failure that is the database's is retryable (503), as for logins. */
static void
refusal_of(struct session_refusal *r, const struct err *e)
{
	r->e = *e;
	r->retry_after = 0;
	if (e->code == ERR_IO) {
		r->e = (struct err){ 0 };
		err_set(&r->e, ERR_UNAVAILABLE, "database: %s", e->msg);
	}
	if (r->e.code == ERR_UNAVAILABLE)
		r->retry_after = 1;
}

static void
audit_client(const char *event, const char *client_id, const char *addr,
    const char *reason)
{
	struct json_object *o = json_object_new_object();

	if (o == NULL)
		return;
	json_add_string(o, "client_id", client_id);
	json_add_string(o, "client_address", addr);
	if (reason != NULL)
		json_add_string(o, "reason", reason);
	log_event(event, o);
}

/* Client authentication -------------------------------------------------- */

struct client_auth {
	struct store_task task; /* first */
	struct oauth_credentials cred;
	bool confidential_only;
	char addr[SESSION_ADDR_MAX];
	struct store_client *client;
	const char *reason; /* why it failed, for the log */
	oauth_client_done done;
	void *arg;
};

static void
client_auth_free(struct client_auth *t)
{
	oauth_credentials_clear(&t->cred);
	store_client_free(t->client);
	free(t);
}

static int
client_auth_find(struct store *s, struct store_task *task, struct err *e)
{
	struct client_auth *t = (struct client_auth *)task;

	return store_find_client(
	    s, t->cred.client_id, t->cred.client_id_len, &t->client, e);
}

/* Worker, off the database: the secret check. Every path hashes once and
 * compares once, so an unknown client, a public one and a wrong secret
 * cost the same. */
static int
client_auth_check(struct store_task *task, struct err *e)
{
	struct client_auth *t = (struct client_auth *)task;
	const struct store_client *c = t->client;
	const char *stored = c != NULL ? c->secret_hash : NULL;
	bool match = client_secret_verify(stored,
	    t->cred.secret != NULL ? t->cred.secret : "", t->cred.secret_len);

	if (c == NULL)
		t->reason = "unknown_client";
	else if (stored == NULL && t->cred.secret != NULL)
		t->reason = "secret_for_public_client";
	else if (stored == NULL && t->confidential_only)
		t->reason = "public_client";
	else if (stored != NULL && t->cred.secret == NULL)
		t->reason = "no_secret";
	else if (stored != NULL && !match)
		t->reason = "bad_secret";
	if (t->reason != NULL)
		return err_set(e, ERR_INVALID_CLIENT, "client: %s", t->reason);
	return 0;
}

static void
client_auth_done(struct store_task *task, const struct err *e)
{
	struct client_auth *t = (struct client_auth *)task;
	struct store_client *c = t->client;
	struct session_refusal r;

	if (e->code != ERR_OK) {
		if (e->code == ERR_INVALID_CLIENT)
			audit_client("client_auth_failed", t->cred.client_id,
			    t->addr, t->reason);
		refusal_of(&r, e);
		t->done(NULL, &r, t->arg);
	} else {
		t->client = NULL;
		t->done(c, NULL, t->arg);
	}
	client_auth_free(t);
}

int
oauth_authenticate(struct auth_ctx *ctx, const struct oauth_credentials *cred,
    bool confidential_only, const char *addr, oauth_client_done done, void *arg,
    struct session_refusal *r)
{
	struct client_auth *t;

	*r = (struct session_refusal){ 0 };
	if (cred->client_id_len == 0)
		return err_set(&r->e, ERR_INVALID_CLIENT, "no client_id");
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return err_set(&r->e, ERR_NOMEM, "client auth");
	t->cred = *cred;
	t->cred.secret = NULL;
	if (cred->secret != NULL) {
		if ((t->cred.secret = malloc(cred->secret_len + 1)) == NULL) {
			free(t);
			return err_set(&r->e, ERR_NOMEM, "client auth");
		}
		memcpy(t->cred.secret, cred->secret, cred->secret_len + 1);
	}
	t->confidential_only = confidential_only;
	snprintf(t->addr, sizeof(t->addr), "%s", addr);
	t->done = done;
	t->arg = arg;
	t->task = (struct store_task){ .run = client_auth_find,
		.compute = client_auth_check,
		.done = client_auth_done };
	if (store_pool_submit(ctx->db, &t->task, &r->e) == -1) {
		client_auth_free(t);
		r->retry_after = 1;
		return -1;
	}
	return 0;
}

/* Access tokens ---------------------------------------------------------- */

/* The resource service's verdict on an access token (verify.c, the one
 * policy, with its default leeway), against the keys published now. */
static struct access_token *
access_token_of(struct auth_ctx *ctx, const char *token, size_t len)
{
	struct verify_policy p = { .keys = ctx->keys,
		.issuer = ctx->issuer_url,
		.audience = ctx->cfg->audience,
		.leeway = CLAIMS_DEFAULT_LEEWAY };
	struct access_token *t = NULL;
	struct err e = { 0 };

	if (verify_access_token(token, len, &p, &t, &e) == -1)
		return NULL;
	return t;
}

static struct json_object *
inactive(void)
{
	struct json_object *o = json_object_new_object();

	if (o != NULL)
		json_object_object_add(
		    o, "active", json_object_new_boolean(false));
	return o;
}

static void
add_int(struct json_object *o, const char *name, int64_t v)
{
	json_object_object_add(o, name, json_object_new_int64(v));
}

/* RFC 7662 2.2 for an active access token. scope: the permissions that
 * are scope-tokens, as issuer.c writes the scope claim. */
static struct json_object *
access_token_answer(struct auth_ctx *ctx, const struct access_token *t)
{
	struct json_object *o = json_object_new_object();
	size_t len = 1, n = 0;
	char *scope;

	if (o == NULL)
		return NULL;
	for (size_t i = 0; i < t->n_permissions; i++)
		len += t->permissions[i].len + 1;
	if ((scope = malloc(len)) == NULL) {
		json_object_put(o);
		return NULL;
	}
	for (size_t i = 0; i < t->n_permissions; i++) {
		const struct verify_str *p = &t->permissions[i];
		if (memchr(p->s, ' ', p->len) != NULL || strlen(p->s) != p->len)
			continue;
		if (n > 0)
			scope[n++] = ' ';
		memcpy(scope + n, p->s, p->len);
		n += p->len;
	}
	scope[n] = '\0';
	json_object_object_add(o, "active", json_object_new_boolean(true));
	json_add_string(o, "scope", scope);
	json_add_string(o, "client_id", t->client_id.s);
	if (t->username.s != NULL)
		json_add_string(o, "username", t->username.s);
	json_add_string(o, "sub", t->sub.s);
	json_add_string(o, "token_type", "Bearer");
	add_int(o, "exp", t->exp);
	add_int(o, "iat", t->iat);
	add_int(o, "nbf", t->nbf);
	json_add_string(o, "aud", ctx->cfg->audience);
	json_add_string(o, "iss", ctx->issuer_url);
	json_add_string(o, "jti", t->jti.s);
	free(scope);
	return o;
}

/* Refresh tokens --------------------------------------------------------- */

enum family_job { FAMILY_REVOKE, FAMILY_INTROSPECT };

struct family_task {
	struct store_task task; /* first */
	struct auth_ctx *ctx;
	enum family_job job;
	char client_id[STORE_MAX_CLIENT_ID + 1];
	char family_id[STORE_FAMILY_ID_LEN + 1];
	uint64_t generation;
	char addr[SESSION_ADDR_MAX];
	bool found, other_client;
	struct store_grant grant;
	struct store_user *user;
	oauth_done done;
	void *arg;
};

static void
family_task_free(struct family_task *t)
{
	store_user_free(t->user);
	free(t);
}

static int
family_run(struct store *s, struct store_task *task, struct err *e)
{
	struct family_task *t = (struct family_task *)task;
	bool revoked_now;

	if (store_find_family(s, t->family_id, &t->grant, &t->found, e) == -1)
		return -1;
	if (!t->found)
		return 0;
	/* RFC 7009 2.1: the token must have been issued to this client. */
	if (strcmp(t->grant.client_id, t->client_id) != 0) {
		t->other_client = true;
		return 0;
	}
	if (t->job == FAMILY_REVOKE)
		return store_revoke(s, t->family_id, "revoked",
		    (int64_t)time(NULL), &t->grant, &revoked_now, e);
	return store_find_user_by_id(s, t->grant.user_id, &t->user, e);
}

/* RFC 7662 2.2 for a refresh token: live family, this generation, token
 * and family unexpired, user still there. scope: what the next access
 * token would carry (the user's permissions now, within the family's
 * grant); aud: this issuer, the only party a refresh token is for; jti:
 * the family and generation, which name this token alone. */
static struct json_object *
family_answer(struct family_task *t, struct err *e)
{
	const struct store_grant *g = &t->grant;
	struct issuer_subject subject;
	int64_t now = (int64_t)time(NULL);
	struct json_object *o;
	char jti[STORE_FAMILY_ID_LEN + 24];
	char *scope;

	if (!t->found || t->other_client || g->revoked ||
	    g->generation != t->generation || g->token_expires <= now ||
	    g->family_expires <= now || t->user == NULL)
		return inactive();
	subject = (struct issuer_subject){ .sub = t->user->sub,
		.roles = t->user->roles,
		.n_roles = t->user->n_roles,
		.within = g->scope };
	if ((scope = issuer_scope(&subject, t->ctx->perms, e)) == NULL)
		return NULL;
	if ((o = json_object_new_object()) == NULL) {
		free(scope);
		err_set(e, ERR_NOMEM, "introspection");
		return NULL;
	}
	snprintf(jti, sizeof(jti), "%s.%" PRIu64, g->family_id, g->generation);
	json_object_object_add(o, "active", json_object_new_boolean(true));
	json_add_string(o, "scope", scope);
	json_add_string(o, "client_id", g->client_id);
	json_add_string(o, "username", t->user->username);
	json_add_string(o, "sub", t->user->sub);
	json_add_string(o, "token_type", "refresh_token");
	add_int(o, "exp", g->token_expires);
	add_int(o, "iat", g->token_issued);
	add_int(o, "nbf", g->token_issued);
	json_add_string(o, "aud", t->ctx->issuer_url);
	json_add_string(o, "iss", t->ctx->issuer_url);
	json_add_string(o, "jti", jti);
	free(scope);
	return o;
}

static void
family_done(struct store_task *task, const struct err *e)
{
	struct family_task *t = (struct family_task *)task;
	struct session_refusal r = { 0 };
	struct json_object *reply = NULL;

	if (e->code != ERR_OK) {
		refusal_of(&r, e);
		t->done(NULL, &r, t->arg);
	} else if (t->job == FAMILY_REVOKE) {
		if (t->other_client) {
			err_set(&r.e, ERR_UNAUTHORIZED_CLIENT,
			    "another client's token");
			audit_client("revoke_refused", t->client_id, t->addr,
			    "other_client");
			t->done(NULL, &r, t->arg);
		} else {
			audit_client("revoke", t->client_id, t->addr,
			    t->found ? NULL : "unknown_token");
			t->done(NULL, NULL, t->arg);
		}
	} else if ((reply = family_answer(t, &r.e)) == NULL) {
		t->done(NULL, &r, t->arg);
	} else {
		t->done(reply, NULL, t->arg);
	}
	family_task_free(t);
}

/* Answers on the next turn of the loop, as the store's answers come. */
struct later {
	struct json_object *reply;
	struct session_refusal r;
	bool refused;
	oauth_done done;
	void *arg;
};

static void
later_cb(evutil_socket_t fd, short what, void *arg)
{
	struct later *l = arg;

	(void)fd;
	(void)what;
	l->done(l->reply, l->refused ? &l->r : NULL, l->arg);
	free(l);
}

static int
answer_later(struct auth_ctx *ctx, struct json_object *reply,
    const struct err *refusal, oauth_done done, void *arg,
    struct session_refusal *r)
{
	struct later *l = calloc(1, sizeof(*l));

	if (l == NULL) {
		json_object_put(reply);
		return err_set(&r->e, ERR_NOMEM, "answer");
	}
	*l = (struct later){ .reply = reply, .done = done, .arg = arg };
	if (refusal != NULL) {
		l->r.e = *refusal;
		l->refused = true;
	}
	if (event_base_once(ctx->base, -1, EV_TIMEOUT, later_cb, l, NULL) ==
	    -1) {
		json_object_put(reply);
		free(l);
		return err_set(&r->e, ERR_NOMEM, "answer");
	}
	return 0;
}

static int
family_submit(struct auth_ctx *ctx, enum family_job job,
    const struct store_client *client, const char *family_id,
    uint64_t generation, const char *addr, oauth_done done, void *arg,
    struct session_refusal *r)
{
	struct family_task *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return err_set(&r->e, ERR_NOMEM, "family");
	t->ctx = ctx;
	t->job = job;
	snprintf(t->client_id, sizeof(t->client_id), "%s", client->client_id);
	snprintf(t->family_id, sizeof(t->family_id), "%s", family_id);
	t->generation = generation;
	snprintf(t->addr, sizeof(t->addr), "%s", addr != NULL ? addr : "");
	t->done = done;
	t->arg = arg;
	t->task = (struct store_task){ .run = family_run,
		.done = family_done,
		.writes = job == FAMILY_REVOKE };
	if (store_pool_submit(ctx->db, &t->task, &r->e) == -1) {
		family_task_free(t);
		r->retry_after = 1;
		return -1;
	}
	return 0;
}

int
oauth_revoke(struct auth_ctx *ctx, const struct store_client *client,
    const char *token, size_t len, const char *addr, oauth_done done, void *arg,
    struct session_refusal *r)
{
	char family_id[STORE_FAMILY_ID_LEN + 1];
	struct access_token *at;
	uint64_t generation;
	struct err e = { 0 };

	*r = (struct session_refusal){ 0 };
	/* Any generation of the family ends it, as /logout does. */
	if (refresh_token_open(
	        &ctx->refresh_key, token, len, family_id, &generation) == 0)
		return family_submit(ctx, FAMILY_REVOKE, client, family_id,
		    generation, addr, done, arg, r);
	if ((at = access_token_of(ctx, token, len)) != NULL) {
		access_token_free(at);
		err_set(&e, ERR_UNSUPPORTED_TOKEN_TYPE, "access token");
		return answer_later(ctx, NULL, &e, done, arg, r);
	}
	/* RFC 7009 2.2: an invalid token is not an error. */
	audit_client("revoke", client->client_id, addr, "unknown_token");
	return answer_later(ctx, NULL, NULL, done, arg, r);
}

int
oauth_introspect(struct auth_ctx *ctx, const struct store_client *client,
    const char *token, size_t len, oauth_done done, void *arg,
    struct session_refusal *r)
{
	char family_id[STORE_FAMILY_ID_LEN + 1];
	struct access_token *at;
	struct json_object *reply;
	uint64_t generation;

	*r = (struct session_refusal){ 0 };
	if (refresh_token_open(
	        &ctx->refresh_key, token, len, family_id, &generation) == 0)
		return family_submit(ctx, FAMILY_INTROSPECT, client, family_id,
		    generation, NULL, done, arg, r);
	if ((at = access_token_of(ctx, token, len)) != NULL) {
		reply = access_token_answer(ctx, at);
		access_token_free(at);
	} else {
		reply = inactive();
	}
	if (reply == NULL)
		return err_set(&r->e, ERR_NOMEM, "introspection");
	return answer_later(ctx, reply, NULL, done, arg, r);
}

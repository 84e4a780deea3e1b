/* session: login, refresh and logout, end to end. */
#include "session.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "json_util.h"
#include "log.h"
#include "secret.h"
#include "seed.h"

static int64_t
wall_now(void)
{
	return (int64_t)time(NULL);
}

static int
refuse(struct session_refusal *r, int64_t retry_after)
{
	r->retry_after = retry_after;
	return -1;
}

struct json_object *
token_pair_to_json(const struct token_pair *p)
{
	return issuer_token_reply(
	    p->access_token, p->refresh_token, p->expires_in);
}

void
token_pair_wipe(struct token_pair *p)
{
	secret_free_str(p->access_token);
	secret_wipe(p, sizeof(*p));
}

/* An audit line: event plus who and where; never a secret. */
static void
audit(const char *event, const char *user, size_t user_len, const char *addr,
    const char *family_id, const char *reason)
{
	struct json_object *o = json_object_new_object();

	if (o == NULL)
		return;
	if (user != NULL && user_len > 0)
		json_object_object_add(
		    o, "user", json_object_new_string_len(user, (int)user_len));
	json_add_string(o, "client_address", addr != NULL ? addr : "unknown");
	if (family_id != NULL && family_id[0] != '\0')
		json_add_string(o, "family_id", family_id);
	if (reason != NULL)
		json_add_string(o, "reason", reason);
	log_event(event, o);
}

/* An audit line about a family: its user came with the token's row. */
static void
audit_grant(const char *event, const struct store_grant *g, const char *addr,
    const char *reason)
{
	audit(event, g->username, strlen(g->username), addr, g->family_id,
	    reason);
}

/* The access token of a pair, for u. It carries the permissions of now
 * (a refresh re-reads permissions.json); a broken file keeps the running
 * set. */
static int
issue_access(struct auth_ctx *ctx, const struct store_user *u,
    struct token_pair *out, struct err *e)
{
	struct err pe = { 0 };

	if (permissions_refresh(&ctx->perms, ctx->cfg->permissions, &pe) == -1)
		log_msg(LOG_ERROR, "permissions kept: %s", pe.msg);
	return issuer_access_token(&ctx->issuer, u, ctx->perms, wall_now(),
	    &out->access_token, &out->expires_in, e);
}

/* Login --------------------------------------------------------------- */

/* One login while its password is checked on a worker. */
struct login {
	struct auth_ctx *ctx;
	struct store_user *user; /* NULL: unknown user, dummy hash used */
	char *username;
	size_t username_len;
	char addr[SESSION_ADDR_MAX];
	session_login_done done;
	void *arg;
};

static void
login_free(struct login *l)
{
	if (l == NULL)
		return;
	store_user_free(l->user);
	free(l->username);
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

/* Right password: re-hash if asked, a new family, the tokens. */
static int
login_succeeded(struct login *l, const char *new_hash, struct token_pair *out,
    struct err *e)
{
	struct auth_ctx *ctx = l->ctx;
	unsigned char hash[STORE_HASH_LEN];
	struct store_grant grant;
	struct err re = { 0 };

	throttle_success(
	    ctx->throttle, THROTTLE_USER, l->username, l->username_len);
	/* The stored hash is below the configured cost: upgrade it now that
	 * the password is known to be right. */
	if (new_hash != NULL &&
	    store_update_password_hash(ctx->store, l->user->id,
	        l->user->password_hash, new_hash, &re) == -1)
		log_msg(LOG_WARN, "re-hash not stored: %s", re.msg);
	if (issuer_refresh_token(out->refresh_token, hash, e) == -1 ||
	    store_create_family(ctx->store, l->user->id, ctx->cfg->client_id,
	        hash, wall_now(), ctx->cfg->refresh_ttl, ctx->cfg->family_ttl,
	        &grant, e) == -1 ||
	    issue_access(ctx, l->user, out, e) == -1)
		return -1;
	audit("login_ok", l->username, l->username_len, l->addr,
	    grant.family_id, NULL);
	return 0;
}

static void
login_checked(struct password_result *res, void *arg)
{
	struct login *l = arg;
	struct auth_ctx *ctx = l->ctx;
	struct session_refusal r = { 0 };
	struct token_pair pair = { 0 };
	int64_t now = service_monotonic();

	login_settle(l);
	if (res->cancelled) {
		err_set(&r.e, ERR_UNAVAILABLE, "shutting down");
		r.retry_after = 1;
	} else if (!res->match || l->user == NULL) {
		throttle_failure(ctx->throttle, THROTTLE_USER, l->username,
		    l->username_len, now);
		throttle_failure(ctx->throttle, THROTTLE_ADDR, l->addr,
		    strlen(l->addr), now);
		audit("login_failed", l->username, l->username_len, l->addr,
		    NULL, l->user == NULL ? "unknown_user" : "bad_password");
		/* One answer for both: no user enumeration. */
		err_set(&r.e, ERR_INVALID_CREDENTIALS, "login failed");
	} else if (login_succeeded(l, res->new_hash, &pair, &r.e) == 0) {
		l->done(&pair, NULL, l->arg);
		goto out;
	}
	l->done(NULL, &r, l->arg);
out:
	token_pair_wipe(&pair);
	secret_free_str(res->new_hash);
	login_free(l);
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
login_new(
    struct auth_ctx *ctx, const char *name, size_t name_len, const char *addr)
{
	struct login *l = calloc(1, sizeof(*l));

	if (l == NULL || (l->username = malloc(name_len + 1)) == NULL) {
		free(l);
		return NULL;
	}
	memcpy(l->username, name, name_len);
	l->username[name_len] = '\0';
	l->username_len = name_len;
	l->ctx = ctx;
	snprintf(l->addr, sizeof(l->addr), "%s", addr);
	return l;
}

int
session_login(struct auth_ctx *ctx, const char *name, size_t name_len,
    const char *password, size_t password_len, const char *addr,
    session_login_done done, void *arg, struct session_refusal *r)
{
	struct login *l = NULL;
	int64_t wait;

	*r = (struct session_refusal){ 0 };
	if (name_len == 0 || name_len > STORE_MAX_USERNAME ||
	    password_len == 0 || password_len > SEED_MAX_PASSWORD)
		return err_set(
		    &r->e, ERR_INVALID_REQUEST, "username or password length");
	if (ctx->draining) {
		err_set(&r->e, ERR_UNAVAILABLE, "shutting down");
		return refuse(r, 1);
	}
	if ((l = login_new(ctx, name, name_len, addr)) == NULL)
		return err_set(&r->e, ERR_NOMEM, "login");
	l->done = done;
	l->arg = arg;
	if ((wait = login_wait(ctx, l)) > 0) {
		audit("login_throttled", name, name_len, l->addr, NULL, NULL);
		err_set(&r->e, ERR_THROTTLED, "throttled");
		login_free(l);
		return refuse(r, wait);
	}
	if (store_find_user(ctx->store, name, name_len, &l->user, &r->e) ==
	    -1) {
		login_free(l);
		return -1;
	}
	/* In flight until login_checked: concurrent guesses count. */
	throttle_begin(ctx->throttle, THROTTLE_USER, l->username,
	    l->username_len, service_monotonic());
	throttle_begin(ctx->throttle, THROTTLE_ADDR, l->addr, strlen(l->addr),
	    service_monotonic());
	if (password_pool_verify(ctx->pool,
	        l->user != NULL ? l->user->password_hash : ctx->dummy_hash,
	        password, password_len, l->user != NULL, login_checked, l,
	        &r->e) == -1) {
		login_settle(l);
		login_free(l);
		/* A full hashing queue: come back in a second. */
		return refuse(r, r->e.code == ERR_UNAVAILABLE ? 1 : 0);
	}
	return 0;
}

/* Refresh and logout --------------------------------------------------- */

/* Any non-empty string, however long (the body limit bounds it), is a
 * token this server may not know: that is invalid_grant on /refresh and
 * 200 on /logout (RFC 7009 2.2), never a hint about its form. */
static int
presented_hash(const char *token, size_t len,
    unsigned char hash[STORE_HASH_LEN], struct err *e)
{
	if (len == 0)
		return err_set(e, ERR_INVALID_REQUEST, "empty refresh_token");
	store_token_hash(token, len, hash);
	return 0;
}

int
session_refresh(struct auth_ctx *ctx, const char *token, size_t len,
    const char *addr, struct token_pair *out, struct session_refusal *r)
{
	unsigned char old_hash[STORE_HASH_LEN], new_hash[STORE_HASH_LEN];
	enum store_refusal why = STORE_REFUSED_NONE;
	struct store_grant grant = { 0 };
	struct store_user *u = NULL;
	int rc = -1;

	*r = (struct session_refusal){ 0 };
	if (presented_hash(token, len, old_hash, &r->e) == -1 ||
	    issuer_refresh_token(out->refresh_token, new_hash, &r->e) == -1)
		goto out;
	if (store_rotate(ctx->store, old_hash, new_hash, wall_now(),
	        ctx->cfg->refresh_ttl, &grant, &u, &why, &r->e) == -1) {
		if (why == STORE_REFUSED_REUSED)
			audit_grant("refresh_reuse_family_revoked", &grant,
			    addr, "reuse");
		else if (why != STORE_REFUSED_NONE)
			audit_grant("refresh_failed", &grant, addr,
			    store_refusal_name(why));
		goto out;
	}
	if (issue_access(ctx, u, out, &r->e) == -1)
		goto out;
	audit("refresh", u->username, strlen(u->username), addr,
	    grant.family_id, NULL);
	rc = 0;
out:
	if (rc == -1)
		token_pair_wipe(out);
	store_user_free(u);
	return rc;
}

int
session_logout(struct auth_ctx *ctx, const char *token, size_t len,
    const char *addr, struct session_refusal *r)
{
	unsigned char hash[STORE_HASH_LEN];
	struct store_grant grant = { 0 };
	bool found = false;

	*r = (struct session_refusal){ 0 };
	if (presented_hash(token, len, hash, &r->e) == -1 ||
	    store_revoke(ctx->store, hash, "logout", wall_now(), &grant, &found,
	        &r->e) == -1)
		return -1;
	audit_grant("logout", &grant, addr, found ? NULL : "unknown_token");
	return 0;
}

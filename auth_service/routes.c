/* routes: /login, /refresh, /logout, /.well-known/jwks.json and /health. */
#include "routes.h"

#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "demo_info.h"
#include "http_util.h"
#include "json_util.h"
#include "log.h"
#include "secret.h"
#include "seed.h"

#define ROUTES_ADDR_LEN 64

int64_t
routes_monotonic(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec;
}

static int64_t
wall_now(void)
{
	return (int64_t)time(NULL);
}

/* In-flight accounting for a clean shutdown: a request counts until its
 * reply has been written out. */
static void
request_complete(struct evhttp_request *req, void *arg)
{
	struct auth_ctx *ctx = arg;

	(void)req;
	if (ctx->active > 0)
		ctx->active--;
}

static void
track(struct evhttp_request *req, struct auth_ctx *ctx)
{
	ctx->active++;
	evhttp_request_set_on_complete_cb(req, request_complete, ctx);
}

/* A reply to a request whose client has gone is freed unsent, and its
 * completion callback never runs: settle the count here instead. */
static void
untrack_if_orphaned(struct evhttp_request *req, struct auth_ctx *ctx)
{
	if (evhttp_request_get_connection(req) == NULL && ctx->active > 0)
		ctx->active--;
}

/* An audit line: event plus who and where; never a secret. */
static void
audit(const char *event, const char *user, size_t user_len, const char *addr,
    const char *family_id, const char *reason)
{
	struct json_object *o = json_object_new_object();

	if (o == NULL)
		return;
	if (user != NULL)
		json_object_object_add(
		    o, "user", json_object_new_string_len(user, (int)user_len));
	json_object_object_add(o, "client_address",
	    json_object_new_string(addr != NULL ? addr : "unknown"));
	if (family_id != NULL && family_id[0] != '\0')
		json_object_object_add(
		    o, "family_id", json_object_new_string(family_id));
	if (reason != NULL)
		json_object_object_add(
		    o, "reason", json_object_new_string(reason));
	log_event(event, o);
}

/* An audit line about a family: the user is looked up by id, since the
 * request carried only an opaque token. */
static void
audit_family(struct auth_ctx *ctx, const char *event,
    const struct store_grant *g, const char *addr, const char *reason)
{
	struct store_user *u = NULL;
	struct err e = { 0 };

	if (g->user_id > 0 &&
	    store_find_user_by_id(ctx->store, g->user_id, &u, &e) == -1)
		log_msg(LOG_WARN, "audit: %s", e.msg);
	audit(event, u != NULL ? u->username : NULL,
	    u != NULL ? strlen(u->username) : 0, addr, g->family_id, reason);
	store_user_free(u);
}

/* Issues an access token for u and sends the token response. */
static int
reply_tokens(struct evhttp_request *req, struct auth_ctx *ctx,
    const struct store_user *u, const char *refresh, struct err *e)
{
	struct json_object *reply = NULL;
	char *access = NULL;
	char jti[ISSUER_JTI_BYTES * 2];
	struct err pe = { 0 };

	/* The token carries the permissions of now (SPEC: refresh re-reads
	 * permissions.json); a broken file keeps the running set. */
	if (permissions_refresh(&ctx->perms, ctx->cfg->permissions, &pe) == -1)
		log_msg(LOG_ERROR, "permissions kept: %s", pe.msg);
	if (issuer_access_token(
	        &ctx->issuer, u, ctx->perms, wall_now(), &access, jti, e) == -1)
		return -1;
	reply = issuer_token_reply(access, refresh, ctx->cfg->access_ttl);
	secret_free_str(access);
	if (reply == NULL)
		return err_set(e, ERR_NOMEM, "token reply");
	/* RFC 6749 5.1: token responses are never cached. */
	http_reply_json(req, HTTP_OK, reply, HTTP_NO_STORE);
	return 0;
}

/* State of one login while its password is checked on a worker. */
struct login {
	struct auth_ctx *ctx;
	struct evhttp_request *req;
	struct store_user *user; /* NULL: unknown user, dummy hash used */
	char *username;
	size_t username_len;
	char addr[ROUTES_ADDR_LEN];
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

/* A successful login: re-hash if asked, new family, tokens. */
static int
login_succeeded(struct login *l, char *new_hash, struct err *e)
{
	struct auth_ctx *ctx = l->ctx;
	char refresh[ISSUER_REFRESH_LEN + 1];
	unsigned char hash[STORE_HASH_LEN];
	struct store_grant grant;
	struct err re = { 0 };
	int rc = -1;

	throttle_success(
	    ctx->throttle, THROTTLE_USER, l->username, l->username_len);
	/* The stored hash is below the configured cost: upgrade it now that
	 * the password is known to be right. */
	if (new_hash != NULL &&
	    store_update_password_hash(ctx->store, l->user->id,
	        l->user->password_hash, new_hash, &re) == -1)
		log_msg(LOG_WARN, "re-hash not stored: %s", re.msg);
	if (issuer_refresh_token(refresh, hash, e) == -1 ||
	    store_create_family(ctx->store, l->user->id, ctx->cfg->client_id,
	        hash, wall_now(), ctx->cfg->refresh_ttl, ctx->cfg->family_ttl,
	        &grant, e) == -1 ||
	    reply_tokens(l->req, ctx, l->user, refresh, e) == -1)
		goto out;
	audit("login_ok", l->username, l->username_len, l->addr,
	    grant.family_id, NULL);
	rc = 0;
out:
	secret_wipe(refresh, sizeof(refresh));
	return rc;
}

/* The attempt is no longer in flight for the throttle (login_begin). */
static void
login_settle(struct login *l)
{
	throttle_end(
	    l->ctx->throttle, THROTTLE_USER, l->username, l->username_len);
	throttle_end(l->ctx->throttle, THROTTLE_ADDR, l->addr, strlen(l->addr));
}

static void
login_done(struct password_result *r, void *arg)
{
	struct login *l = arg;
	struct auth_ctx *ctx = l->ctx;
	struct err e = { 0 };
	int64_t now = routes_monotonic();

	untrack_if_orphaned(l->req, ctx);
	login_settle(l);
	if (r->cancelled) {
		err_set(&e, ERR_UNAVAILABLE, "shutting down");
		http_reply_error_retry(l->req, &e, 1);
	} else if (!r->match || l->user == NULL) {
		throttle_failure(ctx->throttle, THROTTLE_USER, l->username,
		    l->username_len, now);
		throttle_failure(ctx->throttle, THROTTLE_ADDR, l->addr,
		    strlen(l->addr), now);
		audit("login_failed", l->username, l->username_len, l->addr,
		    NULL, l->user == NULL ? "unknown_user" : "bad_password");
		/* One answer for both: no user enumeration (SPEC). */
		err_set(&e, ERR_INVALID_CREDENTIALS, "login failed");
		http_reply_error(l->req, &e);
	} else if (login_succeeded(l, r->new_hash, &e) == -1) {
		http_reply_error(l->req, &e);
	}
	secret_free_str(r->new_hash);
	login_free(l);
}

/* Longest wait either key owes; 0 when neither is throttled. */
static int64_t
login_wait(struct auth_ctx *ctx, const char *name, size_t len, const char *addr)
{
	int64_t now = routes_monotonic();
	int64_t u = throttle_wait(ctx->throttle, THROTTLE_USER, name, len, now);
	int64_t a = throttle_wait(
	    ctx->throttle, THROTTLE_ADDR, addr, strlen(addr), now);

	return u > a ? u : a;
}

/* POST /login: the password check runs on a worker; the reply is sent
 * from login_done. Unknown users take the same path on a dummy hash. */
static void
route_login(struct evhttp_request *req, void *arg)
{
	struct auth_ctx *ctx = arg;
	struct json_object *body = NULL;
	struct login *l = NULL;
	const char *name, *pw;
	size_t name_len, pw_len;
	struct err e = { 0 };
	int64_t wait;

	track(req, ctx);
	if (http_read_json(req, (size_t)ctx->cfg->max_body, &body, &e) == -1 ||
	    json_get_string(body, "username", &name, &name_len, &e) == -1 ||
	    json_get_string(body, "password", &pw, &pw_len, &e) == -1)
		goto fail;
	if (name_len == 0 || name_len > STORE_MAX_USERNAME || pw_len == 0 ||
	    pw_len > SEED_MAX_PASSWORD) {
		err_set(&e, ERR_INVALID_REQUEST, "username or password length");
		goto fail;
	}
	if ((l = calloc(1, sizeof(*l))) == NULL ||
	    (l->username = malloc(name_len + 1)) == NULL) {
		err_set(&e, ERR_NOMEM, "login");
		goto fail;
	}
	memcpy(l->username, name, name_len);
	l->username[name_len] = '\0';
	l->username_len = name_len;
	l->ctx = ctx;
	l->req = req;
	http_client_addr(req, l->addr, sizeof(l->addr));
	if (ctx->draining) {
		err_set(&e, ERR_UNAVAILABLE, "shutting down");
		http_reply_error_retry(req, &e, 1);
		goto out;
	}
	if ((wait = login_wait(ctx, name, name_len, l->addr)) > 0) {
		audit("login_throttled", name, name_len, l->addr, NULL, NULL);
		err_set(&e, ERR_THROTTLED, "throttled");
		http_reply_error_retry(req, &e, (int)wait);
		goto out;
	}
	if (store_find_user(ctx->store, name, name_len, &l->user, &e) == -1)
		goto fail;
	/* In flight until login_done: concurrent guesses count. */
	throttle_begin(ctx->throttle, THROTTLE_USER, l->username,
	    l->username_len, routes_monotonic());
	throttle_begin(ctx->throttle, THROTTLE_ADDR, l->addr, strlen(l->addr),
	    routes_monotonic());
	if (password_pool_verify(ctx->pool,
	        l->user != NULL ? l->user->password_hash : ctx->dummy_hash, pw,
	        pw_len, l->user != NULL, login_done, l, &e) == -1) {
		login_settle(l);
		if (e.code == ERR_UNAVAILABLE) {
			http_reply_error_retry(req, &e, 1);
			goto out;
		}
		goto fail;
	}
	l = NULL; /* login_done owns it */
	goto out;
fail:
	http_reply_error(req, &e);
out:
	login_free(l);
	json_object_put(body);
}

/* The refresh_token member of a body, as bytes. */
static int
read_refresh_token(struct evhttp_request *req, struct auth_ctx *ctx,
    struct json_object **body, unsigned char hash[STORE_HASH_LEN],
    struct err *e)
{
	const char *tok;
	size_t len;

	if (http_read_json(req, (size_t)ctx->cfg->max_body, body, e) == -1 ||
	    json_get_string(*body, "refresh_token", &tok, &len, e) == -1)
		return -1;
	/* Any other string, however long (the body limit bounds it), is a
	 * token this server does not know: invalid_grant on /refresh, 200
	 * on /logout (RFC 7009 2.2), as for every unknown token. */
	if (len == 0)
		return err_set(e, ERR_INVALID_REQUEST, "empty refresh_token");
	store_token_hash(tok, len, hash);
	return 0;
}

/* POST /refresh: single use; a reused token revokes its family
 * (RFC 9700 4.14.2). Roles and permissions are read afresh. */
static void
route_refresh(struct evhttp_request *req, void *arg)
{
	struct auth_ctx *ctx = arg;
	struct json_object *body = NULL;
	struct store_user *u = NULL;
	unsigned char old_hash[STORE_HASH_LEN], new_hash[STORE_HASH_LEN];
	char refresh[ISSUER_REFRESH_LEN + 1] = "";
	char addr[ROUTES_ADDR_LEN];
	enum store_refusal why = STORE_REFUSED_NONE;
	struct store_grant grant = { 0 };
	struct err e = { 0 };

	track(req, ctx);
	http_client_addr(req, addr, sizeof(addr));
	if (read_refresh_token(req, ctx, &body, old_hash, &e) == -1 ||
	    issuer_refresh_token(refresh, new_hash, &e) == -1)
		goto fail;
	if (store_rotate(ctx->store, old_hash, new_hash, wall_now(),
	        ctx->cfg->refresh_ttl, &grant, &u, &why, &e) == -1) {
		if (why == STORE_REFUSED_REUSED)
			audit_family(ctx, "refresh_reuse_family_revoked",
			    &grant, addr, "reuse");
		else if (why != STORE_REFUSED_NONE)
			audit_family(ctx, "refresh_failed", &grant, addr,
			    store_refusal_name(why));
		goto fail;
	}
	if (reply_tokens(req, ctx, u, refresh, &e) == -1)
		goto fail;
	audit("refresh", u->username, strlen(u->username), addr,
	    grant.family_id, NULL);
	goto out;
fail:
	http_reply_error(req, &e);
out:
	secret_wipe(refresh, sizeof(refresh));
	store_user_free(u);
	json_object_put(body);
}

/* POST /logout: revokes the token's family. An unknown token is not an
 * error (RFC 7009 2.2): the answer must not tell which tokens exist. */
static void
route_logout(struct evhttp_request *req, void *arg)
{
	struct auth_ctx *ctx = arg;
	struct json_object *body = NULL, *reply = NULL;
	unsigned char hash[STORE_HASH_LEN];
	struct store_grant grant = { 0 };
	char addr[ROUTES_ADDR_LEN];
	struct err e = { 0 };
	bool found = false;

	track(req, ctx);
	http_client_addr(req, addr, sizeof(addr));
	if (read_refresh_token(req, ctx, &body, hash, &e) == -1 ||
	    store_revoke(ctx->store, hash, "logout", wall_now(), &grant, &found,
	        &e) == -1)
		goto fail;
	audit_family(
	    ctx, "logout", &grant, addr, found ? NULL : "unknown_token");
	if ((reply = json_object_new_object()) != NULL)
		json_object_object_add(
		    reply, "status", json_object_new_string("ok"));
	http_reply_json(req, HTTP_OK, reply, HTTP_NO_STORE);
	goto out;
fail:
	http_reply_error(req, &e);
out:
	json_object_put(body);
}

/* GET /.well-known/jwks.json: every key that verifies (RFC 7517 5);
 * cacheable, so verifiers need not ask per token. */
static void
route_jwks(struct evhttp_request *req, void *arg)
{
	struct auth_ctx *ctx = arg;
	char cc[64];

	track(req, ctx);
	snprintf(cc, sizeof(cc), "public, max-age=%lld",
	    (long long)ctx->cfg->jwks_max_age);
	evhttp_add_header(
	    evhttp_request_get_output_headers(req), "Cache-Control", cc);
	http_reply_json(req, HTTP_OK, json_object_get(ctx->jwks_json), 0);
}

/* GET /health: ready when the database answers and a key signs. */
static void
route_health(struct evhttp_request *req, void *arg)
{
	struct auth_ctx *ctx = arg;
	struct json_object *o = json_object_new_object();
	struct err e = { 0 };
	bool db_ok = store_ping(ctx->store, &e) == 0;
	bool ready =
	    db_ok && ctx->keys != NULL && ctx->keys->n > 0 && !ctx->draining;

	track(req, ctx);
	if (!db_ok)
		log_msg(LOG_ERROR, "health: %s", e.msg);
	if (o != NULL) {
		json_object_object_add(o, "status",
		    json_object_new_string(ready           ? "ok"
		                           : ctx->draining ? "stopping"
		                                           : "unavailable"));
		json_object_object_add(o, "database",
		    json_object_new_string(db_ok ? "ok" : "error"));
		json_object_object_add(o, "keys",
		    json_object_new_int64(
		        ctx->keys != NULL ? (int64_t)ctx->keys->n : 0));
		json_object_object_add(o, "hash_threads",
		    json_object_new_int(password_pool_threads(ctx->pool)));
		json_object_object_add(o, "hash_busy",
		    json_object_new_int64(
		        (int64_t)password_pool_busy(ctx->pool)));
	}
	http_reply_json(req, ready ? HTTP_OK : 503, o, HTTP_NO_STORE);
}

/* GET /demo...: the teaching page, from an allow-list (static_files.h). */
static void
route_demo(struct evhttp_request *req, void *arg)
{
	struct auth_ctx *ctx = arg;

	track(req, ctx);
	static_files_handler(req, ctx->demo);
}

/* GET /openapi.json: this service's OpenAPI 3 description. */
static void
route_openapi(struct evhttp_request *req, void *arg)
{
	struct auth_ctx *ctx = arg;

	track(req, ctx);
	static_files_handler(req, ctx->openapi);
}

static const struct route auth_routes[] = {
	{ EVHTTP_REQ_POST, "/login", route_login },
	{ EVHTTP_REQ_POST, "/refresh", route_refresh },
	{ EVHTTP_REQ_POST, "/logout", route_logout },
	{ EVHTTP_REQ_GET, "/.well-known/jwks.json", route_jwks },
	{ EVHTTP_REQ_GET, "/health", route_health },
	{ EVHTTP_REQ_GET, "/demo", route_demo },
	{ EVHTTP_REQ_GET, "/demo/", route_demo },
	{ EVHTTP_REQ_GET, "/demo/demo.css", route_demo },
	{ EVHTTP_REQ_GET, "/demo/demo.js", route_demo },
	{ EVHTTP_REQ_GET, "/demo/info.json", demo_info_route },
	{ EVHTTP_REQ_GET, "/openapi.json", route_openapi },
};

/* Headers are bounded by max_headers in http_request_check, with a JSON
 * answer; libevent's own limit is set higher (http_set_header_limit). */
static void
auth_dispatch(struct evhttp_request *req, void *arg)
{
	struct auth_ctx *ctx = arg;
	struct err e = { 0 };

	if (http_request_check(req, (size_t)ctx->cfg->max_headers, &e) == -1) {
		http_reply_bad_framing(req, &e);
		return;
	}
	http_route(req, auth_routes,
	    sizeof(auth_routes) / sizeof(auth_routes[0]), ctx);
}

void
routes_install(struct evhttp *http, struct auth_ctx *ctx)
{
	http_set_realm("auth_service");
	/* Sets the methods evhttp accepts; the callback is then ours, which
	 * checks the headers before the shared dispatch. */
	http_routes_install(http, auth_routes,
	    sizeof(auth_routes) / sizeof(auth_routes[0]), ctx);
	evhttp_set_gencb(http, auth_dispatch, ctx);
}

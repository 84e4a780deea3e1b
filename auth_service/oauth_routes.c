/* oauth_routes: POST /token (RFC 6749 3.2), /revoke (RFC 7009) and
 * /introspect (RFC 7662): parse, authenticate the client, one call,
 * reply. */
#include "oauth_routes.h"

#include <event2/keyvalq_struct.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "form.h"
#include "http_util.h"
#include "json_util.h"
#include "oauth.h"
#include "route_track.h"
#include "secret.h"

#define OAUTH_BASIC_MAX 1024 /* bytes of a decoded Basic credential */

/* One OAuth request from parse to reply. */
struct oauth_request {
	struct auth_ctx *ctx;
	struct evhttp_request *req;
	struct form *form;
	unsigned grant; /* STORE_GRANT_*, for /token */
	char addr[SESSION_ADDR_MAX];
};

static void
oauth_request_free(struct oauth_request *o)
{
	if (o == NULL)
		return;
	form_free(o->form);
	free(o);
}

/* The final answer: a refusal, or a JSON body (taken), never cached. */
static void
finish(struct oauth_request *o, struct json_object *body,
    const struct session_refusal *r)
{
	route_untrack_if_orphaned(o->req, o->ctx);
	if (r != NULL)
		route_reply_refusal(o->req, r);
	else
		http_reply_json(o->req, HTTP_OK, body, HTTP_NO_STORE);
	oauth_request_free(o);
}

static void
refuse(struct oauth_request *o, enum err_code code, const char *msg)
{
	struct session_refusal r = { 0 };

	err_set(&r.e, code, "%s", msg);
	finish(o, NULL, &r);
}

/* Client credentials (RFC 6749 2.3.1) ------------------------------------ */

static int
count_authorization(struct evhttp_request *req)
{
	struct evkeyvalq *h = evhttp_request_get_input_headers(req);
	int n = 0;

	for (struct evkeyval *kv = h->tqh_first; kv != NULL;
	     kv = kv->next.tqe_next)
		if (strcasecmp(kv->key, "Authorization") == 0)
			n++;
	return n;
}

static int
set_id(struct oauth_credentials *c, const char *id, size_t len, struct err *e)
{
	if (len == 0 || len > STORE_MAX_CLIENT_ID || memchr(id, '\0', len))
		return err_set(e, ERR_INVALID_CLIENT, "client_id length");
	memcpy(c->client_id, id, len);
	c->client_id[len] = '\0';
	c->client_id_len = len;
	return 0;
}

static int
set_secret(
    struct oauth_credentials *c, const char *s, size_t len, struct err *e)
{
	if (len == 0)
		return 0; /* an empty secret is none: a public client */
	if ((c->secret = malloc(len + 1)) == NULL)
		return err_set(e, ERR_NOMEM, "secret");
	memcpy(c->secret, s, len);
	c->secret[len] = '\0';
	c->secret_len = len;
	return 0;
}

/* Authorization: Basic base64(urlencode(id) ":" urlencode(secret)). */
static int
read_basic(const char *value, struct oauth_credentials *c, struct err *e)
{
	unsigned char raw[OAUTH_BASIC_MAX];
	char *id = NULL, *secret = NULL;
	size_t raw_len = 0, id_len = 0, secret_len = 0;
	const char *colon;
	int rc = -1;

	c->basic = true;
	if (strncasecmp(value, "Basic ", 6) != 0)
		return err_set(e, ERR_INVALID_CLIENT, "not Basic");
	value += 6;
	while (*value == ' ')
		value++;
	if (sodium_base642bin(raw, sizeof(raw) - 1, value, strlen(value), NULL,
	        &raw_len, NULL, sodium_base64_VARIANT_ORIGINAL) != 0)
		return err_set(e, ERR_INVALID_CLIENT, "Basic: not base64");
	raw[raw_len] = '\0';
	if ((colon = memchr(raw, ':', raw_len)) == NULL) {
		err_set(e, ERR_INVALID_CLIENT, "Basic: no ':'");
		goto out;
	}
	if (form_decode((const char *)raw, (size_t)(colon - (char *)raw), &id,
	        &id_len) == -1 ||
	    form_decode(colon + 1, raw_len - (size_t)(colon - (char *)raw) - 1,
	        &secret, &secret_len) == -1) {
		err_set(e, ERR_INVALID_CLIENT, "Basic: bad escape");
		goto out;
	}
	if (set_id(c, id, id_len, e) == -1 ||
	    set_secret(c, secret, secret_len, e) == -1)
		goto out;
	rc = 0;
out:
	secret_wipe(raw, sizeof(raw));
	if (secret != NULL)
		secret_wipe(secret, secret_len);
	free(secret);
	free(id);
	return rc;
}

/* client_secret_basic, client_secret_post, or client_id alone (a public
 * client). One method per request (RFC 6749 2.3). */
static int
read_credentials(struct evhttp_request *req, const struct form *f,
    struct oauth_credentials *c, struct err *e)
{
	const char *auth = evhttp_find_header(
	    evhttp_request_get_input_headers(req), "Authorization");
	size_t id_len = 0, secret_len = 0;
	const char *id = form_get(f, "client_id", &id_len);
	const char *secret = form_get(f, "client_secret", &secret_len);

	*c = (struct oauth_credentials){ 0 };
	if (count_authorization(req) > 1)
		return err_set(e, ERR_INVALID_REQUEST, "two Authorization");
	if (auth != NULL) {
		if (secret != NULL)
			return err_set(e, ERR_INVALID_REQUEST,
			    "two client authentication methods");
		if (read_basic(auth, c, e) == -1)
			return -1;
		/* A client_id beside Basic must name the same client. */
		if (id != NULL && (id_len != c->client_id_len ||
		                      memcmp(id, c->client_id, id_len) != 0))
			return err_set(
			    e, ERR_INVALID_REQUEST, "client_id differs");
		return 0;
	}
	if (id == NULL)
		return err_set(e, ERR_INVALID_CLIENT, "no client credentials");
	if (set_id(c, id, id_len, e) == -1)
		return -1;
	return set_secret(c, secret, secret_len, e);
}

/* Parses the form and the client's credentials, then authenticates the
 * client; next runs on the loop with the client. -1: answered. */
static int
start(struct oauth_request *o, const char *required, bool confidential_only,
    oauth_client_done next)
{
	struct oauth_credentials cred = { 0 };
	struct session_refusal r = { 0 };
	int rc;

	if (required != NULL && form_get(o->form, required, NULL) == NULL) {
		refuse(o, ERR_INVALID_REQUEST, "missing parameter");
		return -1;
	}
	if (read_credentials(o->req, o->form, &cred, &r.e) == -1) {
		oauth_credentials_clear(&cred);
		finish(o, NULL, &r);
		return -1;
	}
	rc = oauth_authenticate(
	    o->ctx, &cred, confidential_only, o->addr, next, o, &r);
	oauth_credentials_clear(&cred);
	if (rc == -1) {
		finish(o, NULL, &r);
		return -1;
	}
	return 0;
}

/* A new request: tracked, form read. NULL: answered. */
static struct oauth_request *
begin(struct evhttp_request *req, struct auth_ctx *ctx)
{
	struct oauth_request *o = calloc(1, sizeof(*o));
	struct session_refusal r = { 0 };

	route_track(req, ctx);
	if (o == NULL) {
		err_set(&r.e, ERR_NOMEM, "request");
		route_untrack_if_orphaned(req, ctx);
		route_reply_refusal(req, &r);
		return NULL;
	}
	o->ctx = ctx;
	o->req = req;
	http_client_addr(req, o->addr, sizeof(o->addr));
	if (form_read(req, (size_t)ctx->cfg->max_body, &o->form, &r.e) == -1) {
		finish(o, NULL, &r);
		return NULL;
	}
	return o;
}

/* POST /token ------------------------------------------------------------ */

/* A grant refused: RFC 6749 5.2 calls wrong resource owner credentials
 * an invalid_grant (401 invalid_credentials on /login). */
static void
token_refused(struct oauth_request *o, const struct session_refusal *r)
{
	struct session_refusal mapped = *r;

	if (mapped.e.code == ERR_INVALID_CREDENTIALS)
		mapped.e.code = ERR_INVALID_GRANT;
	finish(o, NULL, &mapped);
}

static void
tokens_replied(
    const struct token_pair *pair, const struct session_refusal *r, void *arg)
{
	struct oauth_request *o = arg;
	struct json_object *body;

	if (r != NULL) {
		token_refused(o, r);
		return;
	}
	if ((body = token_pair_to_oauth_json(pair)) == NULL) {
		refuse(o, ERR_NOMEM, "token reply");
		return;
	}
	finish(o, body, NULL);
}

/* The client is known: may it use this grant? Then the grant. */
static void
token_authenticated(
    struct store_client *client, const struct session_refusal *ar, void *arg)
{
	struct oauth_request *o = arg;
	struct session_refusal r = { 0 };
	const struct form *f = o->form;
	struct session_client sc;
	const char *a, *b;
	size_t a_len = 0, b_len = 0;
	int rc;

	if (ar != NULL) {
		finish(o, NULL, ar);
		return;
	}
	sc = (struct session_client){ client->client_id, client->access_ttl,
		form_get(f, "scope", NULL) };
	if ((client->grant_types & o->grant) == 0 ||
	    (o->grant == STORE_GRANT_CLIENT_CREDENTIALS &&
	        client->secret_hash == NULL)) {
		/* RFC 6749 4.4: client_credentials is for confidential
		 * clients only. */
		store_client_free(client);
		refuse(o, ERR_UNAUTHORIZED_CLIENT, "grant not allowed");
		return;
	}
	switch (o->grant) {
	case STORE_GRANT_PASSWORD:
		a = form_get(f, "username", &a_len);
		b = form_get(f, "password", &b_len);
		rc = session_login(o->ctx, &sc, a, a_len, b, b_len, o->addr,
		    tokens_replied, o, &r);
		break;
	case STORE_GRANT_REFRESH_TOKEN:
		a = form_get(f, "refresh_token", &a_len);
		rc = session_refresh(
		    o->ctx, &sc, a, a_len, o->addr, tokens_replied, o, &r);
		break;
	default:
		rc = session_client_credentials(
		    o->ctx, client, sc.scope, o->addr, tokens_replied, o, &r);
		break;
	}
	store_client_free(client);
	if (rc == -1)
		token_refused(o, &r);
}

/* POST /token: grant_type password, refresh_token or client_credentials
 * (RFC 6749 4.3, 6, 4.4). */
void
oauth_route_token(struct evhttp_request *req, void *arg)
{
	struct auth_ctx *ctx = arg;
	struct oauth_request *o;
	const char *type, *required = NULL;
	size_t len = 0;

	if ((o = begin(req, ctx)) == NULL)
		return;
	if ((type = form_get(o->form, "grant_type", &len)) == NULL) {
		refuse(o, ERR_INVALID_REQUEST, "no grant_type");
		return;
	}
	o->grant = store_grant_type_parse(type, len);
	if (o->grant == 0 || (o->grant == STORE_GRANT_PASSWORD &&
	                         !ctx->cfg->allow_password_grant)) {
		refuse(o, ERR_UNSUPPORTED_GRANT_TYPE, "grant_type");
		return;
	}
	if (o->grant == STORE_GRANT_PASSWORD &&
	    form_get(o->form, "username", NULL) == NULL)
		required = "username";
	else if (o->grant == STORE_GRANT_PASSWORD)
		required = "password";
	else if (o->grant == STORE_GRANT_REFRESH_TOKEN)
		required = "refresh_token";
	(void)start(o, required, false, token_authenticated);
}

/* POST /revoke ----------------------------------------------------------- */

static void
revoke_replied(
    struct json_object *reply, const struct session_refusal *r, void *arg)
{
	struct oauth_request *o = arg;

	json_object_put(reply);
	/* RFC 7009 2.2: 200, whether or not there was anything to revoke. */
	finish(o, r == NULL ? json_object_new_object() : NULL, r);
}

static void
revoke_authenticated(
    struct store_client *client, const struct session_refusal *ar, void *arg)
{
	struct oauth_request *o = arg;
	struct session_refusal r = { 0 };
	size_t len = 0;
	const char *token = form_get(o->form, "token", &len);
	int rc;

	if (ar != NULL) {
		finish(o, NULL, ar);
		return;
	}
	rc = oauth_revoke(
	    o->ctx, client, token, len, o->addr, revoke_replied, o, &r);
	store_client_free(client);
	if (rc == -1)
		finish(o, NULL, &r);
}

/* POST /revoke {token, token_type_hint}: the hint is not needed (a token
 * says what it is) and is ignored, as RFC 7009 2.1 allows. */
void
oauth_route_revoke(struct evhttp_request *req, void *arg)
{
	struct oauth_request *o;

	if ((o = begin(req, arg)) == NULL)
		return;
	(void)start(o, "token", false, revoke_authenticated);
}

/* POST /introspect ------------------------------------------------------- */

static void
introspect_replied(
    struct json_object *reply, const struct session_refusal *r, void *arg)
{
	finish(arg, reply, r);
}

static void
introspect_authenticated(
    struct store_client *client, const struct session_refusal *ar, void *arg)
{
	struct oauth_request *o = arg;
	struct session_refusal r = { 0 };
	size_t len = 0;
	const char *token = form_get(o->form, "token", &len);
	int rc;

	if (ar != NULL) {
		finish(o, NULL, ar);
		return;
	}
	rc = oauth_introspect(
	    o->ctx, client, token, len, introspect_replied, o, &r);
	store_client_free(client);
	if (rc == -1)
		finish(o, NULL, &r);
}

/* POST /introspect {token}: confidential clients only (RFC 7662 2.1). */
void
oauth_route_introspect(struct evhttp_request *req, void *arg)
{
	struct oauth_request *o;

	if ((o = begin(req, arg)) == NULL)
		return;
	(void)start(o, "token", true, introspect_authenticated);
}

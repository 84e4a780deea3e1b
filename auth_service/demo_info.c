/* demo_info: the demo page's view of the issuer's configuration, so the
 * page never guesses a port and draws the RBAC model from the file the
 * tokens are made from. No secret is in it, but it shows every role's
 * permissions to anyone who can load the page, so it is served only while
 * the demo is (demo_dir): a deployment that turns the demo off turns this
 * off with it. */
#include "demo_info.h"

#include <json-c/json.h>

#include "http_util.h"
#include "log.h"
#include "service.h"

/* {"roles":{"<role>":["perm",...]}} in the file's order. */
static struct json_object *
demo_info_roles(const struct permissions *p)
{
	struct json_object *roles = json_object_new_object(), *list;

	if (roles == NULL)
		return NULL;
	for (size_t i = 0; p != NULL && i < p->n_roles; i++) {
		if ((list = json_object_new_array()) == NULL)
			goto fail;
		for (size_t j = 0; j < p->roles[i].n_perms; j++)
			json_object_array_add(
			    list, json_object_new_string(p->roles[i].perms[j]));
		json_object_object_add(roles, p->roles[i].name, list);
	}
	return roles;
fail:
	json_object_put(roles);
	return NULL;
}

void
demo_info_route(struct evhttp_request *req, void *arg)
{
	struct auth_ctx *ctx = arg;
	struct json_object *reply = NULL, *roles = NULL;
	struct err e = { 0 }, pe = { 0 };

	if (ctx->demo == NULL) {
		err_set(&e, ERR_NOT_FOUND, "demo is off");
		http_reply_error(req, &e);
		return;
	}
	/* The map the next token will be made from (as /login and /refresh
	 * see it): a changed file shows here without waiting for SIGHUP. */
	if (permissions_refresh(&ctx->perms, ctx->cfg->permissions, &pe) == -1)
		log_msg(LOG_ERROR, "permissions kept: %s", pe.msg);
	if ((reply = json_object_new_object()) == NULL ||
	    (roles = demo_info_roles(ctx->perms)) == NULL) {
		json_object_put(reply);
		err_set(&e, ERR_NOMEM, "demo info");
		http_reply_error(req, &e);
		return;
	}
	json_object_object_add(reply, "resource_origin",
	    json_object_new_string(ctx->cfg->demo_resource_origin));
	json_object_object_add(reply, "roles", roles);
	/* Revalidated on every use, like the page: a SIGHUP shows at once. */
	http_reply_json(req, HTTP_OK, reply, HTTP_NO_STORE);
}

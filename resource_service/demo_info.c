/* demo_info: the protected routes as JSON. The same rules every 403
 * already names one at a time (scope="...", RFC 6750 3.1), so nothing is
 * revealed that a client could not learn by asking each route. */
#include "demo_info.h"

#include <json-c/json.h>

#include "http_util.h"

static struct json_object *
demo_info_rule(const struct route_rule *r)
{
	struct json_object *o = json_object_new_object();

	if (o == NULL)
		return NULL;
	json_object_object_add(o, "method",
	    json_object_new_string(route_config_method_name(r->method)));
	json_object_object_add(o, "path", json_object_new_string(r->path));
	/* A public rule needs nothing; otherwise the permissions as the
	 * 403 names them, and whether all or any of them are needed. */
	json_object_object_add(o, "permission",
	    r->permission != NULL ? json_object_new_string_len(
	                                r->permission, (int)r->permission_len)
	                          : NULL);
	json_object_object_add(o, "mode",
	    json_object_new_string(r->need.mode == GUARD_PUBLIC   ? "public"
	                           : r->need.mode == GUARD_ANY_OF ? "any_of"
	                                                          : "all_of"));
	return o;
}

int
demo_info_reply(struct evhttp_request *req, const struct route_config *c)
{
	struct json_object *reply = json_object_new_object();
	struct json_object *list = json_object_new_array(), *rule;
	struct err e = { 0 };

	if (reply == NULL || list == NULL)
		goto fail;
	for (size_t i = 0; i < c->n_rules; i++) {
		if ((rule = demo_info_rule(&c->rules[i])) == NULL)
			goto fail;
		json_object_array_add(list, rule);
	}
	json_object_object_add(reply, "routes", list);
	/* A SIGHUP may change the table: never served from a cache. */
	http_reply_json(req, HTTP_OK, reply, HTTP_NO_STORE);
	return HTTP_OK;
fail:
	json_object_put(list);
	json_object_put(reply);
	err_set(&e, ERR_NOMEM, "demo routes");
	http_reply_error(req, &e);
	return http_status_for(e.code);
}

/* cors: preflight answers and response headers for one exact origin.
 * The origin is compared byte for byte (RFC 6454 5: origins are equal
 * only when scheme, host and port are), so "http://127.0.0.1:5000.evil"
 * or "http://localhost:5000" never match "http://127.0.0.1:5000". */
#include "cors.h"

#include <event2/keyvalq_struct.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static bool
cors_on(const struct cors_policy *p)
{
	return p != NULL && p->origin != NULL && p->origin[0] != '\0';
}

int
cors_check_origin(const char *origin, struct err *e)
{
	const char *host;

	if (strncmp(origin, "http://", 7) == 0)
		host = origin + 7;
	else if (strncmp(origin, "https://", 8) == 0)
		host = origin + 8;
	else
		return err_set(e, ERR_CONFIG,
		    "cors_origin: expected http://host[:port] or https://...");
	if (*host == '\0' || *host == ':')
		return err_set(e, ERR_CONFIG, "cors_origin: no host");
	for (const char *c = host; *c != '\0'; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') ||
		        *c == '.' || *c == '-' || *c == ':' || *c == '[' ||
		        *c == ']'))
			/* Browsers send the host lower-case, without a path
			 * or a trailing slash: anything else never matches. */
			return err_set(e, ERR_CONFIG,
			    "cors_origin: unexpected \"%c\" (lower-case host "
			    "and port only, no path)",
			    *c);
	return 0;
}

/* The one value of a request header, or NULL if absent or repeated. */
static const char *
cors_header(struct evhttp_request *req, const char *name)
{
	struct evkeyvalq *in = evhttp_request_get_input_headers(req);
	const char *value = NULL;

	for (struct evkeyval *h = in->tqh_first; h != NULL;
	     h = h->next.tqe_next) {
		if (strcasecmp(h->key, name) != 0)
			continue;
		if (value != NULL)
			return NULL;
		value = h->value;
	}
	return value;
}

/* Access-Control-Request-Headers: a comma list; only Authorization is
 * needed by a client sending Bearer tokens (RFC 6750 2.1). */
static bool
cors_headers_ok(const char *list)
{
	const char *p = list;

	while (p != NULL && *p != '\0') {
		size_t n;

		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		n = strcspn(p, ", \t");
		if (n > 0 &&
		    !(n == 13 && strncasecmp(p, "authorization", 13) == 0))
			return false;
		p += n;
	}
	return true;
}

static bool
cors_method_ok(const char *m)
{
	return strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0 ||
	       strcmp(m, "DELETE") == 0;
}

bool
cors_handle(const struct cors_policy *p, struct evhttp_request *req)
{
	struct evkeyvalq *out;
	const char *origin, *method, *hdrs;
	char age[16];

	if (!cors_on(p))
		return false;
	out = evhttp_request_get_output_headers(req);
	/* The answer depends on Origin: a shared cache must keep them
	 * apart (RFC 9110 12.5.5). */
	evhttp_add_header(out, "Vary", "Origin");
	origin = cors_header(req, "Origin");
	if (origin == NULL || strcmp(origin, p->origin) != 0)
		return false;
	method = cors_header(req, "Access-Control-Request-Method");
	if (evhttp_request_get_command(req) == EVHTTP_REQ_OPTIONS &&
	    method != NULL) {
		hdrs = cors_header(req, "Access-Control-Request-Headers");
		/* A preflight asking for more than we allow gets no CORS
		 * headers: the browser then blocks the real request. */
		if (!cors_method_ok(method) ||
		    (hdrs != NULL && !cors_headers_ok(hdrs)))
			return false;
		snprintf(age, sizeof(age), "%d", CORS_MAX_AGE);
		evhttp_add_header(
		    out, "Access-Control-Allow-Origin", p->origin);
		evhttp_add_header(
		    out, "Access-Control-Allow-Methods", "GET, HEAD, DELETE");
		evhttp_add_header(
		    out, "Access-Control-Allow-Headers", "Authorization");
		evhttp_add_header(out, "Access-Control-Max-Age", age);
		evhttp_send_reply(req, 204, "No Content", NULL);
		return true;
	}
	evhttp_add_header(out, "Access-Control-Allow-Origin", p->origin);
	/* The demo shows the challenge of a 401/403 (RFC 6750 3); a
	 * script may read only the headers exposed here. */
	evhttp_add_header(out, "Access-Control-Expose-Headers",
	    "WWW-Authenticate, Retry-After");
	return false;
}

/* http_url: parse and check a fetch URL once, for every caller. */
#include "http_url.h"

#include <event2/http.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void
http_url_clear(struct http_url *u)
{
	free(u->connect_host);
	free(u->host_header);
	free(u->target);
	*u = (struct http_url){ 0 };
}

static int
http_url_fill(const struct evhttp_uri *uri, struct http_url *out)
{
	const char *host = evhttp_uri_get_host(uri);
	const char *path = evhttp_uri_get_path(uri);
	const char *query = evhttp_uri_get_query(uri);
	int port = evhttp_uri_get_port(uri);
	size_t hlen = strlen(host) + 8, tlen;

	if (path == NULL || path[0] == '\0')
		path = "/";
	tlen = strlen(path) + (query != NULL ? strlen(query) + 1 : 0) + 1;
	/* An IPv6 literal keeps its brackets in the URL and in Host (RFC
	 * 3986 3.2.2), but the address connected to is what lies inside. */
	if (host[0] == '[' && strlen(host) > 2)
		out->connect_host = strndup(host + 1, strlen(host) - 2);
	else
		out->connect_host = strdup(host);
	out->host_header = malloc(hlen);
	out->target = malloc(tlen);
	if (out->connect_host == NULL || out->host_header == NULL ||
	    out->target == NULL)
		return -1;
	if (port > 0)
		snprintf(out->host_header, hlen, "%s:%d", host, port);
	else
		snprintf(out->host_header, hlen, "%s", host);
	snprintf(out->target, tlen, "%s%s%s", path, query != NULL ? "?" : "",
	    query != NULL ? query : "");
	out->port = port > 0 ? port : out->tls ? 443 : 80;
	return 0;
}

int
http_url_parse(const char *url, struct http_url *out, struct err *e)
{
	struct evhttp_uri *uri = evhttp_uri_parse_with_flags(url, 0);
	const char *scheme, *host;
	int rc = -1;

	*out = (struct http_url){ 0 };
	if (uri == NULL) {
		err_set(e, ERR_CONFIG, "not a URL");
		goto out;
	}
	scheme = evhttp_uri_get_scheme(uri);
	host = evhttp_uri_get_host(uri);
	/* https: verified against the trusted CAs, the host name checked
	 * (tls.c); http: for loopback and the demo. */
	if (scheme == NULL || (strcasecmp(scheme, "http") != 0 &&
	                          strcasecmp(scheme, "https") != 0)) {
		err_set(e, ERR_CONFIG, "expected an http:// or https:// URL");
		goto out;
	}
	out->tls = strcasecmp(scheme, "https") == 0;
	if (host == NULL || host[0] == '\0' ||
	    evhttp_uri_get_userinfo(uri) != NULL ||
	    evhttp_uri_get_fragment(uri) != NULL) {
		err_set(e, ERR_CONFIG,
		    "expected http[s]://host[:port]/path without userinfo or "
		    "fragment");
		goto out;
	}
	if (http_url_fill(uri, out) == -1) {
		http_url_clear(out);
		err_set(e, ERR_NOMEM, "URL");
		goto out;
	}
	rc = 0;
out:
	if (uri != NULL) /* libevent 2.1's evhttp_uri_free(NULL) crashes */
		evhttp_uri_free(uri);
	return rc;
}

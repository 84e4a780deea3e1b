/* admin_fetch: a blocking GET on a private event base: the tool has
 * nothing else to do while it waits. */
#include "admin_fetch.h"

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http_url.h"
#include "listener.h"
#include "tls.h"

struct admin_fetch_state {
	struct event_base *base;
	char *body;
	size_t len;
	struct err *e;
	int done;
};

static void
admin_fetch_done(struct evhttp_request *req, void *arg)
{
	struct admin_fetch_state *s = arg;
	struct evbuffer *in;
	size_t n;
	int code;

	s->done = 1;
	event_base_loopexit(s->base, NULL);
	/* libevent passes NULL (or a request without a status) when the
	 * connection failed or timed out. */
	if (req == NULL ||
	    (code = evhttp_request_get_response_code(req)) == 0) {
		err_set(
		    s->e, ERR_IO, "no answer (refused, reset or timed out)");
		return;
	}
	if (code != 200) {
		err_set(s->e, ERR_IO, "HTTP status %d", code);
		return;
	}
	in = evhttp_request_get_input_buffer(req);
	n = evbuffer_get_length(in);
	if (n > ADMIN_FETCH_MAX) {
		err_set(s->e, ERR_IO, "response larger than %ld bytes",
		    ADMIN_FETCH_MAX);
		return;
	}
	if ((s->body = malloc(n + 1)) == NULL) {
		err_set(s->e, ERR_NOMEM, "response");
		return;
	}
	evbuffer_remove(in, s->body, n);
	s->body[n] = '\0';
	s->len = n;
}

int
admin_fetch(const char *url, char **body, size_t *len, struct err *e)
{
	struct admin_fetch_state s = { .e = e };
	struct http_url u = { 0 };
	struct evhttp_connection *conn = NULL;
	struct evhttp_request *req = NULL;
	struct tls_client *tls = NULL;
	struct bufferevent *bev = NULL;
	struct err ue = { 0 };
	char why[160] = "";
	int rc = -1;

	*body = NULL;
	*len = 0;
	if (http_url_parse(url, &u, &ue) == -1) {
		err_set(e, ue.code, "%s: %s", url, ue.msg);
		goto out;
	}
	if ((s.base = event_base_new()) == NULL) {
		err_set(e, ERR_NOMEM, "HTTP client");
		goto out;
	}
	/* https: the system CAs (SSL_CERT_FILE names others), the host
	 * name verified (tls.c). */
	if (u.tls && ((tls = tls_client_new(NULL, e)) == NULL ||
	                 (bev = tls_client_bufferevent(
	                      tls, s.base, u.connect_host, e)) == NULL))
		goto out;
	if ((conn = evhttp_connection_base_bufferevent_new(s.base, NULL, bev,
	         u.connect_host, (ev_uint16_t)u.port)) == NULL) {
		bufferevent_free(bev);
		err_set(e, ERR_NOMEM, "HTTP client");
		goto out;
	}
	evhttp_connection_set_timeout(conn, ADMIN_FETCH_TIMEOUT);
	evhttp_connection_set_max_body_size(conn, ADMIN_FETCH_MAX);
	if ((req = evhttp_request_new(admin_fetch_done, &s)) == NULL) {
		err_set(e, ERR_NOMEM, "HTTP request");
		goto out;
	}
	evhttp_add_header(
	    evhttp_request_get_output_headers(req), "Host", u.host_header);
	evhttp_add_header(evhttp_request_get_output_headers(req), "Accept",
	    "application/json");
	/* evhttp_make_request owns req from here, even on failure. */
	if (evhttp_make_request(conn, req, EVHTTP_REQ_GET, u.target) == -1) {
		err_set(e, ERR_IO, "%s: request failed", url);
		goto out;
	}
	event_base_dispatch(s.base);
	if (u.tls)
		tls_client_error(
		    evhttp_connection_get_bufferevent(conn), why, sizeof(why));
	if (why[0] != '\0') {
		/* The TLS reason says more than the callback's "no answer". */
		*e = (struct err){ 0 };
		err_set(e, ERR_IO, "%s: %s", url, why);
	}
	if (!s.done)
		err_set(e, ERR_IO, "%s: no answer", url);
	if (s.body == NULL) {
		err_set(e, ERR_IO, "%s: fetch failed", url);
		goto out;
	}
	*body = s.body;
	*len = s.len;
	s.body = NULL;
	rc = 0;
out:
	free(s.body);
	if (conn != NULL)
		evhttp_connection_free(conn);
	listener_free_base(s.base);
	tls_client_free(tls);
	http_url_clear(&u);
	return rc;
}

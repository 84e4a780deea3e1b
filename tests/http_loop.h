/* http_loop.h: for unit tests of HTTP handlers: one event base holding an
 * evhttp server on 127.0.0.1 (a free port) and a client connection to it,
 * so a test sends a real request and reads the real reply, in-process. */
#ifndef JWT_TEST_HTTP_LOOP_H
#define JWT_TEST_HTTP_LOOP_H

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#define HTTP_LOOP_MAX_HEADERS 32

struct http_loop_reply {
	int status;
	size_t n_headers;
	char keys[HTTP_LOOP_MAX_HEADERS][64];
	char values[HTTP_LOOP_MAX_HEADERS][1024];
	char body[16384];
	size_t body_len;
};

struct http_loop {
	struct event_base *base;
	struct evhttp *http;
	struct evhttp_connection *conn;
	struct http_loop_reply reply;
};

static inline void
http_loop_done(struct evhttp_request *req, void *arg)
{
	struct http_loop *l = arg;
	struct http_loop_reply *r = &l->reply;
	struct evkeyval *h;

	memset(r, 0, sizeof(*r));
	if (req != NULL) {
		struct evbuffer *in = evhttp_request_get_input_buffer(req);
		r->status = evhttp_request_get_response_code(req);
		for (h = evhttp_request_get_input_headers(req)->tqh_first;
		     h != NULL && r->n_headers < HTTP_LOOP_MAX_HEADERS;
		     h = h->next.tqe_next, r->n_headers++) {
			snprintf(r->keys[r->n_headers], 64, "%s", h->key);
			snprintf(r->values[r->n_headers], 1024, "%s", h->value);
		}
		r->body_len = evbuffer_remove(in, r->body, sizeof(r->body) - 1);
	}
	event_base_loopbreak(l->base);
}

/* Starts the server with handler as its generic callback. 0 or -1. */
static inline int
http_loop_start(struct http_loop *l,
    void (*handler)(struct evhttp_request *, void *), void *arg)
{
	struct evhttp_bound_socket *b;
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);

	memset(l, 0, sizeof(*l));
	if ((l->base = event_base_new()) == NULL ||
	    (l->http = evhttp_new(l->base)) == NULL)
		return -1;
	evhttp_set_allowed_methods(
	    l->http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD | EVHTTP_REQ_POST |
	                 EVHTTP_REQ_OPTIONS | EVHTTP_REQ_DELETE);
	evhttp_set_gencb(l->http, handler, arg);
	if ((b = evhttp_bind_socket_with_handle(l->http, "127.0.0.1", 0)) ==
	        NULL ||
	    getsockname(evhttp_bound_socket_get_fd(b), (struct sockaddr *)&sin,
	        &len) == -1)
		return -1;
	l->conn = evhttp_connection_base_new(
	    l->base, NULL, "127.0.0.1", ntohs(sin.sin_port));
	return l->conn != NULL ? 0 : -1;
}

/* Sends one request (headers: NULL-terminated name, value pairs) and
 * runs the loop until the reply is in l->reply. */
static inline int
http_loop_request(struct http_loop *l, enum evhttp_cmd_type method,
    const char *path, const char *const *headers)
{
	struct evhttp_request *req = evhttp_request_new(http_loop_done, l);
	struct evkeyvalq *out;

	if (req == NULL)
		return -1;
	out = evhttp_request_get_output_headers(req);
	evhttp_add_header(out, "Host", "127.0.0.1");
	for (size_t i = 0; headers != NULL && headers[i] != NULL; i += 2)
		evhttp_add_header(out, headers[i], headers[i + 1]);
	if (evhttp_make_request(l->conn, req, method, path) == -1)
		return -1;
	event_base_dispatch(l->base);
	return 0;
}

/* The value of a reply header (case-insensitive), or NULL. */
static inline const char *
http_loop_header(const struct http_loop *l, const char *name)
{
	for (size_t i = 0; i < l->reply.n_headers; i++)
		if (strcasecmp(l->reply.keys[i], name) == 0)
			return l->reply.values[i];
	return NULL;
}

static inline void
http_loop_free(struct http_loop *l)
{
	if (l->conn != NULL)
		evhttp_connection_free(l->conn);
	if (l->http != NULL)
		evhttp_free(l->http);
	if (l->base != NULL)
		event_base_free(l->base);
}

#endif

/* listener: how both daemons accept and keep HTTP connections, on top of
 * evhttp. Descriptors: the soft RLIMIT_NOFILE is raised to the hard one at
 * the first listen; at most max_connections are held (beyond it an idle
 * connection makes room, else the new one is closed at once); accepting
 * pauses on EMFILE/ENFILE and resumes when a descriptor frees, never a busy
 * loop. Slow clients: a deadline for the whole request head and one for
 * the body (408 and a close), an idle keep-alive timeout, and a cap per
 * client address. Such events are logged at most once a second per kind,
 * with a count. */
#ifndef JWT_LISTENER_H
#define JWT_LISTENER_H

#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <stdint.h>

/* Descriptors kept free for everything but client connections (database,
 * JWKS fetches, event bases) when max_connections is left at 0. */
#define LISTENER_FD_RESERVE 64

/* The settings, as both daemons' config tables name them (seconds). */
struct listener_limits {
	int64_t max_connections;        /* 0: the descriptor limit less the
	                                   reserve */
	int64_t max_client_connections; /* per client address (IPv6: per
	                                   /64); 0: no cap */
	int64_t header_timeout; /* the whole head, from its first byte (the
	                           first request: from the accept) */
	int64_t body_timeout;   /* the whole body, from the end of the head */
	int64_t idle_timeout;   /* keep-alive: between two requests */
	/* Not settings: makes each connection's bufferevent (tls.c's for
	 * an HTTPS listener); NULL: a plain socket. */
	struct bufferevent *(*make_bev)(struct event_base *base, void *arg);
	void *make_bev_arg;
};

/* Raises the soft descriptor limit to the hard one (once per process) and
 * logs both. Returns the soft limit now in force. */
int64_t listener_raise_fd_limit(void);

/* Binds address:port (backlog 1024) and serves it with http under lim
 * (copied). The handle is evhttp's: evhttp_del_accept_socket() stops it.
 * NULL with errno set on failure. */
struct evhttp_bound_socket *listener_bind(struct event_base *base,
    struct evhttp *http, const char *address, uint16_t port,
    const struct listener_limits *lim);

/* The same on a socket already listening; on success evhttp owns fd.
 * base is http's. */
struct evhttp_bound_socket *listener_accept(struct event_base *base,
    struct evhttp *http, int fd, const struct listener_limits *lim);

/* Connections held now by the whole process (for tests and /metrics). */
int64_t listener_connections(void);

/* Appends, in the Prometheus text format, jwt_http_connections_open and
 * jwt_http_connection_events_total{event} (refusals, deadline closes,
 * evictions, accept pauses since start): the same for both daemons. */
void listener_metrics_render(struct evbuffer *out);

/* Frees a base whose evhttp objects and connections are already freed.
 * A bufferevent with a deferred callback still queued (a TLS read or a
 * connect result in the same pass as the stop signal) is kept alive by
 * that callback; event_base_free() would drop it unrun and leak the
 * bufferevent and its TLS session, so one non-blocking pass runs it
 * first. NULL is a no-op. */
void listener_free_base(struct event_base *base);

#endif

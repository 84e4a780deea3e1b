/* listener: accepting and keeping connections within budgets of
 * descriptors, time and client address. One struct listener per evhttp (a
 * worker's); the process-wide counts live in conn_budget.c.
 *
 * evhttp (libevent 2.1) offers no hook at accept time or when a request
 * head is complete, and its own timeout is per read: a client sending a
 * byte every few seconds keeps it from ever firing (slowloris). So each
 * connection is watched from the outside, through public interfaces only:
 * the bufferevent is ours (evhttp_set_bevcb), its input buffer's callback
 * sees every byte arrive, its output buffer's callback sees a reply start
 * and leave, and evhttp stops reading while a handler holds a request. A
 * connection is closed by us only while no handler holds its request
 * (waiting, or reading a head or a body): reading is stopped, then the
 * connection freed from our timer, outside every evhttp callback. */
#include "listener.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "conn_budget.h"
#include "http_util.h"
#include "log.h"

#define LISTENER_BACKLOG 1024
#define LISTENER_RESUME_MS 100  /* accepting paused: try again after */
#define LISTENER_LINGER_MS 2000 /* after a 408: read and drop, then close */

enum conn_state {
	CONN_NEW,     /* accepted, not yet admitted */
	CONN_WAIT,    /* no byte of the next request yet */
	CONN_HEAD,    /* reading the head */
	CONN_BODY,    /* the head is in: reading the body, or dispatched */
	CONN_BUSY,    /* a handler holds the request or its reply is leaving */
	CONN_LINGER,  /* 408 sent: input read and dropped until the close */
	CONN_CLOSING, /* to be freed from the timer (not inside a callback) */
};

struct conn {
	struct listener *l;
	struct bufferevent *bev;
	struct evhttp_connection *evcon;
	struct evbuffer_cb_entry *in_cb, *out_cb;
	struct event *timer;
	struct event *linger; /* reads and drops input after a 408 */
	int64_t timer_at;     /* ms the timer is due; 0: not pending */
	int64_t accepted;     /* ms */
	int64_t since;        /* ms: start of the state's deadline */
	enum conn_state state;
	bool first;         /* no reply sent yet on this connection */
	bool replying;      /* a reply (not a 100 Continue) is leaving */
	bool counted;       /* in the total and the address table */
	unsigned char scan; /* head end: 0 in a line, 1 after LF, 2 LF CR */
	int fd;
	unsigned char addr[CONN_BUDGET_ADDR_LEN];
	struct conn *prev, *next; /* the listener's idle list (CONN_WAIT) */
};

struct listener {
	struct evhttp *http;
	struct event_base *base;
	struct listener_limits lim;
	int64_t max; /* max_connections in force */
	struct event *resume_ev;
	struct event *flush_ev;
	bool paused;
	int64_t pending;                    /* accepted, not yet admitted */
	struct conn *idle_head, *idle_tail; /* oldest first */
	struct listener *next;
};

/* Guards the registry; taken when a listener starts or fails to accept. */
static pthread_mutex_t listener_lock = PTHREAD_MUTEX_INITIALIZER;
static struct listener *listeners;

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
flush_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	conn_budget_flush();
}

/* One event: said now if its kind was quiet for a second, else said with
 * the others by this listener's flush timer a second later. */
static void
note(struct listener *l, enum conn_note k, int err)
{
	const struct timeval second = { 1, 0 };

	if (conn_budget_note(k, err) && !evtimer_pending(l->flush_ev, NULL))
		evtimer_add(l->flush_ev, &second);
}

int64_t
listener_raise_fd_limit(void)
{
	return conn_budget_fd_limit();
}

int64_t
listener_connections(void)
{
	return conn_budget_total();
}

void
listener_metrics_render(struct evbuffer *out)
{
	static const char *const event_label[CONN_NOTE_COUNT] = {
		[CONN_NOTE_PAUSED] = "accept_paused",
		[CONN_NOTE_ACCEPT_ERROR] = "accept_error",
		[CONN_NOTE_EVICTED] = "idle_evicted",
		[CONN_NOTE_REFUSED] = "refused_max_connections",
		[CONN_NOTE_CLIENT_CAP] = "refused_client_cap",
		[CONN_NOTE_HEAD_TIMEOUT] = "header_timeout",
		[CONN_NOTE_BODY_TIMEOUT] = "body_timeout",
	};

	evbuffer_add_printf(out,
	    "# HELP jwt_http_connections_open client connections held now\n"
	    "# TYPE jwt_http_connections_open gauge\n"
	    "jwt_http_connections_open %lld\n"
	    "# HELP jwt_http_connection_events_total connections refused, "
	    "closed by a deadline or evicted, and accept pauses, by event\n"
	    "# TYPE jwt_http_connection_events_total counter\n",
	    (long long)conn_budget_total());
	for (int k = 0; k < CONN_NOTE_COUNT; k++)
		evbuffer_add_printf(out,
		    "jwt_http_connection_events_total{event=\"%s\"} %lld\n",
		    event_label[k],
		    (long long)conn_budget_note_total((enum conn_note)k));
}

static void
idle_remove(struct conn *c)
{
	struct listener *l = c->l;

	if (c->prev == NULL && l->idle_head != c)
		return; /* not listed */
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		l->idle_head = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	else
		l->idle_tail = c->prev;
	c->prev = c->next = NULL;
}

static void
idle_append(struct conn *c)
{
	struct listener *l = c->l;

	c->prev = l->idle_tail;
	c->next = NULL;
	if (l->idle_tail != NULL)
		l->idle_tail->next = c;
	else
		l->idle_head = c;
	l->idle_tail = c;
}

static void
conn_arm(struct conn *c, int64_t deadline, int64_t now)
{
	struct timeval tv;
	int64_t wait = deadline > now ? deadline - now : 0;

	/* A timer due earlier fires, finds its deadline moved, and re-arms:
	 * one event_add per request rather than one per state. */
	if (c->timer_at != 0 && c->timer_at <= deadline)
		return;
	tv.tv_sec = (time_t)(wait / 1000);
	tv.tv_usec = (suseconds_t)(wait % 1000) * 1000;
	evtimer_add(c->timer, &tv);
	c->timer_at = deadline;
}

static int64_t
conn_deadline(const struct conn *c)
{
	const struct listener_limits *lim = &c->l->lim;

	switch (c->state) {
	case CONN_WAIT:
		return c->since + 1000 * (c->first ? lim->header_timeout
		                                   : lim->idle_timeout);
	case CONN_HEAD:
		return c->since + 1000 * lim->header_timeout;
	case CONN_BODY:
		return c->since + 1000 * lim->body_timeout;
	default:
		return 0;
	}
}

static void
linger_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	char buf[4096];
	ssize_t n;

	(void)what;
	while ((n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0)
		;
	if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
		evhttp_connection_free(c->evcon); /* releases c */
}

/* Closes c from our side, never from inside one of its callbacks (the
 * timer frees it): a request not handed to a handler yet, so freeing the
 * connection frees nothing a handler holds. With reply, a 408 goes first
 * and the input is read and dropped for a while before the close (a
 * lingering close, as nginx's): closing with unread input would send a
 * reset that can destroy the 408 before the client reads it. */
static void
conn_shut(struct conn *c, bool reply)
{
	const struct timeval now = { 0, 0 };
	const struct timeval linger = { LISTENER_LINGER_MS / 1000,
		(suseconds_t)(LISTENER_LINGER_MS % 1000) * 1000 };
	char buf[512];
	size_t n;

	if (c->state == CONN_CLOSING || c->state == CONN_LINGER)
		return;
	idle_remove(c);
	c->timer_at = 0;
	if (c->replying || !(bufferevent_get_enabled(c->bev) & EV_READ)) {
		/* A handler holds its request: only evhttp may free it, which
		 * it does when the reply meets the shut socket. */
		shutdown(c->fd, SHUT_RDWR);
		c->state = CONN_BUSY;
		return;
	}
	if (reply &&
	    (n = http_error_bytes(ERR_REQUEST_TIMEOUT, buf, sizeof(buf))) > 0 &&
	    send(c->fd, buf, n, MSG_DONTWAIT | MSG_NOSIGNAL) == (ssize_t)n &&
	    shutdown(c->fd, SHUT_WR) == 0 &&
	    (c->linger = event_new(bufferevent_get_base(c->bev), c->fd,
	         EV_READ | EV_PERSIST, linger_cb, c)) != NULL &&
	    event_add(c->linger, NULL) == 0) {
		/* evhttp reads no more of it: no request completes after
		 * its 408. */
		bufferevent_disable(c->bev, EV_READ);
		c->state = CONN_LINGER;
		evtimer_add(c->timer, &linger);
		return;
	}
	/* Nothing more is read, so no request can reach a handler before
	 * the timer frees the connection. */
	bufferevent_disable(c->bev, EV_READ);
	c->state = CONN_CLOSING;
	evtimer_add(c->timer, &now);
}

/* The scan state after a run of bytes holding no newline: 1 (a line just
 * ended) becomes 2 after carriage returns only; anything else starts a
 * line (0). */
static int
scan_run(int state, const unsigned char *s, size_t n)
{
	size_t i = n;

	while (i > 0 && s[i - 1] == '\r')
		i--;
	if (i > 0)
		return 0;
	return n > 0 && state == 1 ? 2 : state;
}

/* Looks for the end of the head (an empty line, CRLF or a bare LF as
 * evhttp accepts) in the input from offset on, a line at a time
 * (memchr), so a request costs a few calls rather than a test per
 * byte. */
static bool
conn_scan(struct conn *c, struct evbuffer *in, size_t offset)
{
	struct evbuffer_iovec v[8];
	struct evbuffer_ptr p;
	int n;

	while (offset < evbuffer_get_length(in)) {
		if (evbuffer_ptr_set(in, &p, offset, EVBUFFER_PTR_SET) == -1 ||
		    (n = evbuffer_peek(in, -1, &p, v, 8)) <= 0)
			return false;
		for (int i = 0; i < n && i < 8; i++) {
			const unsigned char *s = v[i].iov_base;
			const unsigned char *end = s + v[i].iov_len, *nl;

			while (
			    (nl = memchr(s, '\n', (size_t)(end - s))) != NULL) {
				if (scan_run(c->scan, s, (size_t)(nl - s)) != 0)
					return true;
				c->scan = 1;
				s = nl + 1;
			}
			c->scan = scan_run(c->scan, s, (size_t)(end - s));
			offset += v[i].iov_len;
		}
	}
	return false;
}

/* Bytes of a request arrived from offset on: the head deadline starts
 * with the first (with the accept on a new connection), the body
 * deadline with the end of the head. */
static void
conn_bytes(struct conn *c, struct evbuffer *in, size_t offset)
{
	int64_t now = now_ms();

	if (c->state == CONN_WAIT) {
		idle_remove(c);
		c->state = CONN_HEAD;
		c->since = c->first ? c->accepted : now;
		c->scan = 0;
	}
	if (c->state != CONN_HEAD || !conn_scan(c, in, offset))
		return;
	c->state = CONN_BODY;
	c->since = now;
	conn_arm(c, conn_deadline(c), now);
}

static void
conn_wait(struct conn *c)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);
	int64_t now = now_ms();

	c->state = CONN_WAIT;
	c->since = c->first ? c->accepted : now;
	idle_append(c);
	conn_arm(c, conn_deadline(c), now);
	if (evbuffer_get_length(in) > 0) /* pipelined */
		conn_bytes(c, in, 0);
}

static void
conn_release(struct conn *c)
{
	struct listener *l = c->l;

	idle_remove(c);
	evbuffer_remove_cb_entry(bufferevent_get_input(c->bev), c->in_cb);
	evbuffer_remove_cb_entry(bufferevent_get_output(c->bev), c->out_cb);
	if (c->linger != NULL)
		event_free(c->linger);
	if (c->counted)
		conn_budget_give(c->addr);
	event_free(c->timer);
	free(c);
	/* A descriptor is free again. */
	if (l->paused)
		event_active(l->resume_ev, EV_TIMEOUT, 1);
}

static void
conn_closed_cb(struct evhttp_connection *evcon, void *arg)
{
	(void)evcon;
	conn_release(arg);
}

/* Just after the accept: the connection counts, or is closed at once. */
static void
conn_admit(struct conn *c)
{
	struct listener *l = c->l;
	void *arg = NULL;
	int64_t total, mine;

	/* evhttp gave the bufferevent its callbacks with the connection as
	 * their argument; none means it has freed the connection already. */
	l->pending--;
	bufferevent_getcb(c->bev, NULL, NULL, NULL, &arg);
	if (arg == NULL || evhttp_connection_get_bufferevent(arg) != c->bev) {
		struct bufferevent *bev = c->bev;

		evbuffer_remove_cb_entry(bufferevent_get_input(bev), c->in_cb);
		evbuffer_remove_cb_entry(
		    bufferevent_get_output(bev), c->out_cb);
		event_free(c->timer);
		free(c);
		bufferevent_decref(bev);
		return;
	}
	bufferevent_decref(c->bev); /* evhttp's own reference remains */
	c->evcon = arg;
	evhttp_connection_set_closecb(c->evcon, conn_closed_cb, c);
	c->fd = bufferevent_getfd(c->bev);
	conn_budget_addr_key(c->fd, c->addr);
	c->counted = true;
	total = conn_budget_take(c->addr, &mine);
	c->state = CONN_HEAD; /* not idle: never evicted for itself */
	if (l->lim.max_client_connections > 0 &&
	    (mine < 0 || mine > l->lim.max_client_connections)) {
		note(l, CONN_NOTE_CLIENT_CAP, 0);
		conn_shut(c, false);
		return;
	}
	if (total > l->max) {
		/* An idle connection is the cheapest to drop: its client
		 * may reconnect at any time anyway (RFC 9112 9.5). */
		if (l->idle_head != NULL) {
			note(l, CONN_NOTE_EVICTED, 0);
			conn_shut(l->idle_head, false);
		} else {
			note(l, CONN_NOTE_REFUSED, 0);
			conn_shut(c, false);
			return;
		}
	}
	conn_wait(c);
}

static void
conn_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	int64_t now = now_ms(), deadline;

	(void)fd;
	(void)what;
	c->timer_at = 0;
	if (c->state == CONN_NEW) {
		conn_admit(c);
		return;
	}
	if (c->state == CONN_CLOSING || c->state == CONN_LINGER) {
		evhttp_connection_free(c->evcon); /* releases c */
		return;
	}
	/* evhttp stops reading while a handler holds the request: no
	 * deadline of the client's runs then. */
	if ((c->state == CONN_HEAD || c->state == CONN_BODY) &&
	    !(bufferevent_get_enabled(c->bev) & EV_READ)) {
		c->state = CONN_BUSY;
		return;
	}
	if ((deadline = conn_deadline(c)) == 0)
		return;
	if (now < deadline) {
		conn_arm(c, deadline, now);
		return;
	}
	if (c->state == CONN_HEAD)
		note(c->l, CONN_NOTE_HEAD_TIMEOUT, 0);
	else if (c->state == CONN_BODY)
		note(c->l, CONN_NOTE_BODY_TIMEOUT, 0);
	/* An idle connection closes quietly (RFC 9112 9.5); a request
	 * begun gets its 408. */
	conn_shut(c, c->state != CONN_WAIT);
}

static void
conn_input_cb(
    struct evbuffer *in, const struct evbuffer_cb_info *info, void *arg)
{
	struct conn *c = arg;

	if (info->n_added == 0)
		return;
	if (c->state == CONN_NEW)
		return; /* the admission, due before any read, looks at them */
	if (c->state == CONN_WAIT || c->state == CONN_HEAD)
		conn_bytes(c, in, evbuffer_get_length(in) - info->n_added);
}

/* A reply starts (its status line is the first thing in the empty
 * output, and is not a 100 Continue), then drains: the next request may
 * begin. evhttp keeps reading while it writes, for close detection, so
 * the output is the only sign. */
static void
conn_output_cb(
    struct evbuffer *out, const struct evbuffer_cb_info *info, void *arg)
{
	struct conn *c = arg;
	char line[13];

	if (c->state != CONN_HEAD && c->state != CONN_BODY &&
	    c->state != CONN_BUSY)
		return;
	if (info->n_added > 0 && info->orig_size == 0 && !c->replying) {
		if (evbuffer_copyout(out, line, sizeof(line)) ==
		        (ev_ssize_t)sizeof(line) &&
		    memcmp(line + 8, " 100 ", 5) == 0)
			return; /* 100 Continue: the body follows */
		c->replying = true;
		c->state = CONN_BUSY;
		return;
	}
	if (info->n_deleted == 0 || evbuffer_get_length(out) > 0 ||
	    !c->replying)
		return;
	c->replying = false;
	c->first = false;
	conn_wait(c);
}

static void
disable_one(struct evhttp_bound_socket *b, void *arg)
{
	(void)arg;
	evconnlistener_disable(evhttp_bound_socket_get_listener(b));
}

/* evhttp_set_bevcb: each accepted connection's bufferevent, made here so
 * that it can be watched. Admission runs as soon as evhttp has set the
 * connection up, before any of its bytes are read. */
static struct bufferevent *
conn_new_bev(struct event_base *base, void *arg)
{
	struct conn *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL; /* evhttp makes its own; this one goes unwatched */
	c->l = arg;
	c->fd = -1;
	c->first = true;
	c->accepted = c->since = now_ms();
	/* Options as evhttp's own: it closes the descriptor itself. A TLS
	 * bufferevent closes it on free (evhttp sees the option); its
	 * buffers hold the plaintext, watched the same way. */
	c->bev = c->l->lim.make_bev != NULL
	             ? c->l->lim.make_bev(base, c->l->lim.make_bev_arg)
	             : bufferevent_socket_new(base, -1, 0);
	c->timer = evtimer_new(base, conn_timer_cb, c);
	if (c->bev == NULL || c->timer == NULL ||
	    (c->in_cb = evbuffer_add_cb(
	         bufferevent_get_input(c->bev), conn_input_cb, c)) == NULL ||
	    (c->out_cb = evbuffer_add_cb(
	         bufferevent_get_output(c->bev), conn_output_cb, c)) == NULL) {
		if (c->bev != NULL)
			bufferevent_free(c->bev);
		if (c->timer != NULL)
			event_free(c->timer);
		free(c);
		return NULL;
	}
	/* Ours until admission, even if evhttp frees the connection first. */
	bufferevent_incref(c->bev);
	event_active(c->timer, EV_TIMEOUT, 1);
	/* libevent accepts until the backlog is empty before any admission
	 * runs: at the cap, the rest of the backlog waits for the next loop
	 * turn, when evicted connections have given their descriptors back,
	 * instead of running into EMFILE. */
	if (++c->l->pending + conn_budget_total() >= c->l->max &&
	    !c->l->paused) {
		c->l->paused = true;
		evhttp_foreach_bound_socket(c->l->http, disable_one, NULL);
		event_active(c->l->resume_ev, EV_TIMEOUT, 1);
	}
	return c->bev;
}

static void
enable_one(struct evhttp_bound_socket *b, void *arg)
{
	(void)arg;
	evconnlistener_enable(evhttp_bound_socket_get_listener(b));
}

static void
resume_cb(evutil_socket_t fd, short what, void *arg)
{
	struct listener *l = arg;

	(void)fd;
	(void)what;
	if (!l->paused)
		return;
	l->paused = false;
	/* The live sockets only: one deleted since (a stopping daemon) is
	 * no longer in the list. */
	evhttp_foreach_bound_socket(l->http, enable_one, NULL);
}

static struct listener *
listener_find(struct evhttp *http)
{
	struct listener *l;

	pthread_mutex_lock(&listener_lock);
	for (l = listeners; l != NULL && l->http != http; l = l->next)
		;
	pthread_mutex_unlock(&listener_lock);
	return l;
}

/* accept() failed with other than EAGAIN/ECONNABORTED. The socket stays
 * readable, so without a pause libevent would call accept() again at
 * once, forever (a core spent and a log line per call). */
static void
accept_error_cb(struct evconnlistener *lev, void *arg)
{
	const struct timeval resume = { 0,
		(suseconds_t)LISTENER_RESUME_MS * 1000 };
	int err = EVUTIL_SOCKET_ERROR();
	struct listener *l = listener_find(arg); /* evhttp's arg: http */
	bool fds =
	    err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM;

	evconnlistener_disable(lev);
	if (l == NULL) {
		log_msg(
		    LOG_ERROR, "accept: %s; listener stopped", strerror(err));
		return;
	}
	l->paused = true;
	note(l, fds ? CONN_NOTE_PAUSED : CONN_NOTE_ACCEPT_ERROR, err);
	/* The oldest idle connection gives its descriptor to the one
	 * waiting in the backlog. */
	if (fds && l->idle_head != NULL)
		conn_shut(l->idle_head, false);
	evtimer_add(l->resume_ev, &resume);
}

static struct listener *
listener_get(struct event_base *base, struct evhttp *http,
    const struct listener_limits *lim)
{
	struct listener *l = listener_find(http);
	int64_t fd_soft = conn_budget_fd_limit();

	if (l != NULL)
		return l;
	if ((l = calloc(1, sizeof(*l))) == NULL)
		return NULL;
	l->http = http;
	l->base = base;
	l->lim = *lim;
	l->max = lim->max_connections > 0 ? lim->max_connections
	                                  : fd_soft - LISTENER_FD_RESERVE;
	if (l->max < 1)
		l->max = fd_soft / 2 > 0 ? fd_soft / 2 : 1;
	l->resume_ev = evtimer_new(base, resume_cb, l);
	l->flush_ev = evtimer_new(base, flush_cb, l);
	if (l->resume_ev == NULL || l->flush_ev == NULL) {
		if (l->resume_ev != NULL)
			event_free(l->resume_ev);
		if (l->flush_ev != NULL)
			event_free(l->flush_ev);
		free(l);
		return NULL;
	}
	evhttp_set_bevcb(http, conn_new_bev, l);
	/* Reachable for the life of the process: evhttp holds a raw
	 * pointer and offers no hook when it is freed. */
	pthread_mutex_lock(&listener_lock);
	l->next = listeners;
	listeners = l;
	pthread_mutex_unlock(&listener_lock);
	if (lim->max_connections > fd_soft - LISTENER_FD_RESERVE)
		log_msg(LOG_WARN,
		    "max_connections %lld: above the descriptor limit %lld "
		    "less %d; out of descriptors, accepting pauses instead",
		    (long long)lim->max_connections, (long long)fd_soft,
		    LISTENER_FD_RESERVE);
	return l;
}

struct evhttp_bound_socket *
listener_accept(struct event_base *base, struct evhttp *http, int fd,
    const struct listener_limits *lim)
{
	const unsigned flags =
	    LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC | LEV_OPT_CLOSE_ON_FREE;
	struct evhttp_bound_socket *bound;
	struct evconnlistener *lev;
	struct listener *l;

	if ((l = listener_get(base, http, lim)) == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	/* Backlog 0: the socket listens already. */
	if ((lev = evconnlistener_new(base, NULL, NULL, flags, 0, fd)) == NULL)
		return NULL;
	if ((bound = evhttp_bind_listener(http, lev)) == NULL) {
		evconnlistener_free(lev);
		return NULL;
	}
	evconnlistener_set_error_cb(lev, accept_error_cb);
	return bound;
}

struct evhttp_bound_socket *
listener_bind(struct event_base *base, struct evhttp *http, const char *address,
    uint16_t port, const struct listener_limits *lim)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
		.ai_flags = AI_PASSIVE | AI_NUMERICSERV };
	struct addrinfo *ai = NULL;
	struct evhttp_bound_socket *bound = NULL;
	char service[8];
	int fd = -1, one = 1, saved;

	(void)snprintf(service, sizeof(service), "%u", (unsigned)port);
	if (getaddrinfo(address, service, &hints, &ai) != 0 || ai == NULL) {
		errno = EADDRNOTAVAIL;
		return NULL;
	}
	fd = socket(
	    ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == -1 ||
	    bind(fd, ai->ai_addr, ai->ai_addrlen) == -1 ||
	    listen(fd, LISTENER_BACKLOG) == -1 ||
	    (bound = listener_accept(base, http, fd, lim)) == NULL) {
		saved = errno;
		if (fd != -1)
			close(fd);
		errno = saved;
	}
	freeaddrinfo(ai);
	return bound;
}

void
listener_free_base(struct event_base *base)
{
	if (base == NULL)
		return;
	(void)event_base_loop(base, EVLOOP_NONBLOCK);
	event_base_free(base);
}

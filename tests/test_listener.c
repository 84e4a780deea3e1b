/* Tests for listener over real TCP on loopback: an evhttp server served
 * through listener_bind on its own thread, clients as plain sockets. The
 * deadlines are 1 s, so bounds are checked with wide margins. */
#include <arpa/inet.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/thread.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "listener.h"
#include "test.h"

static struct event_base *base;
static struct evhttp *server;
static int port;

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
reply_ok(struct evhttp_request *req)
{
	struct evbuffer *b = evbuffer_new();

	evbuffer_add_printf(b, "ok %zu\n",
	    evbuffer_get_length(evhttp_request_get_input_buffer(req)));
	evhttp_send_reply(req, 200, "OK", b);
	evbuffer_free(b);
}

static void
held_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	reply_ok(arg);
}

/* /hold answers after 2.5 s, past every deadline: a handler holding a
 * request (a password hash, a JWKS refetch) is never cut off. */
static void
handler(struct evhttp_request *req, void *arg)
{
	const struct timeval later = { 2, 500000 };

	(void)arg;
	if (strcmp(evhttp_request_get_uri(req), "/hold") == 0)
		event_base_once(base, -1, EV_TIMEOUT, held_cb, req, &later);
	else
		reply_ok(req);
}

static void *
serve(void *arg)
{
	(void)arg;
	event_base_dispatch(base);
	return NULL;
}

static int
client(const char *src)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	a.sin_addr.s_addr = inet_addr(src);
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) == -1)
		return -1;
	a.sin_port = htons((uint16_t)port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) == -1)
		return -1;
	return fd;
}

static void
say(int fd, const char *s)
{
	if (write(fd, s, strlen(s)) < 0)
		perror("write");
}

/* Reads until EOF or timeout seconds; returns the seconds until EOF (-1:
 * still open) and what was read. */
static double
read_until_eof(int fd, double timeout, char *buf, size_t len)
{
	double start = now_s();
	size_t got = 0;

	buf[0] = '\0';
	while (now_s() - start < timeout) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (poll(&p, 1, 50) <= 0)
			continue;
		n = read(fd, buf + got, len - 1 - got);
		if (n <= 0)
			return now_s() - start;
		got += (size_t)n;
		buf[got] = '\0';
	}
	return -1;
}

/* Reads one reply (up to its "ok N\n" body). */
static int
read_reply(int fd, char *buf, size_t len)
{
	size_t got = 0;

	while (got < len - 1 && strstr(buf, "ok ") == NULL) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (poll(&p, 1, 5000) <= 0 ||
		    (n = read(fd, buf + got, len - 1 - got)) <= 0)
			return -1;
		got += (size_t)n;
		buf[got] = '\0';
	}
	return strstr(buf, "HTTP/1.1 200") != NULL ? 0 : -1;
}

static void
wait_all_closed(void)
{
	double start = now_s();

	while (listener_connections() > 0 && now_s() - start < 5)
		usleep(10000);
	CHECK(listener_connections() == 0);
}

static void
test_slow_head_gets_408_at_the_deadline(void)
{
	char buf[1024];
	int fd = client("127.0.0.2");
	double start = now_s(), when = -1;

	say(fd, "GET / HTTP/1.1\r\nHost: t\r\nX-A: ");
	/* A byte every 200 ms: an inactivity timer would never fire. */
	while (now_s() - start < 4 && when < 0) {
		say(fd, "a");
		if (read_until_eof(fd, 0.2, buf, sizeof(buf)) >= 0)
			when = now_s() - start;
	}
	CHECK(when >= 0.8 && when < 2.5);
	close(fd);
	/* The 408 itself, without a trickle that could reset it away. */
	fd = client("127.0.0.2");
	say(fd, "GET / HTTP/1.1\r\nHost: t\r\n");
	when = read_until_eof(fd, 4, buf, sizeof(buf));
	CHECK(when >= 0.8 && when < 2.5);
	CHECK(strncmp(buf, "HTTP/1.1 408 Request Timeout\r\n", 30) == 0);
	CHECK(strstr(buf, "Connection: close\r\n") != NULL);
	CHECK(strstr(buf, "\"error\":\"request_timeout\"") != NULL);
	close(fd);
	/* Positive control: a head sent in pieces, within the deadline. */
	fd = client("127.0.0.2");
	say(fd, "GET / HTTP/1.1\r\n");
	usleep(300000);
	say(fd, "Host: t\r\n");
	usleep(300000);
	say(fd, "\r\n");
	buf[0] = '\0';
	CHECK(read_reply(fd, buf, sizeof(buf)) == 0);
	close(fd);
	wait_all_closed();
}

static void
test_slow_body_gets_408(void)
{
	char buf[1024];
	int fd = client("127.0.0.3");
	double when;

	say(fd, "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nabc");
	when = read_until_eof(fd, 4, buf, sizeof(buf));
	CHECK(when >= 0.8 && when < 2.5);
	CHECK(strncmp(buf, "HTTP/1.1 408 ", 13) == 0);
	close(fd);
	/* 100-continue: the interim answer is not taken for the reply. */
	fd = client("127.0.0.3");
	say(fd, "POST / HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\n"
	        "Content-Length: 4\r\n\r\n");
	usleep(200000);
	say(fd, "abcd");
	buf[0] = '\0';
	CHECK(read_reply(fd, buf, sizeof(buf)) == 0);
	CHECK(strncmp(buf, "HTTP/1.1 100 Continue", 21) == 0);
	CHECK(strstr(buf, "ok 4") != NULL);
	close(fd);
	wait_all_closed();
}

static void
test_held_request_and_keep_alive(void)
{
	char buf[1024] = "";
	int fd = client("127.0.0.4");
	double when;

	/* Held 2.5 s by the handler, past the head, body and idle limits. */
	say(fd, "GET /hold HTTP/1.1\r\nHost: t\r\n\r\n");
	CHECK(read_reply(fd, buf, sizeof(buf)) == 0);
	/* Keep-alive: a second request in time is served... */
	usleep(300000);
	buf[0] = '\0';
	say(fd, "GET / HTTP/1.1\r\nHost: t\r\n\r\n");
	CHECK(read_reply(fd, buf, sizeof(buf)) == 0);
	/* ...and an idle connection closes quietly after idle_timeout. */
	when = read_until_eof(fd, 4, buf, sizeof(buf));
	CHECK(when >= 0.8 && when < 2.5);
	CHECK(buf[0] == '\0');
	close(fd);
	wait_all_closed();
}

static void
test_per_client_cap(void)
{
	struct pollfd p[4];
	char buf[256] = "";
	int fds[4], closed = 0;

	for (int i = 0; i < 4; i++) {
		fds[i] = client("127.0.0.5");
		p[i] = (struct pollfd){ .fd = fds[i], .events = POLLIN };
	}
	/* One over the cap of 3: exactly one is closed at once (which one
	 * is the order the server admitted them). */
	CHECK(poll(p, 4, 500) == 1);
	for (int i = 0; i < 4; i++)
		if (p[i].revents & POLLIN)
			closed += read(fds[i], buf, sizeof(buf)) == 0;
	CHECK(closed == 1);
	/* Another address is not affected. */
	int other = client("127.0.0.6");
	say(other, "GET / HTTP/1.1\r\nHost: t\r\n\r\n");
	CHECK(read_reply(other, buf, sizeof(buf)) == 0);
	close(other);
	for (int i = 0; i < 4; i++)
		close(fds[i]);
	wait_all_closed();
}

static void
test_max_connections_evicts_the_oldest_idle(void)
{
	char buf[256] = "", src[32];
	int fds[5], last;

	for (int i = 0; i < 5; i++) {
		snprintf(src, sizeof(src), "127.0.1.%d", i + 1);
		fds[i] = client(src);
		usleep(20000); /* in this order on the server too */
	}
	CHECK(read_until_eof(fds[4], 0.2, buf, sizeof(buf)) < 0);
	/* The sixth: the oldest idle one makes room, the new one serves. */
	last = client("127.0.1.9");
	CHECK(read_until_eof(fds[0], 2, buf, sizeof(buf)) >= 0);
	CHECK(read_until_eof(fds[1], 0.2, buf, sizeof(buf)) < 0);
	say(last, "GET / HTTP/1.1\r\nHost: t\r\n\r\n");
	buf[0] = '\0';
	CHECK(read_reply(last, buf, sizeof(buf)) == 0);
	close(last);
	for (int i = 0; i < 5; i++)
		close(fds[i]);
	wait_all_closed();
}

int
main(void)
{
	const struct listener_limits lim = { .max_connections = 5,
		.max_client_connections = 3,
		.header_timeout = 1,
		.body_timeout = 1,
		.idle_timeout = 1 };
	struct evhttp_bound_socket *bound;
	struct sockaddr_in a;
	socklen_t len = sizeof(a);
	pthread_t t;

	evthread_use_pthreads();
	base = event_base_new();
	server = evhttp_new(base);
	evhttp_set_gencb(server, handler, NULL);
	bound = listener_bind(base, server, "127.0.0.1", 0, &lim);
	CHECK(bound != NULL);
	if (bound == NULL)
		return test_report();
	getsockname(
	    evhttp_bound_socket_get_fd(bound), (struct sockaddr *)&a, &len);
	port = ntohs(a.sin_port);
	CHECK(listener_raise_fd_limit() > 0);
	pthread_create(&t, NULL, serve, NULL);
	RUN(test_slow_head_gets_408_at_the_deadline);
	RUN(test_slow_body_gets_408);
	RUN(test_held_request_and_keep_alive);
	RUN(test_per_client_cap);
	RUN(test_max_connections_evicts_the_oldest_idle);
	event_base_loopexit(base, NULL);
	pthread_join(t, NULL);
	evhttp_free(server);
	event_base_free(base);
	return test_report();
}

/* bare_evhttp: the HTTP ceiling of bench/bench_resource.sh. One evhttp
 * server on one event base, one thread, answering every request with a
 * fixed 200 JSON body: what one core can do with libevent's HTTP alone,
 * before any token work. Prints "listening on 127.0.0.1:PORT" like the
 * daemons; SIGINT/SIGTERM stop it. */
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

static const char bare_body[] = "{\"status\":\"ok\"}\n";

/* The same reply headers the resource service sends, so the two differ
 * only by what happens between reading the request and replying. */
static void
bare_reply(struct evhttp_request *req, void *arg)
{
	struct evbuffer *buf = arg;

	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", "application/json");
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "X-Content-Type-Options", "nosniff");
	evbuffer_add_reference(
	    buf, bare_body, sizeof(bare_body) - 1, NULL, NULL);
	evhttp_send_reply(req, 200, "OK", buf);
}

static void
bare_stop(evutil_socket_t sig, short what, void *arg)
{
	(void)sig;
	(void)what;
	event_base_loopbreak(arg);
}

int
main(int argc, char **argv)
{
	struct event_base *base = NULL;
	struct evhttp *http = NULL;
	struct evhttp_bound_socket *bound;
	struct event *sig_int = NULL, *sig_term = NULL;
	struct evbuffer *buf = NULL;
	struct sockaddr_storage ss;
	ev_socklen_t sl = sizeof(ss);
	int port = 0, rc = 1;

	for (int i = 1; i + 1 < argc; i++)
		if (strcmp(argv[i], "--port") == 0)
			port = atoi(argv[++i]);
	signal(SIGPIPE, SIG_IGN);
	if ((base = event_base_new()) == NULL ||
	    (http = evhttp_new(base)) == NULL || (buf = evbuffer_new()) == NULL)
		goto out;
	evhttp_set_gencb(http, bare_reply, buf);
	bound = evhttp_bind_socket_with_handle(
	    http, "127.0.0.1", (ev_uint16_t)port);
	if (bound == NULL || getsockname(evhttp_bound_socket_get_fd(bound),
	                         (struct sockaddr *)&ss, &sl) == -1) {
		fprintf(
		    stderr, "bare_evhttp: cannot listen on port %d\n", port);
		goto out;
	}
	sig_int = evsignal_new(base, SIGINT, bare_stop, base);
	sig_term = evsignal_new(base, SIGTERM, bare_stop, base);
	if (sig_int == NULL || sig_term == NULL ||
	    event_add(sig_int, NULL) == -1 || event_add(sig_term, NULL) == -1)
		goto out;
	printf("listening on 127.0.0.1:%d\n",
	    ntohs(((struct sockaddr_in *)&ss)->sin_port));
	fflush(stdout);
	event_base_dispatch(base);
	rc = 0;
out:
	if (sig_int != NULL)
		event_free(sig_int);
	if (sig_term != NULL)
		event_free(sig_term);
	if (http != NULL)
		evhttp_free(http);
	if (buf != NULL)
		evbuffer_free(buf);
	if (base != NULL)
		event_base_free(base);
	return rc;
}

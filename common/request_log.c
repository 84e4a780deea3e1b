/* request_log: the request id, the client address, and the access line. */
#include "request_log.h"

#include <event2/event.h>
#include <event2/keyvalq_struct.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "http_util.h"

static const char *
method_name(enum evhttp_cmd_type m)
{
	switch (m) {
	case EVHTTP_REQ_GET:
		return "GET";
	case EVHTTP_REQ_POST:
		return "POST";
	case EVHTTP_REQ_HEAD:
		return "HEAD";
	case EVHTTP_REQ_PUT:
		return "PUT";
	case EVHTTP_REQ_DELETE:
		return "DELETE";
	case EVHTTP_REQ_OPTIONS:
		return "OPTIONS";
	case EVHTTP_REQ_TRACE:
		return "TRACE";
	case EVHTTP_REQ_CONNECT:
		return "CONNECT";
	case EVHTTP_REQ_PATCH:
		return "PATCH";
	default:
		return "OTHER";
	}
}

/* This thread's flush timer (request_log_start), on its event base, its
 * period, and whether it is pending. */
static __thread struct event *request_log_timer;
static __thread struct timeval request_log_period;
static __thread bool request_log_armed;

/* The record being dispatched on this thread; NULL between requests. */
static __thread const struct request_log *request_log_current;

const char *
request_log_current_id(void)
{
	return request_log_current != NULL ? request_log_current->id : "";
}

void
request_log_clear_current(void)
{
	request_log_current = NULL;
}

bool
request_log_id_ok(const char *id, size_t len)
{
	if (len == 0 || len > REQUEST_ID_MAX)
		return false;
	/* A bounded, quoting-free charset: the id goes into log lines and
	 * back into a response header as is. */
	for (size_t i = 0; i < len; i++) {
		char c = id[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		        (c >= '0' && c <= '9') || c == '-' || c == '.' ||
		        c == '_' || c == ':'))
			return false;
	}
	return true;
}

/* A new id: a random prefix per thread, then a per-thread counter, in
 * hex ("<16>-<8>"). Ids need to be unique, not secret; no system call and
 * no printf per request. */
static void
make_id(char *buf)
{
	static const char hex[] = "0123456789abcdef";
	static __thread uint64_t prefix, counter;
	uint64_t c = ++counter;

	if (prefix == 0) {
		randombytes_buf(&prefix, sizeof(prefix));
		prefix |= 1;
	}
	for (int i = 0; i < 16; i++)
		buf[i] = hex[(prefix >> (60 - 4 * i)) & 15];
	buf[16] = '-';
	for (int i = 0; i < 8; i++)
		buf[17 + i] = hex[(c >> (28 - 4 * i)) & 15];
	buf[25] = '\0';
}

void
request_log_begin(struct request_log *r, struct evhttp_request *req)
{
	struct evkeyvalq *in = evhttp_request_get_input_headers(req);
	const char *given = evhttp_find_header(in, "X-Request-Id");
	size_t len = given != NULL ? strlen(given) : 0;

	clock_gettime(CLOCK_MONOTONIC, &r->start);
	r->method = method_name(evhttp_request_get_command(req));
	if (http_request_path(req, r->path, sizeof(r->path)) == -1)
		strcpy(r->path, "-");
	if (given != NULL && request_log_id_ok(given, len))
		memcpy(r->id, given, len + 1); /* len <= REQUEST_ID_MAX */
	else
		make_id(r->id);
	http_client_addr(req, r->client, sizeof(r->client));
	evhttp_add_header(
	    evhttp_request_get_output_headers(req), "X-Request-Id", r->id);
	request_log_current = r;
}

int64_t
request_log_elapsed_us(const struct request_log *r)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (int64_t)(t1.tv_sec - r->start.tv_sec) * 1000000 +
	       (t1.tv_nsec - r->start.tv_nsec) / 1000;
}

void
request_log_write(const struct request_log *r, const char *route, int status,
    int64_t latency_us, const struct log_field *extra, size_t n_extra)
{
	/* Assigned one by one: an initializer would zero all twelve first,
	 * on every request. */
	struct log_field f[12];
	size_t n = 7;

	f[0] = (struct log_field){ LOG_KEY("method"), .str = r->method };
	f[1] = (struct log_field){ LOG_KEY("path"), .str = r->path };
	f[2] = (struct log_field){ LOG_KEY("route"),
		.str = route != NULL ? route : "other" };
	f[3] = (struct log_field){ LOG_KEY("status"), .num = status,
		.is_int = true };
	f[4] = (struct log_field){ LOG_KEY("latency_us"), .num = latency_us,
		.is_int = true };
	f[5] = (struct log_field){ LOG_KEY("request_id"), .str = r->id };
	f[6] =
	    (struct log_field){ LOG_KEY("client_address"), .str = r->client };
	for (size_t i = 0; i < n_extra && n < sizeof(f) / sizeof(*f); i++)
		f[n++] = extra[i];
	/* The first line into an empty buffer arms the timer, so none waits
	 * longer than the period; under load the buffer fills and goes out
	 * before that. No timer: the line is not left to wait. */
	if (log_fields_deferred("access", f, n) && request_log_timer != NULL &&
	    !request_log_armed) {
		if (evtimer_add(request_log_timer, &request_log_period) == 0)
			request_log_armed = true;
		else
			log_buffer_flush();
	}
}

static void
flush_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	request_log_armed = false;
	log_buffer_flush();
}

int
request_log_start(struct event_base *base, int64_t period_ms)
{
	if (request_log_timer != NULL || period_ms <= 0)
		return 0;
	request_log_period = (struct timeval){ .tv_sec = period_ms / 1000,
		.tv_usec = (period_ms % 1000) * 1000 };
	if ((request_log_timer = evtimer_new(base, flush_cb, NULL)) == NULL)
		return -1;
	if (log_buffer_start(REQUEST_LOG_BUFFER) == -1) {
		event_free(request_log_timer);
		request_log_timer = NULL;
		return -1;
	}
	request_log_armed = false;
	return 0;
}

void
request_log_stop(void)
{
	log_buffer_stop();
	if (request_log_timer != NULL)
		event_free(request_log_timer);
	request_log_timer = NULL;
	request_log_armed = false;
}

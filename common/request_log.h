/* request_log: one record per request, from its arrival to its reply, on
 * both daemons: the request id (the client's X-Request-Id when
 * well-formed, else one made here; echoed in the reply), the client
 * address (http_client_addr: X-Forwarded-For from trusted proxies only),
 * the route, the status and the duration, written as one "access" line in
 * the process's log format; on a thread that called request_log_start,
 * buffered and written at the latest its period later. */
#ifndef JWT_REQUEST_LOG_H
#define JWT_REQUEST_LOG_H

#include <event2/http.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "log.h"

#define REQUEST_ID_MAX 64 /* bytes of a request id taken from a client */
#define REQUEST_ADDR_MAX 64
#define REQUEST_PATH_MAX 256
/* A thread's buffer of access lines (request_log_start): ~120 lines, one
 * write(2). */
#define REQUEST_LOG_BUFFER (32 * 1024)

struct request_log {
	struct timespec start;
	const char *method;          /* a static name */
	char path[REQUEST_PATH_MAX]; /* raw, "-" when not usable */
	char id[REQUEST_ID_MAX + 1];
	char client[REQUEST_ADDR_MAX];
};

/* Starts a record: the time, method, path, request id (echoed now in
 * X-Request-Id, so every reply carries it) and client address. */
void request_log_begin(struct request_log *r, struct evhttp_request *req);

/* The id of the request this thread is dispatching (request_log_begin
 * sets it, request_log_clear_current ends it), or "": for the audit
 * lines of a use case that keeps a copy and answers later. */
const char *request_log_current_id(void);
void request_log_clear_current(void);

/* Microseconds since request_log_begin. */
int64_t request_log_elapsed_us(const struct request_log *r);

/* The access line: method, path, route (a table path, or "other"),
 * status, latency_us, request_id, client_address, then extra fields (the
 * resource service's sub and error). */
void request_log_write(const struct request_log *r, const char *route,
    int status, int64_t latency_us, const struct log_field *extra,
    size_t n_extra);

/* From now on this thread's access lines are buffered (log_buffer_start)
 * and written at the latest period_ms after the first one, by a timer on
 * base, which must be the thread's own event base. Audit, warning and
 * error lines are still written at once. period_ms 0: nothing (every line
 * written at once). -1: no memory (the lines stay unbuffered). */
int request_log_start(struct event_base *base, int64_t period_ms);

/* Writes the pending lines and frees the timer: on the same thread, before
 * its base is freed (a daemon's teardown, a worker's end). Nothing if not
 * started. */
void request_log_stop(void);

/* True if id (len bytes) may be taken as a request id: 1 to
 * REQUEST_ID_MAX bytes of letters, digits and "-._:". */
bool request_log_id_ok(const char *id, size_t len);

#endif

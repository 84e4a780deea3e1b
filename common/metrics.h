/* metrics: Prometheus counters, histograms and gauges for both daemons,
 * rendered in the text exposition format 0.0.4. Each thread counts into a
 * shard of its own (no lock, no atomic read-modify-write on the hot path);
 * a scrape sums the shards. Labels are fixed at start (one series per
 * label set) except the HTTP requests' route, which is always a route
 * table path or "other": never a raw path, username or token. */
#ifndef JWT_METRICS_H
#define JWT_METRICS_H

#include <event2/buffer.h>
#include <stddef.h>
#include <stdint.h>

enum metrics_kind {
	METRICS_COUNTER,   /* per thread, summed at scrape */
	METRICS_HISTOGRAM, /* latency, per thread; observed in microseconds,
	                      shown in seconds */
	METRICS_GAUGE,     /* one process-wide value (metrics_set) */
	METRICS_GAUGE_SUM, /* per thread values (metrics_set_mine), summed */
	METRICS_GAUGE_AGE, /* a process-wide time (metrics_touch), shown as
	                      seconds since */
};

/* One series. The series of a family are consecutive in the table; the
 * help and kind of the first one are the family's. */
struct metrics_series {
	const char *family; /* "auth_logins_total" */
	const char *labels; /* outcome="ok", or NULL */
	enum metrics_kind kind;
	const char *help;
};

#define METRICS_MAX_SERIES 128
#define METRICS_MAX_ROUTES 64 /* distinct route paths; beyond: "other" */

/* Once, before any thread counts: the process's series table (a static
 * array; index = the series' number). Before it, every count is a no-op
 * (the tools link the same code and never export). -1 if the table is
 * too large. */
int metrics_init(const struct metrics_series *series, size_t n);

/* Frees the shards at exit (after every counting thread stopped). */
void metrics_shutdown(void);

void metrics_count(unsigned series);
void metrics_add(unsigned series, uint64_t n);
void metrics_observe_us(unsigned series, int64_t us);
void metrics_set(unsigned series, int64_t value);
void metrics_set_mine(unsigned series, int64_t value);
void metrics_touch(unsigned series); /* METRICS_GAUGE_AGE: now */

/* One HTTP request answered: route is a route table path (or NULL:
 * "other"), status its code. */
void metrics_http(const char *route, int status);

/* Appends the exposition of every series to out. -1 on no memory. */
int metrics_render(struct evbuffer *out);

/* The Content-Type of metrics_render's text. */
#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

#endif

/* metrics: per-thread shards summed at scrape; the text format 0.0.4. */
#include "metrics.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Upper bounds of the latency buckets, seconds (and microseconds, which
 * is what is compared): from a cached verification to a slow argon2id. */
static const int64_t metrics_bounds_us[] = { 50, 100, 250, 500, 1000, 2500,
	5000, 10000, 25000, 50000, 100000, 250000, 500000, 1000000, 2500000,
	5000000, 10000000 };
#define METRICS_N_BOUNDS (sizeof(metrics_bounds_us) / sizeof(int64_t))
/* A histogram's slots: a count per bucket, +Inf, the sum in
 * microseconds, the count. */
#define METRICS_HIST_SLOTS (METRICS_N_BOUNDS + 3)

/* The codes the pair answers with; any other is counted as "other". */
static const int metrics_codes[] = { 200, 201, 204, 304, 400, 401, 403, 404,
	405, 408, 413, 429, 500, 502, 503, 504 };
#define METRICS_N_CODES (sizeof(metrics_codes) / sizeof(int))

typedef _Atomic uint64_t metrics_slot;

/* One thread's numbers. Only the owner writes them; the scrape reads
 * them with relaxed loads (a count a scrape misses shows at the next). */
struct metrics_shard {
	struct metrics_shard *next;
	metrics_slot http[METRICS_MAX_ROUTES + 1][METRICS_N_CODES + 1];
	metrics_slot slots[];
};

static struct {
	const struct metrics_series *series;
	size_t n;
	size_t offset[METRICS_MAX_SERIES]; /* first slot of each series */
	size_t n_slots;
	_Atomic int64_t values[METRICS_MAX_SERIES]; /* METRICS_GAUGE(_AGE) */
	pthread_mutex_t lock; /* the shard list and route appends */
	struct metrics_shard *shards;
	char *routes[METRICS_MAX_ROUTES];
	_Atomic size_t n_routes;
} metrics = { .lock = PTHREAD_MUTEX_INITIALIZER };

static __thread struct metrics_shard *metrics_mine;

int
metrics_init(const struct metrics_series *series, size_t n)
{
	size_t slots = 0;

	if (n > METRICS_MAX_SERIES)
		return -1;
	for (size_t i = 0; i < n; i++) {
		metrics.offset[i] = slots;
		slots += series[i].kind == METRICS_HISTOGRAM
		             ? METRICS_HIST_SLOTS
		             : 1;
	}
	metrics.series = series;
	metrics.n = n;
	metrics.n_slots = slots;
	return 0;
}

void
metrics_shutdown(void)
{
	pthread_mutex_lock(&metrics.lock);
	while (metrics.shards != NULL) {
		struct metrics_shard *s = metrics.shards;
		metrics.shards = s->next;
		free(s);
	}
	for (size_t i = 0; i < METRICS_MAX_ROUTES; i++) {
		free(metrics.routes[i]);
		metrics.routes[i] = NULL;
	}
	atomic_store(&metrics.n_routes, 0);
	pthread_mutex_unlock(&metrics.lock);
	metrics_mine = NULL;
}

/* This thread's shard, made on its first count. NULL before
 * metrics_init or without memory: the count is dropped. */
static struct metrics_shard *
mine(void)
{
	struct metrics_shard *s = metrics_mine;

	if (s != NULL || metrics.n_slots == 0)
		return s;
	s = calloc(1, sizeof(*s) + metrics.n_slots * sizeof(metrics_slot));
	if (s == NULL)
		return NULL;
	pthread_mutex_lock(&metrics.lock);
	s->next = metrics.shards;
	metrics.shards = s;
	pthread_mutex_unlock(&metrics.lock);
	metrics_mine = s;
	return s;
}

/* The owner alone writes: a load and a store, no locked instruction. */
static inline void
bump(metrics_slot *slot, uint64_t n)
{
	atomic_store_explicit(slot,
	    atomic_load_explicit(slot, memory_order_relaxed) + n,
	    memory_order_relaxed);
}

static metrics_slot *
slot_of(unsigned series, enum metrics_kind kind)
{
	struct metrics_shard *s;

	if (series >= metrics.n || metrics.series[series].kind != kind ||
	    (s = mine()) == NULL)
		return NULL;
	return &s->slots[metrics.offset[series]];
}

void
metrics_add(unsigned series, uint64_t n)
{
	metrics_slot *p = slot_of(series, METRICS_COUNTER);

	if (p != NULL)
		bump(p, n);
}

void
metrics_count(unsigned series)
{
	metrics_add(series, 1);
}

void
metrics_observe_us(unsigned series, int64_t us)
{
	metrics_slot *p = slot_of(series, METRICS_HISTOGRAM);
	size_t b = 0;

	if (p == NULL)
		return;
	if (us < 0)
		us = 0;
	while (b < METRICS_N_BOUNDS && us > metrics_bounds_us[b])
		b++;
	bump(&p[b], 1);
	bump(&p[METRICS_N_BOUNDS + 1], (uint64_t)us);
	bump(&p[METRICS_N_BOUNDS + 2], 1);
}

void
metrics_set_mine(unsigned series, int64_t value)
{
	metrics_slot *p = slot_of(series, METRICS_GAUGE_SUM);

	if (p != NULL)
		atomic_store_explicit(p, (uint64_t)value, memory_order_relaxed);
}

void
metrics_set(unsigned series, int64_t value)
{
	if (series < metrics.n)
		atomic_store_explicit(
		    &metrics.values[series], value, memory_order_relaxed);
}

void
metrics_touch(unsigned series)
{
	struct timespec now;

	clock_gettime(CLOCK_REALTIME, &now);
	metrics_set(series, (int64_t)now.tv_sec);
}

/* The index of a route path; appended on its first request. The table's
 * paths are the only names (bounded by the configuration), and past
 * METRICS_MAX_ROUTES every new one is "other". */
static size_t
route_index(const char *route)
{
	size_t n =
	    atomic_load_explicit(&metrics.n_routes, memory_order_acquire);

	if (route == NULL)
		return METRICS_MAX_ROUTES;
	for (size_t i = 0; i < n; i++)
		if (strcmp(metrics.routes[i], route) == 0)
			return i;
	pthread_mutex_lock(&metrics.lock);
	n = atomic_load_explicit(&metrics.n_routes, memory_order_relaxed);
	for (size_t i = 0; i < n; i++)
		if (strcmp(metrics.routes[i], route) == 0) {
			pthread_mutex_unlock(&metrics.lock);
			return i;
		}
	if (n < METRICS_MAX_ROUTES &&
	    (metrics.routes[n] = strdup(route)) != NULL) {
		atomic_store_explicit(
		    &metrics.n_routes, n + 1, memory_order_release);
	} else {
		n = METRICS_MAX_ROUTES;
	}
	pthread_mutex_unlock(&metrics.lock);
	return n;
}

void
metrics_http(const char *route, int status)
{
	struct metrics_shard *s = mine();
	size_t c = 0;

	if (s == NULL)
		return;
	while (c < METRICS_N_CODES && metrics_codes[c] != status)
		c++;
	bump(&s->http[route_index(route)][c], 1);
}

/* Sums one slot over every shard (the lock held). */
static uint64_t
sum_slot(size_t slot)
{
	uint64_t v = 0;

	for (struct metrics_shard *s = metrics.shards; s != NULL; s = s->next)
		v +=
		    atomic_load_explicit(&s->slots[slot], memory_order_relaxed);
	return v;
}

/* A label value (RFC-less: the exposition format escapes \, " and
 * newline). */
static void
put_label_value(struct evbuffer *out, const char *v)
{
	for (; *v != '\0'; v++) {
		if (*v == '\\' || *v == '"')
			evbuffer_add_printf(out, "\\%c", *v);
		else if (*v == '\n')
			evbuffer_add(out, "\\n", 2);
		else
			evbuffer_add(out, v, 1);
	}
}

static const char *
type_name(enum metrics_kind k)
{
	return k == METRICS_COUNTER     ? "counter"
	       : k == METRICS_HISTOGRAM ? "histogram"
	                                : "gauge";
}

/* name{labels,extra} or name{extra} or name. */
static void
put_name(struct evbuffer *out, const char *family, const char *suffix,
    const char *labels, const char *extra)
{
	bool l = labels != NULL && labels[0] != '\0';

	evbuffer_add_printf(out, "%s%s", family, suffix);
	if (l || extra != NULL)
		evbuffer_add_printf(out, "{%s%s%s}", l ? labels : "",
		    l && extra != NULL ? "," : "", extra != NULL ? extra : "");
	evbuffer_add(out, " ", 1);
}

static void
render_histogram(
    struct evbuffer *out, const struct metrics_series *s, size_t first)
{
	uint64_t cum = 0;
	char le[48];

	for (size_t b = 0; b <= METRICS_N_BOUNDS; b++) {
		cum += sum_slot(first + b);
		if (b < METRICS_N_BOUNDS)
			snprintf(le, sizeof(le), "le=\"%g\"",
			    (double)metrics_bounds_us[b] / 1e6);
		else
			snprintf(le, sizeof(le), "le=\"+Inf\"");
		put_name(out, s->family, "_bucket", s->labels, le);
		evbuffer_add_printf(out, "%llu\n", (unsigned long long)cum);
	}
	put_name(out, s->family, "_sum", s->labels, NULL);
	evbuffer_add_printf(out, "%.6f\n",
	    (double)sum_slot(first + METRICS_N_BOUNDS + 1) / 1e6);
	put_name(out, s->family, "_count", s->labels, NULL);
	evbuffer_add_printf(out, "%llu\n",
	    (unsigned long long)sum_slot(first + METRICS_N_BOUNDS + 2));
}

static void
render_series(struct evbuffer *out, size_t i, int64_t now)
{
	const struct metrics_series *s = &metrics.series[i];
	int64_t v;

	if (i == 0 || strcmp(metrics.series[i - 1].family, s->family) != 0)
		evbuffer_add_printf(out, "# HELP %s %s\n# TYPE %s %s\n",
		    s->family, s->help, s->family, type_name(s->kind));
	switch (s->kind) {
	case METRICS_HISTOGRAM:
		render_histogram(out, s, metrics.offset[i]);
		return;
	case METRICS_COUNTER:
	case METRICS_GAUGE_SUM:
		put_name(out, s->family, "", s->labels, NULL);
		evbuffer_add_printf(out, "%llu\n",
		    (unsigned long long)sum_slot(metrics.offset[i]));
		return;
	case METRICS_GAUGE:
		put_name(out, s->family, "", s->labels, NULL);
		evbuffer_add_printf(out, "%lld\n",
		    (long long)atomic_load_explicit(
		        &metrics.values[i], memory_order_relaxed));
		return;
	case METRICS_GAUGE_AGE:
		/* Never set: no age to show (NaN, as Prometheus reads it). */
		v = atomic_load_explicit(
		    &metrics.values[i], memory_order_relaxed);
		put_name(out, s->family, "", s->labels, NULL);
		if (v == 0)
			evbuffer_add_printf(out, "NaN\n");
		else
			evbuffer_add_printf(
			    out, "%lld\n", (long long)(now > v ? now - v : 0));
		return;
	}
}

static void
render_http(struct evbuffer *out)
{
	size_t n =
	    atomic_load_explicit(&metrics.n_routes, memory_order_acquire);

	evbuffer_add_printf(out,
	    "# HELP jwt_http_requests_total HTTP requests answered, by route "
	    "(a route table path or \"other\") and status code\n"
	    "# TYPE jwt_http_requests_total counter\n");
	for (size_t r = 0; r <= METRICS_MAX_ROUTES; r++) {
		if (r >= n && r < METRICS_MAX_ROUTES)
			continue;
		for (size_t c = 0; c <= METRICS_N_CODES; c++) {
			uint64_t v = 0;
			for (struct metrics_shard *s = metrics.shards;
			     s != NULL; s = s->next)
				v += atomic_load_explicit(
				    &s->http[r][c], memory_order_relaxed);
			if (v == 0)
				continue;
			evbuffer_add_printf(
			    out, "jwt_http_requests_total{route=\"");
			put_label_value(out, r < METRICS_MAX_ROUTES
			                         ? metrics.routes[r]
			                         : "other");
			if (c < METRICS_N_CODES)
				evbuffer_add_printf(out,
				    "\",code=\"%d\"} %llu\n", metrics_codes[c],
				    (unsigned long long)v);
			else
				evbuffer_add_printf(out,
				    "\",code=\"other\"} %llu\n",
				    (unsigned long long)v);
		}
	}
}

int
metrics_render(struct evbuffer *out)
{
	struct timespec now;
	size_t before = evbuffer_get_length(out);

	clock_gettime(CLOCK_REALTIME, &now);
	pthread_mutex_lock(&metrics.lock);
	for (size_t i = 0; i < metrics.n; i++)
		render_series(out, i, (int64_t)now.tv_sec);
	render_http(out);
	pthread_mutex_unlock(&metrics.lock);
	return evbuffer_get_length(out) > before ? 0 : -1;
}

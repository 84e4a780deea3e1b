/* Tests for metrics: counts from several threads are summed at scrape;
 * histogram buckets are cumulative with +Inf equal to the count and the
 * sum in seconds; gauges (process-wide, per-thread summed, age); the HTTP
 * family keeps one series per route and code, "other" beyond the table
 * and for unknown codes, label values escaped. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"
#include "test.h"

enum { M_HITS, M_MISSES, M_LAT, M_KEYS, M_SUM, M_AGE, M_N };

static const struct metrics_series series[M_N] = {
	[M_HITS] = { "t_lookups_total", "outcome=\"hit\"", METRICS_COUNTER,
	    "lookups" },
	[M_MISSES] = { "t_lookups_total", "outcome=\"miss\"", METRICS_COUNTER,
	    "lookups" },
	[M_LAT] = { "t_latency_seconds", NULL, METRICS_HISTOGRAM, "latency" },
	[M_KEYS] = { "t_keys", NULL, METRICS_GAUGE, "keys" },
	[M_SUM] = { "t_entries", NULL, METRICS_GAUGE_SUM, "entries" },
	[M_AGE] = { "t_age_seconds", NULL, METRICS_GAUGE_AGE, "age" },
};

static char *
render(void)
{
	struct evbuffer *b = evbuffer_new();
	size_t n;
	char *text;

	CHECK(metrics_render(b) == 0);
	n = evbuffer_get_length(b);
	text = calloc(1, n + 1);
	evbuffer_remove(b, text, n);
	evbuffer_free(b);
	return text;
}

static void *
worker(void *arg)
{
	(void)arg;
	for (int i = 0; i < 1000; i++) {
		metrics_count(M_HITS);
		metrics_http("/protected", 200);
	}
	metrics_add(M_MISSES, 5);
	metrics_set_mine(M_SUM, 7);
	return NULL;
}

static void
test_threads_are_summed(void)
{
	pthread_t t[4];
	char *text;

	for (int i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, worker, NULL);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	text = render();
	CHECK(strstr(text, "# TYPE t_lookups_total counter\n") != NULL);
	/* One HELP and TYPE per family, however many series. */
	CHECK(strstr(strstr(text, "# HELP t_lookups_total") + 1,
	          "# HELP t_lookups_total") == NULL);
	CHECK(strstr(text, "t_lookups_total{outcome=\"hit\"} 4000\n") != NULL);
	CHECK(strstr(text, "t_lookups_total{outcome=\"miss\"} 20\n") != NULL);
	CHECK(strstr(text, "t_entries 28\n") != NULL);
	CHECK(strstr(text, "jwt_http_requests_total{route=\"/protected\","
	                   "code=\"200\"} 4000\n") != NULL);
	free(text);
}

static void
test_histogram(void)
{
	char *text;

	metrics_observe_us(M_LAT, 40);      /* <= 50 us */
	metrics_observe_us(M_LAT, 1000);    /* exactly on the 1 ms bound */
	metrics_observe_us(M_LAT, 2000000); /* 2 s */
	metrics_observe_us(M_LAT, 99000000);
	text = render();
	CHECK(strstr(text, "# TYPE t_latency_seconds histogram\n") != NULL);
	CHECK(strstr(text, "t_latency_seconds_bucket{le=\"5e-05\"} 1\n"));
	CHECK(strstr(text, "t_latency_seconds_bucket{le=\"0.001\"} 2\n"));
	CHECK(strstr(text, "t_latency_seconds_bucket{le=\"2.5\"} 3\n"));
	CHECK(strstr(text, "t_latency_seconds_bucket{le=\"10\"} 3\n"));
	CHECK(strstr(text, "t_latency_seconds_bucket{le=\"+Inf\"} 4\n"));
	CHECK(strstr(text, "t_latency_seconds_count 4\n"));
	CHECK(strstr(text, "t_latency_seconds_sum 101.001040\n"));
	free(text);
}

static void
test_gauges_and_labels(void)
{
	char *text;

	text = render();
	CHECK(strstr(text, "t_age_seconds NaN\n") != NULL); /* never set */
	free(text);
	metrics_set(M_KEYS, 3);
	metrics_touch(M_AGE);
	metrics_http("/a\"b\\c", 404);
	metrics_http(NULL, 599);
	metrics_count(M_LAT);   /* a counter call on a histogram: ignored */
	metrics_count(M_N + 5); /* out of the table: ignored */
	text = render();
	CHECK(strstr(text, "t_keys 3\n") != NULL);
	CHECK(strstr(text, "t_age_seconds 0\n") != NULL ||
	      strstr(text, "t_age_seconds 1\n") != NULL);
	CHECK(strstr(text, "route=\"/a\\\"b\\\\c\",code=\"404\"} 1\n"));
	CHECK(strstr(text, "route=\"other\",code=\"other\"} 1\n"));
	CHECK(strstr(text, "t_latency_seconds_count 4\n"));
	free(text);
}

static void
test_routes_beyond_the_table_are_other(void)
{
	char name[32], *text;

	for (int i = 0; i < METRICS_MAX_ROUTES + 10; i++) {
		snprintf(name, sizeof(name), "/r%d", i);
		metrics_http(name, 201);
	}
	text = render();
	/* 64 names less the two seen already fit; the other 12 are "other". */
	CHECK(strstr(text, "route=\"other\",code=\"201\"} 12\n") != NULL);
	CHECK(strstr(text, "route=\"/r70\"") == NULL);
	free(text);
}

int
main(void)
{
	/* Before metrics_init every count is dropped. */
	metrics_count(M_HITS);
	CHECK(metrics_init(series, M_N) == 0);
	RUN(test_threads_are_summed);
	RUN(test_histogram);
	RUN(test_gauges_and_labels);
	RUN(test_routes_beyond_the_table_are_other);
	metrics_shutdown();
	return test_report();
}

/* auth_metrics: the issuer's series (docs/OPERATIONS.md lists them) and
 * the mapping from what happened (an audit event, a route answered) to
 * them. Counting goes through common/metrics.c. */
#ifndef AUTH_METRICS_H
#define AUTH_METRICS_H

#include <event2/buffer.h>
#include <stdint.h>

/* What the gauges show, read by the caller on the loop at scrape. */
struct auth_metrics_gauges {
	int64_t keys;
	int64_t hash_queue, hash_queue_max;
	int64_t db_queue, db_queue_max;
};

enum auth_metric {
	AUTH_M_LOGIN_OK,
	AUTH_M_LOGIN_FAILED,
	AUTH_M_LOGIN_THROTTLED,
	AUTH_M_REFRESH_OK,
	AUTH_M_REFRESH_REUSED,
	AUTH_M_REFRESH_EXPIRED,
	AUTH_M_REFRESH_REVOKED,
	AUTH_M_REFRESH_UNKNOWN,
	AUTH_M_LOGOUT,
	AUTH_M_LOGIN_SECONDS,
	AUTH_M_REFRESH_SECONDS,
	AUTH_M_KEYS,
	AUTH_M_KEYS_AGE,
	AUTH_M_HASH_QUEUE,
	AUTH_M_HASH_QUEUE_MAX,
	AUTH_M_DB_QUEUE,
	AUTH_M_DB_QUEUE_MAX,
	AUTH_M_COUNT
};

/* Registers the table; once, before the loop runs. */
int auth_metrics_init(void);

/* An audit event of session.c (with its reason, or NULL). */
void auth_metrics_audit(const char *event, const char *reason);

/* A request answered on route (a table path or NULL) after us. */
void auth_metrics_request(const char *route, int status, int64_t us);

/* The gauges, then the whole exposition into out. */
int auth_metrics_render(
    const struct auth_metrics_gauges *g, struct evbuffer *out);

#endif

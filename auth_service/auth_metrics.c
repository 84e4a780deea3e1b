/* auth_metrics: the issuer's series and what moves them. */
#include "auth_metrics.h"

#include <string.h>

#include "metrics.h"

#define C METRICS_COUNTER
#define H METRICS_HISTOGRAM
#define G METRICS_GAUGE

static const char auth_logins_help[] =
    "logins answered, by outcome (ok, failed: wrong user or password, "
    "throttled: refused before any check)";
static const char auth_refreshes_help[] =
    "refresh token presentations, by outcome (reused: an old generation "
    "came back and the family was revoked)";

static const struct metrics_series auth_series[AUTH_M_COUNT] = {
	[AUTH_M_LOGIN_OK] = { "auth_logins_total", "outcome=\"ok\"", C,
	    auth_logins_help },
	[AUTH_M_LOGIN_FAILED] = { "auth_logins_total", "outcome=\"failed\"", C,
	    auth_logins_help },
	[AUTH_M_LOGIN_THROTTLED] = { "auth_logins_total",
	    "outcome=\"throttled\"", C, auth_logins_help },
	[AUTH_M_REFRESH_OK] = { "auth_refreshes_total", "outcome=\"ok\"", C,
	    auth_refreshes_help },
	[AUTH_M_REFRESH_REUSED] = { "auth_refreshes_total",
	    "outcome=\"reused\"", C, auth_refreshes_help },
	[AUTH_M_REFRESH_EXPIRED] = { "auth_refreshes_total",
	    "outcome=\"expired\"", C, auth_refreshes_help },
	[AUTH_M_REFRESH_REVOKED] = { "auth_refreshes_total",
	    "outcome=\"revoked\"", C, auth_refreshes_help },
	[AUTH_M_REFRESH_UNKNOWN] = { "auth_refreshes_total",
	    "outcome=\"unknown\"", C, auth_refreshes_help },
	[AUTH_M_LOGOUT] = { "auth_logouts_total", NULL, C,
	    "logouts answered (a known family revoked, or an unknown token)" },
	[AUTH_M_LOGIN_SECONDS] = { "auth_login_duration_seconds", NULL, H,
	    "POST /login from request to reply, password hashing included" },
	[AUTH_M_REFRESH_SECONDS] = { "auth_refresh_duration_seconds", NULL, H,
	    "POST /refresh from request to reply" },
	[AUTH_M_KEYS] = { "auth_keys_loaded", NULL, G,
	    "keys published in the JWKS (the signing key first)" },
	[AUTH_M_KEYS_AGE] = { "auth_key_set_age_seconds", NULL,
	    METRICS_GAUGE_AGE, "seconds since the key set was loaded" },
	[AUTH_M_HASH_QUEUE] = { "auth_hash_queue_depth", NULL, G,
	    "logins queued for or in a password hashing thread" },
	[AUTH_M_HASH_QUEUE_MAX] = { "auth_hash_queue_capacity", NULL, G,
	    "hash_queue: depth past which logins are answered 503" },
	[AUTH_M_DB_QUEUE] = { "auth_db_queue_depth", NULL, G,
	    "database steps queued for or in a database thread" },
	[AUTH_M_DB_QUEUE_MAX] = { "auth_db_queue_capacity", NULL, G,
	    "db_queue: depth past which requests are answered 503" },
};

#undef C
#undef H
#undef G

int
auth_metrics_init(void)
{
	return metrics_init(auth_series, AUTH_M_COUNT);
}

void
auth_metrics_audit(const char *event, const char *reason)
{
	static const struct {
		const char *event, *reason;
		enum auth_metric m;
	} map[] = {
		{ "login_ok", NULL, AUTH_M_LOGIN_OK },
		{ "login_failed", NULL, AUTH_M_LOGIN_FAILED },
		{ "login_throttled", NULL, AUTH_M_LOGIN_THROTTLED },
		{ "refresh", NULL, AUTH_M_REFRESH_OK },
		{ "refresh_reuse_family_revoked", NULL, AUTH_M_REFRESH_REUSED },
		{ "refresh_failed", "expired", AUTH_M_REFRESH_EXPIRED },
		{ "refresh_failed", "revoked", AUTH_M_REFRESH_REVOKED },
		{ "refresh_failed", "reused", AUTH_M_REFRESH_REUSED },
		{ "refresh_failed", "unknown", AUTH_M_REFRESH_UNKNOWN },
		{ "logout", NULL, AUTH_M_LOGOUT },
	};

	for (size_t i = 0; i < sizeof(map) / sizeof(*map); i++) {
		if (strcmp(map[i].event, event) != 0 ||
		    (map[i].reason != NULL &&
		        (reason == NULL || strcmp(map[i].reason, reason) != 0)))
			continue;
		metrics_count(map[i].m);
		return;
	}
}

void
auth_metrics_request(const char *route, int status, int64_t us)
{
	metrics_http(route, status);
	if (route == NULL)
		return;
	if (strcmp(route, "/login") == 0)
		metrics_observe_us(AUTH_M_LOGIN_SECONDS, us);
	else if (strcmp(route, "/refresh") == 0)
		metrics_observe_us(AUTH_M_REFRESH_SECONDS, us);
}

int
auth_metrics_render(const struct auth_metrics_gauges *g, struct evbuffer *out)
{
	metrics_set(AUTH_M_KEYS, g->keys);
	metrics_set(AUTH_M_HASH_QUEUE, g->hash_queue);
	metrics_set(AUTH_M_HASH_QUEUE_MAX, g->hash_queue_max);
	metrics_set(AUTH_M_DB_QUEUE, g->db_queue);
	metrics_set(AUTH_M_DB_QUEUE_MAX, g->db_queue_max);
	return metrics_render(out);
}

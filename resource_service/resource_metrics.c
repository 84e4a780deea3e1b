/* resource_metrics: the verifier's series and what moves them. */
#include "resource_metrics.h"

#include "metrics.h"

#define C METRICS_COUNTER

static const char verify_help[] =
    "guarded requests, by result (granted or rejected) and reason (the "
    "error code of the refusal; none when granted)";

#define V(m, result, reason)                                                   \
	[m] = { "resource_verifications_total",                                \
		"result=\"" result "\",reason=\"" reason "\"", C,              \
		verify_help }

static const struct metrics_series resource_series[RES_M_COUNT] = {
	V(RES_M_VERIFY_OK, "granted", "none"),
	V(RES_M_VERIFY_MISSING, "rejected", "missing"),
	V(RES_M_VERIFY_BEARER, "rejected", "bearer_malformed"),
	V(RES_M_VERIFY_MALFORMED, "rejected", "malformed"),
	V(RES_M_VERIFY_ALG, "rejected", "alg"),
	V(RES_M_VERIFY_HEADER, "rejected", "header"),
	V(RES_M_VERIFY_KID, "rejected", "unknown_kid"),
	V(RES_M_VERIFY_SIGNATURE, "rejected", "signature"),
	V(RES_M_VERIFY_EXPIRED, "rejected", "expired"),
	V(RES_M_VERIFY_NOT_YET_VALID, "rejected", "not_yet_valid"),
	V(RES_M_VERIFY_ISSUER, "rejected", "issuer"),
	V(RES_M_VERIFY_AUDIENCE, "rejected", "audience"),
	V(RES_M_VERIFY_CLAIMS, "rejected", "claims"),
	V(RES_M_VERIFY_SCOPE, "rejected", "insufficient_scope"),
	V(RES_M_VERIFY_NO_KEYS, "rejected", "no_keys"),
	V(RES_M_VERIFY_OTHER, "rejected", "other"),
	[RES_M_VERIFY_SECONDS] = { "resource_verification_duration_seconds",
	    NULL, METRICS_HISTOGRAM,
	    "guarded requests from arrival to decision (cache hits "
	    "included)" },
	[RES_M_JWKS_OK] = { "resource_jwks_fetches_total", "outcome=\"ok\"", C,
	    "JWKS fetches from jwks_url, by outcome" },
	[RES_M_JWKS_FAILED] = { "resource_jwks_fetches_total",
	    "outcome=\"failed\"", C, "JWKS fetches from jwks_url, by outcome" },
	[RES_M_KEYS] = { "resource_keys_loaded", NULL, METRICS_GAUGE,
	    "keys in the current key set" },
	[RES_M_KEYS_AGE] = { "resource_key_set_age_seconds", NULL,
	    METRICS_GAUGE_AGE,
	    "seconds since the key set was last loaded or confirmed by a "
	    "fetch" },
	[RES_M_CACHE_ENTRIES] = { "resource_token_cache_entries", NULL,
	    METRICS_GAUGE_SUM, "verified tokens cached, over all workers" },
};

#undef V
#undef C

int
resource_metrics_init(void)
{
	return metrics_init(resource_series, RES_M_COUNT);
}

void
resource_metrics_verified(enum err_code code, int64_t us)
{
	enum resource_metric m;

	switch (code) {
	case ERR_OK:
		m = RES_M_VERIFY_OK;
		break;
	case ERR_TOKEN_MISSING:
		m = RES_M_VERIFY_MISSING;
		break;
	case ERR_BEARER_MALFORMED:
		m = RES_M_VERIFY_BEARER;
		break;
	case ERR_TOKEN_MALFORMED:
		m = RES_M_VERIFY_MALFORMED;
		break;
	case ERR_TOKEN_ALG:
		m = RES_M_VERIFY_ALG;
		break;
	case ERR_TOKEN_HEADER:
		m = RES_M_VERIFY_HEADER;
		break;
	case ERR_TOKEN_KID:
		m = RES_M_VERIFY_KID;
		break;
	case ERR_TOKEN_SIGNATURE:
		m = RES_M_VERIFY_SIGNATURE;
		break;
	case ERR_TOKEN_EXPIRED:
		m = RES_M_VERIFY_EXPIRED;
		break;
	case ERR_TOKEN_NOT_YET_VALID:
		m = RES_M_VERIFY_NOT_YET_VALID;
		break;
	case ERR_TOKEN_ISSUER:
		m = RES_M_VERIFY_ISSUER;
		break;
	case ERR_TOKEN_AUDIENCE:
		m = RES_M_VERIFY_AUDIENCE;
		break;
	case ERR_TOKEN_CLAIMS:
		m = RES_M_VERIFY_CLAIMS;
		break;
	case ERR_INSUFFICIENT_SCOPE:
		m = RES_M_VERIFY_SCOPE;
		break;
	case ERR_UNAVAILABLE:
		m = RES_M_VERIFY_NO_KEYS;
		break;
	default:
		m = RES_M_VERIFY_OTHER;
		break;
	}
	metrics_count(m);
	metrics_observe_us(RES_M_VERIFY_SECONDS, us);
}

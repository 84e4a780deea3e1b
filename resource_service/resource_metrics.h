/* resource_metrics: the verifier's series (docs/OPERATIONS.md lists them)
 * and the mapping from a guard decision to them. Counting goes through
 * common/metrics.c: each worker counts into its own shard. */
#ifndef RESOURCE_METRICS_H
#define RESOURCE_METRICS_H

#include <stdint.h>

#include "err.h"

enum resource_metric {
	/* One per verification result, in the order of resource_reasons
	 * (resource_metrics.c): RES_M_VERIFY_OK first. */
	RES_M_VERIFY_OK,
	RES_M_VERIFY_MISSING,
	RES_M_VERIFY_BEARER,
	RES_M_VERIFY_MALFORMED,
	RES_M_VERIFY_ALG,
	RES_M_VERIFY_HEADER,
	RES_M_VERIFY_KID,
	RES_M_VERIFY_SIGNATURE,
	RES_M_VERIFY_EXPIRED,
	RES_M_VERIFY_NOT_YET_VALID,
	RES_M_VERIFY_ISSUER,
	RES_M_VERIFY_AUDIENCE,
	RES_M_VERIFY_CLAIMS,
	RES_M_VERIFY_SCOPE,
	RES_M_VERIFY_NO_KEYS,
	RES_M_VERIFY_OTHER,
	RES_M_VERIFY_SECONDS,
	RES_M_JWKS_OK,
	RES_M_JWKS_FAILED,
	RES_M_KEYS,
	RES_M_KEYS_AGE,
	RES_M_CACHE_ENTRIES,
	RES_M_COUNT
};

int resource_metrics_init(void);

/* One guarded request decided: code ERR_OK (granted) or the refusal,
 * after us microseconds. */
void resource_metrics_verified(enum err_code code, int64_t us);

#endif

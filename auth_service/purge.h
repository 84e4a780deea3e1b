/* purge: deletes families whose absolute lifetime ended more than a day
 * ago, in small batches on the store pool, one batch at a time with a
 * pause between them, so however much has piled up (a million expired
 * logins after an outage) no request waits behind it. */
#ifndef AUTH_PURGE_H
#define AUTH_PURGE_H

#include <stdint.h>

#include "service.h"

#define PURGE_KEEP 86400    /* expired families kept a day, for audits */
#define PURGE_INTERVAL 3600 /* seconds between purges */
#define PURGE_BATCH 200     /* families per transaction: ~1 ms (bench/) */
#define PURGE_PAUSE_MS 10   /* between batches */
/* The write-ahead log's length (pages) at which the purge copies what is
 * left of it with writers held out, well below SQLite's automatic mark
 * (1000), which would otherwise be crossed inside a request's commit. */
#define PURGE_LOG_PAGES 256
#define PURGE_COPY_EVERY 4 /* batches (some 150 pages) per copy of the log */

struct purger;

/* Starts purging now and every PURGE_INTERVAL seconds. */
struct purger *purger_new(struct auth_ctx *ctx, struct err *e);
/* Stops the timer; a batch in flight is delivered by the pool. NULL ok. */
void purger_free(struct purger *p);

#endif

/* kid_wait: a worker's requests whose token names a kid its key set
 * lacks, held (bounded in time) until the key source's next JWKS fetch
 * answers for that kid, then decided again: the first token signed with a
 * freshly published key gets its 200, not a 401 (RFC 7517 5: a verifier
 * may refetch a set on an unknown kid). A kid that a later fetch did not
 * bring is refused at once by the key source (its negative cache). */
#ifndef RESOURCE_KID_WAIT_H
#define RESOURCE_KID_WAIT_H

#include <event2/event.h>
#include <event2/http.h>
#include <stdbool.h>
#include <stdint.h>

#include "err.h"
#include "key_source.h"

/* Decides a held request again. last: the fetch that answers its kid is
 * in (or its time is up), so it must be answered now. Returns true when
 * answered; false (only when !last) to keep waiting. saved is the
 * caller's data given to kid_wait_hold, freed by kid_wait after an
 * answer. */
typedef bool (*kid_wait_retry)(
    void *arg, struct evhttp_request *req, void *saved, bool last);

/* On the worker's base; registers with ks (before key_source_start).
 * max_wait_ms bounds every hold. */
struct kid_wait *kid_wait_new(struct event_base *base, struct key_source *ks,
    int64_t max_wait_ms, kid_wait_retry retry, void *arg, struct err *e);

/* Forgets the held requests without touching them (evhttp_free has
 * freed them); frees their saved data. */
void kid_wait_free(struct kid_wait *kw);

/* Holds req, whose token names kid. 0: held (saved is taken). -1: the
 * kid is refused at once or there is no memory; saved stays the
 * caller's. */
int kid_wait_hold(struct kid_wait *kw, struct evhttp_request *req,
    const char *kid, size_t kid_len, void *saved);

/* The kid of a compact JWS (its protected header's "kid"), copied into
 * buf. -1 when there is none or it does not fit. */
int kid_wait_token_kid(
    const char *token, size_t len, char *buf, size_t buflen, size_t *kid_len);

#endif

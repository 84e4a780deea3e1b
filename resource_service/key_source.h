/* key_source: where the verifier's public keys come from, either PEM files
 * (several during a rotation) or the issuer's JWKS URL, fetched with
 * libevent's non-blocking HTTP client on the control thread's event base
 * and cached per Cache-Control max-age (RFC 9111 5.2.2.1). Each new key set
 * is posted to every worker's mailbox; workers never wait on the issuer,
 * and the last good set keeps serving while the issuer is down. Nothing a
 * token names (jku, x5u) is ever fetched: only the configured URL. */
#ifndef RESOURCE_KEY_SOURCE_H
#define RESOURCE_KEY_SOURCE_H

#include <event2/event.h>
#include <stdbool.h>
#include <stdint.h>

#include "err.h"
#include "jwks.h"
#include "mailbox.h"

#define KEY_SOURCE_MAX_JWKS (256L * 1024) /* bytes of a JWKS response */
#define KEY_SOURCE_MAX_SUBSCRIBERS 1024
#define KEY_SOURCE_KIDS 512 /* unknown kids remembered */

struct key_source_config {
	char *const *pem_paths; /* NULL-terminated; used without a jwks_url */
	const char *jwks_url;   /* "http://host[:port]/path"; NULL or "": PEM */
	int64_t min_age;        /* clamp of the response's max-age, seconds */
	int64_t max_age;
	int64_t refetch_interval; /* unknown kids: at most one fetch per this */
	int64_t unknown_kid_ttl;  /* a kid a later fetch lacked: refused at
	                             once for this long, seconds */
	int64_t timeout;          /* one fetch, seconds */
};

/* base: the control thread's event base (fetches and timers run there).
 * The configuration is copied. ERR_CONFIG for an unusable URL. */
struct key_source *key_source_new(struct event_base *base,
    const struct key_source_config *cfg, struct err *e);
void key_source_free(struct key_source *ks);

/* Adds a worker's mailbox (its release must be a jwks_free wrapper). Only
 * before key_source_start. */
int key_source_subscribe(
    struct key_source *ks, struct mailbox *mb, struct err *e);

/* PEM: loads the files now (an error is fatal at start). JWKS: starts the
 * first fetch; workers answer 503 until a set arrives. */
int key_source_start(struct key_source *ks, struct err *e);

/* SIGHUP: PEM files are read again, a file removed since being a retired
 * key that no longer verifies (on any other error, or with no file left,
 * the running set is kept and -1 returned); a JWKS is refetched now. */
int key_source_reload(struct key_source *ks, struct err *e);

/* Any thread (JWKS mode): a token names a kid the worker's key set lacks.
 * KEY_SOURCE_KID_REFUSE: a fetch made after this kid was first seen did
 * not bring it (remembered per kid for unknown_kid_ttl), or no key could
 * have it. KEY_SOURCE_KID_WAIT: a fetch is wanted (coalesced: one per
 * refetch_interval at most, whatever kids ask) and *need is the number of
 * the fetch that answers for this kid; when key_source_fetches_done()
 * reaches it, the workers' mailboxes hold what it brought. */
enum key_source_kid { KEY_SOURCE_KID_REFUSE, KEY_SOURCE_KID_WAIT };
enum key_source_kid key_source_kid_wanted(
    struct key_source *ks, const char *kid, size_t len, uint64_t *need);

/* Any thread: the number of the last fetch that finished (well or not). */
uint64_t key_source_fetches_done(struct key_source *ks);

/* Before key_source_start: ev (on a worker's base) is activated after
 * every fetch, from the control thread. */
int key_source_watch(struct key_source *ks, struct event *ev, struct err *e);

/* True in JWKS mode (the unknown-kid hook is worth installing). */
bool key_source_is_remote(const struct key_source *ks);

/* Keys in the current set (0 before the first successful load). */
size_t key_source_key_count(const struct key_source *ks);

/* Loads every PEM file into one set (a repeated key is ERR_KEY, naming the
 * file). Used at start, on SIGHUP and by --check-config; skip_gone (the
 * SIGHUP case) passes over a file that no longer exists, with a warning. */
int key_source_load_pem(
    char *const *paths, bool skip_gone, struct jwks **out, struct err *e);

/* Checks a JWKS URL without fetching it: http scheme, a host, no
 * userinfo or fragment. */
int key_source_check_url(const char *url, struct err *e);

/* The max-age of a Cache-Control value (RFC 9111 5.2.2.1); no-store and
 * no-cache count as 0. 0 and *out untouched when there is none, 1 found. */
int key_source_max_age(const char *cache_control, int64_t *out);

#endif

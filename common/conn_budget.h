/* conn_budget: what the listener counts for the whole process: the
 * descriptor limit (raised once), the connections held, the connections
 * per client address, and the events logged at most once a second per
 * kind, with a count. Thread-safe: the workers of one daemon share it. */
#ifndef JWT_CONN_BUDGET_H
#define JWT_CONN_BUDGET_H

#include <stdbool.h>
#include <stdint.h>

#define CONN_BUDGET_ADDR_LEN 16

/* Events logged at most once a second per kind, with a count. */
enum conn_note {
	CONN_NOTE_PAUSED,
	CONN_NOTE_ACCEPT_ERROR,
	CONN_NOTE_EVICTED,
	CONN_NOTE_REFUSED,
	CONN_NOTE_CLIENT_CAP,
	CONN_NOTE_HEAD_TIMEOUT,
	CONN_NOTE_BODY_TIMEOUT,
	CONN_NOTE_COUNT
};

/* Raises the soft RLIMIT_NOFILE to the hard one (once per process) and
 * logs both; returns the soft limit now in force. */
int64_t conn_budget_fd_limit(void);

/* The key a per-address cap counts for the peer of fd: IPv4 as mapped
 * IPv6, IPv6 by its /64 (one subscriber's prefix, RFC 6177). */
void conn_budget_addr_key(int fd, unsigned char key[CONN_BUDGET_ADDR_LEN]);

/* A connection from key is held: returns the total held, and in *mine
 * how many key holds (-1: no memory, over any cap). */
int64_t conn_budget_take(
    const unsigned char key[CONN_BUDGET_ADDR_LEN], int64_t *mine);
/* The same connection is gone. */
void conn_budget_give(const unsigned char key[CONN_BUDGET_ADDR_LEN]);
/* Connections held now. */
int64_t conn_budget_total(void);

/* Counts one event (err: an errno to name, or 0). Logged now when its
 * kind was quiet for a second; else true: call conn_budget_flush in a
 * second. */
bool conn_budget_note(enum conn_note k, int err);
/* Logs the counts that waited a second. */
void conn_budget_flush(void);

/* How many events of kind k happened since start (for /metrics). */
int64_t conn_budget_note_total(enum conn_note k);

#endif

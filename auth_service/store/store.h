/* store: the one door to stored data (users, refresh-token families and
 * refresh tokens) for the daemon and jwt-admin alike. A backend fills a
 * struct store_ops in a folder of its own (store/sqlite/); it is chosen
 * once, by store_open, and nothing outside a backend names its library. */
#ifndef AUTH_STORE_H
#define AUTH_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define STORE_FAMILY_ID_LEN 22 /* base64url of 16 random bytes */
#define STORE_SUB_LEN 36       /* a random UUID (RFC 9562 version 4) */
#define STORE_MAX_USERNAME 256 /* bytes */
#define STORE_MAX_ROLES 64
#define STORE_MAX_CLIENT_ID 128 /* bytes */
#define STORE_MAX_SCOPE 1024    /* bytes of a space-separated scope */

/* A user as the handlers see it. */
struct store_user {
	int64_t id;
	char sub[STORE_SUB_LEN + 1]; /* stable subject: never the username */
	char *username;              /* NUL-terminated, no embedded NUL */
	char *password_hash;         /* argon2id string (crypto_pwhash_str) */
	char **roles;                /* n_roles strings */
	size_t n_roles;
};

/* A family (one login) as a call left it: its live refresh token is the
 * one of generation (refresh_token.h). */
struct store_grant {
	char family_id[STORE_FAMILY_ID_LEN + 1];
	int64_t user_id;
	/* The client the family was issued to (RFC 6749 6: its refresh
	 * tokens work only for that client). */
	char client_id[STORE_MAX_CLIENT_ID + 1];
	/* The scope granted at login, "" when none was asked (everything
	 * the user holds); a refresh never widens it (RFC 6749 6). */
	char scope[STORE_MAX_SCOPE + 1];
	bool revoked;
	/* The family's user, read with the token (rotate and revoke) so the
	 * audit line needs no second read; "" when unknown. */
	char username[STORE_MAX_USERNAME + 1];
	int64_t family_expires; /* absolute: rotation never extends it */
	int64_t token_expires;  /* min(now + refresh_ttl, family_expires) */
	int64_t token_issued;   /* when the live generation was issued */
	uint64_t generation;
};

/* Why a refresh token was refused, for the audit log. */
enum store_refusal {
	STORE_REFUSED_NONE = 0,
	STORE_REFUSED_UNKNOWN,
	STORE_REFUSED_EXPIRED,
	STORE_REFUSED_REVOKED,
	STORE_REFUSED_REUSED, /* family revoked and committed by this call */
	STORE_REFUSED_CLIENT, /* the family belongs to another client */
};

/* The grant types a client may use at POST /token (RFC 6749 1.3), stored
 * as these bits. */
enum store_grant_type {
	STORE_GRANT_PASSWORD = 1 << 0,
	STORE_GRANT_REFRESH_TOKEN = 1 << 1,
	STORE_GRANT_CLIENT_CREDENTIALS = 1 << 2,
};
#define STORE_GRANT_ALL                                                        \
	(STORE_GRANT_PASSWORD | STORE_GRANT_REFRESH_TOKEN |                    \
	    STORE_GRANT_CLIENT_CREDENTIALS)

/* An OAuth client (RFC 6749 2). */
struct store_client {
	char *client_id;
	/* client_secret.h's hash of the secret; NULL for a public client
	 * (RFC 6749 2.1), which authenticates with nothing but its id. */
	char *secret_hash;
	unsigned grant_types; /* STORE_GRANT_* bits */
	char **roles;         /* the client's own, for client_credentials */
	size_t n_roles;
	int64_t access_ttl; /* seconds; 0: the configured access_ttl */
	int64_t created_at;
};

/* A user as jwt-admin lists it. */
struct store_user_summary {
	char *username;
	char sub[STORE_SUB_LEN + 1];
	char *roles; /* the JSON array as stored */
	int64_t created_at, updated_at;
	int64_t sessions; /* families neither revoked nor expired */
};

/* One user of secrets.json, already validated by seed.c. */
struct store_seed_user {
	const char *username;
	size_t username_len;
	const char *const *roles;
	size_t n_roles;
};

/* The seed-related state of one stored user (see seed.c). */
struct store_seed_state {
	bool exists;
	char *seed_hash; /* the hash last imported from the seed, or NULL */
};

struct store_ops {
	/* Writers exclude each other for the whole transaction (SQLite):
	 * store_pool lets one in-process writer in at a time. */
	bool serial_writes;
	void (*close)(void *impl);
	/* A cheap round trip to the database, for /health. */
	int (*ping)(void *impl, struct err *e);

	/* *out is NULL (and 0 returned) when there is no such user. */
	int (*find_user)(void *impl, const char *name, size_t len,
	    struct store_user **out, struct err *e);
	int (*find_user_by_id)(
	    void *impl, int64_t id, struct store_user **out, struct err *e);
	/* Replaces the hash only if it is still old_hash (a re-hash after a
	 * login must never undo a concurrent password change). */
	int (*update_password_hash)(void *impl, int64_t id,
	    const char *old_hash, const char *new_hash, struct err *e);

	int (*seed_state)(void *impl, const char *name, size_t len,
	    struct store_seed_state *out, struct err *e);
	/* Creates or updates one seeded user in one transaction: roles always;
	 * password and seed hash only if new_hash is not NULL, and then only
	 * if the seed hash is still expected_seed_hash (NULL: none). */
	int (*seed_user)(void *impl, const struct store_seed_user *u,
	    const char *new_hash, const char *expected_seed_hash, int64_t now,
	    struct err *e);

	/* A new family (one login), family_id made by the caller, its
	 * first token of generation 0. scope: what was granted ("" or NULL:
	 * everything the user holds). */
	int (*create_family)(void *impl, const char *family_id, int64_t user_id,
	    const char *client_id, const char *scope, int64_t now,
	    int64_t token_ttl, int64_t family_ttl, struct store_grant *out,
	    struct err *e);
	/* Single-use rotation: moves the family from generation to
	 * generation + 1 if it, its token and its user are live, atomically
	 * (at most one of concurrent callers succeeds), and reads the
	 * family's user as it is now (*user, the caller's). Refusals are
	 * ERR_INVALID_GRANT with *why set; an older generation is a reuse:
	 * the family is revoked and that revocation committed. A family of
	 * another client than client_id is refused first, with nothing
	 * changed (STORE_REFUSED_CLIENT). */
	int (*rotate)(void *impl, const char *family_id, uint64_t generation,
	    const char *client_id, int64_t now, int64_t token_ttl,
	    struct store_grant *out, struct store_user **user,
	    enum store_refusal *why, struct err *e);
	/* Revokes a family. *found false for an unknown one (not an error:
	 * RFC 7009 2.2). */
	int (*revoke)(void *impl, const char *family_id, const char *reason,
	    int64_t now, struct store_grant *out, bool *found, struct err *e);
	/* Deletes at most limit families whose absolute expiry is before
	 * the given time, oldest first; *deleted says how many. */
	int (*purge)(void *impl, int64_t before, int64_t limit,
	    int64_t *deleted, struct err *e);
	/* Copies the write-ahead log into the database file as far as
	 * readers allow, neither waiting for a writer nor holding one out
	 * (SQLite's PASSIVE checkpoint); *log_pages: the log's length
	 * after it. NULL where the database checkpoints on its own
	 * (PostgreSQL). */
	int (*checkpoint)(void *impl, int64_t *log_pages, struct err *e);
	/* A write that commits (for readiness: a full disk or read-only
	 * file fails here, where a read does not). */
	int (*ping_write)(void *impl, int64_t now, struct err *e);

	/* Operators' user management (jwt-admin). */
	/* All users, ordered by name. */
	int (*list_users)(void *impl, int64_t now,
	    struct store_user_summary **out, size_t *n, struct err *e);
	/* Replaces the password hash and revokes every live family of the
	 * user (a new password ends the old one's sessions), in one
	 * transaction; the seed hash is left alone. *found false: no such
	 * user. *revoked: families revoked. */
	int (*set_password)(void *impl, const char *name, const char *hash,
	    int64_t now, bool *found, int64_t *revoked, struct err *e);
	/* Deletes the user with its families and tokens. */
	int (*delete_user)(
	    void *impl, const char *name, bool *found, struct err *e);

	/* OAuth 2.0 (clients, introspection, registration). */
	/* *out NULL (and 0 returned) when there is no such client. */
	int (*find_client)(void *impl, const char *client_id, size_t len,
	    struct store_client **out, struct err *e);
	/* A new client; a taken id is ERR_CONFLICT. created_at is now. */
	int (*add_client)(void *impl, const struct store_client *c, int64_t now,
	    struct err *e);
	/* All clients, ordered by id. */
	int (*list_clients)(
	    void *impl, struct store_client **out, size_t *n, struct err *e);
	/* Replaces the secret hash (NULL makes the client public). */
	int (*set_client_secret)(void *impl, const char *client_id,
	    const char *secret_hash, bool *found, struct err *e);
	/* Deletes a client and revokes its live families in one
	 * transaction; *revoked says how many. */
	int (*delete_client)(void *impl, const char *client_id, int64_t now,
	    bool *found, int64_t *revoked, struct err *e);
	/* Reads a family without changing it (introspection, revocation):
	 * *found false for an unknown one. */
	int (*find_family)(void *impl, const char *family_id,
	    struct store_grant *out, bool *found, struct err *e);
	/* A new user with no seed hash (registration). A taken name is
	 * ERR_CONFLICT. *out is the new user, the caller's. */
	int (*create_user)(void *impl, const char *name, size_t len,
	    const char *hash, char *const *roles, size_t n_roles, int64_t now,
	    struct store_user **out, struct err *e);

	/* Failed-login state that every issuer of the database shares, so
	 * N issuers do not give a guesser N times the tries. NULL in a
	 * backend one process owns (SQLite): the in-memory throttle is the
	 * whole state there. key: a keyed hash of a user name or client
	 * address (shared_throttle.c), never the name; times in seconds. */
	/* When the key is blocked until (0: not known or not blocked). */
	int (*throttle_get)(void *impl, const unsigned char *key,
	    int64_t *blocked_until, struct err *e);
	/* Counts one failure (a count quiet for window seconds and not
	 * blocked starts again at 1); *failures is the new count. */
	int (*throttle_fail)(void *impl, const unsigned char *key, int64_t now,
	    int64_t window, int64_t *failures, struct err *e);
	/* Blocks the key until at least the given time. */
	int (*throttle_block)(
	    void *impl, const unsigned char *key, int64_t until, struct err *e);
	/* Forgets the key (a successful login). */
	int (*throttle_clear)(
	    void *impl, const unsigned char *key, struct err *e);
};

#define STORE_THROTTLE_KEY_LEN 16

struct store {
	const struct store_ops *ops;
	void *impl;
};

/* Opens the backend that database names: a SQLite file path (directory
 * created if missing), also written "sqlite:PATH", or a PostgreSQL URL
 * (postgresql://... or postgres://..., libpq's syntax). busy_timeout_ms bounds
 * a wait for another writer's lock. */
struct store *store_open(
    const char *database, int busy_timeout_ms, struct err *e);
void store_free(struct store *s);
/* False when database names a SQLite file that does not exist yet (the
 * operator tools refuse to create one by accident). */
bool store_exists(const char *database);
/* store_open for a database that must exist already: the daemon's own
 * connections after start, where a missing file means it was deleted
 * (ERR_IO), never that a new, empty one should be made. */
struct store *store_open_existing(
    const char *database, int busy_timeout_ms, struct err *e);
void store_user_summaries_free(struct store_user_summary *u, size_t n);
void store_user_free(struct store_user *u);
void store_seed_state_clear(struct store_seed_state *st);

const char *store_refusal_name(enum store_refusal why);

/* Thin wrappers so callers read store_find_user(s, ...). */
int store_ping(struct store *s, struct err *e);
int store_find_user(struct store *s, const char *name, size_t len,
    struct store_user **out, struct err *e);
int store_find_user_by_id(
    struct store *s, int64_t id, struct store_user **out, struct err *e);
int store_update_password_hash(struct store *s, int64_t id,
    const char *old_hash, const char *new_hash, struct err *e);
int store_seed_state(struct store *s, const char *name, size_t len,
    struct store_seed_state *out, struct err *e);
int store_seed_user(struct store *s, const struct store_seed_user *u,
    const char *new_hash, const char *expected_seed_hash, int64_t now,
    struct err *e);
int store_create_family(struct store *s, const char *family_id, int64_t user_id,
    const char *client_id, const char *scope, int64_t now, int64_t token_ttl,
    int64_t family_ttl, struct store_grant *out, struct err *e);
int store_rotate(struct store *s, const char *family_id, uint64_t generation,
    const char *client_id, int64_t now, int64_t token_ttl,
    struct store_grant *out, struct store_user **user, enum store_refusal *why,
    struct err *e);
int store_revoke(struct store *s, const char *family_id, const char *reason,
    int64_t now, struct store_grant *out, bool *found, struct err *e);
int store_purge(struct store *s, int64_t before, int64_t limit,
    int64_t *deleted, struct err *e);
/* *log_pages is 0 where the backend has no checkpoint op. */
int store_checkpoint(struct store *s, int64_t *log_pages, struct err *e);
int store_ping_write(struct store *s, int64_t now, struct err *e);
int store_list_users(struct store *s, int64_t now,
    struct store_user_summary **out, size_t *n, struct err *e);
int store_set_password(struct store *s, const char *name, const char *hash,
    int64_t now, bool *found, int64_t *revoked, struct err *e);
int store_delete_user(
    struct store *s, const char *name, bool *found, struct err *e);
int store_find_client(struct store *s, const char *client_id, size_t len,
    struct store_client **out, struct err *e);
int store_add_client(
    struct store *s, const struct store_client *c, int64_t now, struct err *e);
int store_list_clients(
    struct store *s, struct store_client **out, size_t *n, struct err *e);
int store_set_client_secret(struct store *s, const char *client_id,
    const char *secret_hash, bool *found, struct err *e);
int store_delete_client(struct store *s, const char *client_id, int64_t now,
    bool *found, int64_t *revoked, struct err *e);
int store_find_family(struct store *s, const char *family_id,
    struct store_grant *out, bool *found, struct err *e);
int store_create_user(struct store *s, const char *name, size_t len,
    const char *hash, char *const *roles, size_t n_roles, int64_t now,
    struct store_user **out, struct err *e);

/* A client's members freed; the struct itself too (client_free) or not
 * (clients_free frees an array of n). NULL does nothing. */
void store_client_free(struct store_client *c);
void store_clients_free(struct store_client *c, size_t n);
/* "password", "refresh_token", "client_credentials"; 0 if unknown. */
unsigned store_grant_type_parse(const char *name, size_t len);

/* True when the backend keeps failed-login state for all its issuers. */
bool store_shares_throttle(const struct store *s);
int store_throttle_get(struct store *s, const unsigned char *key,
    int64_t *blocked_until, struct err *e);
int store_throttle_fail(struct store *s, const unsigned char *key, int64_t now,
    int64_t window, int64_t *failures, struct err *e);
int store_throttle_block(
    struct store *s, const unsigned char *key, int64_t until, struct err *e);
int store_throttle_clear(
    struct store *s, const unsigned char *key, struct err *e);

#endif

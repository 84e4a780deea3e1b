/* pg_store: the PostgreSQL backend's ops table (impl is a struct pg): pg.c
 * connects, pg_users.c, pg_families.c, pg_clients.c and pg_admin.c do the
 * work. */
#include "pg_store.h"

#include <stdlib.h>

#include "pg.h"
#include "pg_admin.h"
#include "pg_clients.h"
#include "pg_families.h"
#include "pg_throttle.h"
#include "pg_users.h"

static void
pgs_close(void *impl)
{
	pg_free(impl);
}

static int
pgs_ping(void *impl, struct err *e)
{
	return pg_ping(impl, e);
}

static int
pgs_find_user(void *impl, const char *name, size_t len, struct store_user **out,
    struct err *e)
{
	return pg_find_user(impl, name, len, out, e);
}

static int
pgs_find_user_by_id(
    void *impl, int64_t id, struct store_user **out, struct err *e)
{
	return pg_find_user_by_id(impl, id, out, e);
}

static int
pgs_update_password_hash(void *impl, int64_t id, const char *old_hash,
    const char *new_hash, struct err *e)
{
	return pg_update_password_hash(impl, id, old_hash, new_hash, e);
}

static int
pgs_seed_state(void *impl, const char *name, size_t len,
    struct store_seed_state *out, struct err *e)
{
	return pg_seed_state(impl, name, len, out, e);
}

static int
pgs_seed_user(void *impl, const struct store_seed_user *u, const char *new_hash,
    const char *expected_seed_hash, int64_t now, struct err *e)
{
	return pg_seed_user(impl, u, new_hash, expected_seed_hash, now, e);
}

static int
pgs_create_family(void *impl, const char *family_id, int64_t user_id,
    const char *client_id, const char *scope, int64_t now, int64_t token_ttl,
    int64_t family_ttl, struct store_grant *out, struct err *e)
{
	return pg_create_family(impl, family_id, user_id, client_id, scope, now,
	    token_ttl, family_ttl, out, e);
}

static int
pgs_rotate(void *impl, const char *family_id, uint64_t generation,
    const char *client_id, int64_t now, int64_t token_ttl,
    struct store_grant *out, struct store_user **user, enum store_refusal *why,
    struct err *e)
{
	return pg_rotate(impl, family_id, generation, client_id, now, token_ttl,
	    out, user, why, e);
}

static int
pgs_revoke(void *impl, const char *family_id, const char *reason, int64_t now,
    struct store_grant *out, bool *found, struct err *e)
{
	return pg_revoke(impl, family_id, reason, now, out, found, e);
}

static int
pgs_purge(
    void *impl, int64_t before, int64_t limit, int64_t *deleted, struct err *e)
{
	int64_t throttle_rows;

	/* Quiet throttle rows go with each batch: bounded like it. */
	if (pg_purge(impl, before, limit, deleted, e) == -1)
		return -1;
	return pg_throttle_purge(impl, before, limit, &throttle_rows, e);
}

static int
pgs_ping_write(void *impl, int64_t now, struct err *e)
{
	return pg_ping_write(impl, now, e);
}

static int
pgs_list_users(void *impl, int64_t now, struct store_user_summary **out,
    size_t *n, struct err *e)
{
	return pg_list_users(impl, now, out, n, e);
}

static int
pgs_set_password(void *impl, const char *name, const char *hash, int64_t now,
    bool *found, int64_t *revoked, struct err *e)
{
	return pg_set_password(impl, name, hash, now, found, revoked, e);
}

static int
pgs_delete_user(void *impl, const char *name, bool *found, struct err *e)
{
	return pg_delete_user(impl, name, found, e);
}

static int
pgs_find_client(void *impl, const char *client_id, size_t len,
    struct store_client **out, struct err *e)
{
	return pg_find_client(impl, client_id, len, out, e);
}

static int
pgs_add_client(
    void *impl, const struct store_client *c, int64_t now, struct err *e)
{
	return pg_add_client(impl, c, now, e);
}

static int
pgs_list_clients(
    void *impl, struct store_client **out, size_t *n, struct err *e)
{
	return pg_list_clients(impl, out, n, e);
}

static int
pgs_set_client_secret(void *impl, const char *client_id,
    const char *secret_hash, bool *found, struct err *e)
{
	return pg_set_client_secret(impl, client_id, secret_hash, found, e);
}

static int
pgs_delete_client(void *impl, const char *client_id, int64_t now, bool *found,
    int64_t *revoked, struct err *e)
{
	return pg_delete_client(impl, client_id, now, found, revoked, e);
}

static int
pgs_find_family(void *impl, const char *family_id, struct store_grant *out,
    bool *found, struct err *e)
{
	return pg_find_family(impl, family_id, out, found, e);
}

static int
pgs_create_user(void *impl, const char *name, size_t len, const char *hash,
    char *const *roles, size_t n_roles, int64_t now, struct store_user **out,
    struct err *e)
{
	return pg_create_user(
	    impl, name, len, hash, roles, n_roles, now, out, e);
}

static int
pgs_throttle_get(
    void *impl, const unsigned char *key, int64_t *blocked_until, struct err *e)
{
	return pg_throttle_get(impl, key, blocked_until, e);
}

static int
pgs_throttle_fail(void *impl, const unsigned char *key, int64_t now,
    int64_t window, int64_t *failures, struct err *e)
{
	return pg_throttle_fail(impl, key, now, window, failures, e);
}

static int
pgs_throttle_block(
    void *impl, const unsigned char *key, int64_t until, struct err *e)
{
	return pg_throttle_block(impl, key, until, e);
}

static int
pgs_throttle_clear(void *impl, const unsigned char *key, struct err *e)
{
	return pg_throttle_clear(impl, key, e);
}

static const struct store_ops store_postgres_ops = {
	/* Row locks: writers of different families never wait for each
	 * other, so the pool lets them all in at once. */
	.serial_writes = false,
	.close = pgs_close,
	.ping = pgs_ping,
	.find_user = pgs_find_user,
	.find_user_by_id = pgs_find_user_by_id,
	.update_password_hash = pgs_update_password_hash,
	.seed_state = pgs_seed_state,
	.seed_user = pgs_seed_user,
	.create_family = pgs_create_family,
	.rotate = pgs_rotate,
	.revoke = pgs_revoke,
	.purge = pgs_purge,
	.ping_write = pgs_ping_write,
	.list_users = pgs_list_users,
	.set_password = pgs_set_password,
	.delete_user = pgs_delete_user,
	.find_client = pgs_find_client,
	.add_client = pgs_add_client,
	.list_clients = pgs_list_clients,
	.set_client_secret = pgs_set_client_secret,
	.delete_client = pgs_delete_client,
	.find_family = pgs_find_family,
	.create_user = pgs_create_user,
	.throttle_get = pgs_throttle_get,
	.throttle_fail = pgs_throttle_fail,
	.throttle_block = pgs_throttle_block,
	.throttle_clear = pgs_throttle_clear,
};

bool
store_is_postgres(const char *database)
{
	return pg_is_url(database);
}

struct store *
store_open_postgres(const char *url, int busy_timeout_ms, struct err *e)
{
	struct store *s = calloc(1, sizeof(*s));
	struct pg *pg = NULL;

	if (s == NULL) {
		err_set(e, ERR_NOMEM, "store");
		return NULL;
	}
	if (pg_open(url, busy_timeout_ms, &pg, e) == -1) {
		free(s);
		return NULL;
	}
	s->ops = &store_postgres_ops;
	s->impl = pg;
	return s;
}

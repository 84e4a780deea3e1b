/* sqlite_store: the SQLite backend's ops table (impl is a struct db):
 * db.c opens, userdb.c, refresh_store.c and admin_db.c do the work. */
#include "sqlite_store.h"

#include <stdlib.h>

#include "admin_db.h"
#include "clientdb.h"
#include "db.h"
#include "refresh_store.h"
#include "userdb.h"

static void
sq_close(void *impl)
{
	db_free(impl);
}

static int
sq_ping(void *impl, struct err *e)
{
	return db_ping(impl, e);
}

static int
sq_find_user(void *impl, const char *name, size_t len, struct store_user **out,
    struct err *e)
{
	return userdb_find_user(impl, name, len, out, e);
}

static int
sq_find_user_by_id(
    void *impl, int64_t id, struct store_user **out, struct err *e)
{
	return userdb_find_user_by_id(impl, id, out, e);
}

static int
sq_update_password_hash(void *impl, int64_t id, const char *old_hash,
    const char *new_hash, struct err *e)
{
	return userdb_update_password_hash(impl, id, old_hash, new_hash, e);
}

static int
sq_seed_state(void *impl, const char *name, size_t len,
    struct store_seed_state *out, struct err *e)
{
	return userdb_seed_state(impl, name, len, out, e);
}

static int
sq_seed_user(void *impl, const struct store_seed_user *u, const char *new_hash,
    const char *expected_seed_hash, int64_t now, struct err *e)
{
	return userdb_seed_user(impl, u, new_hash, expected_seed_hash, now, e);
}

static int
sq_create_family(void *impl, const char *family_id, int64_t user_id,
    const char *client_id, const char *scope, int64_t now, int64_t token_ttl,
    int64_t family_ttl, struct store_grant *out, struct err *e)
{
	return refresh_store_create_family(impl, family_id, user_id, client_id,
	    scope, now, token_ttl, family_ttl, out, e);
}

static int
sq_rotate(void *impl, const char *family_id, uint64_t generation,
    const char *client_id, int64_t now, int64_t token_ttl,
    struct store_grant *out, struct store_user **user, enum store_refusal *why,
    struct err *e)
{
	return refresh_rotate(impl, family_id, generation, client_id, now,
	    token_ttl, out, user, why, e);
}

static int
sq_revoke(void *impl, const char *family_id, const char *reason, int64_t now,
    struct store_grant *out, bool *found, struct err *e)
{
	return refresh_revoke(impl, family_id, reason, now, out, found, e);
}

static int
sq_purge(
    void *impl, int64_t before, int64_t limit, int64_t *deleted, struct err *e)
{
	return refresh_purge(impl, before, limit, deleted, e);
}

static int
sq_checkpoint(void *impl, int64_t *log_pages, struct err *e)
{
	return db_checkpoint(impl, log_pages, e);
}

static int
sq_ping_write(void *impl, int64_t now, struct err *e)
{
	return db_ping_write(impl, now, e);
}

static int
sq_list_users(void *impl, int64_t now, struct store_user_summary **out,
    size_t *n, struct err *e)
{
	return admin_db_list_users(impl, now, out, n, e);
}

static int
sq_set_password(void *impl, const char *name, const char *hash, int64_t now,
    bool *found, int64_t *revoked, struct err *e)
{
	return admin_db_set_password(impl, name, hash, now, found, revoked, e);
}

static int
sq_delete_user(void *impl, const char *name, bool *found, struct err *e)
{
	return admin_db_delete_user(impl, name, found, e);
}

static int
sq_find_client(void *impl, const char *client_id, size_t len,
    struct store_client **out, struct err *e)
{
	return clientdb_find(impl, client_id, len, out, e);
}

static int
sq_add_client(
    void *impl, const struct store_client *c, int64_t now, struct err *e)
{
	return clientdb_add(impl, c, now, e);
}

static int
sq_list_clients(void *impl, struct store_client **out, size_t *n, struct err *e)
{
	return clientdb_list(impl, out, n, e);
}

static int
sq_set_client_secret(void *impl, const char *client_id, const char *secret_hash,
    bool *found, struct err *e)
{
	return clientdb_set_secret(impl, client_id, secret_hash, found, e);
}

static int
sq_delete_client(void *impl, const char *client_id, int64_t now, bool *found,
    int64_t *revoked, struct err *e)
{
	return clientdb_delete(impl, client_id, now, found, revoked, e);
}

static int
sq_find_family(void *impl, const char *family_id, struct store_grant *out,
    bool *found, struct err *e)
{
	return refresh_find_family(impl, family_id, out, found, e);
}

static int
sq_create_user(void *impl, const char *name, size_t len, const char *hash,
    char *const *roles, size_t n_roles, int64_t now, struct store_user **out,
    struct err *e)
{
	return userdb_create_user(
	    impl, name, len, hash, roles, n_roles, now, out, e);
}

static const struct store_ops store_sqlite_ops = {
	.serial_writes = true,
	.close = sq_close,
	.ping = sq_ping,
	.find_user = sq_find_user,
	.find_user_by_id = sq_find_user_by_id,
	.update_password_hash = sq_update_password_hash,
	.seed_state = sq_seed_state,
	.seed_user = sq_seed_user,
	.create_family = sq_create_family,
	.rotate = sq_rotate,
	.revoke = sq_revoke,
	.purge = sq_purge,
	.checkpoint = sq_checkpoint,
	.ping_write = sq_ping_write,
	.list_users = sq_list_users,
	.set_password = sq_set_password,
	.delete_user = sq_delete_user,
	.find_client = sq_find_client,
	.add_client = sq_add_client,
	.list_clients = sq_list_clients,
	.set_client_secret = sq_set_client_secret,
	.delete_client = sq_delete_client,
	.find_family = sq_find_family,
	.create_user = sq_create_user,
};

struct store *
store_open_sqlite(const char *path, int busy_timeout_ms, struct err *e)
{
	struct store *s = calloc(1, sizeof(*s));
	struct db *db = NULL;

	if (s == NULL) {
		err_set(e, ERR_NOMEM, "store");
		return NULL;
	}
	if (db_open(path, busy_timeout_ms, &db, e) == -1) {
		free(s);
		return NULL;
	}
	s->ops = &store_sqlite_ops;
	s->impl = db;
	return s;
}

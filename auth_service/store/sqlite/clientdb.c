/* clientdb: OAuth 2.0 clients in SQLite: lookup for the token endpoint,
 * and the operator's add, list, new secret and remove. */
#include "clientdb.h"

#include <stdlib.h>
#include <string.h>

#include "userdb.h"

#define CLIENT_COLUMNS                                                         \
	"id, secret_hash, grant_types, roles, access_ttl, created_at"

static const char clientdb_sql_find[] =
    "SELECT " CLIENT_COLUMNS " FROM clients WHERE id = ?1";
static const char clientdb_sql_list[] =
    "SELECT " CLIENT_COLUMNS " FROM clients ORDER BY id";
static const char clientdb_sql_add[] =
    "INSERT INTO clients (" CLIENT_COLUMNS ")"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (id) DO NOTHING";
static const char clientdb_sql_secret[] =
    "UPDATE clients SET secret_hash = ?2 WHERE id = ?1";
static const char clientdb_sql_revoke[] =
    "UPDATE families SET revoked_at = ?2, revoked_reason = 'client removed'"
    " WHERE client_id = ?1 AND revoked_at IS NULL";
static const char clientdb_sql_delete[] = "DELETE FROM clients WHERE id = ?1";

/* One row into c (members malloc'd). */
static int
read_row(sqlite3_stmt *st, struct store_client *c, struct err *e)
{
	const unsigned char *id = sqlite3_column_text(st, 0);
	const unsigned char *hash = sqlite3_column_text(st, 1);

	*c = (struct store_client){ 0 };
	if (id == NULL || (c->client_id = strdup((const char *)id)) == NULL ||
	    (hash != NULL &&
	        (c->secret_hash = strdup((const char *)hash)) == NULL))
		return err_set(e, ERR_NOMEM, "client");
	c->grant_types =
	    (unsigned)sqlite3_column_int64(st, 2) & STORE_GRANT_ALL;
	c->access_ttl = sqlite3_column_int64(st, 4);
	c->created_at = sqlite3_column_int64(st, 5);
	return userdb_parse_roles((const char *)sqlite3_column_text(st, 3),
	    &c->roles, &c->n_roles, e);
}

int
clientdb_find(struct db *db, const char *client_id, size_t len,
    struct store_client **out, struct err *e)
{
	sqlite3_stmt *st = db_stmt(db, clientdb_sql_find, e);
	struct store_client *c = NULL;
	int step, rc = -1;

	*out = NULL;
	if (st == NULL)
		return -1;
	if (sqlite3_bind_text64(st, 1, client_id, len, SQLITE_STATIC,
	        SQLITE_UTF8) != SQLITE_OK) {
		db_fail(db, "bind", e);
		goto out;
	}
	if ((step = sqlite3_step(st)) == SQLITE_DONE) {
		rc = 0;
		goto out;
	}
	if (step != SQLITE_ROW) {
		db_fail(db, "find client", e);
		goto out;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		err_set(e, ERR_NOMEM, "client");
		goto out;
	}
	if (read_row(st, c, e) == -1)
		goto out;
	*out = c;
	c = NULL;
	rc = 0;
out:
	store_client_free(c);
	db_stmt_done(st);
	return rc;
}

int
clientdb_add(
    struct db *db, const struct store_client *c, int64_t now, struct err *e)
{
	sqlite3_stmt *st = NULL;
	char *roles = NULL;
	int rc = -1;

	if ((roles = userdb_roles_json(
	         (const char *const *)c->roles, c->n_roles)) == NULL)
		return err_set(e, ERR_NOMEM, "roles");
	if ((st = db_stmt(db, clientdb_sql_add, e)) == NULL)
		goto out;
	/* One statement: its own transaction. */
	if (sqlite3_bind_text(st, 1, c->client_id, -1, SQLITE_STATIC) !=
	        SQLITE_OK ||
	    (c->secret_hash != NULL ? sqlite3_bind_text(st, 2, c->secret_hash,
	                                  -1, SQLITE_STATIC)
	                            : sqlite3_bind_null(st, 2)) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 3, c->grant_types & STORE_GRANT_ALL) !=
	        SQLITE_OK ||
	    sqlite3_bind_text(st, 4, roles, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 5, c->access_ttl) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 6, now) != SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_DONE) {
		db_fail(db, "add client", e);
		goto out;
	}
	if (sqlite3_changes(db->conn) != 1) {
		err_set(e, ERR_CONFLICT, "client id taken");
		goto out;
	}
	rc = 0;
out:
	db_stmt_done(st);
	free(roles);
	return rc;
}

int
clientdb_list(
    struct db *db, struct store_client **out, size_t *n, struct err *e)
{
	sqlite3_stmt *st = db_stmt(db, clientdb_sql_list, e);
	struct store_client *v = NULL, *grown;
	size_t cap = 0, count = 0;
	int step, rc = -1;

	*out = NULL;
	*n = 0;
	if (st == NULL)
		return -1;
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		if (count == cap) {
			cap = cap == 0 ? 8 : cap * 2;
			if ((grown = realloc(v, cap * sizeof(*v))) == NULL) {
				err_set(e, ERR_NOMEM, "clients");
				goto out;
			}
			v = grown;
		}
		/* Counted before reading: a half-read row is freed too. */
		if (read_row(st, &v[count++], e) == -1)
			goto out;
	}
	if (step != SQLITE_DONE) {
		db_fail(db, "list clients", e);
		goto out;
	}
	*out = v;
	*n = count;
	v = NULL;
	rc = 0;
out:
	store_clients_free(v, count);
	db_stmt_done(st);
	return rc;
}

int
clientdb_set_secret(struct db *db, const char *client_id,
    const char *secret_hash, bool *found, struct err *e)
{
	sqlite3_stmt *st = db_stmt(db, clientdb_sql_secret, e);
	int rc = -1;

	*found = false;
	if (st == NULL)
		return -1;
	if (sqlite3_bind_text(st, 1, client_id, -1, SQLITE_STATIC) !=
	        SQLITE_OK ||
	    (secret_hash != NULL
	            ? sqlite3_bind_text(st, 2, secret_hash, -1, SQLITE_STATIC)
	            : sqlite3_bind_null(st, 2)) != SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_DONE) {
		db_fail(db, "set client secret", e);
	} else {
		*found = sqlite3_changes(db->conn) == 1;
		rc = 0;
	}
	db_stmt_done(st);
	return rc;
}

static int
run_id(struct db *db, const char *sql, const char *client_id, int64_t now,
    bool bind_now, int *changes, struct err *e)
{
	sqlite3_stmt *st = db_stmt(db, sql, e);
	int rc = -1;

	if (st == NULL)
		return -1;
	if (sqlite3_bind_text(st, 1, client_id, -1, SQLITE_STATIC) !=
	        SQLITE_OK ||
	    (bind_now && sqlite3_bind_int64(st, 2, now) != SQLITE_OK) ||
	    sqlite3_step(st) != SQLITE_DONE) {
		db_fail(db, "remove client", e);
	} else {
		*changes = sqlite3_changes(db->conn);
		rc = 0;
	}
	db_stmt_done(st);
	return rc;
}

int
clientdb_delete(struct db *db, const char *client_id, int64_t now, bool *found,
    int64_t *revoked, struct err *e)
{
	int n_revoked = 0, n_deleted = 0;

	*found = false;
	*revoked = 0;
	/* Its refresh tokens end with it: a later client of the same id
	 * must not inherit them. */
	if (db_begin(db, e) == -1)
		return -1;
	if (run_id(db, clientdb_sql_revoke, client_id, now, true, &n_revoked,
	        e) == -1 ||
	    run_id(db, clientdb_sql_delete, client_id, now, false, &n_deleted,
	        e) == -1) {
		db_rollback(db);
		return -1;
	}
	if (n_deleted == 0) {
		db_rollback(db);
		return 0;
	}
	*found = true;
	*revoked = n_revoked;
	return db_commit(db, e);
}

/* admin_db: SQL for jwt-admin's user operations, against the schema of
 * db.c (users, families). Statements are prepared per
 * call and finalized on every path: a short-lived tool gains nothing from
 * db.c's statement cache, whose slots the daemon's modules use. */
#include "admin_db.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int
admin_db_prepare(
    struct db *db, const char *sql, sqlite3_stmt **st, struct err *e)
{
	if (sqlite3_prepare_v2(db->conn, sql, -1, st, NULL) != SQLITE_OK)
		return db_fail(db, "prepare", e);
	return 0;
}

static char *
admin_db_text(sqlite3_stmt *st, int col)
{
	const unsigned char *s = sqlite3_column_text(st, col);

	return strdup(s != NULL ? (const char *)s : "");
}

int
admin_db_list_users(struct db *db, int64_t now, struct store_user_summary **out,
    size_t *n, struct err *e)
{
	static const char sql[] =
	    "SELECT u.username, u.sub, u.roles, u.created_at, u.updated_at,"
	    " (SELECT count(*) FROM families f WHERE f.user_id = u.id"
	    "  AND f.revoked_at IS NULL AND f.expires_at > ?1)"
	    " FROM users u ORDER BY u.username";
	struct store_user_summary *list = NULL, *grown;
	sqlite3_stmt *st = NULL;
	size_t count = 0, cap = 0;
	int step, rc = -1;

	*out = NULL;
	*n = 0;
	if (admin_db_prepare(db, sql, &st, e) == -1)
		goto out;
	if (sqlite3_bind_int64(st, 1, now) != SQLITE_OK) {
		db_fail(db, "bind", e);
		goto out;
	}
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_user_summary *u;

		if (count == cap) {
			cap = cap == 0 ? 16 : cap * 2;
			if ((grown = realloc(list, cap * sizeof(*list))) ==
			    NULL) {
				err_set(e, ERR_NOMEM, "user list");
				goto out;
			}
			list = grown;
		}
		u = &list[count++];
		*u = (struct store_user_summary){ 0 };
		u->username = admin_db_text(st, 0);
		u->roles = admin_db_text(st, 2);
		if (u->username == NULL || u->roles == NULL) {
			err_set(e, ERR_NOMEM, "user list");
			goto out;
		}
		snprintf(u->sub, sizeof(u->sub), "%s",
		    sqlite3_column_text(st, 1) != NULL
		        ? (const char *)sqlite3_column_text(st, 1)
		        : "");
		u->created_at = sqlite3_column_int64(st, 3);
		u->updated_at = sqlite3_column_int64(st, 4);
		u->sessions = sqlite3_column_int64(st, 5);
	}
	if (step != SQLITE_DONE) {
		db_fail(db, "list users", e);
		goto out;
	}
	*out = list;
	*n = count;
	list = NULL;
	rc = 0;
out:
	store_user_summaries_free(list, count);
	sqlite3_finalize(st);
	return rc;
}

/* Binds name, steps once; the rows changed. */
static int
admin_db_exec_name(struct db *db, const char *sql, const char *name,
    int64_t now, const char *text, int64_t *changes, struct err *e)
{
	sqlite3_stmt *st = NULL;
	int rc = -1;

	if (admin_db_prepare(db, sql, &st, e) == -1)
		return -1;
	if (sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC) != SQLITE_OK ||
	    (sqlite3_bind_parameter_count(st) >= 2 &&
	        sqlite3_bind_int64(st, 2, now) != SQLITE_OK) ||
	    (sqlite3_bind_parameter_count(st) >= 3 &&
	        sqlite3_bind_text(st, 3, text, -1, SQLITE_STATIC) !=
	            SQLITE_OK)) {
		db_fail(db, "bind", e);
		goto out;
	}
	if (sqlite3_step(st) != SQLITE_DONE) {
		db_fail(db, "update", e);
		goto out;
	}
	*changes = sqlite3_changes64(db->conn);
	rc = 0;
out:
	sqlite3_finalize(st);
	return rc;
}

int
admin_db_set_password(struct db *db, const char *name, const char *hash,
    int64_t now, bool *found, int64_t *revoked, struct err *e)
{
	static const char set_sql[] =
	    "UPDATE users SET password_hash = ?3, updated_at = ?2"
	    " WHERE username = ?1";
	/* RFC 9700 4.14.2 asks for revocation when a token may be in the
	 * wrong hands; a password change is the owner saying so. */
	static const char revoke_sql[] =
	    "UPDATE families SET revoked_at = ?2,"
	    " revoked_reason = 'password_changed'"
	    " WHERE revoked_at IS NULL"
	    " AND user_id = (SELECT id FROM users WHERE username = ?1)";
	int64_t changed = 0;

	*found = false;
	*revoked = 0;
	if (db_begin(db, e) == -1)
		return -1;
	if (admin_db_exec_name(db, set_sql, name, now, hash, &changed, e) ==
	        -1 ||
	    (changed > 0 && admin_db_exec_name(db, revoke_sql, name, now, NULL,
	                        revoked, e) == -1)) {
		db_rollback(db);
		return -1;
	}
	*found = changed > 0;
	return db_commit(db, e);
}

int
admin_db_delete_user(
    struct db *db, const char *name, bool *found, struct err *e)
{
	static const char sql[] = "DELETE FROM users WHERE username = ?1";
	int64_t changed = 0;

	*found = false;
	if (db_begin(db, e) == -1)
		return -1;
	if (admin_db_exec_name(db, sql, name, 0, NULL, &changed, e) == -1) {
		db_rollback(db);
		return -1;
	}
	*found = changed > 0;
	return db_commit(db, e);
}

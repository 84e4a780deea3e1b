/* pg_admin: SQL for jwt-admin's user operations against the schema of
 * pg.c (users, families), with the same rules as the SQLite backend. */
#include "pg_admin.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char pg_sql_list[] =
    "SELECT u.username, u.sub, u.roles, u.created_at, u.updated_at,"
    " (SELECT count(*) FROM families f WHERE f.user_id = u.id"
    "  AND f.revoked_at IS NULL AND f.expires_at > $1::bigint)"
    " FROM users u ORDER BY u.username COLLATE \"C\"";
static const char pg_sql_set_password[] =
    "UPDATE users SET password_hash = $3::text, updated_at = $2::bigint"
    " WHERE username = $1::text";
/* RFC 9700 4.14.2 asks for revocation when a token may be in the wrong
 * hands; a password change is the owner saying so. */
static const char pg_sql_revoke_user[] =
    "UPDATE families SET revoked_at = $2::bigint,"
    " revoked_reason = 'password_changed'"
    " WHERE revoked_at IS NULL"
    " AND user_id = (SELECT id FROM users WHERE username = $1::text)";
static const char pg_sql_delete[] =
    "DELETE FROM users WHERE username = $1::text";

int
pg_list_users(struct pg *pg, int64_t now, struct store_user_summary **out,
    size_t *n, struct err *e)
{
	char b[PG_INT_BUF];
	const char *p[] = { pg_param_int(b, now) };
	PGresult *res = pg_exec(pg, pg_sql_list, 1, p, "list users", e);
	struct store_user_summary *list = NULL;
	size_t count = 0, rows;
	int rc = -1;

	*out = NULL;
	*n = 0;
	if (res == NULL)
		return -1;
	rows = (size_t)PQntuples(res);
	if (rows > 0 && (list = calloc(rows, sizeof(*list))) == NULL) {
		err_set(e, ERR_NOMEM, "user list");
		goto out;
	}
	for (; count < rows; count++) {
		struct store_user_summary *u = &list[count];
		int r = (int)count;

		u->username = strdup(PQgetvalue(res, r, 0));
		u->roles = strdup(PQgetvalue(res, r, 2));
		if (u->username == NULL || u->roles == NULL) {
			count++;
			err_set(e, ERR_NOMEM, "user list");
			goto out;
		}
		snprintf(u->sub, sizeof(u->sub), "%s", PQgetvalue(res, r, 1));
		u->created_at = pg_int(res, r, 3);
		u->updated_at = pg_int(res, r, 4);
		u->sessions = pg_int(res, r, 5);
	}
	*out = list;
	*n = count;
	list = NULL;
	rc = 0;
out:
	store_user_summaries_free(list, count);
	PQclear(res);
	return rc;
}

/* Runs sql with (name, now[, text]); the rows changed. */
static int
exec_name(struct pg *pg, const char *sql, int n, const char *name, int64_t now,
    const char *text, int64_t *changes, struct err *e)
{
	char b[PG_INT_BUF];
	const char *p[] = { name, pg_param_int(b, now), text };
	PGresult *res = pg_exec(pg, sql, n, p, "update", e);

	if (res == NULL)
		return -1;
	*changes = pg_changes(res);
	PQclear(res);
	return 0;
}

int
pg_set_password(struct pg *pg, const char *name, const char *hash, int64_t now,
    bool *found, int64_t *revoked, struct err *e)
{
	int64_t changed = 0;

	*found = false;
	*revoked = 0;
	if (!pg_text_ok(name, strlen(name)))
		return 0;
	if (pg_begin(pg, e) == -1)
		return -1;
	if (exec_name(pg, pg_sql_set_password, 3, name, now, hash, &changed,
	        e) == -1 ||
	    (changed > 0 && exec_name(pg, pg_sql_revoke_user, 2, name, now,
	                        NULL, revoked, e) == -1)) {
		pg_rollback(pg);
		return -1;
	}
	*found = changed > 0;
	return pg_commit(pg, e);
}

int
pg_delete_user(struct pg *pg, const char *name, bool *found, struct err *e)
{
	int64_t changed = 0;

	*found = false;
	if (!pg_text_ok(name, strlen(name)))
		return 0;
	/* One statement: families go with the user (ON DELETE CASCADE). */
	if (exec_name(pg, pg_sql_delete, 1, name, 0, NULL, &changed, e) == -1)
		return -1;
	*found = changed > 0;
	return 0;
}

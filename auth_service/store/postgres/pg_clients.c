/* pg_clients: OAuth 2.0 clients in PostgreSQL: lookup for the token
 * endpoint, and the operator's add, list, new secret and remove. */
#include "pg_clients.h"

#include <stdlib.h>
#include <string.h>

#include "store_user.h"

#define CLIENT_COLUMNS                                                         \
	"id, secret_hash, grant_types, roles, access_ttl, created_at"

static const char pg_sql_find[] =
    "SELECT " CLIENT_COLUMNS " FROM clients WHERE id = $1::text";
/* Byte order, as the SQLite backend lists them. */
static const char pg_sql_list[] =
    "SELECT " CLIENT_COLUMNS " FROM clients ORDER BY id COLLATE \"C\"";
static const char pg_sql_add[] =
    "INSERT INTO clients (" CLIENT_COLUMNS ")"
    " VALUES ($1::text, $2::text, $3::integer, $4::text, $5::bigint,"
    " $6::bigint) ON CONFLICT (id) DO NOTHING";
static const char pg_sql_secret[] =
    "UPDATE clients SET secret_hash = $2::text WHERE id = $1::text";
static const char pg_sql_revoke[] =
    "UPDATE families SET revoked_at = $2::bigint,"
    " revoked_reason = 'client removed'"
    " WHERE client_id = $1::text AND revoked_at IS NULL";
static const char pg_sql_delete[] = "DELETE FROM clients WHERE id = $1::text";

/* Row r into c (members malloc'd). */
static int
read_row(const PGresult *res, int r, struct store_client *c, struct err *e)
{
	*c = (struct store_client){ 0 };
	if ((c->client_id = strdup(PQgetvalue(res, r, 0))) == NULL ||
	    (!PQgetisnull(res, r, 1) &&
	        (c->secret_hash = strdup(PQgetvalue(res, r, 1))) == NULL))
		return err_set(e, ERR_NOMEM, "client");
	c->grant_types = (unsigned)pg_int(res, r, 2) & STORE_GRANT_ALL;
	c->access_ttl = pg_int(res, r, 4);
	c->created_at = pg_int(res, r, 5);
	return store_roles_parse(
	    PQgetvalue(res, r, 3), &c->roles, &c->n_roles, e);
}

int
pg_find_client(struct pg *pg, const char *client_id, size_t len,
    struct store_client **out, struct err *e)
{
	struct store_client *c = NULL;
	PGresult *res = NULL;
	char *id;
	int rc = -1;

	*out = NULL;
	/* An id PostgreSQL cannot take as text names no stored client. */
	if (!pg_text_ok(client_id, len))
		return 0;
	if ((id = strndup(client_id, len)) == NULL)
		return err_set(e, ERR_NOMEM, "client");
	if ((res = pg_exec(pg, pg_sql_find, 1, (const char *const *)&id,
	         "find client", e)) == NULL)
		goto out;
	if (PQntuples(res) == 0) {
		rc = 0;
		goto out;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		err_set(e, ERR_NOMEM, "client");
		goto out;
	}
	if (read_row(res, 0, c, e) == -1)
		goto out;
	*out = c;
	c = NULL;
	rc = 0;
out:
	store_client_free(c);
	PQclear(res);
	free(id);
	return rc;
}

int
pg_add_client(
    struct pg *pg, const struct store_client *c, int64_t now, struct err *e)
{
	char b[3][PG_INT_BUF];
	char *roles;
	const char *p[6];
	PGresult *res;
	int rc = -1;

	if (!pg_text_ok(c->client_id, strlen(c->client_id)))
		return err_set(e, ERR_INVALID_REQUEST, "client_id not UTF-8");
	if ((roles = store_roles_json(
	         (const char *const *)c->roles, c->n_roles)) == NULL)
		return err_set(e, ERR_NOMEM, "roles");
	p[0] = c->client_id;
	p[1] = c->secret_hash; /* NULL: SQL NULL, a public client */
	p[2] = pg_param_int(b[0], (int64_t)(c->grant_types & STORE_GRANT_ALL));
	p[3] = roles;
	p[4] = pg_param_int(b[1], c->access_ttl);
	p[5] = pg_param_int(b[2], now);
	/* One statement: its own transaction. */
	if ((res = pg_exec(pg, pg_sql_add, 6, p, "add client", e)) != NULL) {
		rc = pg_changes(res) == 1
		         ? 0
		         : err_set(e, ERR_CONFLICT, "client id taken");
		PQclear(res);
	}
	free(roles);
	return rc;
}

int
pg_list_clients(
    struct pg *pg, struct store_client **out, size_t *n, struct err *e)
{
	PGresult *res = pg_exec(pg, pg_sql_list, 0, NULL, "list clients", e);
	struct store_client *v = NULL;
	size_t count = 0, rows;
	int rc = -1;

	*out = NULL;
	*n = 0;
	if (res == NULL)
		return -1;
	rows = (size_t)PQntuples(res);
	if (rows > 0 && (v = calloc(rows, sizeof(*v))) == NULL) {
		err_set(e, ERR_NOMEM, "clients");
		goto out;
	}
	while (count < rows) {
		/* Counted before reading: a half-read row is freed too. */
		count++;
		if (read_row(res, (int)count - 1, &v[count - 1], e) == -1)
			goto out;
	}
	*out = v;
	*n = count;
	v = NULL;
	rc = 0;
out:
	store_clients_free(v, count);
	PQclear(res);
	return rc;
}

/* Runs sql with (client_id[, text]); the rows changed. */
static int
exec_id(struct pg *pg, const char *sql, int n, const char *client_id,
    const char *text, int64_t *changes, struct err *e)
{
	const char *p[] = { client_id, text };
	PGresult *res = pg_exec(pg, sql, n, p, "client", e);

	if (res == NULL)
		return -1;
	*changes = pg_changes(res);
	PQclear(res);
	return 0;
}

int
pg_set_client_secret(struct pg *pg, const char *client_id,
    const char *secret_hash, bool *found, struct err *e)
{
	int64_t changed = 0;

	*found = false;
	if (!pg_text_ok(client_id, strlen(client_id)))
		return 0;
	if (exec_id(pg, pg_sql_secret, 2, client_id, secret_hash, &changed,
	        e) == -1)
		return -1;
	*found = changed == 1;
	return 0;
}

int
pg_delete_client(struct pg *pg, const char *client_id, int64_t now, bool *found,
    int64_t *revoked, struct err *e)
{
	char b[PG_INT_BUF];
	int64_t n_revoked = 0, n_deleted = 0;

	*found = false;
	*revoked = 0;
	if (!pg_text_ok(client_id, strlen(client_id)))
		return 0;
	/* Its refresh tokens end with it, in one transaction: a later
	 * client of the same id must not inherit them. */
	if (pg_begin(pg, e) == -1)
		return -1;
	if (exec_id(pg, pg_sql_revoke, 2, client_id, pg_param_int(b, now),
	        &n_revoked, e) == -1 ||
	    exec_id(pg, pg_sql_delete, 1, client_id, NULL, &n_deleted, e) ==
	        -1) {
		pg_rollback(pg);
		return -1;
	}
	if (n_deleted == 0) {
		pg_rollback(pg);
		return 0;
	}
	*found = true;
	*revoked = n_revoked;
	return pg_commit(pg, e);
}

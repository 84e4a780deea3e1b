/* pg_users: users in PostgreSQL: lookup by name or id, conditional
 * password re-hash, and the reads and writes of the secrets.json import. */
#include "pg_users.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "secret.h"
#include "store_user.h"

static const char pg_sql_by_name[] =
    "SELECT id, sub, username, password_hash, roles FROM users"
    " WHERE username = $1::text";
static const char pg_sql_by_id[] =
    "SELECT id, sub, username, password_hash, roles FROM users"
    " WHERE id = $1::bigint";
static const char pg_sql_rehash[] =
    "UPDATE users SET password_hash = $1::text,"
    " seed_hash = CASE WHEN seed_hash = $2::text THEN $1::text"
    " ELSE seed_hash END,"
    " updated_at = extract(epoch FROM now())::bigint"
    " WHERE id = $3::bigint AND password_hash = $2::text";
static const char pg_sql_seed_state[] =
    "SELECT id, seed_hash FROM users WHERE username = $1::text";
/* The import's read takes the row lock: a concurrent import by another
 * issuer waits, then sees what this one wrote. */
static const char pg_sql_seed_lock[] =
    "SELECT id, seed_hash FROM users WHERE username = $1::text FOR UPDATE";
static const char pg_sql_insert[] =
    "INSERT INTO users (sub, username, password_hash, seed_hash, roles,"
    " created_at, updated_at) VALUES ($1::text, $2::text, $3::text,"
    " $3::text, $4::text, $5::bigint, $5::bigint)";
static const char pg_sql_set_password[] =
    "UPDATE users SET password_hash = $1::text, seed_hash = $1::text,"
    " roles = $2::text, updated_at = $3::bigint WHERE id = $4::bigint";
/* Registration: a user with no seed hash; a taken name inserts nothing
 * and returns no row. */
static const char pg_sql_create[] =
    "INSERT INTO users (sub, username, password_hash, roles, created_at,"
    " updated_at) VALUES ($1::text, $2::text, $3::text, $4::text,"
    " $5::bigint, $5::bigint) ON CONFLICT (username) DO NOTHING"
    " RETURNING id, sub, username, password_hash, roles";
static const char pg_sql_set_roles[] =
    "UPDATE users SET roles = $1::text, updated_at = $2::bigint"
    " WHERE id = $3::bigint AND roles IS DISTINCT FROM $1::text";

int
pg_user_from_row(
    const PGresult *res, int c, struct store_user **out, struct err *e)
{
	struct store_user *u = calloc(1, sizeof(*u));
	const char *sub = PQgetvalue(res, 0, c + 1);

	*out = NULL;
	if (u == NULL)
		return err_set(e, ERR_NOMEM, "user");
	u->id = pg_int(res, 0, c);
	if (PQgetisnull(res, 0, c + 1) || strlen(sub) > STORE_SUB_LEN) {
		err_set(e, ERR_IO, "users.sub malformed");
		goto fail;
	}
	snprintf(u->sub, sizeof(u->sub), "%s", sub);
	if ((u->username = strdup(PQgetvalue(res, 0, c + 2))) == NULL ||
	    (u->password_hash = strdup(PQgetvalue(res, 0, c + 3))) == NULL) {
		err_set(e, ERR_NOMEM, "user");
		goto fail;
	}
	if (store_user_parse_roles(PQgetvalue(res, 0, c + 4), u, e) == -1)
		goto fail;
	*out = u;
	return 0;
fail:
	store_user_free(u);
	return -1;
}

static int
read_user(struct pg *pg, const char *sql, const char *param,
    struct store_user **out, struct err *e)
{
	PGresult *res = pg_exec(pg, sql, 1, &param, "find user", e);
	int rc = -1;

	*out = NULL;
	if (res == NULL)
		return -1;
	rc = PQntuples(res) == 0 ? 0 : pg_user_from_row(res, 0, out, e);
	PQclear(res);
	return rc;
}

/* name as a C string, or NULL with *none when no stored name can equal it
 * (an embedded NUL or invalid UTF-8: SQLite compares such bytes and finds
 * nothing; PostgreSQL would refuse the text). */
static char *
name_param(const char *name, size_t len, bool *none, struct err *e)
{
	char *s;

	*none = !pg_text_ok(name, len);
	if (*none)
		return NULL;
	if ((s = strndup(name, len)) == NULL)
		err_set(e, ERR_NOMEM, "name");
	return s;
}

int
pg_find_user(struct pg *pg, const char *name, size_t len,
    struct store_user **out, struct err *e)
{
	bool none;
	char *s = name_param(name, len, &none, e);
	int rc;

	*out = NULL;
	if (none)
		return 0;
	if (s == NULL)
		return -1;
	rc = read_user(pg, pg_sql_by_name, s, out, e);
	free(s);
	return rc;
}

int
pg_find_user_by_id(
    struct pg *pg, int64_t id, struct store_user **out, struct err *e)
{
	char b[PG_INT_BUF];

	return read_user(pg, pg_sql_by_id, pg_param_int(b, id), out, e);
}

int
pg_update_password_hash(struct pg *pg, int64_t id, const char *old_hash,
    const char *new_hash, struct err *e)
{
	char b[PG_INT_BUF];
	const char *p[] = { new_hash, old_hash, pg_param_int(b, id) };
	PGresult *res = pg_exec(pg, pg_sql_rehash, 3, p, "rehash", e);

	PQclear(res);
	return res != NULL ? 0 : -1;
}

/* Reads (id, seed_hash) of a user by name with sql. */
static int
read_seed_state(struct pg *pg, const char *sql, const char *name, int64_t *id,
    struct store_seed_state *out, struct err *e)
{
	PGresult *res = pg_exec(pg, sql, 1, &name, "seed state", e);
	int rc = -1;

	if (res == NULL)
		return -1;
	if (PQntuples(res) == 1) {
		out->exists = true;
		*id = pg_int(res, 0, 0);
		if (!PQgetisnull(res, 0, 1) &&
		    (out->seed_hash = strdup(PQgetvalue(res, 0, 1))) == NULL) {
			err_set(e, ERR_NOMEM, "seed state");
			goto out;
		}
	}
	rc = 0;
out:
	PQclear(res);
	return rc;
}

int
pg_seed_state(struct pg *pg, const char *name, size_t len,
    struct store_seed_state *out, struct err *e)
{
	bool none;
	char *s = name_param(name, len, &none, e);
	int64_t id;
	int rc;

	*out = (struct store_seed_state){ 0 };
	if (none)
		return 0;
	if (s == NULL)
		return -1;
	rc = read_seed_state(pg, pg_sql_seed_state, s, &id, out, e);
	free(s);
	return rc;
}

static bool
same_hash(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

static int
run(struct pg *pg, const char *sql, int n, const char *const *p,
    const char *what, struct err *e)
{
	PGresult *res = pg_exec(pg, sql, n, p, what, e);

	PQclear(res);
	return res != NULL ? 0 : -1;
}

static int
write_user(struct pg *pg, const char *name, bool exists, int64_t id,
    const char *hash, const char *roles, int64_t now, struct err *e)
{
	char sub[STORE_SUB_LEN + 1], bn[PG_INT_BUF], bi[PG_INT_BUF];

	pg_param_int(bn, now);
	pg_param_int(bi, id);
	if (!exists) {
		const char *p[] = { sub, name, hash, roles, bn };

		if (hash == NULL)
			return err_set(
			    e, ERR_INTERNAL, "new user without a hash");
		store_user_new_sub(sub);
		/* A concurrent import of the same name by another issuer
		 * fails here with a unique violation: ERR_UNAVAILABLE, and the
		 * caller retries from a fresh read. */
		return run(pg, pg_sql_insert, 5, p, "insert user", e);
	}
	if (hash != NULL) {
		const char *p[] = { hash, roles, bn, bi };
		return run(pg, pg_sql_set_password, 4, p, "update user", e);
	}
	const char *p[] = { roles, bn, bi };
	return run(pg, pg_sql_set_roles, 3, p, "update user", e);
}

int
pg_seed_user(struct pg *pg, const struct store_seed_user *u,
    const char *new_hash, const char *expected_seed_hash, int64_t now,
    struct err *e)
{
	struct store_seed_state st = { 0 };
	char *roles = NULL, *name = NULL;
	bool none;
	int64_t id = 0;
	int rc = -1;

	if ((name = name_param(u->username, u->username_len, &none, e)) ==
	    NULL) {
		if (none)
			err_set(e, ERR_CONFIG, "user name is not UTF-8 text");
		return -1;
	}
	if ((roles = store_user_roles_json(u)) == NULL) {
		err_set(e, ERR_NOMEM, "roles");
		goto out;
	}
	if (pg_begin(pg, e) == -1 ||
	    read_seed_state(pg, pg_sql_seed_lock, name, &id, &st, e) == -1)
		goto out;
	/* Another import got here first: let the caller retry from a fresh
	 * read rather than overwrite what it wrote. */
	if (st.exists && new_hash != NULL &&
	    !same_hash(st.seed_hash, expected_seed_hash)) {
		err_set(e, ERR_UNAVAILABLE, "seed state changed");
		goto out;
	}
	if (write_user(pg, name, st.exists, id, new_hash, roles, now, e) == -1)
		goto out;
	rc = pg_commit(pg, e);
out:
	if (rc == -1)
		pg_rollback(pg);
	store_seed_state_clear(&st);
	free(roles);
	free(name);
	return rc;
}

int
pg_create_user(struct pg *pg, const char *name, size_t len, const char *hash,
    char *const *roles, size_t n_roles, int64_t now, struct store_user **out,
    struct err *e)
{
	char sub[STORE_SUB_LEN + 1], b[PG_INT_BUF];
	char *roles_text = NULL, *username = NULL;
	const char *p[5];
	PGresult *res = NULL;
	int rc = -1;

	*out = NULL;
	if (!pg_text_ok(name, len))
		return err_set(e, ERR_INVALID_REQUEST, "username not UTF-8");
	if ((username = strndup(name, len)) == NULL ||
	    (roles_text = store_roles_json(
	         (const char *const *)roles, n_roles)) == NULL) {
		err_set(e, ERR_NOMEM, "user");
		goto out;
	}
	store_user_new_sub(sub);
	p[0] = sub;
	p[1] = username;
	p[2] = hash;
	p[3] = roles_text;
	p[4] = pg_param_int(b, now);
	/* One statement: its own transaction. */
	if ((res = pg_exec(pg, pg_sql_create, 5, p, "create user", e)) == NULL)
		goto out;
	if (PQntuples(res) != 1) {
		err_set(e, ERR_CONFLICT, "username taken");
		goto out;
	}
	rc = pg_user_from_row(res, 0, out, e);
out:
	PQclear(res);
	free(roles_text);
	free(username);
	return rc;
}

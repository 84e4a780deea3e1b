/* userdb: users in SQLite: lookup by name or id, conditional password
 * re-hash, and the reads and writes of the secrets.json import. */
#include "userdb.h"

#include <json-c/json.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "secret.h"

static const char userdb_sql_by_name[] =
    "SELECT id, sub, username, password_hash, roles FROM users"
    " WHERE username = ?1";
static const char userdb_sql_by_id[] =
    "SELECT id, sub, username, password_hash, roles FROM users"
    " WHERE id = ?1";
static const char userdb_sql_rehash[] =
    "UPDATE users SET password_hash = ?1,"
    " seed_hash = CASE WHEN seed_hash = ?2 THEN ?1 ELSE seed_hash END,"
    " updated_at = strftime('%s', 'now')"
    " WHERE id = ?3 AND password_hash = ?2";
static const char userdb_sql_seed_state[] =
    "SELECT id, seed_hash FROM users WHERE username = ?1";
static const char userdb_sql_insert[] =
    "INSERT INTO users (sub, username, password_hash, seed_hash, roles,"
    " created_at, updated_at) VALUES (?1, ?2, ?3, ?3, ?4, ?5, ?5)";
/* A registered user: no seed hash, so a seed import never takes it
 * over; a taken name changes nothing. */
static const char userdb_sql_create[] =
    "INSERT INTO users (sub, username, password_hash, roles, created_at,"
    " updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?5)"
    " ON CONFLICT (username) DO NOTHING";
static const char userdb_sql_set_password[] =
    "UPDATE users SET password_hash = ?1, seed_hash = ?1, roles = ?2,"
    " updated_at = ?3 WHERE id = ?4";
static const char userdb_sql_set_roles[] =
    "UPDATE users SET roles = ?1, updated_at = ?2"
    " WHERE id = ?3 AND roles IS NOT ?1";

static char *
column_strdup(sqlite3_stmt *st, int col)
{
	const unsigned char *s = sqlite3_column_text(st, col);
	return s != NULL ? strdup((const char *)s) : NULL;
}

/* A roles column: a JSON array of strings this backend wrote. */
int
userdb_parse_roles(
    const char *text, char ***roles, size_t *n_roles, struct err *e)
{
	struct json_object *arr =
	    text != NULL ? json_tokener_parse(text) : NULL;
	size_t n;
	int rc = -1;

	*roles = NULL;
	*n_roles = 0;
	if (arr == NULL || !json_object_is_type(arr, json_type_array)) {
		err_set(e, ERR_IO, "roles is not a JSON array");
		goto out;
	}
	n = json_object_array_length(arr);
	if ((*roles = calloc(n + 1, sizeof(**roles))) == NULL) {
		err_set(e, ERR_NOMEM, "roles");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		struct json_object *r = json_object_array_get_idx(arr, i);
		if (!json_object_is_type(r, json_type_string)) {
			err_set(e, ERR_IO, "roles holds a non-string");
			goto out;
		}
		if (((*roles)[*n_roles] = strdup(json_object_get_string(r))) ==
		    NULL) {
			err_set(e, ERR_NOMEM, "roles");
			goto out;
		}
		(*n_roles)++;
	}
	rc = 0;
out:
	json_object_put(arr);
	return rc;
}

static int
parse_roles(const char *text, struct store_user *u, struct err *e)
{
	return userdb_parse_roles(text, &u->roles, &u->n_roles, e);
}

static int
read_user(
    struct db *db, sqlite3_stmt *st, struct store_user **out, struct err *e)
{
	struct store_user *u = NULL;
	const unsigned char *sub;
	int rc, ret = -1;

	*out = NULL;
	if ((rc = sqlite3_step(st)) == SQLITE_DONE)
		return 0;
	if (rc != SQLITE_ROW)
		return db_fail(db, "find user", e);
	if ((u = calloc(1, sizeof(*u))) == NULL)
		return err_set(e, ERR_NOMEM, "user");
	u->id = sqlite3_column_int64(st, 0);
	sub = sqlite3_column_text(st, 1);
	if (sub == NULL || strlen((const char *)sub) > STORE_SUB_LEN) {
		err_set(e, ERR_IO, "users.sub malformed");
		goto out;
	}
	snprintf(u->sub, sizeof(u->sub), "%s", (const char *)sub);
	if ((u->username = column_strdup(st, 2)) == NULL ||
	    (u->password_hash = column_strdup(st, 3)) == NULL) {
		err_set(e, ERR_NOMEM, "user");
		goto out;
	}
	if (parse_roles((const char *)sqlite3_column_text(st, 4), u, e) == -1)
		goto out;
	*out = u;
	u = NULL;
	ret = 0;
out:
	store_user_free(u);
	return ret;
}

int
userdb_find_user(struct db *db, const char *name, size_t len,
    struct store_user **out, struct err *e)
{
	sqlite3_stmt *st = db_stmt(db, userdb_sql_by_name, e);
	int rc;

	*out = NULL;
	if (st == NULL)
		return -1;
	/* Bound with its length: an embedded NUL is part of the name (and
	 * so matches no stored user) instead of cutting it short. */
	if (sqlite3_bind_text64(st, 1, name, len, SQLITE_STATIC, SQLITE_UTF8) !=
	    SQLITE_OK)
		rc = db_fail(db, "bind", e);
	else
		rc = read_user(db, st, out, e);
	db_stmt_done(st);
	return rc;
}

int
userdb_find_user_by_id(
    struct db *db, int64_t id, struct store_user **out, struct err *e)
{
	sqlite3_stmt *st = db_stmt(db, userdb_sql_by_id, e);
	int rc;

	*out = NULL;
	if (st == NULL)
		return -1;
	if (sqlite3_bind_int64(st, 1, id) != SQLITE_OK)
		rc = db_fail(db, "bind", e);
	else
		rc = read_user(db, st, out, e);
	db_stmt_done(st);
	return rc;
}

int
userdb_update_password_hash(struct db *db, int64_t id, const char *old_hash,
    const char *new_hash, struct err *e)
{
	sqlite3_stmt *st = db_stmt(db, userdb_sql_rehash, e);
	int rc = -1;

	if (st == NULL)
		return -1;
	if (sqlite3_bind_text(st, 1, new_hash, -1, SQLITE_STATIC) !=
	        SQLITE_OK ||
	    sqlite3_bind_text(st, 2, old_hash, -1, SQLITE_STATIC) !=
	        SQLITE_OK ||
	    sqlite3_bind_int64(st, 3, id) != SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_DONE)
		db_fail(db, "rehash", e);
	else
		rc = 0;
	db_stmt_done(st);
	return rc;
}

int
userdb_seed_state(struct db *db, const char *name, size_t len,
    struct store_seed_state *out, struct err *e)
{
	sqlite3_stmt *st = db_stmt(db, userdb_sql_seed_state, e);
	int step, rc = -1;

	*out = (struct store_seed_state){ 0 };
	if (st == NULL)
		return -1;
	if (sqlite3_bind_text64(st, 1, name, len, SQLITE_STATIC, SQLITE_UTF8) !=
	    SQLITE_OK) {
		db_fail(db, "bind", e);
		goto out;
	}
	if ((step = sqlite3_step(st)) == SQLITE_ROW) {
		out->exists = true;
		if (sqlite3_column_type(st, 1) != SQLITE_NULL &&
		    (out->seed_hash = column_strdup(st, 1)) == NULL) {
			err_set(e, ERR_NOMEM, "seed state");
			goto out;
		}
	} else if (step != SQLITE_DONE) {
		db_fail(db, "seed state", e);
		goto out;
	}
	rc = 0;
out:
	db_stmt_done(st);
	return rc;
}

/* A random UUID, version 4 (RFC 9562 section 5.4): the user's "sub", so
 * a renamed user keeps its subject and a reused name gets a new one. */
static void
new_sub(char out[STORE_SUB_LEN + 1])
{
	unsigned char b[16];

	secret_random(b, sizeof(b));
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	snprintf(out, STORE_SUB_LEN + 1,
	    "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
	    "%02x%02x%02x%02x%02x%02x",
	    b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10],
	    b[11], b[12], b[13], b[14], b[15]);
}

char *
userdb_roles_json(const char *const *roles, size_t n_roles)
{
	struct json_object *arr = json_object_new_array();
	char *text = NULL;

	if (arr == NULL)
		return NULL;
	for (size_t i = 0; i < n_roles; i++)
		if (json_object_array_add(
		        arr, json_object_new_string(roles[i])) != 0)
			goto out;
	text = strdup(json_object_to_json_string_ext(
	    arr, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
out:
	json_object_put(arr);
	return text;
}

static char *
roles_json(const struct store_seed_user *u)
{
	return userdb_roles_json(u->roles, u->n_roles);
}

static bool
same_hash(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

static int
step_done(struct db *db, sqlite3_stmt *st, const char *what, struct err *e)
{
	int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : db_fail(db, what, e);
	db_stmt_done(st);
	return rc;
}

static int
insert_user(struct db *db, const struct store_seed_user *u, const char *hash,
    const char *roles, int64_t now, struct err *e)
{
	sqlite3_stmt *st = db_stmt(db, userdb_sql_insert, e);
	char sub[STORE_SUB_LEN + 1];

	if (st == NULL)
		return -1;
	new_sub(sub);
	if (sqlite3_bind_text(st, 1, sub, -1, SQLITE_TRANSIENT) != SQLITE_OK ||
	    sqlite3_bind_text64(st, 2, u->username, u->username_len,
	        SQLITE_STATIC, SQLITE_UTF8) != SQLITE_OK ||
	    sqlite3_bind_text(st, 3, hash, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_text(st, 4, roles, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 5, now) != SQLITE_OK) {
		db_stmt_done(st);
		return db_fail(db, "bind", e);
	}
	return step_done(db, st, "insert user", e);
}

static int
update_user(struct db *db, int64_t id, const char *hash, const char *roles,
    int64_t now, struct err *e)
{
	sqlite3_stmt *st = db_stmt(db,
	    hash != NULL ? userdb_sql_set_password : userdb_sql_set_roles, e);
	int i = 1;

	if (st == NULL)
		return -1;
	if ((hash != NULL && sqlite3_bind_text(st, i++, hash, -1,
	                         SQLITE_STATIC) != SQLITE_OK) ||
	    sqlite3_bind_text(st, i++, roles, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_int64(st, i++, now) != SQLITE_OK ||
	    sqlite3_bind_int64(st, i, id) != SQLITE_OK) {
		db_stmt_done(st);
		return db_fail(db, "bind", e);
	}
	return step_done(db, st, "update user", e);
}

int
userdb_seed_user(struct db *db, const struct store_seed_user *u,
    const char *new_hash, const char *expected_seed_hash, int64_t now,
    struct err *e)
{
	sqlite3_stmt *st = NULL;
	char *roles = NULL, *seed_hash = NULL;
	bool exists = false;
	int64_t id = 0;
	int step, rc = -1;

	if ((roles = roles_json(u)) == NULL)
		return err_set(e, ERR_NOMEM, "roles");
	if (db_begin(db, e) == -1)
		goto out;
	if ((st = db_stmt(db, userdb_sql_seed_state, e)) == NULL)
		goto out;
	if (sqlite3_bind_text64(st, 1, u->username, u->username_len,
	        SQLITE_STATIC, SQLITE_UTF8) != SQLITE_OK) {
		db_fail(db, "bind", e);
		goto out;
	}
	if ((step = sqlite3_step(st)) == SQLITE_ROW) {
		exists = true;
		id = sqlite3_column_int64(st, 0);
		if (sqlite3_column_type(st, 1) != SQLITE_NULL &&
		    (seed_hash = column_strdup(st, 1)) == NULL) {
			err_set(e, ERR_NOMEM, "seed hash");
			goto out;
		}
	} else if (step != SQLITE_DONE) {
		db_fail(db, "seed state", e);
		goto out;
	}
	db_stmt_done(st);
	st = NULL;
	if (!exists) {
		if (new_hash == NULL) {
			err_set(e, ERR_INTERNAL, "new user without a hash");
			goto out;
		}
		if (insert_user(db, u, new_hash, roles, now, e) == -1)
			goto out;
	} else {
		/* Another import got here first: let the caller retry from
		 * a fresh read rather than overwrite what it wrote. */
		if (new_hash != NULL &&
		    !same_hash(seed_hash, expected_seed_hash)) {
			err_set(e, ERR_UNAVAILABLE, "seed state changed");
			goto out;
		}
		if (update_user(db, id, new_hash, roles, now, e) == -1)
			goto out;
	}
	rc = db_commit(db, e);
out:
	db_stmt_done(st);
	if (rc == -1)
		db_rollback(db);
	secret_free_str(seed_hash);
	free(roles);
	return rc;
}

int
userdb_create_user(struct db *db, const char *name, size_t len,
    const char *hash, char *const *roles, size_t n_roles, int64_t now,
    struct store_user **out, struct err *e)
{
	sqlite3_stmt *st = NULL;
	char sub[STORE_SUB_LEN + 1];
	char *roles_text = NULL;
	int rc = -1;

	*out = NULL;
	if ((roles_text = userdb_roles_json(
	         (const char *const *)roles, n_roles)) == NULL)
		return err_set(e, ERR_NOMEM, "roles");
	if (db_begin(db, e) == -1)
		goto out;
	if ((st = db_stmt(db, userdb_sql_create, e)) == NULL)
		goto out;
	new_sub(sub);
	if (sqlite3_bind_text(st, 1, sub, -1, SQLITE_TRANSIENT) != SQLITE_OK ||
	    sqlite3_bind_text64(st, 2, name, len, SQLITE_STATIC, SQLITE_UTF8) !=
	        SQLITE_OK ||
	    sqlite3_bind_text(st, 3, hash, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_text(st, 4, roles_text, -1, SQLITE_STATIC) !=
	        SQLITE_OK ||
	    sqlite3_bind_int64(st, 5, now) != SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_DONE) {
		db_fail(db, "create user", e);
		goto out;
	}
	db_stmt_done(st);
	st = NULL;
	if (sqlite3_changes(db->conn) != 1) {
		err_set(e, ERR_CONFLICT, "username taken");
		goto out;
	}
	if (userdb_find_user(db, name, len, out, e) == -1 || *out == NULL) {
		err_set(e, ERR_INTERNAL, "created user not found");
		goto out;
	}
	rc = db_commit(db, e);
out:
	db_stmt_done(st);
	if (rc == -1) {
		db_rollback(db);
		store_user_free(*out);
		*out = NULL;
	}
	free(roles_text);
	return rc;
}

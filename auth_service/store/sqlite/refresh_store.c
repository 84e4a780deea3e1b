/* refresh_store: families and single-use refresh tokens in SQLite, with
 * atomic rotation and family revocation on reuse. */
#include "refresh_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "b64url.h"
#include "secret.h"
#include "userdb.h"

static const char refresh_sql_lookup[] =
    "SELECT t.id, t.family_id, t.expires_at, t.used_at, t.revoked_at,"
    " f.user_id, f.expires_at, f.revoked_at, u.username"
    " FROM refresh_tokens t JOIN families f ON f.id = t.family_id"
    " LEFT JOIN users u ON u.id = f.user_id"
    " WHERE t.token_hash = ?1";
static const char refresh_sql_insert_family[] =
    "INSERT INTO families (id, user_id, client_id, created_at, expires_at)"
    " VALUES (?1, ?2, ?3, ?4, ?5)";
static const char refresh_sql_insert_token[] =
    "INSERT INTO refresh_tokens (token_hash, family_id, parent_id,"
    " issued_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5)";
/* The winner of a race is whoever changes the row: a second user of the
 * same token finds used_at set and changes nothing. */
static const char refresh_sql_mark_used[] =
    "UPDATE refresh_tokens SET used_at = ?1"
    " WHERE id = ?2 AND used_at IS NULL AND revoked_at IS NULL";
static const char refresh_sql_revoke_family[] =
    "UPDATE families SET revoked_at = ?1, revoked_reason = ?2"
    " WHERE id = ?3 AND revoked_at IS NULL";
static const char refresh_sql_revoke_tokens[] =
    "UPDATE refresh_tokens SET revoked_at = ?1"
    " WHERE family_id = ?2 AND revoked_at IS NULL";
static const char refresh_sql_purge[] =
    "DELETE FROM families WHERE expires_at < ?1";

/* One token row joined with its family. */
struct token_row {
	int64_t id;
	char family_id[STORE_FAMILY_ID_LEN + 1];
	int64_t expires, user_id, family_expires;
	bool used, revoked, family_revoked;
	char username[STORE_MAX_USERNAME + 1]; /* for the audit; may be "" */
};

static int
lookup(struct db *db, const unsigned char hash[STORE_HASH_LEN],
    struct token_row *row, bool *found, struct err *e)
{
	sqlite3_stmt *st = db_stmt(db, refresh_sql_lookup, e);
	const unsigned char *fid;
	int step, rc = -1;

	*found = false;
	if (st == NULL)
		return -1;
	if (sqlite3_bind_blob(st, 1, hash, STORE_HASH_LEN, SQLITE_STATIC) !=
	    SQLITE_OK) {
		db_fail(db, "bind", e);
		goto out;
	}
	if ((step = sqlite3_step(st)) == SQLITE_DONE) {
		rc = 0;
		goto out;
	}
	if (step != SQLITE_ROW) {
		db_fail(db, "token lookup", e);
		goto out;
	}
	fid = sqlite3_column_text(st, 1);
	if (fid == NULL || strlen((const char *)fid) > STORE_FAMILY_ID_LEN) {
		err_set(e, ERR_IO, "families.id malformed");
		goto out;
	}
	*row = (struct token_row){
		.id = sqlite3_column_int64(st, 0),
		.expires = sqlite3_column_int64(st, 2),
		.used = sqlite3_column_type(st, 3) != SQLITE_NULL,
		.revoked = sqlite3_column_type(st, 4) != SQLITE_NULL,
		.user_id = sqlite3_column_int64(st, 5),
		.family_expires = sqlite3_column_int64(st, 6),
		.family_revoked = sqlite3_column_type(st, 7) != SQLITE_NULL,
	};
	snprintf(
	    row->family_id, sizeof(row->family_id), "%s", (const char *)fid);
	if (sqlite3_column_type(st, 8) == SQLITE_TEXT)
		snprintf(row->username, sizeof(row->username), "%s",
		    (const char *)sqlite3_column_text(st, 8));
	*found = true;
	rc = 0;
out:
	db_stmt_done(st);
	return rc;
}

static int
insert_token(struct db *db, const unsigned char hash[STORE_HASH_LEN],
    const char *family_id, int64_t parent_id, int64_t now, int64_t expires,
    struct err *e)
{
	sqlite3_stmt *st = db_stmt(db, refresh_sql_insert_token, e);
	int rc = -1;

	if (st == NULL)
		return -1;
	if (sqlite3_bind_blob(st, 1, hash, STORE_HASH_LEN, SQLITE_STATIC) !=
	        SQLITE_OK ||
	    sqlite3_bind_text(st, 2, family_id, -1, SQLITE_STATIC) !=
	        SQLITE_OK ||
	    (parent_id > 0 ? sqlite3_bind_int64(st, 3, parent_id)
	                   : sqlite3_bind_null(st, 3)) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 4, now) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 5, expires) != SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_DONE)
		db_fail(db, "insert token", e);
	else
		rc = 0;
	db_stmt_done(st);
	return rc;
}

static int
revoke_family(struct db *db, const char *family_id, const char *reason,
    int64_t now, struct err *e)
{
	sqlite3_stmt *st;
	int rc = -1;

	if ((st = db_stmt(db, refresh_sql_revoke_family, e)) == NULL)
		return -1;
	if (sqlite3_bind_int64(st, 1, now) != SQLITE_OK ||
	    sqlite3_bind_text(st, 2, reason, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_text(st, 3, family_id, -1, SQLITE_STATIC) !=
	        SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_DONE) {
		db_fail(db, "revoke family", e);
		goto out;
	}
	db_stmt_done(st);
	if ((st = db_stmt(db, refresh_sql_revoke_tokens, e)) == NULL)
		return -1;
	if (sqlite3_bind_int64(st, 1, now) != SQLITE_OK ||
	    sqlite3_bind_text(st, 2, family_id, -1, SQLITE_STATIC) !=
	        SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_DONE) {
		db_fail(db, "revoke tokens", e);
		goto out;
	}
	rc = 0;
out:
	db_stmt_done(st);
	return rc;
}

/* What the caller learns about the token's family. */
static void
grant_from_row(struct store_grant *g, const struct token_row *row)
{
	memcpy(g->family_id, row->family_id, sizeof(g->family_id));
	memcpy(g->username, row->username, sizeof(g->username));
	g->user_id = row->user_id;
	g->family_expires = row->family_expires;
}

static int64_t
min64(int64_t a, int64_t b)
{
	return a < b ? a : b;
}

int
refresh_store_create_family(struct db *db, int64_t user_id,
    const char *client_id, const unsigned char token_hash[STORE_HASH_LEN],
    int64_t now, int64_t token_ttl, int64_t family_ttl, struct store_grant *out,
    struct err *e)
{
	unsigned char raw[16];
	sqlite3_stmt *st = NULL;
	char *fid = NULL;
	int rc = -1;

	*out = (struct store_grant){ .user_id = user_id };
	secret_random(raw, sizeof(raw));
	if ((fid = b64url_encode(raw, sizeof(raw))) == NULL ||
	    strlen(fid) != STORE_FAMILY_ID_LEN) {
		err_set(e, ERR_NOMEM, "family id");
		goto out;
	}
	memcpy(out->family_id, fid, STORE_FAMILY_ID_LEN + 1);
	out->family_expires = now + family_ttl;
	out->token_expires = min64(now + token_ttl, out->family_expires);
	if (db_begin(db, e) == -1)
		goto out;
	if ((st = db_stmt(db, refresh_sql_insert_family, e)) == NULL)
		goto out;
	if (sqlite3_bind_text(st, 1, fid, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 2, user_id) != SQLITE_OK ||
	    sqlite3_bind_text(st, 3, client_id, -1, SQLITE_STATIC) !=
	        SQLITE_OK ||
	    sqlite3_bind_int64(st, 4, now) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 5, out->family_expires) != SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_DONE) {
		db_fail(db, "insert family", e);
		goto out;
	}
	db_stmt_done(st);
	st = NULL;
	if (insert_token(db, token_hash, fid, 0, now, out->token_expires, e) ==
	    -1)
		goto out;
	rc = db_commit(db, e);
out:
	db_stmt_done(st);
	if (rc == -1)
		db_rollback(db);
	free(fid);
	return rc;
}

/* Reuse of a rotated token means two parties hold the family: revoke all
 * of it and commit, even though this request fails (RFC 9700 4.14.2). */
static int
refuse_reused(struct db *db, const struct token_row *row, int64_t now,
    enum store_refusal *why, struct err *e)
{
	if (revoke_family(db, row->family_id, "reuse", now, e) == -1 ||
	    db_commit(db, e) == -1)
		return -1;
	*why = STORE_REFUSED_REUSED;
	return err_set(e, ERR_INVALID_GRANT, "refresh token reused");
}

int
refresh_rotate(struct db *db, const unsigned char old_hash[STORE_HASH_LEN],
    const unsigned char new_hash[STORE_HASH_LEN], int64_t now,
    int64_t token_ttl, struct store_grant *out, struct store_user **user,
    enum store_refusal *why, struct err *e)
{
	struct token_row row = { 0 };
	sqlite3_stmt *st = NULL;
	bool found;
	int rc = -1;

	*out = (struct store_grant){ 0 };
	*user = NULL;
	*why = STORE_REFUSED_NONE;
	if (db_begin(db, e) == -1)
		return -1;
	if (lookup(db, old_hash, &row, &found, e) == -1)
		goto out;
	if (!found) {
		*why = STORE_REFUSED_UNKNOWN;
		err_set(e, ERR_INVALID_GRANT, "unknown refresh token");
		goto out;
	}
	grant_from_row(out, &row);
	if (row.family_revoked || row.revoked) {
		*why = STORE_REFUSED_REVOKED;
		err_set(e, ERR_INVALID_GRANT, "family revoked");
		goto out;
	}
	/* Reuse is checked before expiry: an expired but rotated token still
	 * proves the family leaked while its newer tokens may be alive. */
	if (row.used) {
		refuse_reused(db, &row, now, why, e);
		goto out;
	}
	if (now >= row.expires || now >= row.family_expires) {
		*why = STORE_REFUSED_EXPIRED;
		err_set(e, ERR_INVALID_GRANT, "refresh token expired");
		goto out;
	}
	if ((st = db_stmt(db, refresh_sql_mark_used, e)) == NULL)
		goto out;
	if (sqlite3_bind_int64(st, 1, now) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 2, row.id) != SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_DONE) {
		db_fail(db, "mark used", e);
		goto out;
	}
	db_stmt_done(st);
	st = NULL;
	/* The write lock is ours since BEGIN IMMEDIATE, so the row cannot
	 * have changed since the lookup; if it did, someone else used it. */
	if (sqlite3_changes(db->conn) != 1) {
		refuse_reused(db, &row, now, why, e);
		goto out;
	}
	/* The user as it is now, in the same transaction: the next access
	 * token carries the current roles, and a user deleted meanwhile gets
	 * nothing rotated. */
	if (userdb_find_user_by_id(db, row.user_id, user, e) == -1)
		goto out;
	if (*user == NULL) {
		*why = STORE_REFUSED_UNKNOWN;
		err_set(e, ERR_INVALID_GRANT, "user gone");
		goto out;
	}
	out->token_expires = min64(now + token_ttl, row.family_expires);
	if (insert_token(db, new_hash, row.family_id, row.id, now,
	        out->token_expires, e) == -1)
		goto out;
	rc = db_commit(db, e);
out:
	db_stmt_done(st);
	db_rollback(db); /* no-op after a commit */
	if (rc == -1) {
		store_user_free(*user);
		*user = NULL;
	}
	return rc;
}

int
refresh_revoke(struct db *db, const unsigned char token_hash[STORE_HASH_LEN],
    const char *reason, int64_t now, struct store_grant *out, bool *found,
    struct err *e)
{
	struct token_row row = { 0 };

	*out = (struct store_grant){ 0 };
	*found = false;
	if (db_begin(db, e) == -1)
		return -1;
	if (lookup(db, token_hash, &row, found, e) == -1)
		goto fail;
	if (!*found) {
		db_rollback(db);
		return 0;
	}
	grant_from_row(out, &row);
	if (revoke_family(db, row.family_id, reason, now, e) == -1)
		goto fail;
	return db_commit(db, e);
fail:
	db_rollback(db);
	return -1;
}

int
refresh_purge(struct db *db, int64_t before, struct err *e)
{
	sqlite3_stmt *st = db_stmt(db, refresh_sql_purge, e);
	int rc = -1;

	if (st == NULL)
		return -1;
	if (sqlite3_bind_int64(st, 1, before) != SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_DONE)
		db_fail(db, "purge", e);
	else
		rc = 0;
	db_stmt_done(st);
	return rc;
}

/* refresh_store: refresh-token families in SQLite. A family is one login:
 * its user, client, absolute expiry, and the generation and expiry of its
 * one live refresh token (refresh_token.h). Rotation is a conditional
 * UPDATE of that generation inside one BEGIN IMMEDIATE transaction; an
 * older generation is a reuse and revokes the family (RFC 9700 4.14.2). */
#include "refresh_store.h"

#include <stdio.h>
#include <string.h>

#include "userdb.h"

static const char refresh_sql_insert_family[] =
    "INSERT INTO families (id, user_id, client_id, created_at, expires_at,"
    " generation, token_expires_at, scope, token_issued_at)"
    " VALUES (?1, ?2, ?3, ?4, ?5, 0, ?6, ?7, ?4)";
/* The decision of a rotation: exactly one caller can move a family from
 * generation g to g + 1, and only while it and its token are live. */
static const char refresh_sql_advance[] =
    "UPDATE families SET generation = generation + 1,"
    " token_expires_at = min(?3 + ?4, expires_at), token_issued_at = ?3"
    " WHERE id = ?1 AND generation = ?2 AND revoked_at IS NULL"
    " AND expires_at > ?3 AND token_expires_at > ?3 AND client_id = ?5";
static const char refresh_sql_family[] =
    "SELECT f.user_id, f.expires_at, f.token_expires_at, f.generation,"
    " f.revoked_at IS NOT NULL, u.username, f.client_id, f.scope,"
    " max(f.token_issued_at, f.created_at)"
    " FROM families f LEFT JOIN users u ON u.id = f.user_id"
    " WHERE f.id = ?1";
static const char refresh_sql_revoke_family[] =
    "UPDATE families SET revoked_at = ?1, revoked_reason = ?2"
    " WHERE id = ?3 AND revoked_at IS NULL";
/* Oldest first, a bounded batch per transaction: a purge never holds the
 * write lock for long, whatever has piled up (families_expiry index). */
static const char refresh_sql_purge[] =
    "DELETE FROM families WHERE id IN (SELECT id FROM families"
    " WHERE expires_at < ?1 ORDER BY expires_at LIMIT ?2)";

/* One family row as a refusal or an audit line needs it. */
struct family_row {
	int64_t user_id, expires, token_expires, token_issued;
	uint64_t generation;
	bool revoked;
	char username[STORE_MAX_USERNAME + 1]; /* "" if the user is gone */
	char client_id[STORE_MAX_CLIENT_ID + 1];
	char scope[STORE_MAX_SCOPE + 1];
};

static int
bind_id(struct db *db, sqlite3_stmt *st, int col, const char *family_id,
    struct err *e)
{
	if (sqlite3_bind_text(st, col, family_id, -1, SQLITE_STATIC) !=
	    SQLITE_OK)
		return db_fail(db, "bind", e);
	return 0;
}

static int
read_family(struct db *db, const char *family_id, struct family_row *row,
    bool *found, struct err *e)
{
	sqlite3_stmt *st = db_stmt(db, refresh_sql_family, e);
	int step, rc = -1;

	*found = false;
	if (st == NULL)
		return -1;
	if (bind_id(db, st, 1, family_id, e) == -1)
		goto out;
	if ((step = sqlite3_step(st)) == SQLITE_DONE) {
		rc = 0;
		goto out;
	}
	if (step != SQLITE_ROW) {
		db_fail(db, "family lookup", e);
		goto out;
	}
	*row = (struct family_row){
		.user_id = sqlite3_column_int64(st, 0),
		.expires = sqlite3_column_int64(st, 1),
		.token_expires = sqlite3_column_int64(st, 2),
		.generation = (uint64_t)sqlite3_column_int64(st, 3),
		.revoked = sqlite3_column_int(st, 4) != 0,
		.token_issued = sqlite3_column_int64(st, 8),
	};
	if (sqlite3_column_type(st, 5) == SQLITE_TEXT)
		snprintf(row->username, sizeof(row->username), "%s",
		    (const char *)sqlite3_column_text(st, 5));
	if (sqlite3_column_type(st, 6) == SQLITE_TEXT)
		snprintf(row->client_id, sizeof(row->client_id), "%s",
		    (const char *)sqlite3_column_text(st, 6));
	if (sqlite3_column_type(st, 7) == SQLITE_TEXT)
		snprintf(row->scope, sizeof(row->scope), "%s",
		    (const char *)sqlite3_column_text(st, 7));
	*found = true;
	rc = 0;
out:
	db_stmt_done(st);
	return rc;
}

static int
revoke_family(struct db *db, const char *family_id, const char *reason,
    int64_t now, struct err *e)
{
	sqlite3_stmt *st = db_stmt(db, refresh_sql_revoke_family, e);
	int rc = -1;

	if (st == NULL)
		return -1;
	if (sqlite3_bind_int64(st, 1, now) != SQLITE_OK ||
	    sqlite3_bind_text(st, 2, reason, -1, SQLITE_STATIC) != SQLITE_OK ||
	    bind_id(db, st, 3, family_id, e) == -1 ||
	    sqlite3_step(st) != SQLITE_DONE)
		db_fail(db, "revoke family", e);
	else
		rc = 0;
	db_stmt_done(st);
	return rc;
}

/* What the caller learns about a family. */
static void
grant_from_row(
    struct store_grant *g, const char *family_id, const struct family_row *row)
{
	snprintf(g->family_id, sizeof(g->family_id), "%s", family_id);
	memcpy(g->username, row->username, sizeof(g->username));
	memcpy(g->client_id, row->client_id, sizeof(g->client_id));
	memcpy(g->scope, row->scope, sizeof(g->scope));
	g->revoked = row->revoked;
	g->user_id = row->user_id;
	g->family_expires = row->expires;
	g->token_expires = row->token_expires;
	g->token_issued = row->token_issued;
	g->generation = row->generation;
}

static int64_t
min64(int64_t a, int64_t b)
{
	return a < b ? a : b;
}

int
refresh_store_create_family(struct db *db, const char *family_id,
    int64_t user_id, const char *client_id, const char *scope, int64_t now,
    int64_t token_ttl, int64_t family_ttl, struct store_grant *out,
    struct err *e)
{
	sqlite3_stmt *st;
	int rc = -1;

	if (scope == NULL)
		scope = "";
	if (strlen(client_id) > STORE_MAX_CLIENT_ID ||
	    strlen(scope) > STORE_MAX_SCOPE)
		return err_set(e, ERR_INVALID_REQUEST, "client_id or scope");
	*out = (struct store_grant){ .user_id = user_id };
	snprintf(out->family_id, sizeof(out->family_id), "%s", family_id);
	snprintf(out->client_id, sizeof(out->client_id), "%s", client_id);
	snprintf(out->scope, sizeof(out->scope), "%s", scope);
	out->family_expires = now + family_ttl;
	out->token_expires = min64(now + token_ttl, out->family_expires);
	out->token_issued = now;
	if ((st = db_stmt(db, refresh_sql_insert_family, e)) == NULL)
		return -1;
	/* One statement: its own transaction, no BEGIN needed. */
	if (bind_id(db, st, 1, family_id, e) == -1 ||
	    sqlite3_bind_int64(st, 2, user_id) != SQLITE_OK ||
	    sqlite3_bind_text(st, 3, client_id, -1, SQLITE_STATIC) !=
	        SQLITE_OK ||
	    sqlite3_bind_int64(st, 4, now) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 5, out->family_expires) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 6, out->token_expires) != SQLITE_OK ||
	    sqlite3_bind_text(st, 7, scope, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_DONE)
		db_fail(db, "insert family", e);
	else
		rc = 0;
	db_stmt_done(st);
	return rc;
}

/* Why a presented (family, generation) that did not advance is refused.
 * Reuse is checked before expiry: an old generation proves the family
 * leaked, even once its tokens have expired. */
static int
refuse(struct db *db, const char *family_id, uint64_t generation,
    const char *client_id, int64_t now, struct store_grant *out,
    enum store_refusal *why, struct err *e)
{
	struct family_row row;
	bool found;

	if (read_family(db, family_id, &row, &found, e) == -1)
		return -1;
	if (!found) {
		*why = STORE_REFUSED_UNKNOWN;
		return err_set(e, ERR_INVALID_GRANT, "unknown refresh token");
	}
	grant_from_row(out, family_id, &row);
	/* Another client's token: refused, and nothing changes for the
	 * client it belongs to (RFC 6749 6, 10.4). */
	if (strcmp(row.client_id, client_id) != 0) {
		*why = STORE_REFUSED_CLIENT;
		return err_set(e, ERR_INVALID_GRANT, "another client's token");
	}
	if (row.revoked) {
		*why = STORE_REFUSED_REVOKED;
		return err_set(e, ERR_INVALID_GRANT, "family revoked");
	}
	if (generation < row.generation) {
		/* Two parties hold the family: revoke all of it and commit,
		 * although this request fails. */
		if (revoke_family(db, family_id, "reuse", now, e) == -1 ||
		    db_commit(db, e) == -1)
			return -1;
		*why = STORE_REFUSED_REUSED;
		return err_set(e, ERR_INVALID_GRANT, "refresh token reused");
	}
	if (generation > row.generation) {
		/* Only a database restored from an older backup says so. */
		*why = STORE_REFUSED_UNKNOWN;
		return err_set(e, ERR_INVALID_GRANT, "generation not issued");
	}
	*why = STORE_REFUSED_EXPIRED;
	return err_set(e, ERR_INVALID_GRANT, "refresh token expired");
}

int
refresh_rotate(struct db *db, const char *family_id, uint64_t generation,
    const char *client_id, int64_t now, int64_t token_ttl,
    struct store_grant *out, struct store_user **user, enum store_refusal *why,
    struct err *e)
{
	sqlite3_stmt *st = NULL;
	struct family_row row;
	bool found;
	int rc = -1;

	*out = (struct store_grant){ 0 };
	*user = NULL;
	*why = STORE_REFUSED_NONE;
	if (db_begin(db, e) == -1)
		return -1;
	if ((st = db_stmt(db, refresh_sql_advance, e)) == NULL)
		goto out;
	if (bind_id(db, st, 1, family_id, e) == -1 ||
	    sqlite3_bind_int64(st, 2, (sqlite3_int64)generation) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 3, now) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 4, token_ttl) != SQLITE_OK ||
	    sqlite3_bind_text(st, 5, client_id, -1, SQLITE_STATIC) !=
	        SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_DONE) {
		db_fail(db, "advance family", e);
		goto out;
	}
	db_stmt_done(st);
	st = NULL;
	/* The row count is the decision, not an assumption about locks. */
	if (sqlite3_changes(db->conn) != 1) {
		refuse(db, family_id, generation, client_id, now, out, why, e);
		goto out;
	}
	if (read_family(db, family_id, &row, &found, e) == -1)
		goto out;
	grant_from_row(out, family_id, &row);
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
refresh_revoke(struct db *db, const char *family_id, const char *reason,
    int64_t now, struct store_grant *out, bool *found, struct err *e)
{
	struct family_row row;

	*out = (struct store_grant){ 0 };
	if (db_begin(db, e) == -1)
		return -1;
	if (read_family(db, family_id, &row, found, e) == -1)
		goto fail;
	if (!*found) {
		db_rollback(db);
		return 0;
	}
	grant_from_row(out, family_id, &row);
	if (revoke_family(db, family_id, reason, now, e) == -1)
		goto fail;
	return db_commit(db, e);
fail:
	db_rollback(db);
	return -1;
}

int
refresh_find_family(struct db *db, const char *family_id,
    struct store_grant *out, bool *found, struct err *e)
{
	struct family_row row;

	*out = (struct store_grant){ 0 };
	if (read_family(db, family_id, &row, found, e) == -1)
		return -1;
	if (*found)
		grant_from_row(out, family_id, &row);
	return 0;
}

int
refresh_purge(struct db *db, int64_t before, int64_t limit, int64_t *deleted,
    struct err *e)
{
	sqlite3_stmt *st = db_stmt(db, refresh_sql_purge, e);
	int rc = -1;

	*deleted = 0;
	if (st == NULL)
		return -1;
	if (sqlite3_bind_int64(st, 1, before) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 2, limit) != SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_DONE) {
		db_fail(db, "purge", e);
	} else {
		*deleted = sqlite3_changes(db->conn);
		rc = 0;
	}
	db_stmt_done(st);
	return rc;
}

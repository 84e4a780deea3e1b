/* store_backend: lets one store test run against either backend. With
 * JWT_TEST_PG_URL set (tests/pgserver.py sets it to a fresh database on a
 * throwaway server) the test's databases are PostgreSQL databases on that
 * server; otherwise SQLite files. Checks read the database beside the
 * store, through the backend's own client, in SQL both understand
 * (parameters written ?1, turned into $1 for PostgreSQL). */
#ifndef TEST_STORE_BACKEND_H
#define TEST_STORE_BACKEND_H

#include <libpq-fe.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static inline const char *
tb_pg_url(void)
{
	const char *u = getenv("JWT_TEST_PG_URL");

	return u != NULL && u[0] != '\0' ? u : NULL;
}

static inline bool
tb_pg(void)
{
	return tb_pg_url() != NULL;
}

/* The server's URL with another database name (the URL has no query). */
static inline void
tb_pg_url_for(const char *name, char *out, size_t cap)
{
	const char *base = tb_pg_url(), *slash = strrchr(base, '/');

	snprintf(out, cap, "%.*s/%s", (int)(slash - base), base, name);
}

static inline PGresult *
tb_pg_exec(const char *url, const char *sql, const char *arg)
{
	char text[1024];
	PGconn *c = PQconnectdb(url);
	PGresult *res = NULL;
	size_t i;

	for (i = 0; sql[i] != '\0' && i + 1 < sizeof(text); i++)
		text[i] = sql[i] == '?' ? '$' : sql[i];
	text[i] = '\0';
	if (PQstatus(c) == CONNECTION_OK)
		res = PQexecParams(
		    c, text, arg != NULL ? 1 : 0, NULL, &arg, NULL, NULL, 0);
	if (res != NULL && PQresultStatus(res) != PGRES_TUPLES_OK &&
	    PQresultStatus(res) != PGRES_COMMAND_OK) {
		fprintf(stderr, "%s: %s", text, PQresultErrorMessage(res));
		PQclear(res);
		res = NULL;
	}
	PQfinish(c);
	return res;
}

/* A fresh, empty database for one test: a file under dir, or a database
 * (dropped first if a previous run left it) on the PostgreSQL server. */
static inline void
tb_fresh(const char *dir, const char *name, char *out, size_t cap)
{
	char sql[200];

	if (!tb_pg()) {
		snprintf(out, cap, "%s/%s.db", dir, name);
		return;
	}
	snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s", name);
	PQclear(tb_pg_exec(tb_pg_url(), sql, NULL));
	snprintf(sql, sizeof(sql), "CREATE DATABASE %s", name);
	PQclear(tb_pg_exec(tb_pg_url(), sql, NULL));
	tb_pg_url_for(name, out, cap);
}

/* The first column of the first row as a number (PostgreSQL's booleans
 * as 1 and 0), or -1. */
static inline int64_t
tb_scalar(const char *db, const char *sql, const char *arg)
{
	int64_t v = -1;

	if (tb_pg()) {
		PGresult *res = tb_pg_exec(db, sql, arg);

		if (res != NULL && PQntuples(res) > 0) {
			const char *s = PQgetvalue(res, 0, 0);
			v = strcmp(s, "t") == 0   ? 1
			    : strcmp(s, "f") == 0 ? 0
			                          : strtoll(s, NULL, 10);
		}
		PQclear(res);
		return v;
	}
	sqlite3 *c = NULL;
	sqlite3_stmt *st = NULL;

	if (sqlite3_open(db, &c) == SQLITE_OK &&
	    sqlite3_prepare_v2(c, sql, -1, &st, NULL) == SQLITE_OK &&
	    (arg == NULL || sqlite3_bind_text(st, 1, arg, -1, SQLITE_STATIC) ==
	                        SQLITE_OK) &&
	    sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(c);
	return v;
}

/* Runs a write; the rows it changed, or -1. */
static inline int64_t
tb_exec(const char *db, const char *sql, const char *arg1, const char *arg2)
{
	int64_t changed = -1;

	if (tb_pg()) {
		char text[1024];
		const char *p[] = { arg1, arg2 };
		PGconn *c = PQconnectdb(db);
		PGresult *res = NULL;
		size_t i;

		for (i = 0; sql[i] != '\0' && i + 1 < sizeof(text); i++)
			text[i] = sql[i] == '?' ? '$' : sql[i];
		text[i] = '\0';
		if (PQstatus(c) == CONNECTION_OK)
			res = PQexecParams(c, text,
			    arg2 != NULL   ? 2
			    : arg1 != NULL ? 1
			                   : 0,
			    NULL, p, NULL, NULL, 0);
		if (res != NULL && PQresultStatus(res) == PGRES_COMMAND_OK)
			changed = strtoll(PQcmdTuples(res), NULL, 10);
		PQclear(res);
		PQfinish(c);
		return changed;
	}
	sqlite3 *c = NULL;
	sqlite3_stmt *st = NULL;

	if (sqlite3_open(db, &c) == SQLITE_OK &&
	    sqlite3_prepare_v2(c, sql, -1, &st, NULL) == SQLITE_OK &&
	    (arg1 == NULL || sqlite3_bind_text(st, 1, arg1, -1,
	                         SQLITE_STATIC) == SQLITE_OK) &&
	    (arg2 == NULL || sqlite3_bind_text(st, 2, arg2, -1,
	                         SQLITE_STATIC) == SQLITE_OK) &&
	    sqlite3_step(st) == SQLITE_DONE)
		changed = sqlite3_changes(c);
	sqlite3_finalize(st);
	sqlite3_close(c);
	return changed;
}

#endif

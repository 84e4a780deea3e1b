"""OAuth 2.0 on PostgreSQL: the token, refresh, revocation, introspection,
client and registration tests of test_oauth.py again, each Env a fresh
database of one throwaway server (tests/pgserver.py), jwt-admin and the
daemon two processes on it; plus what only this backend shows: the
clients migration recorded, and a refresh by another client leaving the
family's row as it was."""
import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import pgserver  # noqa: E402
import test_oauth  # noqa: E402
from test_oauth import (ClientsCliTest, OAuthFixture,  # noqa: E402
                        PasswordGrantOffTest, RegisterTest,
                        RevokeIntrospectTest, TokenTest, assert_oauth_error)

# Started on import (the imported classes keep test_oauth as their
# module, whose fixtures unittest would tear this module's down between);
# pgserver stops it at exit.
SERVER = pgserver.PgServer().start()

_env_init = test_oauth.Env.__init__


def _pg_env_init(self, **settings):
    """Env as in test_oauth.py, its "db" a new database on the server."""
    _env_init(self, **settings)
    self.db = SERVER.new_database()
    self.dbname = self.db.rsplit("/", 1)[1]
    with open(self.config, encoding="utf-8") as f:
        cfg = json.load(f)
    cfg["db"] = self.db
    with open(self.config, "w", encoding="utf-8") as f:
        json.dump(cfg, f)


def _pg_stored(self):
    """The rows of every table, as text."""
    return "\n".join(SERVER.psql(f"SELECT t::text FROM {table} t",
                                 self.dbname)
                     for table in ("users", "clients", "families")).encode()


test_oauth.Env.__init__ = _pg_env_init
test_oauth.Env.stored = _pg_stored

# The classes imported above run here, on PostgreSQL.
__all__ = ["TokenTest", "PasswordGrantOffTest", "RevokeIntrospectTest",
           "ClientsCliTest", "RegisterTest"]


class PgOnlyTest(OAuthFixture):
    def test_clients_migration_recorded(self):
        self.assertEqual(SERVER.psql(
            "SELECT string_agg(version::text, ',' ORDER BY version)"
            " FROM schema_migrations", self.env.dbname), "1,2,3,4")
        self.assertEqual(SERVER.psql(
            "SELECT string_agg(id, ',' ORDER BY id COLLATE \"C\")"
            " FROM clients", self.env.dbname),
            "conf,demo-client,pub,short,svc")

    def test_other_clients_refresh_leaves_the_row(self):
        r = self.password(scope="read:data")
        self.assertEqual(r.status, 200, r)
        rt = r.json()["refresh_token"]
        row = ("SELECT client_id, scope, generation, revoked_at IS NULL"
               " FROM families ORDER BY created_at DESC, id LIMIT 1")
        before = SERVER.psql(row, self.env.dbname)
        self.assertEqual(before, "conf|read:data|0|t")
        assert_oauth_error(self, self.refresh(rt, "pub"), 400,
                           "invalid_grant")
        self.assertEqual(SERVER.psql(row, self.env.dbname), before)
        # Its own client: one generation on, the scope kept.
        r = self.refresh(rt)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json().get("scope"), "read:data")
        self.assertEqual(SERVER.psql(row, self.env.dbname),
                         "conf|read:data|1|t")


if __name__ == "__main__":
    unittest.main()

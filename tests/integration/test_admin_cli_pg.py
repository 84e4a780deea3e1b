"""jwt-admin's user commands on PostgreSQL: the users tests of
test_admin_cli.py that speak only through jwt-admin and the daemon, again
with auth.json's "db" a database of a throwaway server (tests/pgserver.py).
The CLI and the daemon are two processes on one database, as two issuers
are."""
import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import pgserver  # noqa: E402
import test_admin_cli  # noqa: E402

SERVER = pgserver.PgServer().start()  # stopped at exit by pgserver


class PgEnv(test_admin_cli.Env):
    """test_admin_cli's Env, its auth.json naming a fresh database."""

    def __init__(self, alg="RS256"):
        super().__init__(alg)
        self.db = SERVER.new_database()
        with open(self.config, encoding="utf-8") as f:
            cfg = json.load(f)
        cfg["db"] = self.db
        with open(self.config, "w", encoding="utf-8") as f:
            json.dump(cfg, f)


class PgUsersTests(test_admin_cli.UsersTests):
    def setUp(self):
        self.env = PgEnv()
        self.env.admin("keys", "generate")

    def test_add_list_roles_delete(self):
        """As on SQLite, and only a hash is stored."""
        self.env.admin("users", "add", "carol", "--roles", "user,moderator",
                       stdin="s3cret-pass\n")
        h = SERVER.psql("SELECT password_hash FROM users"
                        " WHERE username = 'carol'", self.env.db.rsplit("/")[-1])
        self.assertTrue(h.startswith("$argon2id$"), h)
        self.assertEqual(self.users()["carol"]["roles"], ["user", "moderator"])
        self.env.admin("users", "roles", "carol", "")
        self.assertEqual(self.users()["carol"]["roles"], [])
        self.env.admin("users", "delete", "carol")
        self.assertNotIn("carol", self.users())
        r = self.env.admin("users", "delete", "carol", check=False)
        self.assertEqual(r.returncode, 1)

    def test_list_users_in_byte_order(self):
        for name in ("b", "B", "a", "\u00e9"):
            self.env.admin("users", "add", name, stdin="pw-pw-pw\n")
        names = [u["username"] for u in json.loads(
            self.env.admin("users", "list", "--json").stdout)]
        self.assertEqual(names, sorted(names, key=lambda n: n.encode()))


# SQLite's own: a missing file (a server's database always exists), and
# the WAL, descriptors and integrity check after a reload.
for _name in ("test_list_without_a_database_fails",
              "test_cli_changes_after_a_reload"):
    setattr(PgUsersTests, _name, None)


def load_tests(loader, tests, pattern):
    return loader.loadTestsFromTestCase(PgUsersTests)


if __name__ == "__main__":
    unittest.main()

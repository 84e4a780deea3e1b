"""jwt-admin end to end: every subcommand against a temporary key
directory and a real SQLite database, then the daemons themselves: the
auth service logs in a user the CLI added, publishes the keys the CLI
rotated, and the resource service accepts (or refuses, with the right
answer) tokens the CLI minted. PyJWT (Debian python3-jwt) checks the
minted tokens independently."""
import base64
import glob
import json
import os
import shutil
import signal
import sqlite3
import stat
import subprocess
import tempfile
import time
import unittest

import jwt

import harness

ISSUER = "http://127.0.0.1:5000"
AUDIENCE = "resource_service"
# Cheap argon2id for the CLI's hashes; the daemon verifies any cost.
CHEAP = {"AUTH_ARGON2_OPSLIMIT": "1", "AUTH_ARGON2_MEMLIMIT_KIB": "8192"}


def explain_time(t, now):
    """What common/explain.c's explain_time() prints for t at now."""
    tt, tn = time.gmtime(t), time.gmtime(now)
    if (tt.tm_year, tt.tm_yday) == (tn.tm_year, tn.tm_yday):
        return time.strftime("%H:%M:%S", tt)
    return time.strftime("%Y-%m-%d %H:%M:%S", tt)


class Env:
    """A temp dir with keys/, data/auth.db and config copies, and an
    auth.json that both jwt-admin and auth_service read."""

    def __init__(self, alg="RS256"):
        self.dir = tempfile.mkdtemp(prefix="admin-test-")
        self.keys = self.path("keys")
        self.db = self.path("data", "auth.db")
        self.secrets = self.path("secrets.json")
        self.permissions = self.path("permissions.json")
        shutil.copy(harness.source("config", "permissions.json"),
                    self.permissions)
        # Only the admin demo user: the tests add the others.
        with open(self.secrets, "w", encoding="utf-8") as f:
            json.dump({"users": {"admin": {"password": "adminpassword",
                                           "roles": ["admin", "user"]}}}, f)
        self.config = self.path("auth.json")
        with open(self.config, "w", encoding="utf-8") as f:
            # An explicit issuer: the daemon runs on --port 0 here, and
            # jwt-admin derives a default issuer from the configured
            # port, which it cannot know.
            json.dump({"db": self.db, "issuer": ISSUER,
                       "private_key": os.path.join(self.keys,
                                                   "private_key.pem"),
                       "secrets": self.secrets,
                       "permissions": self.permissions,
                       "throttle_user_free": 1000,
                       "throttle_addr_free": 1000}, f)

    def path(self, *parts):
        return os.path.join(self.dir, *parts)

    def admin(self, *args, stdin=None, check=True):
        env = dict(os.environ, **CHEAP)
        r = subprocess.run(
            [harness.binary("jwt-admin"), "--config", self.config, *args],
            input=stdin, capture_output=True, text=True, env=env,
            cwd=self.dir, timeout=120)
        for marker in ("AddressSanitizer", "LeakSanitizer", "runtime error:"):
            assert marker not in r.stderr, r.stderr
        if check and r.returncode != 0:
            raise AssertionError(
                f"jwt-admin {args} exited {r.returncode}: {r.stderr}")
        return r

    def auth(self, *extra):
        return harness.Daemon("auth_service",
                              ["--config", self.config, *extra])

    def published(self):
        return sorted(glob.glob(os.path.join(self.keys, "published",
                                             "*.pem")))

    def cleanup(self):
        shutil.rmtree(self.dir, ignore_errors=True)


def kid_of(output):
    for line in output.splitlines():
        if line.startswith("kid: "):
            return line[5:].strip()
    raise AssertionError(f"no kid in {output!r}")


def header_of(token):
    part = token.split(".")[0]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def login(daemon, user, password):
    return daemon.request("POST", "/login",
                          {"username": user, "password": password})


def stop_clean(d):
    status = d.stop()
    log = d.log()
    assert status == 0, f"exit status {status}: {log[-3000:]}"
    for marker in ("AddressSanitizer", "LeakSanitizer", "runtime error:"):
        assert marker not in log, log[-3000:]


class KeysTests(unittest.TestCase):
    def setUp(self):
        self.env = Env()

    def tearDown(self):
        self.env.cleanup()

    def test_generate_each_algorithm(self):
        for alg in ("RS256", "ES256", "EdDSA"):
            d = self.env.path(alg)
            r = self.env.admin("keys", "generate", "--alg", alg, "--dir", d)
            kid = kid_of(r.stdout)
            self.assertIn(f"alg: {alg}", r.stdout)
            priv = os.path.join(d, "private_key.pem")
            self.assertEqual(stat.S_IMODE(os.stat(priv).st_mode), 0o600)
            lst = self.env.admin("keys", "list", "--dir", d).stdout
            self.assertIn(kid, lst)
            self.assertIn("signing", lst)

    def test_generate_refuses_to_overwrite_without_force(self):
        first = kid_of(self.env.admin("keys", "generate").stdout)
        r = self.env.admin("keys", "generate", check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("already exists", r.stderr)
        self.assertIn(first, self.env.admin("keys", "list").stdout)
        second = kid_of(self.env.admin("keys", "generate", "--force").stdout)
        self.assertNotEqual(first, second)

    def test_bad_arguments_are_usage_errors(self):
        for args in (["keys", "generate", "--alg", "HS256"],
                     ["keys", "generate", "--alg", "ES256", "--bits", "4096"],
                     ["keys", "frobnicate"], ["keys", "retire"],
                     ["nothing"]):
            r = self.env.admin(*args, check=False)
            self.assertEqual(r.returncode, 2, (args, r.stderr))
            self.assertTrue(r.stderr.strip(), args)

    def test_rotate_then_retire(self):
        old = kid_of(self.env.admin("keys", "generate", "--alg",
                                    "ES256").stdout)
        r = self.env.admin("keys", "rotate")
        self.assertIn(f"still published: {old}", r.stdout)
        # This config publishes no directory: the old key would vanish
        # from the JWKS at the next SIGHUP, and the tool says so.
        self.assertIn("warning:", r.stderr)
        self.assertIn("public_keys_dir", r.stderr)
        self.assertEqual([os.path.basename(p) for p in self.env.published()],
                         [f"{old}.pem"])
        lst = self.env.admin("keys", "list").stdout
        new = [l.split()[0] for l in lst.splitlines()
               if " signing " in l][0]
        self.assertNotEqual(new, old)
        self.assertIn(f"{old}  ES256  published", lst)
        # The algorithm follows the old key unless --alg says otherwise.
        self.assertIn(f"{new}  ES256  signing", lst)

        # The signing key cannot be retired; an unknown kid is an error.
        r = self.env.admin("keys", "retire", new, check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("signing key", r.stderr)
        r = self.env.admin("keys", "retire", "nope", check=False)
        self.assertEqual(r.returncode, 1)

        self.env.admin("keys", "retire", old)
        self.assertEqual(self.env.published(), [])
        lst = self.env.admin("keys", "list").stdout
        self.assertIn(f"{old}  ES256  retired", lst)

        # With public_keys_dir set to where rotate writes: no warning.
        with open(self.env.config, encoding="utf-8") as f:
            cfg = json.load(f)
        cfg["public_keys_dir"] = os.path.join(self.env.keys, "published")
        with open(self.env.config, "w", encoding="utf-8") as f:
            json.dump(cfg, f)
        r = self.env.admin("keys", "rotate")
        self.assertNotIn("warning:", r.stderr)

    def test_retire_a_kid_that_starts_with_a_dash(self):
        """A thumbprint starts with '-' one time in 32; it is a KID, not
        an option, with or without "--"."""
        self.env.admin("keys", "generate")
        dashed = "-" + "A" * 42
        for args in ([dashed], ["--", dashed], [dashed, "--dir",
                                               self.env.keys]):
            r = self.env.admin("keys", "retire", *args, check=False)
            self.assertEqual(r.returncode, 1, (args, r.stderr))
            self.assertIn(f"no published key has kid {dashed}", r.stderr)
        old = kid_of(self.env.admin("keys", "generate", "--force").stdout)
        self.env.admin("keys", "rotate")
        self.env.admin("keys", "retire", "--", old)
        self.assertEqual(self.env.published(), [])
        # Bad options are named, whatever their form.
        for opt, text in (("-Xy", '"-X"'), ("--nope", '"--nope"'),
                          ("--dir", "--dir: missing value")):
            r = self.env.admin("keys", "retire", opt, check=False)
            self.assertEqual(r.returncode, 2, (opt, r.stderr))
            self.assertIn(text, r.stderr)

    def test_rotate_without_a_key_fails(self):
        r = self.env.admin("keys", "rotate", check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("keys generate", r.stderr)

    def test_daemon_publishes_rotated_keys_and_old_tokens_verify(self):
        old = kid_of(self.env.admin("keys", "generate").stdout)
        # A token signed before the rotation...
        token = self.env.admin("token", "mint", "--sub", "svc",
                               "--roles", "user").stdout.strip()
        self.env.admin("keys", "rotate", "--alg", "EdDSA")
        args = ["--public-keys", ",".join(self.env.published())]
        with self.env.auth(*args) as d:
            kids = [k["kid"] for k in
                    d.request("GET", "/.well-known/jwks.json").json()["keys"]]
            self.assertEqual(len(kids), 2)
            self.assertEqual(kids[1], old)
            r = login(d, "admin", "adminpassword")
            self.assertEqual(r.status, 200, r)
            self.assertEqual(header_of(r.json()["access_token"])["kid"],
                             kids[0])
            self.assertEqual(header_of(r.json()["access_token"])["alg"],
                             "EdDSA")
            # ...still verifies against the JWKS the daemon serves.
            jwks = self.env.path("jwks.json")
            with open(jwks, "wb") as f:
                f.write(d.request("GET", "/.well-known/jwks.json").body)
            r = self.env.admin("token", "inspect", token, "--jwks", jwks)
            self.assertIn("result: VALID", r.stdout)
            stop_clean(d)

    def test_sighup_picks_up_a_rotation(self):
        """Needs the auth service to reload keys on SIGHUP from
        public_keys_dir (issue 5 wiring); skipped until it does."""
        usage = subprocess.run([harness.binary("auth_service"), "--help"],
                               capture_output=True, text=True).stdout
        if "--public-keys-dir" not in usage:
            self.skipTest("auth_service has no public_keys_dir yet: "
                          "keys are not reloaded on SIGHUP")
        old = kid_of(self.env.admin("keys", "generate").stdout)
        with self.env.auth("--public-keys-dir",
                           os.path.join(self.env.keys, "published")) as d:
            self.env.admin("keys", "rotate")
            d.signal(signal.SIGHUP)
            d.wait_event("reload")
            deadline = time.monotonic() + 10
            while True:
                kids = [k["kid"] for k in d.request(
                    "GET", "/.well-known/jwks.json").json()["keys"]]
                if len(kids) == 2 or time.monotonic() > deadline:
                    break
                time.sleep(0.05)
            self.assertEqual(len(kids), 2, kids)
            self.assertIn(old, kids)
            r = login(d, "admin", "adminpassword")
            self.assertNotEqual(header_of(r.json()["access_token"])["kid"],
                                old)
            self.env.admin("keys", "retire", old)
            d.signal(signal.SIGHUP)
            d.wait_event("reload", count=2)
            kids = [k["kid"] for k in d.request(
                "GET", "/.well-known/jwks.json").json()["keys"]]
            self.assertNotIn(old, kids)
            stop_clean(d)


class KeygenTests(unittest.TestCase):
    """jwt-keygen, the plain key generator run.sh uses."""

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="keygen-test-")

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def keygen(self, *args):
        r = subprocess.run([harness.binary("jwt-keygen"), *args],
                           capture_output=True, text=True, cwd=self.dir,
                           timeout=120)
        for marker in ("AddressSanitizer", "LeakSanitizer", "runtime error:"):
            assert marker not in r.stderr, r.stderr
        return r

    def test_each_algorithm_pem_forms_mode_and_kid(self):
        from cryptography.hazmat.primitives import serialization
        from jwcrypto import jwk as jwcrypto_jwk
        for alg, kty in (("RS256", "RSA"), ("ES256", "EC"), ("EdDSA", "OKP")):
            out = os.path.join(self.dir, alg)
            jwks = os.path.join(self.dir, f"{alg}.json")
            r = self.keygen("--alg", alg, "--out", out, "--jwks", jwks)
            self.assertEqual(r.returncode, 0, r.stderr)
            kid = kid_of(r.stdout)
            priv = os.path.join(out, "private_key.pem")
            pub = os.path.join(out, "public_key.pem")
            self.assertEqual(stat.S_IMODE(os.stat(priv).st_mode), 0o600)
            with open(priv, "rb") as f:
                self.assertTrue(f.read().startswith(
                    b"-----BEGIN PRIVATE KEY-----"))  # PKCS#8
            with open(pub, "rb") as f:
                pem = f.read()
            self.assertTrue(pem.startswith(b"-----BEGIN PUBLIC KEY-----"))
            # kid is the RFC 7638 thumbprint, computed independently.
            key = jwcrypto_jwk.JWK.from_pem(pem)
            self.assertEqual(key.thumbprint(), kid)
            with open(jwks, encoding="utf-8") as f:
                keys = json.load(f)["keys"]
            self.assertEqual([(k["kid"], k["alg"], k["kty"]) for k in keys],
                             [(kid, alg, kty)])
            if alg == "RS256":
                self.assertEqual(serialization.load_pem_public_key(pem)
                                 .key_size, 2048)

    def test_bits(self):
        r = self.keygen("--alg", "RS256", "--bits", "3072", "--out", "k")
        self.assertEqual(r.returncode, 0, r.stderr)
        from cryptography.hazmat.primitives import serialization
        with open(os.path.join(self.dir, "k", "public_key.pem"), "rb") as f:
            self.assertEqual(serialization.load_pem_public_key(f.read())
                             .key_size, 3072)

    def test_refuses_to_overwrite_without_force(self):
        first = kid_of(self.keygen("--out", "k").stdout)
        priv = os.path.join(self.dir, "k", "private_key.pem")
        with open(priv, "rb") as f:
            before = f.read()
        r = self.keygen("--out", "k", "--alg", "ES256")
        self.assertEqual(r.returncode, 1)
        self.assertIn("--force", r.stderr)
        with open(priv, "rb") as f:
            self.assertEqual(f.read(), before)
        r = self.keygen("--out", "k", "--alg", "ES256", "--force")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertNotEqual(kid_of(r.stdout), first)
        self.assertEqual(stat.S_IMODE(os.stat(priv).st_mode), 0o600)

    def test_bad_input(self):
        for args in (["--alg", "HS256"], ["--alg", "none"],
                     ["--bits", "1024"], ["--bits", "2k"],
                     ["--alg", "ES256", "--bits", "4096"], ["--bogus"],
                     ["--out"], ["stray"]):
            r = self.keygen(*args, "--out", "bad") if args != ["--out"] \
                else self.keygen(*args)
            self.assertEqual(r.returncode, 2, (args, r.stderr))
            self.assertTrue(r.stderr.startswith("jwt-keygen: "), r.stderr)
            self.assertEqual(len(r.stderr.strip().splitlines()), 1, r.stderr)
        self.assertFalse(os.path.exists(os.path.join(self.dir, "bad",
                                                     "private_key.pem")))
        r = self.keygen("--out", "/proc/no/such")
        self.assertEqual(r.returncode, 1)
        self.assertIn("/proc/no/such", r.stderr)


class UsersTests(unittest.TestCase):
    def setUp(self):
        self.env = Env()
        self.env.admin("keys", "generate")

    def tearDown(self):
        self.env.cleanup()

    def users(self):
        return {u["username"]: u for u in json.loads(
            self.env.admin("users", "list", "--json").stdout)}

    def test_list_without_a_database_fails(self):
        r = self.env.admin("users", "list", check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("no database", r.stderr)
        self.assertFalse(os.path.exists(self.env.db))

    def test_add_list_roles_delete(self):
        r = self.env.admin("users", "add", "carol", "--roles",
                           "user,moderator", stdin="s3cret-pass\n")
        self.assertIn("added user carol", r.stdout)
        self.assertNotIn("s3cret", r.stdout + r.stderr)
        u = self.users()["carol"]
        self.assertEqual(u["roles"], ["user", "moderator"])
        self.assertRegex(u["sub"], r"^[0-9a-f-]{36}$")
        # Only a hash is stored: argon2id, never the password.
        with sqlite3.connect(self.env.db) as c:
            (h,) = c.execute("SELECT password_hash FROM users "
                             "WHERE username='carol'").fetchone()
        self.assertTrue(h.startswith("$argon2id$"), h)
        self.assertNotIn("s3cret", h)
        text = self.env.admin("users", "list").stdout
        self.assertIn("carol", text)
        self.assertIn(u["sub"], text)

        r = self.env.admin("users", "add", "carol", stdin="x\n", check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("exists", r.stderr)

        r = self.env.admin("users", "roles", "carol", "user,nosuchrole")
        self.assertIn("nosuchrole", r.stderr)  # a warning, not an error
        self.assertEqual(self.users()["carol"]["roles"],
                         ["user", "nosuchrole"])
        self.env.admin("users", "roles", "carol", "")
        self.assertEqual(self.users()["carol"]["roles"], [])

        self.env.admin("users", "delete", "carol")
        self.assertNotIn("carol", self.users())
        r = self.env.admin("users", "delete", "carol", check=False)
        self.assertEqual(r.returncode, 1)
        r = self.env.admin("users", "passwd", "carol", stdin="x\n",
                           check=False)
        self.assertEqual(r.returncode, 1)
        r = self.env.admin("users", "roles", "carol", "user", check=False)
        self.assertEqual(r.returncode, 1)

    def test_bad_input(self):
        # No password on stdin, a control character in a name, an empty
        # role, a missing operand.
        r = self.env.admin("users", "add", "dave", stdin="", check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("empty password", r.stderr)
        for args in (["users", "add", "a\x01b"],
                     ["users", "add", "x" * 300],
                     ["users", "add", "dave", "--roles", "user,,admin"],
                     ["users", "add"], ["users", "roles", "dave"]):
            r = self.env.admin(*args, stdin="pw\n", check=False)
            self.assertEqual(r.returncode, 2, (args, r.stderr))
        self.assertFalse(os.path.exists(self.env.db) and
                         "dave" in self.users())

    def prompt(self, *args, answers, ahead=False):
        """Runs jwt-admin on a pseudo-terminal, typing each answer after
        its prompt (ahead: all of them after the first); returns (exit
        status, everything the terminal showed)."""
        import pty
        import select
        env = dict(os.environ, **CHEAP)
        argv = [harness.binary("jwt-admin"), "--config", self.env.config,
                *args]
        pid, fd = pty.fork()
        if pid == 0:
            try:
                os.chdir(self.env.dir)
                os.execve(argv[0], argv, env)
            finally:
                os._exit(127)
        seen = b""
        pending = list(answers)
        deadline = time.monotonic() + 60
        try:
            while time.monotonic() < deadline:
                ready, _, _ = select.select([fd], [], [], 0.5)
                if not ready:
                    continue
                try:
                    chunk = os.read(fd, 4096)
                except OSError:  # EIO: the child closed the terminal
                    break
                if not chunk:
                    break
                seen += chunk
                # One answer per prompt shown ("...: "), never two for one.
                asked = seen.count(b"password for ") + seen.count(b"Again: ")
                while pending and (ahead and asked > 0 or
                                   asked > len(answers) - len(pending)):
                    os.write(fd, pending.pop(0).encode() + b"\n")
        finally:
            os.close(fd)
        _, status = os.waitpid(pid, 0)
        return os.waitstatus_to_exitcode(status), seen.decode(errors="replace")

    def test_password_from_a_terminal_prompt(self):
        """No --password-stdin and a terminal: asked twice, not echoed."""
        code, shown = self.prompt("users", "add", "gina", "--roles", "user",
                                  answers=["tty-secret-1", "tty-secret-1"])
        self.assertEqual(code, 0, shown)
        self.assertIn("New password for gina:", shown)
        self.assertIn("Again:", shown)
        self.assertNotIn("tty-secret", shown)
        self.assertIn("gina", self.users())
        code, shown = self.prompt("users", "passwd", "gina",
                                  answers=["one-thing", "another-thing"])
        self.assertEqual(code, 1, shown)
        self.assertIn("the two passwords differ", shown)
        code, shown = self.prompt("users", "passwd", "gina",
                                  answers=["tty-secret-2", "tty-secret-2"])
        self.assertEqual(code, 0, shown)
        self.assertIn("password of gina changed", shown)
        # Typed ahead: the second answer arrives before "Again:" shows.
        code, shown = self.prompt("users", "passwd", "gina", ahead=True,
                                  answers=["tty-secret-3", "tty-secret-3"])
        self.assertEqual(code, 0, shown)
        self.assertNotIn("tty-secret", shown)

    def test_password_is_never_taken_from_argv(self):
        r = self.env.admin("users", "add", "erin", "--password", "pw",
                           check=False)
        self.assertEqual(r.returncode, 2)

    def test_cli_changes_after_a_reload(self):
        """SIGHUP opens a second connection in the daemon: it must never
        drop the first one's locks, or the CLI (another process) takes
        itself for the last user of the database and deletes the WAL
        the daemon still writes (SQLite "How To Corrupt" 2.2)."""
        with self.env.auth() as d:
            self.assertEqual(login(d, "admin", "adminpassword").status, 200)
            refresh = login(d, "admin", "adminpassword").json()[
                "refresh_token"]
            d.signal(signal.SIGHUP)
            d.wait_event("reload")
            self.env.admin("users", "list")
            self.env.admin("users", "add", "carol", "--roles", "user",
                           stdin="carol-password\n")
            self.assertEqual(login(d, "carol", "carol-password").status, 200)
            self.env.admin("users", "delete", "admin")
            self.assertEqual(login(d, "admin", "adminpassword").status, 401)
            r = d.request("POST", "/refresh", {"refresh_token": refresh})
            self.assertEqual(r.status, 400, r)
            fds = os.listdir(f"/proc/{d.proc.pid}/fd")
            for fd in fds:
                try:
                    target = os.readlink(f"/proc/{d.proc.pid}/fd/{fd}")
                except OSError:
                    continue
                self.assertNotIn("(deleted)", target)
            stop_clean(d)
        with sqlite3.connect(self.env.db) as db:
            self.assertEqual(
                db.execute("PRAGMA integrity_check").fetchone()[0], "ok")

    def test_daemon_accepts_cli_users_and_changes(self):
        self.env.admin("users", "add", "frank", "--roles", "user",
                       stdin="first-password\n")
        with self.env.auth() as d:
            r = login(d, "frank", "first-password")
            self.assertEqual(r.status, 200, r)
            claims = jwt.decode(r.json()["access_token"],
                                options={"verify_signature": False})
            self.assertEqual(claims["username"], "frank")
            self.assertEqual(claims["permissions"], ["read:data"])
            self.assertEqual(claims["sub"], self.users()["frank"]["sub"])
            refresh = r.json()["refresh_token"]
            self.assertEqual(self.users()["frank"]["sessions"], 1)

            # New roles show in the next access token (refresh re-reads).
            self.env.admin("users", "roles", "frank", "admin")
            r = d.request("POST", "/refresh", {"refresh_token": refresh})
            self.assertEqual(r.status, 200, r)
            claims = jwt.decode(r.json()["access_token"],
                                options={"verify_signature": False})
            self.assertIn("delete:users", claims["permissions"])
            refresh = r.json()["refresh_token"]

            # A new password: the old one fails, the sessions end.
            r = self.env.admin("users", "passwd", "frank",
                               stdin="second-password\n")
            self.assertIn("1 session(s) ended", r.stdout)
            self.assertEqual(login(d, "frank", "first-password").status, 401)
            r = d.request("POST", "/refresh", {"refresh_token": refresh})
            self.assertEqual(r.status, 400)
            self.assertEqual(r.json()["error"], "invalid_grant")
            r = login(d, "frank", "second-password")
            self.assertEqual(r.status, 200)
            refresh = r.json()["refresh_token"]

            # Deleted: no login, and its refresh tokens are gone too.
            self.env.admin("users", "delete", "frank")
            self.assertEqual(login(d, "frank", "second-password").status, 401)
            r = d.request("POST", "/refresh", {"refresh_token": refresh})
            self.assertEqual(r.status, 400)
            stop_clean(d)

    def test_cli_password_survives_a_restart_with_seed_users(self):
        """The secrets.json import must not undo a password set here."""
        with self.env.auth() as d:
            self.assertEqual(login(d, "admin", "adminpassword").status, 200)
            stop_clean(d)
        self.env.admin("users", "passwd", "admin", stdin="rotated-pw\n")
        with self.env.auth() as d:
            self.assertEqual(login(d, "admin", "adminpassword").status, 401)
            self.assertEqual(login(d, "admin", "rotated-pw").status, 200)
            stop_clean(d)


class TokenTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.env = Env()
        cls.env.admin("keys", "generate")
        cls.public = os.path.join(cls.env.keys, "public_key.pem")
        with open(cls.public, "rb") as f:
            cls.public_pem = f.read()

    @classmethod
    def tearDownClass(cls):
        cls.env.cleanup()

    def mint(self, *args):
        return self.env.admin("token", "mint", *args).stdout.strip()

    def inspect(self, *args, stdin=None):
        return self.env.admin("token", "inspect", *args, stdin=stdin,
                              check=False)

    def decode(self, token, **kw):
        return jwt.decode(token, self.public_pem, algorithms=["RS256"],
                          audience=AUDIENCE, issuer=ISSUER, **kw)

    def test_mint_defaults_verify_with_pyjwt(self):
        token = self.mint("--sub", "svc-reporting", "--roles", "admin")
        h = header_of(token)
        self.assertEqual(h["typ"], "at+jwt")
        self.assertEqual(h["alg"], "RS256")
        c = self.decode(token)
        self.assertEqual(c["sub"], "svc-reporting")
        self.assertEqual(c["client_id"], "demo-client")
        self.assertEqual(c["exp"] - c["iat"], 900)
        self.assertEqual(c["permissions"], ["read:data", "read:admin_panel",
                                            "write:admin_panel",
                                            "delete:users"])
        self.assertEqual(c["scope"], " ".join(c["permissions"]))
        self.assertEqual(len(base64.urlsafe_b64decode(c["jti"] + "==")), 16)

    def test_mint_ttl_and_claims(self):
        token = self.mint("--sub", "svc", "--ttl", "60", "--claims",
                          '{"username":"robot","aud":["a","resource_service"]}')
        c = self.decode(token)
        self.assertEqual(c["exp"] - c["iat"], 60)
        self.assertEqual(c["username"], "robot")
        # Replacing a claim the tool sets is said; permissions carry
        # their own scope; null removes a claim (a lesson's bad token).
        r = self.env.admin("token", "mint", "--sub", "svc", "--claims",
                           '{"permissions":["delete:users","a b"],'
                           '"jti":null}')
        self.assertIn('replaces "permissions"', r.stderr)
        self.assertIn('removes "jti"', r.stderr)
        c = self.decode(r.stdout.strip())
        self.assertEqual(c["scope"], "delete:users")
        self.assertNotIn("jti", c)
        for bad in (["--claims", "[1]"], ["--claims", "{nope"],
                    ["--ttl", "0"], ["--ttl", "1h"], []):
            r = self.env.admin("token", "mint", *(["--sub", "x"] if bad else
                                                  []), *bad, check=False)
            self.assertEqual(r.returncode, 2, (bad, r.stderr))

    def test_mint_out_dir(self):
        out = self.env.path("tokens")
        path1 = self.mint("--sub", "../evil/sub", "--out", out)
        path2 = self.mint("--sub", "../evil/sub", "--out", out)
        self.assertNotEqual(path1, path2)
        for p in (path1, path2):
            self.assertEqual(os.path.dirname(p), out)
            self.assertRegex(os.path.basename(p),
                             r"^_\._evil_sub_\d{8}T\d{6}Z(-\d+)?\.jwt$")
            self.assertEqual(stat.S_IMODE(os.stat(p).st_mode), 0o600)
            with open(p, encoding="ascii") as f:
                self.assertEqual(self.decode(f.read().strip())["sub"],
                                 "../evil/sub")

    def test_inspect_valid_and_decoded_only(self):
        token = self.mint("--sub", "svc", "--roles", "user")
        r = self.inspect(token, "--key", self.public)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn('"sub":"svc"', r.stdout)
        self.assertIn("UTC", r.stdout)
        self.assertIn("result: VALID", r.stdout)
        # From standard input, without a key: decoded, not verified.
        r = self.inspect(stdin=token + "\n")
        self.assertEqual(r.returncode, 0)
        self.assertIn("NOT VERIFIED", r.stdout)
        self.assertIn('"typ":"at+jwt"', r.stdout)

    def test_explain_names_the_failing_check(self):
        past = int(time.time()) - 3600
        cases = [
            ({"exp": past}, "exp", "RFC 7519 4.1.4", "token_expired"),
            ({"nbf": past + 7200}, "nbf", "RFC 7519 4.1.5",
             "token_not_yet_valid"),
            ({"iat": past + 7200}, "iat", "RFC 7519 4.1.6",
             "token_not_yet_valid"),
            ({"iss": "http://evil"}, "iss", "RFC 7519 4.1.1",
             "token_issuer"),
            ({"aud": "someone-else"}, "aud", "RFC 7519 4.1.3",
             "token_audience"),
            ({"permissions": "read:data"}, "access token claims",
             "RFC 9068 2.2", "token_claims"),
        ]
        for claims, check, rfc, code in cases:
            token = self.mint("--sub", "svc", "--claims", json.dumps(claims))
            r = self.inspect(token, "--key", self.public, "--explain")
            self.assertEqual(r.returncode, 1, r.stdout)
            fails = [l for l in r.stdout.splitlines()
                     if l.strip().startswith("FAIL")]
            self.assertEqual(len(fails), 1, r.stdout)
            self.assertRegex(fails[0], rf"FAIL\s+{check}\s")
            self.assertIn(rfc, fails[0])
            self.assertIn(f"INVALID ({code})", r.stdout)
        # The example of the issue: the times and the leeway are named.
        token = self.mint("--sub", "svc", "--claims",
                          json.dumps({"exp": past}))
        before = int(time.time())
        r = self.inspect(token, "--key", self.public, "--explain",
                         "--leeway", "30")
        after = int(time.time())
        self.assertIn("minus leeway 30 s", r.stdout)
        # The times are printed as explain_time() prints them: the time
        # of day, with the date when it is not today's (so an hour ago
        # at 00:30 UTC carries yesterday's date). Any second the CLI may
        # have read as now is accepted.
        said = [f"exp {explain_time(past, now)} is at or before now "
                f"{explain_time(now, now)}" for now in range(before, after + 1)]
        self.assertTrue(any(s in r.stdout for s in said), (said, r.stdout))

    def test_explain_signature_alg_and_typ(self):
        token = self.mint("--sub", "svc")
        h, p, s = token.split(".")
        tampered = f"{h}.{p}.{'A' if s[0] != 'A' else 'B'}{s[1:]}"
        r = self.inspect(tampered, "--key", self.public, "--explain")
        self.assertEqual(r.returncode, 1)
        self.assertRegex(r.stdout, r"FAIL\s+signature.*RFC 7515 5\.2")
        none = (base64.urlsafe_b64encode(b'{"alg":"none","typ":"at+jwt"}')
                .rstrip(b"=").decode() + f".{p}.")
        r = self.inspect(none, "--key", self.public, "--explain")
        self.assertEqual(r.returncode, 1)
        self.assertRegex(r.stdout, r"FAIL\s+(compact form|alg)")
        with open(os.path.join(self.env.keys, "private_key.pem"), "rb") as f:
            priv = f.read()
        idt = jwt.encode({"iss": ISSUER, "aud": AUDIENCE, "sub": "x",
                          "exp": int(time.time()) + 60}, priv,
                         algorithm="RS256", headers={"typ": "JWT"})
        r = self.inspect(idt, "--key", self.public, "--explain")
        self.assertRegex(r.stdout, r"FAIL\s+typ.*RFC 9068 2\.1")
        # Another key altogether.
        other = self.env.path("other")
        self.env.admin("keys", "generate", "--dir", other)
        r = self.inspect(token, "--key",
                         os.path.join(other, "public_key.pem"), "--explain")
        self.assertRegex(r.stdout, r"FAIL\s+kid.*RFC 7515 4\.1\.4")

    def test_iss_aud_leeway_flags(self):
        token = self.mint("--sub", "svc", "--claims",
                          json.dumps({"aud": "other",
                                      "exp": int(time.time()) - 45}))
        r = self.inspect(token, "--key", self.public, "--aud", "other")
        self.assertIn("INVALID (token_expired)", r.stdout)
        r = self.inspect(token, "--key", self.public, "--aud", "other",
                         "--leeway", "60")
        self.assertIn("result: VALID", r.stdout)
        r = self.inspect(token, "--key", self.public, "--leeway", "9999")
        self.assertEqual(r.returncode, 2)

    def test_inspect_against_jwks_file_and_url(self):
        with self.env.auth() as d:
            r = login(d, "admin", "adminpassword")
            token = r.json()["access_token"]
            url = f"http://127.0.0.1:{d.port}/.well-known/jwks.json"
            r = self.inspect(token, "--jwks-url", url, "--explain")
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            self.assertIn("result: VALID", r.stdout)
            self.assertIn('"username":"admin"', r.stdout)
            jwks = self.env.path("jwks.json")
            with open(jwks, "wb") as f:
                f.write(d.request("GET", "/.well-known/jwks.json").body)
            r = self.inspect(token, "--jwks", jwks)
            self.assertIn("result: VALID", r.stdout)
            r = self.inspect(token, "--jwks-url",
                             f"http://127.0.0.1:{d.port}/nope")
            self.assertEqual(r.returncode, 2)
            self.assertIn("404", r.stderr)
            stop_clean(d)
        r = self.inspect(token, "--jwks-url", "https://example.invalid/j")
        self.assertEqual(r.returncode, 2)
        # A file that is not a JWK Set: named, exit 2.
        bad = self.env.path("not-jwks.json")
        for text in ("not json", '{"keys":[{"kty":"RSA"}]}', "[]"):
            with open(bad, "w", encoding="utf-8") as f:
                f.write(text)
            r = self.inspect(token, "--jwks", bad)
            self.assertEqual(r.returncode, 2, (text, r.stderr))
            self.assertIn(f"{bad}: not a JWK Set", r.stderr)
        r = self.inspect(token, "--jwks", self.env.path("missing.json"))
        self.assertEqual(r.returncode, 2)
        self.assertIn("missing.json", r.stderr)

    def test_resource_service_accepts_minted_tokens(self):
        admin_token = self.mint("--sub", "svc-admin", "--roles", "admin")
        user_token = self.mint("--sub", "svc-user", "--roles", "user")
        d = harness.Daemon("resource_service",
                           ["--public-keys", self.public, "--routes",
                            harness.source("config", "routes.json")])
        with d:
            r = d.request("GET", "/admin", headers=harness.bearer(admin_token))
            self.assertEqual(r.status, 200, r)
            r = d.request("GET", "/admin", headers=harness.bearer(user_token))
            self.assertEqual(r.status, 403)
            self.assertIn('scope="read:admin_panel"',
                          r.header("WWW-Authenticate"))
            r = d.request("GET", "/protected",
                          headers=harness.bearer(user_token))
            self.assertEqual(r.status, 200)
            self.assertEqual(r.json()["user"], "svc-user")


if __name__ == "__main__":
    unittest.main(verbosity=2)

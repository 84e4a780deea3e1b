"""A real PostgreSQL server for the tests, from Debian's postgresql package.

initdb into a temporary directory, pg_ctl start on a free loopback port
with the socket in that directory, as an unprivileged user (PostgreSQL
refuses to run as root: as root the server runs as "nobody", which owns the
directory), and stopped at the end on every exit path (context manager and
atexit). TCP connections need a password (scram-sha-256), so the URLs the
tests use carry one, as a deployment's would.

Run as a program, it wraps another one (the C unit tests):
    python3 tests/pgserver.py COMMAND [ARGS...]
runs COMMAND with JWT_TEST_PG_URL set to a fresh database's URL (and
JWT_TEST_PG_BIN to the server's program directory) and returns its exit
status.
"""
import atexit
import glob
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile


def _bindir():
    """The newest installed server's programs (Debian keeps them off PATH)."""
    dirs = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                  key=lambda p: int(p.split("/")[4]))
    if not dirs:
        raise FileNotFoundError(
            "PostgreSQL server not installed (Debian package postgresql)")
    return os.path.dirname(dirs[-1])


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PgServer:
    """One PostgreSQL server; databases are made with new_database()."""

    SUPERUSER = "postgres"

    def __init__(self):
        self.bindir = _bindir()
        self.dir = tempfile.mkdtemp(prefix="jwt-pg-")
        self.data = os.path.join(self.dir, "data")
        self.password = "pw-" + secrets.token_hex(8)
        self.port = None
        self.running = False
        # JWT_PG_FSYNC=on for benchmarks: commits then cost what they
        # would on a real server.
        self.fsync = os.environ.get("JWT_PG_FSYNC", "off")
        self._user = None
        if os.geteuid() == 0:
            self._user = "nobody"
            os.chown(self.dir, pwd.getpwnam("nobody").pw_uid, -1)
        os.chmod(self.dir, 0o700)

    def _run(self, args, **kw):
        if self._user is not None:
            args = ["runuser", "-u", self._user, "--", *args]
        return subprocess.run(args, check=True, capture_output=True,
                              text=True, **kw)

    def _prog(self, name):
        return os.path.join(self.bindir, name)

    def start(self):
        pwfile = os.path.join(self.dir, "pw")
        with open(pwfile, "w", encoding="utf-8") as f:
            f.write(self.password + "\n")
        if self._user is not None:
            os.chown(pwfile, pwd.getpwnam(self._user).pw_uid, -1)
        self._run([self._prog("initdb"), "-D", self.data, "-U",
                   self.SUPERUSER, "--pwfile", pwfile, "-E", "UTF8",
                   "--locale", "C", "--auth-local", "trust",
                   "--auth-host", "scram-sha-256", "-N"])
        os.unlink(pwfile)
        atexit.register(self.stop)
        last = None
        for _ in range(3):  # a free port can be taken before we bind it
            self.port = _free_port()
            try:
                self.pg_ctl("start")
                return self
            except subprocess.CalledProcessError as e:
                last = e
        raise AssertionError(f"PostgreSQL did not start: {last.stderr}"
                             f"{self.log()[-2000:]}")

    def log(self):
        try:
            with open(os.path.join(self.dir, "server.log"),
                      encoding="utf-8", errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def pg_ctl(self, action, *extra):
        """stop/start the running server in place (for outage tests)."""
        args = [self._prog("pg_ctl"), "-D", self.data, "-w", "-t", "60"]
        if action == "start":
            # fsync off by default: a test survives no power loss anyway;
            # commits still wait for the server (synchronous_commit on).
            args += ["-l", os.path.join(self.dir, "server.log"), "-o",
                     f"-p {self.port} -k {self.dir}"
                     " -c listen_addresses=127.0.0.1"
                     f" -c fsync={self.fsync} -c max_connections=200"]
        self._run([*args, *extra, action])
        self.running = action != "stop"

    def stop(self):
        if self.running:
            try:
                self.pg_ctl("stop", "-m", "fast")
            except subprocess.CalledProcessError:
                self.pg_ctl("stop", "-m", "immediate")
        self.running = False
        shutil.rmtree(self.dir, ignore_errors=True)

    def psql(self, sql, database="postgres"):
        """Runs sql over the local socket; returns the unaligned output."""
        return subprocess.run(
            ["psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-h",
             self.dir, "-p", str(self.port), "-U", self.SUPERUSER, "-d",
             database, "-c", sql],
            check=True, capture_output=True, text=True).stdout.strip()

    def url(self, database="postgres"):
        return (f"postgresql://{self.SUPERUSER}:{self.password}"
                f"@127.0.0.1:{self.port}/{database}")

    def new_database(self, name=None):
        """Creates an empty database; returns its URL."""
        name = name or "t_" + secrets.token_hex(6)
        self.psql(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def main(argv):
    if len(argv) < 2:
        print("usage: pgserver.py COMMAND [ARGS...]", file=sys.stderr)
        return 2
    with PgServer() as server:
        env = dict(os.environ, JWT_TEST_PG_URL=server.new_database("test"),
                   JWT_TEST_PG_BIN=server.bindir)
        # The store connects with a 2 s timeout of its own; on a loaded
        # machine (two cores, the ASan build) SCRAM alone can take that
        # long. These tests are about the store, not that timeout.
        env.setdefault("PGCONNECT_TIMEOUT", "30")
        return subprocess.run(argv[1:], env=env, check=False).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv))

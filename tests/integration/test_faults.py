"""Fault tests: connection floods, slow clients, key rotation under junk
kids, SIGHUP under load.

One auth_service and one resource_service (JWKS-URL mode, as ./run.sh
runs them) for the whole file, both started with a soft descriptor limit
of 1024 and a hard one of 4096 (a systemd unit's default soft limit), and
a short header_timeout so a slow head is closed within the test.
"""
import base64
import json
import os
import resource
import selectors
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import unittest

import harness

HEADER_TIMEOUT = 3
BODY_TIMEOUT = 3
CLIENT_CAP = 40
FLOOD = 4000
NOFILE = (1024, 4096)


def set_nofile():
    resource.setrlimit(resource.RLIMIT_NOFILE, NOFILE)


class LimitedDaemon(harness.Daemon):
    """A daemon started under a lowered descriptor limit."""

    def start(self):
        real = subprocess.Popen

        def popen(*args, **kwargs):
            return real(*args, preexec_fn=set_nofile, **kwargs)

        subprocess.Popen = popen
        try:
            return super().start()
        finally:
            subprocess.Popen = real


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unverified_kid(token):
    head = token.split(".")[0]
    return json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)))[
        "kid"]


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def open_fds(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def source_address(i):
    """A loopback source address per connection group (127.0.0.0/8 is all
    loopback), so the flood does not meet the per-client cap."""
    return f"127.{10 + i // 200}.{(i // 50) % 4}.{2 + i % 50}"


def connect_from(port, src="127.0.0.1"):
    s = Sock()
    s.bind((src, 0))
    s.connect(("127.0.0.1", port))
    return s


def closed_by_peer(sock, timeout):
    """Reads until EOF; returns (seconds until EOF, bytes read), or None
    when the connection is still open after timeout (what was read then
    is kept for the next call)."""
    start = time.monotonic()
    got = getattr(sock, "got", b"")
    sock.settimeout(0.05)
    while True:
        try:
            chunk = sock.recv(4096)
        except socket.timeout:
            if time.monotonic() - start >= timeout:
                sock.got = got
                return None
            continue
        except ConnectionResetError:
            return time.monotonic() - start, got
        if not chunk:
            return time.monotonic() - start, got
        got += chunk


class Sock(socket.socket):
    """A socket that can carry what closed_by_peer has read so far."""


class Faults(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        need = 2 * FLOOD + 1000
        if hard < need:
            raise AssertionError(
                f"the test needs {need} descriptors; hard limit {hard}")
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        cls.tmp = tempfile.mkdtemp(prefix="jwt-faults-")
        cls.keys = os.path.join(cls.tmp, "keys")
        harness.make_keys(cls.keys)
        os.makedirs(os.path.join(cls.keys, "published"))
        common = ["--header-timeout", str(HEADER_TIMEOUT),
                  "--body-timeout", str(BODY_TIMEOUT),
                  "--idle-timeout", "60",
                  "--max-client-connections", str(CLIENT_CAP),
                  "--log-level", "info"]
        cls.auth = LimitedDaemon("auth_service", [
            "--private-key", os.path.join(cls.keys, "private_key.pem"),
            "--public-keys-dir", os.path.join(cls.keys, "published"),
            "--db", os.path.join(cls.tmp, "auth.db"),
            "--argon2-memlimit-kib", "8", "--argon2-opslimit", "1",
            "--request-timeout", "60", *common]).start()
        cls.jwks = (f"http://127.0.0.1:{cls.auth.port}"
                    "/.well-known/jwks.json")
        # The issuer is http://127.0.0.1:<the port auth listens on>.
        cls.res = LimitedDaemon("resource_service", [
            "--jwks-url", cls.jwks, "--workers", "2",
            "--issuer", f"http://127.0.0.1:{cls.auth.port}",
            "--access-log", "false", *common]).start()
        cls.auth.wait_healthy()
        cls.res.wait_healthy()
        cls.daemons = (cls.auth, cls.res)

    @classmethod
    def tearDownClass(cls):
        for d in (cls.res, cls.auth):
            status = d.stop()
            if status != 0:
                raise AssertionError(
                    f"{d.program} exited {status}: {d.log()[-2000:]}")
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def login(self):
        r = self.auth.request("POST", "/login", {
            "username": "user1", "password": "password123"})
        self.assertEqual(r.status, 200, r)
        return r.json()["access_token"]

    def test_descriptor_limit_raised_and_logged(self):
        for d in self.daemons:
            self.assertIn("descriptors: soft limit 4096 (was 1024), hard "
                          "limit 4096", d.log())

    def test_idle_flood(self):
        """4,000 idle connections to each daemon at a 1024 soft limit:
        both keep answering at once, at idle CPU, with a quiet log; past
        max_connections the oldest idle connection makes room."""
        for d in self.daemons:
            with self.subTest(daemon=d.program):
                socks = self.flood(d, FLOOD)
                try:
                    # Every connection is held: nothing was refused.
                    self.assertGreaterEqual(open_fds(d.proc.pid), FLOOD)
                    before = cpu_seconds(d.proc.pid)
                    started = time.monotonic()
                    r = d.request("GET", "/health", timeout=1)
                    self.assertEqual(r.status, 200, r)
                    time.sleep(1)
                    cpu = cpu_seconds(d.proc.pid) - before
                    self.assertLess(cpu, 0.5 * (time.monotonic() - started))
                    # Past max_connections (4096 less 64): new clients
                    # are still served, idle ones make room.
                    more = self.flood(d, 200, first=FLOOD)
                    socks += more
                    r = d.request("GET", "/health", timeout=1)
                    self.assertEqual(r.status, 200, r)
                    lines = [line for line in d.log().splitlines()
                             if "max_connections reached" in line]
                    self.assertTrue(lines, d.log()[-2000:])
                    self.assertLess(len(lines), 20)
                    self.assertNotIn("Error from accept()", d.log())
                finally:
                    for s in socks:
                        s.close()

    def flood(self, d, n, first=0):
        """n connections from many source addresses, each after one
        keep-alive request: idle, held open."""
        socks, sel = [], selectors.DefaultSelector()
        for i in range(first, first + n):
            s = socket.socket()
            s.bind((source_address(i), 0))
            s.setblocking(False)
            try:
                s.connect(("127.0.0.1", d.port))
            except BlockingIOError:
                pass
            socks.append(s)
            sel.register(s, selectors.EVENT_WRITE)
        pending, got = len(socks), {}
        deadline = time.monotonic() + 30
        while pending and time.monotonic() < deadline:
            for key, events in sel.select(timeout=1):
                s = key.fileobj
                if events & selectors.EVENT_WRITE:
                    try:
                        s.send(b"GET /health HTTP/1.1\r\nHost: t\r\n\r\n")
                        sel.modify(s, selectors.EVENT_READ)
                    except OSError:
                        sel.unregister(s)
                        pending -= 1
                    continue
                try:
                    chunk = s.recv(4096)
                except OSError:
                    chunk = b""
                got[s] = got.get(s, b"") + chunk
                if not chunk or b"\r\n\r\n" in got[s]:
                    sel.unregister(s)
                    pending -= 1
        sel.close()
        self.assertEqual(pending, 0)
        return socks

    def test_slow_header_closed_at_the_deadline(self):
        """A byte every half second resets a read timeout, not the head
        deadline: 408 and closed after header_timeout."""
        for d in self.daemons:
            with self.subTest(daemon=d.program):
                socks = [connect_from(d.port, source_address(9000 + i))
                         for i in range(20)]
                started = time.monotonic()
                for s in socks:
                    s.sendall(b"GET /health HTTP/1.1\r\nHost: t\r\nX-A: ")
                closed = [None] * len(socks)
                while (None in closed and
                       time.monotonic() - started < HEADER_TIMEOUT + 5):
                    for i, s in enumerate(socks):
                        if closed[i] is None:
                            try:
                                s.send(b"a")
                            except OSError:
                                pass
                            got = closed_by_peer(s, 0.025)
                            if got is not None:
                                closed[i] = (time.monotonic() - started,
                                             got[1])
                    time.sleep(0.3)
                for s in socks:
                    s.close()
                for when, reply in closed:
                    self.assertGreaterEqual(when, HEADER_TIMEOUT - 0.5)
                    self.assertLess(when, HEADER_TIMEOUT + 2)
                    self.assertTrue(reply.startswith(b"HTTP/1.1 408 "),
                                    reply)
                    self.assertIn(b'"error":"request_timeout"', reply)
                # Positive control: the same head sent slowly but within
                # the deadline is answered.
                s = connect_from(d.port)
                for part in (b"GET /health HTTP/1.1\r\n", b"Host: t\r\n",
                             b"X-A: a\r\n", b"\r\n"):
                    s.sendall(part)
                    time.sleep(HEADER_TIMEOUT / 8)
                s.settimeout(5)
                self.assertTrue(s.recv(4096).startswith(b"HTTP/1.1 200 "))
                s.close()

    def test_slow_body_closed_at_the_deadline(self):
        s = connect_from(self.auth.port)
        s.sendall(b"POST /login HTTP/1.1\r\nHost: t\r\n"
                  b"Content-Type: application/json\r\n"
                  b"Content-Length: 100\r\n\r\n{\"username\":")
        got = closed_by_peer(s, BODY_TIMEOUT + 5)
        s.close()
        self.assertIsNotNone(got)
        self.assertGreaterEqual(got[0], BODY_TIMEOUT - 0.5)
        self.assertTrue(got[1].startswith(b"HTTP/1.1 408 "), got)

    def test_per_client_cap(self):
        for d in self.daemons:
            with self.subTest(daemon=d.program):
                src = "127.0.0.77"
                socks = [connect_from(d.port, src)
                         for _ in range(CLIENT_CAP + 1)]
                # One over the cap: one connection (which one depends on
                # the order the workers admit them) is closed at once,
                # without a reply.
                sel = selectors.DefaultSelector()
                for s in socks:
                    sel.register(s, selectors.EVENT_READ)
                ready = sel.select(timeout=5)
                sel.close()
                self.assertEqual(len(ready), 1, ready)
                closed = ready[0][0].fileobj
                self.assertEqual(closed.recv(100), b"")
                # All the others are served, and so are other addresses.
                for s in socks:
                    if s is closed:
                        continue
                    s.sendall(b"GET /health HTTP/1.1\r\nHost: t\r\n\r\n")
                    s.settimeout(5)
                    self.assertTrue(s.recv(4096).startswith(
                        b"HTTP/1.1 200 "))
                self.assertEqual(d.request("GET", "/health").status, 200)
                for s in socks:
                    s.close()
                self.assertIn("max_client_connections reached", d.log())

    def test_rotated_key_first_request_while_junk_kids_arrive(self):
        before = self.login()
        r = self.res.request("GET", "/protected",
                             headers=harness.bearer(before))
        self.assertEqual(r.status, 200, r)
        stop = threading.Event()
        junk_answers = []

        def junk():
            head, payload, sig = before.split(".")
            while not stop.is_set():
                kid = os.urandom(16).hex()
                h = b64url(json.dumps(
                    {"alg": "RS256", "typ": "at+jwt", "kid": kid}).encode())
                r = self.res.request("GET", "/protected", headers=harness.
                                     bearer(f"{h}.{payload}.{sig}"))
                junk_answers.append(r.status)

        threads = [threading.Thread(target=junk) for _ in range(4)]
        for t in threads:
            t.start()
        try:
            subprocess.run([harness.binary("jwt-admin"), "keys", "rotate",
                            "--dir", self.keys], check=True,
                           capture_output=True)
            self.auth.signal(signal.SIGHUP)
            deadline = time.monotonic() + 10
            while True:
                keys = self.auth.request(
                    "GET", "/.well-known/jwks.json").json()["keys"]
                if len(keys) == 2:
                    break
                self.assertLess(time.monotonic(), deadline, keys)
                time.sleep(0.05)
            after = self.login()
            self.assertNotEqual(unverified_kid(after),
                                unverified_kid(before))
            # The very first request with the new key: 200.
            r = self.res.request("GET", "/protected",
                                 headers=harness.bearer(after))
            self.assertEqual(r.status, 200, r)
        finally:
            stop.set()
            for t in threads:
                t.join()
        self.assertTrue(junk_answers)
        self.assertEqual(set(junk_answers), {401})
        r = self.res.request("GET", "/protected",
                             headers=harness.bearer(before))
        self.assertEqual(r.status, 200, r)

    def test_sighup_under_load(self):
        token = self.login()
        stop = threading.Event()
        statuses = []

        def load():
            while not stop.is_set():
                statuses.append(self.res.request(
                    "GET", "/protected",
                    headers=harness.bearer(token)).status)
                statuses.append(self.auth.request(
                    "GET", "/.well-known/jwks.json").status)

        threads = [threading.Thread(target=load) for _ in range(4)]
        for t in threads:
            t.start()
        try:
            for _ in range(10):
                for d in self.daemons:
                    d.signal(signal.SIGHUP)
                time.sleep(0.1)
        finally:
            stop.set()
            for t in threads:
                t.join()
        self.assertGreater(len(statuses), 20)
        self.assertEqual(set(statuses), {200})


if __name__ == "__main__":
    unittest.main(verbosity=2)

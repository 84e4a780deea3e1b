"""What an operator sees, on both real daemons: /metrics parsed with
Debian's python3-prometheus-client text parser, its counters moving by
exactly what the requests did (logins, refreshes, reuse, each
verification failure reason, HTTP requests by route and status, never a
raw path); one access line per request with its request id (taken when
well-formed, else made, always echoed); one log format per process;
X-Forwarded-For believed from trusted proxies only; /metrics on a
listener of its own; connections held and refused, as both daemons count
them."""
import json
import os
import re
import shutil
import signal
import socket
import tempfile
import threading
import time
import unittest

from prometheus_client.parser import text_string_to_metric_families

import harness
from test_auth import Env, login, refresh
from test_resource import AUDIENCE, KeyPair, ResourceDaemon, wait_for

CLIENT_CAP = 8  # the auth daemon's max_client_connections here
ID_MADE = re.compile(r"^[0-9a-f]{16}-[0-9a-f]{8}$")
TEXT_LINE = re.compile(
    r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ (auth|resource)_service "
    r"(debug|info|warn|error): \S")


def scrape(port):
    r = harness.request(port, "GET", "/metrics")
    assert r.status == 200, r
    assert r.header("Content-Type").startswith("text/plain; version=0.0.4")
    text = r.body.decode()
    samples = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            samples[(s.name, frozenset(s.labels.items()))] = s.value
    return samples, text


def value(samples, name, **labels):
    return samples.get((name, frozenset(labels.items())), 0.0)


def deltas(before, after, name, **labels):
    return value(after, name, **labels) - value(before, name, **labels)


def documented():
    """The metric names of docs/OPERATIONS.md's table."""
    with open(harness.source("docs", "OPERATIONS.md"), encoding="utf-8") as f:
        return set(re.findall(r"^\| `([a-z_]+)` \| (?:counter|gauge|histogram)",
                              f.read(), re.M))


def check_documented(test, text):
    for family in text_string_to_metric_families(text):
        # The parser drops _total from a counter family's name.
        name = family.name + ("_total" if family.type == "counter" else "")
        test.assertIn(name, documented())


def json_lines(log):
    """Every line of log as JSON; fails on a line that is not."""
    out = []
    for line in log.splitlines():
        out.append(json.loads(line))
    return out


class AuthOperations(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.env = Env()
        cls.d = cls.env.daemon(
            "--trusted-proxies", "127.0.0.0/8",
            "--max-client-connections", str(CLIENT_CAP)).start()

    @classmethod
    def tearDownClass(cls):
        try:
            cls.d.stop()
        finally:
            cls.env.cleanup()

    def test_counters_move_with_requests(self):
        before, _ = scrape(self.d.port)
        ok = login(self.d)
        self.assertEqual(ok.status, 200)
        self.assertEqual(login(self.d, password="wrong").status, 401)
        self.assertEqual(login(self.d, username="nobody").status, 401)
        rt = ok.json()["refresh_token"]
        self.assertEqual(refresh(self.d, rt).status, 200)
        self.assertEqual(refresh(self.d, rt).status, 400)  # reuse
        self.assertEqual(refresh(self.d, "not-one-of-ours").status, 400)
        self.assertEqual(
            self.d.request("GET", "/no-such-path-user1").status, 404)
        after, text = scrape(self.d.port)

        def d(name, **labels):
            return deltas(before, after, name, **labels)

        self.assertEqual(d("auth_logins_total", outcome="ok"), 1)
        self.assertEqual(d("auth_logins_total", outcome="failed"), 2)
        self.assertEqual(d("auth_logins_total", outcome="throttled"), 0)
        self.assertEqual(d("auth_refreshes_total", outcome="ok"), 1)
        self.assertEqual(d("auth_refreshes_total", outcome="reused"), 1)
        self.assertEqual(d("auth_refreshes_total", outcome="unknown"), 1)
        self.assertEqual(d("auth_login_duration_seconds_count"), 3)
        self.assertEqual(d("auth_refresh_duration_seconds_count"), 3)
        self.assertGreater(d("auth_login_duration_seconds_sum"), 0)
        self.assertEqual(d("auth_login_duration_seconds_bucket", le="+Inf"),
                         3)
        self.assertEqual(
            d("jwt_http_requests_total", route="/login", code="200"), 1)
        self.assertEqual(
            d("jwt_http_requests_total", route="/login", code="401"), 2)
        self.assertEqual(
            d("jwt_http_requests_total", route="/refresh", code="400"), 2)
        self.assertEqual(
            d("jwt_http_requests_total", route="other", code="404"), 1)
        # Low cardinality: never a raw path, a username or a token.
        self.assertNotIn("no-such-path", text)
        self.assertNotIn("user1", text)
        self.assertNotIn(rt, text)

    def test_every_metric_is_documented(self):
        check_documented(self, scrape(self.d.port)[1])

    def test_connections_gauge_and_client_cap_events(self):
        before, _ = scrape(self.d.port)
        socks = []
        try:
            for _ in range(5):
                socks.append(socket.create_connection(
                    ("127.0.0.1", self.d.port), timeout=10))
            # The scrape is accepted after the five: they are held.
            held, _ = scrape(self.d.port)
            self.assertGreaterEqual(
                value(held, "jwt_http_connections_open"), 6)
            for _ in range(CLIENT_CAP - 5):
                socks.append(socket.create_connection(
                    ("127.0.0.1", self.d.port), timeout=10))
            # One past max_client_connections: closed at once.
            extra = socket.create_connection(("127.0.0.1", self.d.port),
                                             timeout=10)
            self.assertEqual(extra.recv(1), b"")
            extra.close()
        finally:
            for s in socks:
                s.close()
        wait_for(lambda: value(scrape(self.d.port)[0],
                               "jwt_http_connections_open") == 1,
                 what="the idle connections closed")
        after, _ = scrape(self.d.port)
        self.assertEqual(deltas(before, after,
                                "jwt_http_connection_events_total",
                                event="refused_client_cap"), 1)
        self.assertEqual(deltas(before, after,
                                "jwt_http_connection_events_total",
                                event="header_timeout"), 0)

    def test_alert_rules_name_documented_metrics(self):
        import yaml
        with open(harness.source("deploy", "prometheus", "alerts.yml"),
                  encoding="utf-8") as f:
            doc = yaml.safe_load(f)
        rules = doc["groups"][0]["rules"]
        self.assertTrue({"RefreshTokenReuseDetected", "JwksFetchFailing",
                         "HighServerErrorRate", "HashQueueSaturated"}
                        <= {r["alert"] for r in rules})
        for rule in rules:
            for name in re.findall(r"\b((?:auth|resource|jwt)_[a-z_]+)",
                                   rule["expr"]):
                self.assertIn(name, documented(), rule["alert"])

    def test_gauges(self):
        samples, _ = scrape(self.d.port)
        self.assertEqual(value(samples, "auth_keys_loaded"), 1)
        self.assertGreaterEqual(value(samples, "auth_key_set_age_seconds"),
                                0)
        self.assertEqual(value(samples, "auth_hash_queue_depth"), 0)
        self.assertEqual(value(samples, "auth_hash_queue_capacity"), 64)
        self.assertEqual(value(samples, "auth_db_queue_capacity"), 1024)
        self.assertIn(("auth_db_queue_depth", frozenset()), samples)

    def access_line(self, request_id):
        # Access lines wait up to access_log_flush_ms in their buffer.
        lines = self.d.wait_event(
            "access", match=lambda e: e["request_id"] == request_id)
        self.assertEqual(len(lines), 1, request_id)
        return lines[0]

    def test_request_ids(self):
        r = self.d.request("GET", "/health/live",
                           headers={"X-Request-Id": "req-42.a_b:c"})
        self.assertEqual(r.header("X-Request-Id"), "req-42.a_b:c")
        line = self.access_line("req-42.a_b:c")
        self.assertEqual(line["method"], "GET")
        self.assertEqual(line["path"], "/health/live")
        self.assertEqual(line["route"], "/health/live")
        self.assertEqual(line["status"], 200)
        self.assertIsInstance(line["latency_us"], int)
        for bad in ("two words", "x" * 65, "quote\"d", ""):
            r = self.d.request("GET", "/health/live",
                               headers={"X-Request-Id": bad})
            made = r.header("X-Request-Id")
            self.assertRegex(made, ID_MADE, bad)
            self.access_line(made)
        # A request answered later (login, off the loop) has its line too.
        r = login(self.d, password="wrong-again")
        line = self.access_line(r.header("X-Request-Id"))
        self.assertEqual((line["route"], line["status"]), ("/login", 401))

    def test_audit_lines_carry_the_request_id(self):
        r = self.d.request("POST", "/login",
                           {"username": "user1", "password": "password123"},
                           headers={"X-Request-Id": "audit-7"})
        self.assertEqual(r.status, 200)
        rt = r.json()["refresh_token"]
        r = self.d.request("POST", "/refresh", {"refresh_token": rt},
                           headers={"X-Request-Id": "audit-8"})
        self.assertEqual(r.status, 200)
        r = self.d.request("POST", "/refresh", {"refresh_token": "nope"},
                           headers={"X-Request-Id": "audit-9"})
        self.assertEqual(r.status, 400)
        r = self.d.request("POST", "/logout",
                           {"refresh_token": r.header("X-Request-Id")},
                           headers={"X-Request-Id": "audit-10"})
        self.assertEqual(r.status, 200)
        self.access_line("audit-10")  # the last one may wait its period
        ids = {(e["event"], e.get("request_id"))
               for e in self.d.log_events()}
        for pair in (("login_ok", "audit-7"), ("access", "audit-7"),
                     ("refresh", "audit-8"), ("access", "audit-8"),
                     ("refresh_failed", "audit-9"), ("access", "audit-9"),
                     ("logout", "audit-10"), ("access", "audit-10")):
            self.assertIn(pair, ids)
        # A later request's audit line never takes an earlier id.
        r = login(self.d, password="wrong-3")
        failed = self.d.log_events("login_failed")[-1]
        self.assertEqual(failed["request_id"], r.header("X-Request-Id"))

    def test_forwarded_for_from_a_trusted_peer(self):
        r = login(self.d)  # warm-up: the form of a normal line
        r = self.d.request("POST", "/login",
                           {"username": "user1", "password": "bad-xff"},
                           headers={"X-Forwarded-For":
                                    "198.51.100.7, 203.0.113.9"})
        self.assertEqual(r.status, 401)
        line = self.access_line(r.header("X-Request-Id"))
        # The nearest untrusted entry: the client as the proxy saw it.
        self.assertEqual(line["client_address"], "203.0.113.9")
        failed = self.d.log_events("login_failed")[-1]
        self.assertEqual(failed["client_address"], "203.0.113.9")
        # A chain that is not addresses: the peer stays the client.
        r = self.d.request("GET", "/health/live",
                           headers={"X-Forwarded-For": "evil<script>"})
        line = self.access_line(r.header("X-Request-Id"))
        self.assertEqual(line["client_address"], "127.0.0.1")

    def test_one_format_on_stderr(self):
        self.access_line(login(self.d).header("X-Request-Id"))
        lines = json_lines(self.d.log())
        events = {e["event"] for e in lines}
        self.assertTrue({"log", "access", "login_ok"} <= events, events)


class AuthSeparateListeners(unittest.TestCase):
    """Untrusted peers, text logs, /metrics on its own listener."""

    @classmethod
    def setUpClass(cls):
        cls.env = Env()
        cls.d = cls.env.daemon(
            "--log-format", "text", "--trusted-proxies", "10.0.0.0/8",
            "--metrics-bind", "127.0.0.1", "--metrics-port", "0").start()
        m = re.search(r"^metrics listening on 127\.0\.0\.1:(\d+)$",
                      cls.d.banner, re.M)
        assert m, cls.d.banner
        cls.metrics_port = int(m.group(1))

    @classmethod
    def tearDownClass(cls):
        try:
            cls.d.stop()
        finally:
            cls.env.cleanup()

    def test_metrics_listener(self):
        self.assertEqual(self.d.request("GET", "/metrics").status, 404)
        samples, _ = scrape(self.metrics_port)
        self.assertIn(("auth_keys_loaded", frozenset()), samples)
        r = harness.request(self.metrics_port, "GET", "/login")
        self.assertEqual(r.status, 404)

    def test_text_format_everywhere(self):
        r = self.d.request("POST", "/login",
                           {"username": "user1", "password": "nope"},
                           headers={"X-Forwarded-For": "203.0.113.9",
                                    "X-Request-Id": "text-1"})
        self.assertEqual(r.status, 401)
        self.assertEqual(r.header("X-Request-Id"), "text-1")
        deadline = time.monotonic() + 20
        while True:  # the access line waits up to access_log_flush_ms
            log = self.d.log()
            access = [l for l in log.splitlines()
                      if " access " in l and "request_id=text-1" in l]
            if access or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        for line in log.splitlines():
            self.assertRegex(line, TEXT_LINE)
        self.assertEqual(len(access), 1, log[-2000:])
        # An untrusted peer's X-Forwarded-For is not believed.
        self.assertIn("client_address=127.0.0.1", access[0])
        self.assertNotIn("203.0.113.9", log)
        self.assertRegex(log, r" login_failed .*client_address=127\.0\.0\.1")


class ResourceOperations(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="ops-resource-")
        cls.key = KeyPair(os.path.join(cls.dir, "a"))
        cls.other = KeyPair(os.path.join(cls.dir, "b"))
        cls.d = ResourceDaemon(
            "resource_service",
            ["--public-keys", cls.key.public_path, "--workers", "2",
             "--routes", harness.source("config", "routes.json")]).start()

    @classmethod
    def tearDownClass(cls):
        try:
            cls.d.stop()
        finally:
            shutil.rmtree(cls.dir, ignore_errors=True)

    def get(self, path, token=None, headers=None):
        h = dict(headers or {})
        if token is not None:
            h["Authorization"] = "Bearer " + token
        return self.d.request("GET", path, headers=h)

    def test_verifications_by_reason(self):
        k = self.key
        cases = [
            ("granted", "none", "/protected", k.sign(), 200),
            ("rejected", "expired", "/protected",
             k.sign(exp=1000000000, iat=999999000, nbf=999999000), 401),
            ("rejected", "audience", "/protected", k.sign(aud="other"), 401),
            ("rejected", "issuer", "/protected", k.sign(iss="http://x"), 401),
            ("rejected", "unknown_kid", "/protected",
             self.other.sign(), 401),
            ("rejected", "signature", "/protected",
             self.other.sign(kid=k.kid), 401),
            ("rejected", "malformed", "/protected", "abc.def.ghi", 401),
            ("rejected", "insufficient_scope", "/admin", k.sign(), 403),
            ("rejected", "missing", "/protected", None, 401),
        ]
        before, _ = scrape(self.d.port)
        for _, reason, path, token, status in cases:
            self.assertEqual(self.get(path, token).status, status, reason)
        # Twice the same good token: the second from a worker's cache,
        # counted the same.
        self.assertEqual(self.get("/protected", k.sign(sub="s2")).status,
                         200)
        self.assertEqual(self.get("/health").status, 200)
        after, text = scrape(self.d.port)
        for result, reason, _, _, _ in cases:
            want = 2 if reason == "none" else 1
            self.assertEqual(
                deltas(before, after, "resource_verifications_total",
                       result=result, reason=reason), want, reason)
        self.assertEqual(deltas(before, after,
                                "resource_verification_duration_seconds_count"),
                         len(cases) + 1)
        self.assertEqual(deltas(before, after, "jwt_http_requests_total",
                                route="/protected", code="401"), 7)
        self.assertEqual(deltas(before, after, "jwt_http_requests_total",
                                route="/admin", code="403"), 1)
        self.assertEqual(deltas(before, after, "jwt_http_requests_total",
                                route="/health", code="200"), 1)
        self.assertEqual(value(after, "resource_keys_loaded"), 1)
        self.assertGreaterEqual(value(after, "resource_token_cache_entries"),
                                2)
        self.assertGreaterEqual(value(after, "resource_key_set_age_seconds"),
                                0)
        self.assertNotIn(k.kid, text)
        check_documented(self, text)

    def test_access_line_and_request_id(self):
        token = self.key.sign(sub="ops-sub")
        r = self.get("/protected", token, {"X-Request-Id": "res-1"})
        self.assertEqual(r.status, 200)
        self.assertEqual(r.header("X-Request-Id"), "res-1")
        r = self.get("/nothing/here")
        made = r.header("X-Request-Id")
        self.assertRegex(made, ID_MADE)
        lines = {e["request_id"]: e for e in self.d.wait_event(
            "access", 2, match=lambda e: e["request_id"] in ("res-1", made))}
        self.assertEqual(lines["res-1"]["route"], "/protected")
        self.assertEqual(lines["res-1"]["sub"], "ops-sub")
        self.assertEqual(lines["res-1"]["client_address"], "127.0.0.1")
        self.assertEqual(lines[made]["route"], "other")
        self.assertEqual(lines[made]["status"], 404)
        self.assertNotIn(token, self.d.log())
        json_lines(self.d.log())  # one format: every line JSON

    def test_live_and_ready(self):
        self.assertEqual(self.get("/health/live").status, 200)
        r = self.get("/health/ready")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.json()["keys"], 1)


class AccessLogBuffer(unittest.TestCase):
    """Access lines wait in a per-thread buffer (access_log_flush_ms),
    every other line is written at once: the timer writes a line with no
    further traffic; under load from two workers every line is whole and
    each worker's come in order, none lost; what is buffered at SIGTERM is
    in the log after the exit; an audit line is in the log before its
    reply, after the access lines its thread still held."""

    def resource(self, *extra):
        d = ResourceDaemon(
            "resource_service",
            ["--public-keys", self.key.public_path, "--workers", "2",
             "--routes", harness.source("config", "routes.json"),
             *extra]).start()
        self.addCleanup(d.stop)
        return d

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="ops-buffer-")
        cls.key = KeyPair(os.path.join(cls.dir, "a"))

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir, ignore_errors=True)

    def test_timer_writes_lines_without_more_traffic(self):
        d = self.resource()  # the default period, 100 ms
        r = d.request("GET", "/health", headers={"X-Request-Id": "quiet-1"})
        self.assertEqual(r.status, 200)
        # Nothing else happens: only the worker's timer can write it.
        line = d.wait_event(
            "access", match=lambda e: e["request_id"] == "quiet-1")
        self.assertEqual(line[0]["status"], 200)
        self.assertIsNone(d.proc.poll())  # still running: not the exit

    @staticmethod
    def by_worker(lines):
        """{worker prefix: [counter, ...]} of the ids made here, in log
        order (each worker counts its own requests: make_id)."""
        seen = {}
        for e in lines:
            if ID_MADE.match(e["request_id"]):
                prefix, n = e["request_id"].split("-")
                seen.setdefault(prefix, []).append(int(n, 16))
        return seen

    def load(self, d, total, clients=8):
        """total GET /health, each on a new connection (so the kernel
        spreads them over both workers), from several clients at once."""
        errors = []

        def client(n):
            for _ in range(n):
                try:
                    if d.request("GET", "/health").status != 200:
                        errors.append("status")
                except OSError as e:
                    errors.append(repr(e))
        threads = [threading.Thread(target=client, args=(total // clients,))
                   for _ in range(clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(errors, [])

    def test_whole_lines_in_order_per_worker_under_load(self):
        d = self.resource()
        total = 2000  # ~250 bytes a line: many full 32 KiB buffers
        self.load(d, total)
        d.wait_event("access", total)
        lines = json_lines(d.log())  # every line whole JSON
        seen = self.by_worker([e for e in lines if e["event"] == "access"])
        self.assertEqual(len(seen), 2, list(seen))
        for prefix, counters in seen.items():
            self.assertEqual(counters, list(range(1, len(counters) + 1)),
                             prefix)
        self.assertEqual(sum(len(c) for c in seen.values()), total)

    def test_lines_buffered_at_sigterm_are_written_at_exit(self):
        # A period longer than the test: only the exit can write them.
        # 100 lines of ~250 bytes: no worker's buffer fills.
        d = self.resource("--access-log-flush-ms", "60000")
        total = 100
        self.load(d, total, clients=4)
        self.assertEqual(d.log_events("access"), [])  # all still held
        d.signal(signal.SIGTERM)
        self.assertEqual(d.proc.wait(timeout=20), 0)
        lines = json_lines(d.log())  # read before stop() removes it
        seen = self.by_worker([e for e in lines if e["event"] == "access"])
        self.assertEqual(sum(len(c) for c in seen.values()), total)
        for prefix, counters in seen.items():
            self.assertEqual(counters, list(range(1, len(counters) + 1)))
        # The stop message came first: the lines went out at the end.
        stopping = [i for i, e in enumerate(lines)
                    if e.get("message", "").startswith("signal ")]
        first = min(i for i, e in enumerate(lines) if e["event"] == "access")
        self.assertEqual(len(stopping), 1)
        self.assertLess(stopping[0], first)

    def test_audit_line_at_once_after_the_held_access_lines(self):
        env = Env()
        self.addCleanup(env.cleanup)
        d = env.daemon("--access-log-flush-ms", "60000").start()
        self.addCleanup(d.stop)
        r = d.request("GET", "/health/live",
                      headers={"X-Request-Id": "held-1"})
        self.assertEqual(r.status, 200)
        self.assertEqual(d.log_events("access"), [])  # held
        r = d.request("POST", "/login",
                      {"username": "user1", "password": "wrong"},
                      headers={"X-Request-Id": "held-2"})
        self.assertEqual(r.status, 401)
        # Read at once, no waiting: the audit line was written before
        # the reply, and the thread's held access line just before it.
        events = [(e["event"], e.get("request_id"))
                  for e in d.log_events()
                  if e["event"] in ("access", "login_failed")]
        self.assertEqual(events, [("access", "held-1"),
                                  ("login_failed", "held-2")])
        # held-2's own access line came after its reply: still held,
        # and written at the stop.
        self.assertEqual(d.stop(), 0)
        self.assertEqual([e["request_id"] for e in d.log_events("access")],
                         ["held-1", "held-2"])


if __name__ == "__main__":
    unittest.main(verbosity=2)

"""Type=notify without libsystemd: each daemon started with NOTIFY_SOCKET
naming a datagram socket this test reads sends READY=1 (with its MAINPID)
once it serves and its keys and database are usable, never before, and
STOPPING=1 on SIGTERM. The resource service with a jwks_url that cannot
be had yet stays silent until the first key set arrives. Under
WatchdogSec= ($WATCHDOG_USEC) both send WATCHDOG=1 every half interval;
a $WATCHDOG_PID naming another process asks them nothing."""
import time
import http.server
import json
import os
import shutil
import socket
import tempfile
import threading
import unittest

import harness
from test_auth import Env
from test_resource import KeyPair, ResourceDaemon, wait_for


class NotifySocket:
    def __init__(self, directory):
        self.path = os.path.join(directory, "notify.sock")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)

    def messages(self, timeout=None):
        """Every datagram queued now (timeout None: without waiting), or
        the first one within timeout seconds."""
        out = []
        self.sock.settimeout(timeout or 0)
        try:
            while True:
                out.append(self.sock.recv(4096).decode())
                self.sock.settimeout(0)
        except (BlockingIOError, socket.timeout):
            pass
        return out

    def close(self):
        self.sock.close()


def fields(message):
    return dict(line.split("=", 1) for line in message.split("\n") if line)


class AuthNotify(unittest.TestCase):
    def test_ready_then_stopping(self):
        env = Env()
        ns = NotifySocket(env.dir)
        try:
            d = harness.Daemon("auth_service", env.args(),
                               env={"NOTIFY_SOCKET": ns.path}).start()
            msgs = ns.messages(timeout=20)
            self.assertEqual(len(msgs), 1, msgs)
            ready = fields(msgs[0])
            self.assertEqual(ready["READY"], "1")
            self.assertEqual(int(ready["MAINPID"]), d.proc.pid)
            # Ready means serving: the readiness probe agrees.
            self.assertEqual(d.request("GET", "/health/ready").status, 200)
            self.assertEqual(d.stop(), 0)
            msgs = ns.messages(timeout=0.5)
            self.assertIn("STOPPING", fields(msgs[0]), msgs)
        finally:
            ns.close()
            env.cleanup()


class ResourceNotify(unittest.TestCase):
    def test_ready_only_with_keys(self):
        tmp = tempfile.mkdtemp(prefix="notify-")
        ns = NotifySocket(tmp)
        key = KeyPair(os.path.join(tmp, "k"))
        serving = threading.Event()

        class Jwks(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                if not serving.is_set():
                    self.send_response(503)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                body = json.dumps({"keys": [key.jwk]}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Jwks)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        url = f"http://127.0.0.1:{server.server_port}/jwks.json"
        d = None
        try:
            d = ResourceDaemon("resource_service", [
                "--jwks-url", url, "--jwks-min-age", "1",
                "--routes", harness.source("config", "routes.json")],
                env={"NOTIFY_SOCKET": ns.path}).start()
            wait_for(lambda: "HTTP status 503" in d.log(),
                     what="a failed JWKS fetch")
            # Serving, but no keys: not ready, and systemd not told so.
            self.assertEqual(d.request("GET", "/health/ready").status, 503)
            self.assertEqual(ns.messages(), [])
            serving.set()
            msgs = ns.messages(timeout=30)
            self.assertEqual(fields(msgs[0])["READY"], "1", msgs)
            self.assertEqual(int(fields(msgs[0])["MAINPID"]), d.proc.pid)
            self.assertEqual(d.request("GET", "/health/ready").status, 200)
        finally:
            if d is not None:
                d.stop()
            server.shutdown()
            server.server_close()
            ns.close()
            shutil.rmtree(tmp, ignore_errors=True)


def watchdog_pings(ns, seconds):
    """The WATCHDOG=1 datagrams received during the next seconds."""
    pings, end = 0, time.monotonic() + seconds
    while time.monotonic() < end:
        for m in ns.messages(timeout=max(0.01, end - time.monotonic())):
            pings += fields(m).get("WATCHDOG") == "1"
    return pings


class Watchdog(unittest.TestCase):
    """WATCHDOG_USEC=400000: a ping every 0.2 s. Over 2 s at least 5 are
    expected (10 on an idle machine), so a loaded machine cannot fail it,
    and none at all without the variable."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="watchdog-")
        self.ns = NotifySocket(self.tmp)

    def tearDown(self):
        self.ns.close()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def check(self, start, pid_of_another=False):
        env = {"NOTIFY_SOCKET": self.ns.path, "WATCHDOG_USEC": "400000"}
        if pid_of_another:
            env["WATCHDOG_PID"] = "1"
        d = start(env)
        try:
            ready = self.ns.messages(timeout=20)
            self.assertEqual(fields(ready[0]).get("READY"), "1", ready)
            pings = watchdog_pings(self.ns, 2.0)
            if pid_of_another:
                self.assertEqual(pings, 0)
            else:
                self.assertGreaterEqual(pings, 5)
                self.assertLessEqual(pings, 12)
        finally:
            self.assertEqual(d.stop(), 0)

    def auth(self, env):
        self.env = Env()
        self.addCleanup(self.env.cleanup)
        return harness.Daemon("auth_service", self.env.args(),
                              env=env).start()

    def resource(self, env):
        key = KeyPair(os.path.join(self.tmp, "k"))
        return ResourceDaemon("resource_service", [
            "--public-keys", key.public_path, "--workers", "2",
            "--routes", harness.source("config", "routes.json")],
            env=env).start()

    def test_auth_pings(self):
        self.check(self.auth)

    def test_resource_pings_while_its_workers_turn(self):
        self.check(self.resource)

    def test_watchdog_for_another_process_is_not_ours(self):
        self.check(self.auth, pid_of_another=True)


if __name__ == "__main__":
    unittest.main(verbosity=2)

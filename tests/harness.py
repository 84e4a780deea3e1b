"""Shared helpers for the integration and interop tests.

Starts real daemons on free ports (--port 0), waits for the
"listening on ADDR:PORT" line they print, speaks real HTTP on loopback and
stops them with SIGTERM on every exit path. Never waits on a sleep.
"""
import atexit
import http.client
import json
import os
import select
import shutil
import signal
import subprocess
import tempfile
import time

SOURCE_DIR = os.environ.get(
    "JWT_SOURCE_DIR",
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD_DIR = os.environ.get("JWT_BUILD_DIR", os.path.join(SOURCE_DIR, "build"))


# Daemon logs live for the test process only; JWT_KEEP_LOGS=1 keeps them.
LOG_DIR = tempfile.mkdtemp(prefix="jwt-test-logs-")
if not os.environ.get("JWT_KEEP_LOGS"):
    atexit.register(shutil.rmtree, LOG_DIR, ignore_errors=True)


def binary(name):
    """Path of a program built by CMake."""
    path = os.path.join(BUILD_DIR, name)
    if not os.path.exists(path):
        raise FileNotFoundError(f"{path} not built")
    return path


def source(*parts):
    return os.path.join(SOURCE_DIR, *parts)


def make_keys(directory, alg="RS256", extra=()):
    """Runs jwt-keygen into directory; returns the kid it printed."""
    os.makedirs(directory, exist_ok=True)
    out = subprocess.run(
        [binary("jwt-keygen"), "--alg", alg, "--out", directory, *extra],
        check=True, capture_output=True, text=True).stdout
    for line in out.splitlines():
        if line.startswith("kid: "):
            return line[5:].strip()
    raise AssertionError(f"jwt-keygen printed no kid: {out!r}")


class Daemon:
    """A daemon process started with --port 0.

    The log (stderr) goes to a file so it can be read after the fact.
    Use as a context manager, or call stop() in tearDown.
    """

    def __init__(self, program, args, cwd=None, env=None, timeout=30):
        self.program = program
        self.args = list(args)
        self.cwd = cwd or SOURCE_DIR
        self.env = dict(os.environ, **(env or {}))
        self.timeout = timeout
        self.proc = None
        self.port = None
        self.log_path = None
        self.banner = ""

    def start(self):
        fd, self.log_path = tempfile.mkstemp(dir=LOG_DIR,
                                             prefix=self.program + "-",
                                             suffix=".log")
        self.log_file = os.fdopen(fd, "w")
        self.proc = subprocess.Popen(
            [binary(self.program), "--port", "0", *self.args],
            cwd=self.cwd, env=self.env, stdout=subprocess.PIPE,
            stderr=self.log_file, stdin=subprocess.DEVNULL)
        self.port = self._wait_listening()
        return self

    def _wait_listening(self):
        deadline = time.monotonic() + self.timeout
        buf = b""
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self.proc.stdout], [], [], 0.2)
            if ready:
                chunk = os.read(self.proc.stdout.fileno(), 4096)
                if not chunk:
                    break
                buf += chunk
                for line in buf.decode(errors="replace").splitlines():
                    if line.startswith("listening on "):
                        # What came before (e.g. "metrics listening
                        # on ADDR:PORT"), for the tests that need it.
                        self.banner = buf.decode(errors="replace")
                        return int(line.rsplit(":", 1)[1])
            elif self.proc.poll() is not None:
                break
        self.stop()
        raise AssertionError(
            f"{self.program} did not start: stdout={buf!r} log={self.log()}")

    def log(self):
        if self.log_path is None:
            return ""
        if not self.log_file.closed:  # still readable after stop()
            self.log_file.flush()
        with open(self.log_path, encoding="utf-8", errors="replace") as f:
            return f.read()

    def log_events(self, event=None):
        """The JSON lines of the log, optionally only one event."""
        events = []
        for line in self.log().splitlines():
            if line.startswith("{"):
                try:
                    obj = json.loads(line)
                except ValueError:
                    continue
                if event is None or obj.get("event") == event:
                    events.append(obj)
        return events

    def wait_event(self, event, count=1, timeout=20, match=None):
        """Polls the log until `count` JSON lines of `event` (for which
        match(line) is true, if given) are there; returns them. For events
        that follow a signal (e.g. "reload"), and for access lines, which
        wait up to access_log_flush_ms in their thread's buffer."""
        deadline = time.monotonic() + timeout
        while True:
            events = [e for e in self.log_events(event)
                      if match is None or match(e)]
            if len(events) >= count:
                return events
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise AssertionError(
                    f"no {count} {event!r} events: {self.log()[-2000:]}")
            time.sleep(0.05)

    def signal(self, sig):
        self.proc.send_signal(sig)

    def stop(self, sig=None, timeout=20):
        """Stops the daemon (SIGTERM unless told); returns its exit status."""
        # The default cannot be signal.SIGTERM: in the class body "signal"
        # is the method above, not the module.
        if sig is None:
            sig = signal.SIGTERM
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc.stdout:
            self.proc.stdout.close()
        self.log_file.close()
        return self.proc.returncode

    def kill9(self):
        return self.stop(signal.SIGKILL)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def request(self, method, path, body=None, headers=None, timeout=10):
        return request(self.port, method, path, body, headers, timeout)

    def wait_healthy(self, timeout=10):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if self.request("GET", "/health").status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.05)
        raise AssertionError(f"{self.program} never became healthy")


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers  # list of (name, value), names as sent
        self.body = body

    def header(self, name):
        """The single value of a header (case-insensitive), or None."""
        values = self.header_all(name)
        return values[0] if values else None

    def header_all(self, name):
        return [v for k, v in self.headers if k.lower() == name.lower()]

    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        return f"<Response {self.status} {self.body[:200]!r}>"


def request(port, method, path, body=None, headers=None, timeout=10,
            host="127.0.0.1"):
    """One HTTP/1.1 request on a new connection. body: bytes, str or a
    JSON-able object. headers: dict, or list of pairs to repeat a name."""
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        if body is not None and not isinstance(body, (bytes, str)):
            body = json.dumps(body)
        if isinstance(body, str):
            body = body.encode()
        conn.putrequest(method, path, skip_accept_encoding=True)
        pairs = headers.items() if isinstance(headers, dict) else (headers or [])
        names = {k.lower() for k, _ in pairs}
        for k, v in pairs:
            conn.putheader(k, v)
        if body is not None:
            if "content-type" not in names:
                conn.putheader("Content-Type", "application/json")
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body)
        resp = conn.getresponse()
        return Response(resp.status, resp.getheaders(), resp.read())
    finally:
        conn.close()


def bearer(token):
    return {"Authorization": f"Bearer {token}"}

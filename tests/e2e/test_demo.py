"""The teaching demo page in a real browser: starts auth_service (which
serves /demo) and resource_service (CORS for exactly the demo's origin)
on loopback, then runs demo.mjs in Debian's headless chromium through
playwright-core. ./test.sh installs what it needs (`apt-get install
chromium nodejs npm`, `npm ci --prefix tests/e2e`); when something is
missing the test fails saying what, since a silent pass would hide that
the page was never tested. JWT_E2E_OPTIONAL=1 turns that into a skip
(exit 0) for machines without a browser."""
import os
import shutil
import socket
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import harness  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
CHROMIUM = "/usr/bin/chromium"


def missing():
    if not os.access(CHROMIUM, os.X_OK):
        return f"{CHROMIUM} is not installed (apt-get install chromium)"
    if shutil.which("node") is None:
        return "node is not installed (apt-get install nodejs)"
    if not os.path.isfile(os.path.join(HERE, "node_modules", "playwright-core",
                                       "package.json")):
        return "tests/e2e/node_modules is missing (npm ci --prefix tests/e2e)"
    return None


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    why = missing()
    if why and os.environ.get("JWT_E2E_OPTIONAL") == "1":
        print(f"skipped (JWT_E2E_OPTIONAL=1): {why}")
        return 0
    if why:
        print(f"FAIL: {why}; set JWT_E2E_OPTIONAL=1 to skip", file=sys.stderr)
        return 1
    tmp = tempfile.mkdtemp(prefix="demo-e2e-")
    auth = resource = None
    try:
        kid_dir = os.path.join(tmp, "keys")
        harness.make_keys(kid_dir)
        # The resource service's port is chosen first: the demo page's
        # Content-Security-Policy must name it before auth_service starts.
        rport = free_port()
        resource_url = f"http://127.0.0.1:{rport}"
        auth = harness.Daemon("auth_service", [
            "--db", os.path.join(tmp, "auth.db"),
            "--private-key", os.path.join(kid_dir, "private_key.pem"),
            "--secrets", harness.source("config", "secrets.json"),
            "--permissions", harness.source("config", "permissions.json"),
            "--demo-dir", harness.source("web", "demo"),
            "--demo-resource-origin", resource_url]).start()
        auth_url = f"http://127.0.0.1:{auth.port}"
        resource = harness.Daemon("resource_service", [
            "--public-keys", os.path.join(kid_dir, "public_key.pem"),
            "--routes", harness.source("config", "routes.json"),
            "--cors-origin", auth_url, "--port", str(rport)]).start()
        auth.wait_healthy()
        resource.wait_healthy()
        shot = os.environ.get("DEMO_SCREENSHOT", "")
        r = subprocess.run(["node", os.path.join(HERE, "demo.mjs"), auth_url,
                            resource_url] + ([shot] if shot else []),
                           cwd=HERE, timeout=180)
        status = r.returncode
        # Both daemons must stop cleanly, without a sanitizer report (the
        # ASan build runs this too).
        for d in (resource, auth):
            code = d.stop()
            log = d.log()
            if code != 0 or any(m in log for m in (
                    "AddressSanitizer", "LeakSanitizer", "runtime error:")):
                print(f"{d.program} exited {code}")
                status = 1
        if status != 0:
            print("auth_service log:\n" + auth.log()[-3000:])
            print("resource_service log:\n" + resource.log()[-3000:])
        return status
    finally:
        for d in (resource, auth):
            if d is not None:
                d.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

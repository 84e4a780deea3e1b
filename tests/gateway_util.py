"""Shared by the gateway tests (tests/integration/test_gateway.py and
test_nginx.py): a key pair made by jwt-keygen with tokens signed by
python3-jwt, a route table with patterns, public and permission-list
rules, and an upstream that echoes what reached it."""
import http.server
import json
import os
import threading
import time
import uuid

import jwt
from cryptography.hazmat.primitives import serialization

import harness

ISSUER = "http://127.0.0.1:5000"
AUDIENCE = "resource_service"
REALM = 'Bearer realm="resource_service"'

# The demo table plus what a gateway needs: a public prefix, a prefix
# with any_of, a POST needing all_of, a parameter segment and a literal
# beside it that is public.
ROUTES = [
    {"method": "GET", "path": "/protected", "permission": "read:data"},
    {"method": "GET", "path": "/admin", "permission": "read:admin_panel"},
    {"method": "DELETE", "path": "/admin/users",
     "permission": "delete:users"},
    {"method": "GET", "path": "/public/*", "public": True},
    {"method": "GET", "path": "/api/orders/*",
     "any_of": ["read:orders", "read:data"]},
    {"method": "POST", "path": "/api/orders/*",
     "all_of": ["read:data", "write:orders"]},
    {"method": "GET", "path": "/users/{id}", "permission": "read:admin_panel"},
    {"method": "GET", "path": "/users/me", "public": True},
]

USER_PERMS = ["read:data"]
ADMIN_PERMS = ["read:data", "read:admin_panel", "write:admin_panel",
               "delete:users"]


class Keys:
    """keys/private_key.pem and public_key.pem from jwt-keygen."""

    def __init__(self, directory):
        self.kid = harness.make_keys(directory)
        self.public_path = os.path.join(directory, "public_key.pem")
        with open(os.path.join(directory, "private_key.pem"), "rb") as f:
            self.private_key = serialization.load_pem_private_key(
                f.read(), password=None)

    def sign(self, **overrides):
        now = int(time.time())
        claims = {
            "iss": ISSUER, "aud": AUDIENCE, "sub": "user-1",
            "username": "user1", "client_id": "demo-client",
            "iat": now, "nbf": now, "exp": now + 900,
            "jti": str(uuid.uuid4()), "roles": ["user"],
            "permissions": USER_PERMS, "scope": " ".join(USER_PERMS),
        }
        claims.update(overrides)
        return jwt.encode(claims, self.private_key, algorithm="RS256",
                          headers={"kid": self.kid, "typ": "at+jwt"})

    def admin(self):
        return self.sign(sub="admin-1", username="admin",
                         roles=["admin", "user"], permissions=ADMIN_PERMS,
                         scope=" ".join(ADMIN_PERMS))


def write_routes(directory, routes=None):
    path = os.path.join(directory, "routes.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump(ROUTES if routes is None else routes, f)
    return path


class EchoUpstream:
    """The service behind the gateway: answers every method with 200 and
    a JSON echo of the request line and headers it received, and keeps
    the list of requests that reached it."""

    def __init__(self):
        self.hits = []
        self.lock = threading.Lock()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def handle_one(self):
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                seen = {"method": self.command, "target": self.path,
                        "headers": [[k, v] for k, v in self.headers.items()]}
                with outer.lock:
                    outer.hits.append(seen)
                body = json.dumps(seen).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = handle_one
            do_OPTIONS = handle_one

            def do_HEAD(self):
                with outer.lock:
                    outer.hits.append({"method": "HEAD",
                                       "target": self.path, "headers": []})
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                                      Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       daemon=True)
        self.thread.start()

    def take(self):
        """The requests that reached the upstream since the last take."""
        with self.lock:
            hits, self.hits = self.hits, []
        return hits

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

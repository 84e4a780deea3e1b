// demo.js: the guided tour and lab of the JWT auth pair. Every button
// sends real requests; each outcome is shown with one sentence naming the
// RFC behind it. Tokens live in this page's memory only (never in storage)
// and are never written to the console. Forged tokens are made here, in
// the browser, from public material only (the token itself and the
// published JWKS): no secret is ever needed to try an attack.
"use strict";

(function () {
  const $ = (id) => document.getElementById(id);
  const enc = new TextEncoder();

  const params = new URLSearchParams(location.search);
  const resourceInput = $("resource-url");

  const state = {
    access: null, refresh: null, previous: null, exp: 0,
    byKid: new Map(), // kid -> the latest access token signed by it
    roles: null,      // role -> [permission], from /demo/info.json
    routes: null,     // [{method, path, permission}], from /demo/routes.json
    gridUsers: [
      { name: "user1", password: "password123" },
      { name: "admin", password: "adminpassword" },
    ],
  };
  let timer = null;

  // ---- small helpers ------------------------------------------------

  function say(id, text, kind) {
    const el = $(id);
    el.textContent = text;
    el.className = "said" + (kind ? " " + kind : "");
    const li = document.createElement("li");
    li.textContent = text;
    $("log").appendChild(li);
  }

  function el(tag, text, cls) {
    const e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = text;
    if (cls) e.className = cls;
    return e;
  }

  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
  }

  // RFC 7515 2: base64url without padding; the parts are UTF-8 JSON.
  function b64urlToBytes(part) {
    const b64 = part.replace(/-/g, "+").replace(/_/g, "/");
    const bin = atob(b64 + "===".slice((b64.length + 3) % 4));
    return Uint8Array.from(bin, (c) => c.charCodeAt(0));
  }

  function bytesToB64url(bytes) {
    let bin = "";
    for (const b of new Uint8Array(bytes)) bin += String.fromCharCode(b);
    return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function decodePart(part) {
    return JSON.parse(new TextDecoder().decode(b64urlToBytes(part)));
  }

  function encodePart(obj) {
    return bytesToB64url(enc.encode(JSON.stringify(obj)));
  }

  function short(token) {
    return token ? token.slice(0, 12) + "…" + token.slice(-6) : "-";
  }

  function now() {
    return Math.floor(Date.now() / 1000);
  }

  // "2026-12-06 02:20:00 UTC": an absolute time nobody has to convert.
  function dateOf(epoch) {
    return new Date(epoch * 1000).toISOString().replace("T", " ")
      .slice(0, 19) + " UTC";
  }

  // "in 14 min", "3 min ago", "in 40 s", "now".
  function relative(epoch) {
    const d = epoch - now();
    const a = Math.abs(d);
    if (a < 2) return "now";
    let span;
    if (a < 60) span = `${a} s`;
    else if (a < 3600) span = `${Math.round(a / 60)} min`;
    else if (a < 172800) span = `${Math.round(a / 3600)} h`;
    else span = `${Math.round(a / 86400)} days`;
    return d >= 0 ? `in ${span}` : `${span} ago`;
  }

  // The compact serialization with its three parts told apart.
  function showCompact(target, token) {
    const node = $(target);
    clear(node);
    const parts = token.split(".");
    const cls = ["part-h", "part-p", "part-s"];
    parts.forEach((p, i) => {
      if (i > 0) node.appendChild(el("span", ".", "dot"));
      node.appendChild(el("span", p === "" ? "(empty)" : p, cls[Math.min(i, 2)]));
    });
  }

  function resourceBase() {
    return resourceInput.value.trim().replace(/\/+$/, "");
  }

  function unreachable(id) {
    say(id, `The resource service could not be reached at ${resourceBase()}: ` +
      "it is down, this is not its address (the page takes it from the " +
      "auth service's demo_resource_origin), or its cors_origin is not " +
      `this page's origin ${location.origin} (Fetch standard, CORS).`,
    "refused");
  }

  // One request to the resource service; null if it could not be reached.
  async function ask(method, path, token) {
    const headers = {};
    if (token) headers.Authorization = `Bearer ${token}`;
    let r;
    try {
      r = await fetch(resourceBase() + path, { method, headers, cache: "no-store" });
    } catch (e) {
      return null;
    }
    const body = await r.text();
    let data = null;
    try { data = JSON.parse(body); } catch (e) { data = null; }
    return {
      status: r.status, statusText: r.statusText, body, data,
      www: r.headers.get("WWW-Authenticate"),
    };
  }

  async function postJSON(path, body) {
    const r = await fetch(path, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
      cache: "no-store",
    });
    let data = null;
    try { data = await r.json(); } catch (e) { data = null; }
    return { status: r.status, data };
  }

  async function getJSON(url) {
    const r = await fetch(url, { cache: "no-store" });
    if (r.status !== 200) throw new Error(`${url}: ${r.status}`);
    return r.json();
  }

  // ---- the running configuration --------------------------------------

  async function loadInfo() {
    const info = await getJSON("/demo/info.json");
    state.roles = info.roles;
    return info;
  }

  async function configure() {
    const given = params.get("resource");
    try {
      const info = await loadInfo();
      resourceInput.value = given || info.resource_origin;
      $("resource-source").textContent = given
        ? "(from ?resource= in the address)"
        : "(the auth service's demo_resource_origin)";
    } catch (e) {
      resourceInput.value = given ||
        `${location.protocol}//${location.hostname}:5001`;
      $("resource-source").textContent =
        "(guessed: /demo/info.json did not answer)";
    }
  }

  async function loadRoutes() {
    const r = await fetch(resourceBase() + "/demo/routes.json", { cache: "no-store" });
    if (r.status !== 200) throw new Error(`/demo/routes.json: ${r.status}`);
    state.routes = (await r.json()).routes;
    return state.routes;
  }

  async function ensureRoutes(sayId) {
    if (state.routes) return true;
    try {
      await loadRoutes();
      return true;
    } catch (e) {
      unreachable(sayId);
      return false;
    }
  }

  // ---- steps 1-2: login and the token ---------------------------------

  function tick() {
    const left = state.exp - now();
    const c = $("countdown");
    if (!state.access) {
      c.textContent = "-";
    } else if (left > 0) {
      c.textContent = `${Math.floor(left / 60)} min ${left % 60} s`;
      c.className = "";
    } else {
      c.textContent = "expired";
      c.className = "expired";
    }
    for (const t of document.querySelectorAll("[data-epoch]"))
      t.textContent = relative(Number(t.dataset.epoch));
  }

  const CLAIM_NOTES = {
    iss: "issuer (RFC 7519 4.1.1)",
    sub: "subject: the user's stable id (RFC 7519 4.1.2)",
    aud: "audience: who may accept it (RFC 7519 4.1.3)",
    exp: "expires (RFC 7519 4.1.4)",
    nbf: "not before (RFC 7519 4.1.5)",
    iat: "issued at (RFC 7519 4.1.6)",
    jti: "token id (RFC 7519 4.1.7)",
    client_id: "the client it was issued to (RFC 9068 2.2)",
    scope: "the permissions, space-separated (RFC 9068 2.2.3)",
    roles: "the user's roles (RFC 9068 2.2.3.1)",
    permissions: "what the roles grant (permissions.json)",
    username: "display name",
  };
  const TIME_CLAIMS = ["iat", "nbf", "exp"];

  function claimRow(name, value) {
    const tr = el("tr");
    tr.dataset.claim = name;
    const th = el("th", name);
    th.scope = "row";
    if (CLAIM_NOTES[name]) th.appendChild(el("span", CLAIM_NOTES[name], "note"));
    tr.appendChild(th);
    const td = el("td");
    if (TIME_CLAIMS.includes(name) && typeof value === "number") {
      td.appendChild(el("code", String(value)));
      td.appendChild(el("span", ` = ${dateOf(value)} `));
      const rel = el("span", relative(value), "rel");
      rel.dataset.epoch = String(value);
      td.appendChild(rel);
    } else {
      td.appendChild(el("code", typeof value === "string" ? value
        : JSON.stringify(value)));
    }
    tr.appendChild(td);
    return tr;
  }

  function showToken(token) {
    const [h, p] = token.split(".");
    const header = decodePart(h);
    const claims = decodePart(p);
    showCompact("token-compact", token);
    $("token-header").textContent = JSON.stringify(header, null, 2);
    $("token-claims-json").textContent = JSON.stringify(claims, null, 2);
    const body = $("token-claims");
    clear(body);
    for (const [k, v] of Object.entries(claims)) body.appendChild(claimRow(k, v));
    state.exp = claims.exp;
    if (header.kid) state.byKid.set(header.kid, token);
    if (timer === null) timer = setInterval(tick, 1000);
    tick();
    say("said-token",
      `Header: ${header.alg} signature by key ${String(header.kid).slice(0, 8)}…, ` +
      `typ ${header.typ} marks an access token (RFC 9068 2.1); claims: ` +
      `sub, aud, exp and ${claims.permissions.length} permission(s) ` +
      "(RFC 7519 4.1, RFC 9068 2.2). Anyone can read them: a JWS is " +
      "signed, not encrypted (RFC 7515 1).");
  }

  function setRefresh(token) {
    state.previous = state.refresh;
    state.refresh = token;
    $("refresh-old").textContent = short(state.previous);
    $("refresh-new").textContent = short(state.refresh);
  }

  async function login(user, password) {
    const r = await postJSON("/login", { username: user, password });
    if (r.status !== 200) {
      say("said-login", `Login refused: ${r.status} ${r.data && r.data.error}` +
        " (one answer for any wrong name or password, so nobody can tell " +
        "which users exist).", "refused");
      return;
    }
    state.access = r.data.access_token;
    state.refresh = null;
    setRefresh(r.data.refresh_token);
    say("said-login",
      `Logged in as ${user}: 200 with a ${r.data.token_type} access token ` +
      `valid ${r.data.expires_in} s and an opaque refresh token; the reply ` +
      "says Cache-Control: no-store (RFC 6749 5.1).", "ok");
    showToken(state.access);
  }

  // ---- step 3: one call --------------------------------------------

  function prettyBody(r) {
    return r.data !== null ? JSON.stringify(r.data, null, 2) : r.body;
  }

  async function call(path, withToken) {
    const r = await ask("GET", path, withToken ? state.access : null);
    if (r === null) {
      unreachable("said-call");
      return;
    }
    $("result-status").textContent = `${r.status} ${r.statusText}`;
    $("result-status").className = r.status === 200 ? "ok" : "refused";
    $("result-www").textContent = r.www || "(none)";
    $("result-body").textContent = prettyBody(r);
    let text;
    if (r.status === 200) {
      text = `GET ${path}: 200. The resource service checked the signature ` +
        "with the issuer's published key, the algorithm fixed by that key " +
        "(RFC 8725 3.1), exp, iss and aud (RFC 7519 4.1), then the route's " +
        "permission.";
    } else if (r.status === 403) {
      text = `GET ${path}: 403. The token is valid but lacks the permission; ` +
        "the challenge says error=\"insufficient_scope\" and names it in " +
        "scope (RFC 6750 3.1).";
    } else if (r.status === 401 && !withToken) {
      text = `GET ${path} without a token: 401 with a bare Bearer challenge, ` +
        "no error attribute, since no credentials were sent (RFC 6750 3.1).";
    } else if (r.status === 401) {
      text = `GET ${path}: 401 error="invalid_token": ` +
        `${(r.data && r.data.error_description) || "the token was refused"} ` +
        "(RFC 6750 3.1).";
    } else {
      text = `GET ${path}: ${r.status}.`;
    }
    say("said-call", text, r.status === 200 ? "ok" : "refused");
  }

  // ---- steps 4-6: refresh, replay, logout ------------------------------

  async function refresh() {
    if (!state.refresh) {
      say("said-refresh", "Log in first: there is no refresh token yet.");
      return;
    }
    const r = await postJSON("/refresh", { refresh_token: state.refresh });
    if (r.status !== 200) {
      say("said-refresh", `Refresh refused: ${r.status} ` +
        `${r.data && r.data.error} (RFC 6749 5.2).`, "refused");
      return;
    }
    state.access = r.data.access_token;
    setRefresh(r.data.refresh_token);
    showToken(state.access);
    say("said-refresh",
      "200 with a new access token and a NEW refresh token: the old one " +
      "is now used up. Refresh tokens are single use, rotated on every " +
      "refresh (RFC 9700 4.14.2).", "ok");
  }

  async function replay() {
    if (!state.previous) {
      say("said-replay", "Refresh once first: there is no used refresh token yet.");
      return;
    }
    const r = await postJSON("/refresh", { refresh_token: state.previous });
    $("replay-status").textContent = `${r.status} ${r.data && r.data.error}`;
    $("replay-status").className = r.status === 200 ? "ok" : "refused";
    const n = await postJSON("/refresh", { refresh_token: state.refresh });
    $("replay-newest").textContent = `${n.status} ${n.data && n.data.error}`;
    $("replay-newest").className = n.status === 200 ? "ok" : "refused";
    if (r.status === 400 && n.status === 400) {
      say("said-replay",
        "The used token was refused with invalid_grant, and because a " +
        "used token came back, the server revoked its whole family: the " +
        "newest refresh token is refused too (RFC 9700 4.14.2).", "refused");
      state.refresh = null;
    } else {
      say("said-replay", `Replay: ${r.status}, newest: ${n.status}.`);
    }
  }

  async function logout() {
    const token = state.refresh || state.previous;
    if (!token) {
      say("said-logout", "Log in first: there is no session to end.");
      return;
    }
    const r = await postJSON("/logout", { refresh_token: token });
    state.access = null;
    state.refresh = null;
    state.previous = null;
    $("refresh-old").textContent = "-";
    $("refresh-new").textContent = "-";
    tick();
    say("said-logout",
      `Logout: ${r.status}. The session's refresh tokens are revoked; an ` +
      "unknown token gets the same answer, so nothing is revealed " +
      "(RFC 7009 2.2). Access tokens already issued stay valid until exp: " +
      "keep them short-lived.", r.status === 200 ? "ok" : "refused");
  }

  // ---- step 7: RBAC -------------------------------------------------

  function routeLabel(rt) {
    return `${rt.method} ${rt.path}`;
  }

  function headerRow(first, routes, extra) {
    const tr = el("tr");
    const th0 = el("th", first);
    th0.scope = "col";
    tr.appendChild(th0);
    for (const x of extra || []) {
      const th = el("th", x);
      th.scope = "col";
      tr.appendChild(th);
    }
    for (const rt of routes) {
      const th = el("th");
      th.scope = "col";
      th.appendChild(el("span", routeLabel(rt), "route"));
      th.appendChild(el("span", `needs ${rt.permission}`, "note"));
      tr.appendChild(th);
    }
    return tr;
  }

  function drawMatrix() {
    const t = $("rbac-matrix");
    clear(t);
    const routes = state.routes || [];
    t.appendChild(headerRow("Role", routes, ["Permissions"]));
    for (const [role, perms] of Object.entries(state.roles || {})) {
      const tr = el("tr");
      const th = el("th", role);
      th.scope = "row";
      tr.appendChild(th);
      tr.appendChild(el("td", perms.join(", ")));
      for (const rt of routes) {
        const yes = perms.includes(rt.permission);
        const td = el("td", yes ? "✓ reaches" : "✗ 403", yes ? "ok" : "refused");
        td.dataset.role = role;
        td.dataset.route = routeLabel(rt);
        tr.appendChild(td);
      }
      t.appendChild(tr);
    }
  }

  async function rbacLoad() {
    try {
      await loadInfo();
    } catch (e) {
      say("said-rbac", "/demo/info.json did not answer.", "refused");
      return false;
    }
    try {
      await loadRoutes();
    } catch (e) {
      unreachable("said-rbac");
      return false;
    }
    drawMatrix();
    say("said-rbac",
      `${Object.keys(state.roles).length} roles and ${state.routes.length} ` +
      "protected routes, read from the running daemons. The token carries " +
      "the permissions (RFC 9068 2.2.3.1); the verifier needs no user " +
      "database, only the route's permission in the token.", "ok");
    return true;
  }

  function drawGrid(rows) {
    const t = $("rbac-grid");
    clear(t);
    const routes = state.routes || [];
    t.appendChild(headerRow("User", routes, ["Roles"]));
    for (const row of rows) {
      const tr = el("tr");
      const th = el("th", row.name);
      th.scope = "row";
      tr.appendChild(th);
      tr.appendChild(el("td", row.roles));
      for (const rt of routes) {
        const a = row.answers[routeLabel(rt)];
        const td = el("td", a === undefined ? "-" : String(a),
          a === 200 ? "ok" : "refused");
        td.dataset.user = row.name;
        td.dataset.route = routeLabel(rt);
        tr.appendChild(td);
      }
      t.appendChild(tr);
    }
  }

  async function gridRow(u) {
    const row = { name: u.name, roles: "-", answers: {} };
    const r = await postJSON("/login", { username: u.name, password: u.password });
    if (r.status !== 200) {
      row.roles = `login ${r.status} ${r.data && r.data.error}`;
      return row;
    }
    const claims = decodePart(r.data.access_token.split(".")[1]);
    row.roles = (claims.roles || []).join(", ");
    for (const rt of state.routes) {
      const a = await ask(rt.method, rt.path, r.data.access_token);
      row.answers[routeLabel(rt)] = a === null ? "unreachable" : a.status;
    }
    await postJSON("/logout", { refresh_token: r.data.refresh_token });
    return row;
  }

  async function gridFill() {
    if (!(await rbacLoad())) return;
    const rows = [];
    for (const u of state.gridUsers) rows.push(await gridRow(u));
    drawGrid(rows);
    say("said-rbac",
      `Asked ${state.routes.length} routes for ${rows.length} users: 200 ` +
      "where a role grants the route's permission, 403 insufficient_scope " +
      "elsewhere (RFC 6750 3.1). Change permissions.json, send SIGHUP, " +
      "ask again: new tokens carry the new permissions.", "ok");
  }

  function gridAdd(ev) {
    ev.preventDefault();
    const name = $("grid-user").value.trim();
    const password = $("grid-pass").value;
    if (!name) return;
    state.gridUsers = state.gridUsers.filter((u) => u.name !== name);
    state.gridUsers.push({ name, password });
    $("grid-pass").value = "";
    say("said-rbac", `${name} joins the grid: ask every route again to see ` +
      "the user's answers.");
  }

  // ---- step 8: the attack lab ----------------------------------------

  // The published key of kid (or the signing one) from the JWKS.
  async function publishedKey(kid) {
    const jwks = await getJSON("/.well-known/jwks.json");
    return jwks.keys.find((k) => k.kid === kid) || jwks.keys[0];
  }

  function importParams(jwk) {
    if (jwk.kty === "RSA") return { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" };
    if (jwk.kty === "EC") return { name: "ECDSA", namedCurve: jwk.crv };
    return { name: jwk.crv }; // OKP: Ed25519
  }

  // The PEM a verifier would hold (SPKI, RFC 7468 13), rebuilt from the
  // public JWK: the bytes the classic confusion attack uses as HMAC key.
  async function pemOf(jwk) {
    const pub = { kty: jwk.kty, n: jwk.n, e: jwk.e, crv: jwk.crv, x: jwk.x, y: jwk.y };
    Object.keys(pub).forEach((k) => pub[k] === undefined && delete pub[k]);
    const key = await crypto.subtle.importKey("jwk", pub, importParams(jwk),
      true, ["verify"]);
    const b64 = btoa(String.fromCharCode(
      ...new Uint8Array(await crypto.subtle.exportKey("spki", key))));
    return "-----BEGIN PUBLIC KEY-----\n" + b64.match(/.{1,64}/g).join("\n") +
      "\n-----END PUBLIC KEY-----\n";
  }

  async function hmac(keyBytes, input) {
    const key = await crypto.subtle.importKey("raw", keyBytes,
      { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    return bytesToB64url(await crypto.subtle.sign("HMAC", key, enc.encode(input)));
  }

  // Each attack: what it forges, and the rule that refuses it.
  const ATTACKS = {
    payload: {
      title: "Edited payload: the token grants itself more permissions",
      rule: "RFC 8725 3.3: validate all cryptographic operations; the " +
        "signature covers header and claims (RFC 7515 5.2), so any edit " +
        "breaks it and the whole JWT is rejected.",
      clause: "3.3",
      async forge(h, p, s) {
        const c = decodePart(p);
        for (const x of ["read:admin_panel", "write:admin_panel", "delete:users"])
          if (!c.permissions.includes(x)) c.permissions.push(x);
        c.scope = c.permissions.join(" ");
        return { header: decodePart(h), changed: { permissions: c.permissions, scope: c.scope },
          token: `${h}.${encodePart(c)}.${s}` };
      },
    },
    none: {
      title: "alg: none, the signature left out",
      rule: "RFC 8725 3.1: the verifier decides which algorithms it " +
        "accepts, never the token; \"none\" is not one of them (2.1 " +
        "describes the attack). This verifier stops it even earlier: a " +
        "JWS whose signature part is empty is malformed (RFC 7515 7.1).",
      clause: "3.1",
      async forge(h, p) {
        const header = { alg: "none", typ: "at+jwt" };
        return { header, changed: {}, token: `${encodePart(header)}.${p}.` };
      },
    },
    hs256: {
      title: "HS256 signed with the published public key (algorithm confusion)",
      rule: "RFC 8725 3.1: each key is used with exactly one algorithm, " +
        "fixed by the verifier: an RSA or EC public key never checks an " +
        "HMAC, so a key anyone can download cannot sign (2.1).",
      clause: "3.1",
      async forge(h, p) {
        const orig = decodePart(h);
        const jwk = await publishedKey(orig.kid);
        let secret;
        let secretName;
        try {
          secret = enc.encode(await pemOf(jwk));
          secretName = `the PEM of published key ${jwk.kid}`;
        } catch (e) {
          secret = enc.encode(JSON.stringify(jwk));
          secretName = `the JSON of published key ${jwk.kid}`;
        }
        const header = { alg: "HS256", typ: "at+jwt", kid: orig.kid };
        const input = `${encodePart(header)}.${p}`;
        return { header, changed: { "(HMAC key)": secretName },
          token: `${input}.${await hmac(secret, input)}` };
      },
    },
    kid: {
      title: "Unknown kid: the token names a key the verifier never had",
      rule: "RFC 8725 3.10: do not trust received claims; kid only picks " +
        "among the verifier's own keys (RFC 7515 4.1.4), and a key it " +
        "does not hold verifies nothing.",
      clause: "3.10",
      async forge(h, p, s) {
        const header = decodePart(h);
        header.kid = "attacker-key-1";
        return { header, changed: {}, token: `${encodePart(header)}.${p}.${s}` };
      },
    },
    aud: {
      title: "Another audience: the token is re-addressed to this service's neighbour",
      rule: "RFC 8725 3.9: use and validate audience. Here the edit " +
        "already broke the signature (3.3); a token genuinely signed for " +
        "another audience is refused as \"token audience not accepted\".",
      clause: "3.9",
      async forge(h, p, s) {
        const c = decodePart(p);
        c.aud = "another-service";
        return { header: decodePart(h), changed: { aud: c.aud },
          token: `${h}.${encodePart(c)}.${s}` };
      },
    },
    exp: {
      title: "Expired exp, original signature",
      rule: "RFC 7519 4.1.4: exp is checked against the clock; RFC 8725 " +
        "3.3: the changed claims no longer match the signature. A " +
        "genuinely expired token is refused as \"token expired\".",
      clause: "3.3",
      async forge(h, p, s) {
        const c = decodePart(p);
        c.exp = now() - 3600;
        return { header: decodePart(h), changed: { exp: `${c.exp} = ${dateOf(c.exp)}` },
          token: `${h}.${encodePart(c)}.${s}` };
      },
    },
    jwk: {
      title: "The attacker's own key, embedded in the header (jwk)",
      rule: "RFC 8725 3.10: do not trust received claims; a key sent " +
        "inside the token (jwk, RFC 7515 4.1.3) proves only that someone " +
        "holds some key. The verifier trusts only keys it fetched itself.",
      clause: "3.10",
      async forge(h, p) {
        const pair = await crypto.subtle.generateKey({ name: "RSASSA-PKCS1-v1_5",
          modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]),
          hash: "SHA-256" }, true, ["sign", "verify"]);
        const pub = await crypto.subtle.exportKey("jwk", pair.publicKey);
        const header = { alg: "RS256", typ: "at+jwt", kid: "attacker-key-2",
          jwk: { kty: "RSA", n: pub.n, e: pub.e } };
        const input = `${encodePart(header)}.${p}`;
        const sig = await crypto.subtle.sign("RSASSA-PKCS1-v1_5", pair.privateKey,
          enc.encode(input));
        return { header, changed: { "(signed with)": "a key made in this browser" },
          token: `${input}.${bytesToB64url(sig)}` };
      },
    },
  };

  // Sends token to every protected route: [{label, status, reason}].
  async function sendEverywhere(token) {
    const out = [];
    for (const rt of state.routes) {
      const a = await ask(rt.method, rt.path, token);
      out.push({
        label: routeLabel(rt),
        status: a === null ? "unreachable" : a.status,
        reason: a === null ? "-" : (a.data && a.data.error_description) || "-",
        www: a === null ? "" : a.www || "",
      });
    }
    return out;
  }

  function answersText(answers) {
    return answers.map((a) => `${a.label}: ${a.status}`).join("; ");
  }

  function reasonText(answers) {
    const reasons = [...new Set(answers.map((a) => a.reason))];
    const www = answers.length ? answers[0].www : "";
    return reasons.join(" / ") + (www ? `  (WWW-Authenticate: ${www})` : "");
  }

  async function attack(name) {
    const a = ATTACKS[name];
    if (!state.access) {
      say("said-attack", "Log in first: every attack starts from your real token.");
      return;
    }
    if (!(await ensureRoutes("said-attack"))) return;
    const [h, p, s] = state.access.split(".");
    let f;
    try {
      f = await a.forge(h, p, s);
    } catch (e) {
      say("said-attack", `${a.title}: this browser could not forge it ` +
        `(${e.message}).`, "refused");
      return;
    }
    $("attack-title").textContent = a.title;
    showCompact("attack-token", f.token);
    $("attack-header").textContent = JSON.stringify(f.header, null, 2);
    $("attack-claims").textContent = Object.keys(f.changed).length
      ? JSON.stringify(f.changed, null, 2) : "(unchanged)";
    const answers = await sendEverywhere(f.token);
    const granted = answers.some((x) => x.status === 200);
    $("attack-answers").textContent = answersText(answers);
    $("attack-answers").className = granted ? "breach" : "refused";
    $("attack-reason").textContent = reasonText(answers);
    $("attack-rule").textContent = a.rule;
    const tr = el("tr");
    tr.dataset.attack = name;
    tr.dataset.granted = granted ? "1" : "0";
    const th = el("th", a.title);
    th.scope = "row";
    tr.appendChild(th);
    tr.appendChild(el("td", answersText(answers), granted ? "breach" : "refused"));
    tr.appendChild(el("td", [...new Set(answers.map((x) => x.reason))].join(" / ")));
    tr.appendChild(el("td", a.clause));
    $("attack-summary").tBodies[0].appendChild(tr);
    if (granted) {
      say("said-attack", `${a.title}: a forged token was ACCEPTED (200). ` +
        "The verifier is broken.", "breach");
    } else {
      say("said-attack", `${a.title}: refused on every route ` +
        `(${answers[0] ? answers[0].status : "-"}, ` +
        `"${answers[0] ? answers[0].reason : "-"}"). ${a.rule}`, "refused");
    }
  }

  async function ownToken() {
    const token = $("own-token").value.replace(/\s+/g, "");
    if (!token) return;
    if (!(await ensureRoutes("said-attack"))) return;
    const answers = await sendEverywhere(token);
    $("own-answers").textContent = answersText(answers);
    $("own-answers").className = answers.some((x) => x.status === 200) ? "ok" : "refused";
    $("own-reason").textContent = reasonText(answers);
    say("said-attack", `Your token: ${answersText(answers)}.`);
  }

  // ---- step 9: keys ----------------------------------------------

  async function keysLoad() {
    let jwks;
    try {
      jwks = await getJSON("/.well-known/jwks.json");
    } catch (e) {
      say("said-keys", `The JWKS did not answer: ${e.message}.`, "refused");
      return;
    }
    const t = $("keys-table");
    clear(t);
    const head = el("tr");
    for (const c of ["kid", "kty / alg", "use", "role", "tokens this page holds"]) {
      const th = el("th", c);
      th.scope = "col";
      head.appendChild(th);
    }
    t.appendChild(head);
    const current = state.access ? decodePart(state.access.split(".")[0]).kid : null;
    jwks.keys.forEach((k, i) => {
      const tr = el("tr");
      tr.dataset.kid = k.kid;
      const th = el("th");
      th.scope = "row";
      th.appendChild(el("code", k.kid));
      tr.appendChild(th);
      tr.appendChild(el("td", `${k.kty} / ${k.alg || "-"}`));
      tr.appendChild(el("td", k.use || "-"));
      tr.appendChild(el("td", i === 0 ? "signs new tokens" : "verifies only"));
      const held = state.byKid.has(k.kid)
        ? (k.kid === current ? "your current token" : "an earlier token")
        : "-";
      tr.appendChild(el("td", held));
      t.appendChild(tr);
    });
    say("said-keys", `${jwks.keys.length} key(s) published. The first signs; ` +
      "every one listed still verifies, so tokens signed before a rotation " +
      "keep working until the old key is retired (RFC 7517 5, RFC 7515 " +
      "4.1.4).", "ok");
  }

  // Every token this page has kept, one per kid, asked at GET /protected.
  async function keysCheck() {
    if (state.byKid.size === 0) {
      say("said-keys", "Log in first: there is no token to check.");
      return;
    }
    const parts = [];
    for (const [kid, token] of state.byKid) {
      const r = await ask("GET", "/protected", token);
      if (r === null) {
        unreachable("said-keys");
        return;
      }
      const why = r.status === 200 ? "" : ` (${(r.data && r.data.error_description) || ""})`;
      parts.push(`token by ${kid.slice(0, 8)}…: ${r.status}${why}`);
    }
    say("said-keys", `GET /protected: ${parts.join("; ")}. A verifier ` +
      "following the JWKS fetches it again when a token names a kid it " +
      "has not seen (at most once per jwks_refetch_interval).",
    parts.every((x) => / 200$/.test(x)) ? "ok" : "refused");
  }

  // ---- step 10: expiry you can watch ---------------------------------

  // The demo profile's public client with 30-second access tokens
  // (run.sh registers it; a deployment without the demo does not have it).
  const SHORT_CLIENT = "demo-short";
  const expiry = { access: null, refresh: null, exp: 0, asked: false, timer: null };

  // RFC 6749 3.2: the token endpoint takes a form; a public client names
  // itself with client_id only (2.3, 4.3.2, 6).
  async function postForm(path, fields) {
    const r = await fetch(path, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams(fields).toString(),
      cache: "no-store",
    });
    let data = null;
    try { data = await r.json(); } catch (e) { data = null; }
    return { status: r.status, data };
  }

  function leeway() {
    const n = Number($("expiry-leeway").value);
    return Number.isFinite(n) && n >= 0 ? Math.floor(n) : 30;
  }

  function seconds(left) {
    return left > 0 ? `${left} s` : "0 s";
  }

  function expiryTick() {
    const c = $("expiry-countdown");
    const r = $("expiry-refused-in");
    if (!expiry.access) {
      c.textContent = "-";
      r.textContent = "-";
      return;
    }
    const left = expiry.exp - now();
    const refusedAt = expiry.exp + leeway();
    c.textContent = left > 0 ? seconds(left) : "expired";
    c.className = left > 0 ? "" : "expired";
    r.textContent = refusedAt - now() > 0 ? seconds(refusedAt - now())
      : "now: the verifier refuses it";
    r.className = refusedAt - now() > 0 ? "" : "expired";
    // RFC 7519 4.1.4: "on or after" exp + leeway is refused; one second
    // more keeps a verifier on the same clock from still accepting it.
    if (!expiry.asked && now() > refusedAt) {
      expiry.asked = true;
      expiryCall();
    }
  }

  function expiryToken(data) {
    expiry.access = data.access_token;
    expiry.refresh = data.refresh_token;
    expiry.exp = decodePart(data.access_token.split(".")[1]).exp;
    expiry.asked = false;
    const el0 = $("expiry-exp");
    el0.textContent = `${expiry.exp} = ${dateOf(expiry.exp)} (expires_in ` +
      `${data.expires_in} s)`;
    if (expiry.timer === null) expiry.timer = setInterval(expiryTick, 250);
    expiryTick();
  }

  // prefix: what led to this call (a login, a refresh), said first.
  async function expiryCall(prefix = "") {
    if (!expiry.access) {
      say("said-expiry", "Log in through POST /token first.");
      return;
    }
    const r = await ask("GET", "/protected", expiry.access);
    if (r === null) {
      unreachable("said-expiry");
      return;
    }
    $("expiry-status").textContent = `${r.status} ${r.statusText}` +
      (r.data && r.data.error ? ` ${r.data.error}: ${r.data.error_description}` : "");
    $("expiry-status").className = r.status === 200 ? "ok" : "refused";
    $("expiry-www").textContent = r.www || "(none)";
    const past = now() - expiry.exp;
    if (r.status === 200 && past >= 0) {
      say("said-expiry", prefix + `GET /protected ${past} s after exp: still 200. The ` +
        "verifier allows its leeway for clock skew (RFC 7519 4.1.4); the " +
        "401 comes once exp + leeway has passed.", "ok");
    } else if (r.status === 200) {
      say("said-expiry", prefix + `GET /protected: 200, ${-past} s before exp. Watch ` +
        "the countdown; at exp + leeway this page asks again by itself.", "ok");
    } else if (r.status === 401) {
      say("said-expiry", prefix + `GET /protected: 401 error="invalid_token", ` +
        `"${(r.data && r.data.error_description) || "-"}": exp has passed ` +
        "(RFC 7519 4.1.4) and the challenge says why (RFC 6750 3.1). The " +
        "client does not log in again: it refreshes.", "refused");
    } else {
      say("said-expiry", prefix + `GET /protected: ${r.status}.`, "refused");
    }
  }

  async function expiryLogin() {
    const r = await postForm("/token", {
      grant_type: "password", username: "user1", password: "password123",
      client_id: SHORT_CLIENT,
    });
    if (r.status !== 200) {
      say("said-expiry", `POST /token: ${r.status} ${r.data && r.data.error}. ` +
        `Is the client ${SHORT_CLIENT} registered? ./run.sh adds it ` +
        `(jwt-admin clients add ${SHORT_CLIENT} --public --access-ttl 30).`,
      "refused");
      return;
    }
    expiryToken(r.data);
    await expiryCall(`POST /token (grant_type=password, client_id=` +
      `${SHORT_CLIENT}): 200, an access token valid ${r.data.expires_in} s ` +
      "and a refresh token (RFC 6749 4.3.3). ");
  }

  async function expiryRefresh() {
    if (!expiry.refresh) {
      say("said-expiry", "Log in through POST /token first: there is no refresh token yet.");
      return;
    }
    const r = await postForm("/token", {
      grant_type: "refresh_token", refresh_token: expiry.refresh,
      client_id: SHORT_CLIENT,
    });
    if (r.status !== 200) {
      say("said-expiry", `Refresh refused: ${r.status} ` +
        `${r.data && r.data.error} (RFC 6749 5.2).`, "refused");
      return;
    }
    expiryToken(r.data);
    await expiryCall("POST /token (grant_type=refresh_token): 200, a new " +
      "access token with a later exp and a new refresh token (RFC 6749 6, " +
      "RFC 9700 4.14.2). ");
  }

  // ---- wiring --------------------------------------------------

  $("login-user1").addEventListener("click", () => login("user1", "password123"));
  $("login-admin").addEventListener("click", () => login("admin", "adminpassword"));
  $("call-protected").addEventListener("click", () => call("/protected", true));
  $("call-admin").addEventListener("click", () => call("/admin", true));
  $("call-none").addEventListener("click", () => call("/protected", false));
  $("refresh").addEventListener("click", refresh);
  $("replay").addEventListener("click", replay);
  $("logout").addEventListener("click", logout);
  $("rbac-load").addEventListener("click", rbacLoad);
  $("grid-fill").addEventListener("click", gridFill);
  $("grid-add").addEventListener("submit", gridAdd);
  for (const name of Object.keys(ATTACKS))
    $(`attack-${name}`).addEventListener("click", () => attack(name));
  $("own-send").addEventListener("click", ownToken);
  $("keys-load").addEventListener("click", keysLoad);
  $("keys-check").addEventListener("click", keysCheck);
  $("expiry-login").addEventListener("click", expiryLogin);
  $("expiry-call").addEventListener("click", () => expiryCall());
  $("expiry-refresh").addEventListener("click", expiryRefresh);
  $("expiry-leeway").addEventListener("input", () => {
    expiry.asked = false;
    expiryTick();
  });
  resourceInput.addEventListener("change", () => { state.routes = null; });
  configure().then(() => { document.body.dataset.ready = "1"; });
})();

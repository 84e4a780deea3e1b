// demo.js: the guided tour of the JWT auth pair. Every button sends one
// real request; its outcome is shown with one sentence naming the RFC
// behind it. Tokens live in this page's memory only (never in storage)
// and are never written to the console.
"use strict";

(function () {
  const $ = (id) => document.getElementById(id);

  // The resource service: ?resource=URL, else this host on port 5001.
  const params = new URLSearchParams(location.search);
  const resourceInput = $("resource-url");
  resourceInput.value = params.get("resource") ||
    `${location.protocol}//${location.hostname}:5001`;

  const state = { access: null, refresh: null, previous: null, exp: 0 };
  let timer = null;

  function say(id, text, kind) {
    const el = $(id);
    el.textContent = text;
    el.className = "said" + (kind ? " " + kind : "");
    const li = document.createElement("li");
    li.textContent = text;
    $("log").appendChild(li);
  }

  // RFC 7515 2: base64url without padding; the parts are UTF-8 JSON.
  function decodePart(part) {
    const b64 = part.replace(/-/g, "+").replace(/_/g, "/");
    const bin = atob(b64 + "===".slice((b64.length + 3) % 4));
    const bytes = Uint8Array.from(bin, (c) => c.charCodeAt(0));
    return JSON.parse(new TextDecoder().decode(bytes));
  }

  function short(token) {
    return token ? token.slice(0, 12) + "…" + token.slice(-6) : "-";
  }

  function tick() {
    const left = state.exp - Math.floor(Date.now() / 1000);
    const el = $("countdown");
    if (!state.access) {
      el.textContent = "-";
    } else if (left > 0) {
      el.textContent = `${Math.floor(left / 60)} min ${left % 60} s`;
      el.className = "";
    } else {
      el.textContent = "expired";
      el.className = "expired";
    }
  }

  function showToken(token) {
    const [h, p] = token.split(".");
    const header = decodePart(h);
    const claims = decodePart(p);
    $("token-header").textContent = JSON.stringify(header, null, 2);
    $("token-claims").textContent = JSON.stringify(claims, null, 2);
    state.exp = claims.exp;
    if (timer === null) timer = setInterval(tick, 1000);
    tick();
    say("said-token",
      `Header: ${header.alg} signature by key ${header.kid.slice(0, 8)}…, ` +
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

  async function call(path, withToken) {
    const headers = {};
    if (withToken && state.access) headers.Authorization = `Bearer ${state.access}`;
    let r;
    try {
      r = await fetch(resourceInput.value.replace(/\/+$/, "") + path,
        { headers, cache: "no-store" });
    } catch (e) {
      say("said-call", `The resource service could not be reached at ` +
        `${resourceInput.value} (is it running, with cors_origin set to ` +
        `${location.origin}?).`, "refused");
      return;
    }
    const www = r.headers.get("WWW-Authenticate");
    const body = await r.text();
    $("result-status").textContent = `${r.status} ${r.statusText}`;
    $("result-status").className = r.status === 200 ? "ok" : "refused";
    $("result-www").textContent = www || "(none)";
    $("result-body").textContent = body;
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
      text = `GET ${path}: 401 error="invalid_token": the token was refused ` +
        "(expired, wrong signature or claims; RFC 6750 3.1).";
    } else {
      text = `GET ${path}: ${r.status}.`;
    }
    say("said-call", text, r.status === 200 ? "ok" : "refused");
  }

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

  $("login-user1").addEventListener("click", () => login("user1", "password123"));
  $("login-admin").addEventListener("click", () => login("admin", "adminpassword"));
  $("call-protected").addEventListener("click", () => call("/protected", true));
  $("call-admin").addEventListener("click", () => call("/admin", true));
  $("call-none").addEventListener("click", () => call("/protected", false));
  $("refresh").addEventListener("click", refresh);
  $("replay").addEventListener("click", replay);
  $("logout").addEventListener("click", logout);
  document.body.dataset.ready = "1";
})();

// demo.mjs: drives the teaching demo page in Debian's headless chromium
// (playwright-core, no bundled browser) against running daemons:
//   node tests/e2e/demo.mjs '<json options>'
// options: auth, resource (URLs), name ("desktop"...), width, height,
// shots (directory for screenshots, optional), reload_pid (auth_service,
// for SIGHUP), perms_file (a permissions.json copy the test may change),
// rotate (argv of "jwt-admin ... keys rotate", env) when the run rotates
// the signing key, leeway (the resource service's --leeway, seconds; the
// test registered the demo-short client, 30 s access tokens).
// Every step of the page is clicked and its visible outcome checked: the
// resource origin taken from the running configuration, the readable
// token, 200 vs 403 with WWW-Authenticate across origins (CORS), refresh
// rotation, replay, logout, the RBAC matrix and live grid (and its change
// after a SIGHUP), every attack of the lab (a forged token never gets a
// 200 on any route), the JWKS before and after a key rotation, no
// horizontal overflow, the expiry lesson (200, then 401 "token expired"
// once exp + leeway has passed, then a refresh through POST /token that
// recovers: the wait is bounded by the token's own lifetime), and an axe-core accessibility check (no serious or
// critical violation). Exit status 0 when every check passed.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";

const opt = JSON.parse(process.argv[2] || "{}");
if (!opt.auth || !opt.resource) {
  console.error("usage: node demo.mjs '{\"auth\":URL,\"resource\":URL,...}'");
  process.exit(2);
}
const name = opt.name || "desktop";
const require = createRequire(import.meta.url);
const axeSource = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");

let passed = 0;
let failed = 0;
function check(ok, what) {
  if (ok) {
    passed++;
  } else {
    failed++;
    console.error(`FAIL [${name}] ${what}`);
  }
}

const profile = mkdtempSync(join(tmpdir(), "demo-chromium-"));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: "/usr/bin/chromium",
  headless: true,
  viewport: { width: opt.width || 1280, height: opt.height || 900 },
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
    "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync"],
});
const page = context.pages()[0] || await context.newPage();
const pageErrors = [];
page.on("pageerror", (err) => pageErrors.push(String(err)));
page.on("console", (msg) => {
  // The browser reports every 4xx as "Failed to load resource": the demo
  // provokes 401, 403 and 400 on purpose. Anything else is a fault, a
  // CSP violation included.
  if (msg.type() === "error" && !/Failed to load resource/.test(msg.text()))
    pageErrors.push(msg.text());
});

const text = async (sel) => (await page.locator(sel).textContent()) || "";
// Polled from node: the page's own scripts never need eval, and the
// checks read what a learner sees.
async function waitFor(get, pattern, what, timeout = 10000) {
  const deadline = Date.now() + timeout;
  let last = "";
  while (Date.now() < deadline) {
    last = await get();
    if (pattern.test(last)) {
      check(true, what);
      return last;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  check(false, `${what}: ${JSON.stringify(last)}`);
  return last;
}
const waitText = (sel, pattern, what, timeout) =>
  waitFor(() => text(sel), pattern, what, timeout);

// Clicks sel until the text of out matches (for answers that depend on a
// daemon catching up: a reload, a JWKS refetch), at most timeout ms.
async function clickUntil(sel, out, pattern, what, timeout = 15000) {
  const deadline = Date.now() + timeout;
  let last = "";
  while (Date.now() < deadline) {
    await page.click(sel);
    await new Promise((r) => setTimeout(r, 200));
    last = await text(out);
    if (pattern.test(last)) {
      check(true, what);
      return;
    }
  }
  check(false, `${what}: ${JSON.stringify(last)}`);
}

// Screenshots for the tutorial: every one at desktop width, the ones a
// phone changes most at phone width.
const PHONE_SHOTS = ["token", "rbac", "keys", "expiry"];
async function shot(sel, file) {
  if (!opt.shots) return;
  if (name === "phone" && !PHONE_SHOTS.some((s) => file.startsWith(`demo-${s}-`)))
    return;
  const target = sel ? page.locator(sel) : page;
  await target.screenshot({ path: join(opt.shots, file) });
}

// Nothing may stick out sideways: the page and every section fit.
async function noOverflow(where) {
  const over = await page.evaluate(() => {
    const bad = [];
    const doc = document.documentElement;
    if (doc.scrollWidth > doc.clientWidth + 1)
      bad.push(`page ${doc.scrollWidth} > ${doc.clientWidth}`);
    for (const s of document.querySelectorAll("section, header")) {
      if (s.scrollWidth > s.clientWidth + 1)
        bad.push(`${s.id || s.tagName}: ${s.scrollWidth} > ${s.clientWidth}`);
    }
    return bad;
  });
  check(over.length === 0, `no horizontal overflow ${where}: ${over.join(", ")}`);
}

const cell = (table, attrs) =>
  text(`#${table} td${Object.entries(attrs).map(([k, v]) =>
    `[data-${k}="${v}"]`).join("")}`);

try {
  // The page is opened exactly as a learner would: no ?resource=, so the
  // resource origin must come from the running configuration.
  const resp = await page.goto(`${opt.auth}/demo`);
  check(resp.status() === 200, "GET /demo is 200");
  const csp = resp.headers()["content-security-policy"] || "";
  check(/default-src 'none'/.test(csp) && csp.includes(opt.resource),
    `CSP allows the resource origin: ${csp}`);
  await page.waitForSelector("body[data-ready='1']", { timeout: 10000 });
  check(await page.inputValue("#resource-url") === opt.resource,
    `resource origin from the configuration: ${await page.inputValue("#resource-url")}`);
  check(/demo_resource_origin/.test(await text("#resource-source")),
    "the page says where the origin came from");
  // Keyboard: the first Tab reaches the skip link, which leads to the
  // steps; Enter on a focused button acts (checked with the form below).
  await page.keyboard.press("Tab");
  const focused = await page.evaluate(() => document.activeElement.textContent);
  check(/Skip to the steps/.test(focused), `first Tab: the skip link (${focused})`);
  await page.keyboard.press("Enter");
  // The navigation to #main lands after the key press returns: wait for
  // it (bounded) rather than read the URL at once.
  await waitFor(async () => page.url(), /#main$/,
    "the skip link leads to the steps");

  // 10 (started first, finished last: the 30 s token expires while the
  // other steps run): POST /token as demo-short, 200 while it is valid.
  await page.fill("#expiry-leeway", String(opt.leeway ?? 30));
  await page.focus("#expiry-login");
  await page.keyboard.press("Enter"); // a button works from the keyboard
  await waitText("#said-expiry", /POST \/token .*client_id=demo-short.*valid 30 s/,
    "expiry: logged in through POST /token as demo-short");
  await waitText("#expiry-status", /^200/, "expiry: 200 before exp");
  await waitText("#expiry-countdown", /^\d+ s$/, "expiry: the countdown runs");
  await waitText("#expiry-refused-in", /^\d+ s$/, "expiry: exp + leeway counts down");
  const expiryExp = Number((await text("#expiry-exp")).split(" ")[0]);
  check(expiryExp > Date.now() / 1000 && /expires_in 30 s/.test(await text("#expiry-exp")),
    `expiry: exp decoded, in the future: ${await text("#expiry-exp")}`);

  // 1-2: log in as user1; the token is decoded, coloured and counts down.
  await page.click("#login-user1");
  await waitText("#said-login", /Logged in as user1/, "user1 logged in");
  await waitText("#token-header", /"typ": "at\+jwt"/, "header decoded");
  await waitText("#token-claims", /read:data/, "claims decoded");
  await waitText("#countdown", /\d+ min \d+ s/, "countdown runs");
  check(/RFC 9068 2\.1/.test(await text("#said-token")), "token sentence cites RFC 9068");
  for (const part of ["part-h", "part-p", "part-s"])
    check(await page.locator(`#token-compact .${part}`).count() === 1,
      `compact token shows its ${part}`);
  const expRow = await text('#token-claims tr[data-claim="exp"] td');
  check(/^\d+ = \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC in 1[45] min$/.test(expRow),
    `exp as epoch, date and relative time: ${expRow}`);
  const iatRow = await text('#token-claims tr[data-claim="iat"] td');
  check(/UTC (now|\d+ s ago|in \d+ s)$/.test(iatRow), `iat relative: ${iatRow}`);
  const firstToken = await page.locator("#token-compact").textContent();
  const firstKid = JSON.parse(await text("#token-header")).kid;

  // 3: 200 on /protected, 403 on /admin with the challenge, 401 bare.
  await page.click("#call-protected");
  await waitText("#result-status", /^200/, "/protected is 200 for user1");
  await waitText("#result-body", /"data": \[\s*1,\s*2,\s*3,\s*4,\s*5\s*\]/, "/protected body");
  await page.click("#call-admin");
  await waitText("#result-status", /^403/, "/admin is 403 for user1");
  await waitText("#result-www", /error="insufficient_scope".*scope="read:admin_panel"/,
    "403 challenge readable across origins");
  await waitText("#result-body", /"required": "read:admin_panel"/, "403 body");
  check(/RFC 6750 3\.1/.test(await text("#said-call")), "403 sentence cites RFC 6750");
  await noOverflow("with the 403 shown");
  await shot("#step-token", `demo-token-${name}.png`);
  await shot("#step-call", `demo-403-${name}.png`);
  await page.click("#call-none");
  await waitText("#result-status", /^401/, "no token is 401");
  await waitText("#result-www", /^Bearer realm="resource_service"$/, "bare challenge");

  // 8 (first, while user1's session is live): every attack, on every route.
  const attacks = {
    payload: /token signature is invalid/,
    none: /malformed token|token algorithm not accepted/,
    hs256: /token algorithm not accepted/,
    kid: /token signed by an unknown key/,
    aud: /token signature is invalid|token audience not accepted/,
    exp: /token signature is invalid|token expired/,
    jwk: /token header not accepted/,
  };
  for (const [attack, reason] of Object.entries(attacks)) {
    await page.click(`#attack-${attack}`);
    const row = `#attack-summary tr[data-attack="${attack}"]`;
    await page.waitForSelector(row, { timeout: 20000 }).catch(() => {});
    const granted = await page.locator(row).getAttribute("data-granted");
    const answers = await text(`${row} td:nth-of-type(1)`);
    check(granted === "0", `${attack}: no route granted it (${answers})`);
    check(/GET \/protected: 401/.test(answers) && /GET \/admin: 401/.test(answers) &&
      /DELETE \/admin\/users: 401/.test(answers) && !/\b200\b/.test(answers),
    `${attack}: 401 on every route: ${answers}`);
    const why = await text(`${row} td:nth-of-type(2)`);
    check(reason.test(why), `${attack}: the verifier's reason: ${why}`);
    check(/RFC 8725 3\.\d+/.test(await text("#attack-rule")), `${attack}: RFC 8725 clause`);
    check(/error_description=/.test(await text("#attack-reason")),
      `${attack}: the challenge is shown`);
    console.log(`[${name}] ${attack}: ${answers} | ${why}`);
    if (attack === "hs256")
      check(/the PEM of published key/.test(await text("#attack-claims")),
        "hs256: the HMAC key is the published key's PEM");
  }
  check(await page.locator("#attack-summary tbody tr").count() === 7, "seven attacks listed");
  await noOverflow("with the attack lab filled");
  await shot("#step-attacks", `demo-attacks-${name}.png`);
  // Positive control: the same path with the real token does get a 200,
  // so the refusals above are the verifier's, not the page's.
  await page.fill("#own-token", firstToken);
  await page.click("#own-send");
  await waitText("#own-answers", /GET \/protected: 200; GET \/admin: 403/,
    "the unforged token: 200 and 403");

  // 4: refresh rotates the refresh token.
  await page.click("#refresh");
  await waitText("#said-refresh", /RFC 9700 4\.14\.2/, "refresh rotated");
  const oldTok = await text("#refresh-old");
  const newTok = await text("#refresh-new");
  check(oldTok !== "-" && newTok !== "-" && oldTok !== newTok,
    "previous and current refresh tokens differ");

  // 5: replaying the old one revokes the family: the newest fails too.
  await page.click("#replay");
  await waitText("#replay-status", /^400 invalid_grant/, "replay refused");
  await waitText("#replay-newest", /^400 invalid_grant/, "family revoked");
  check(/revoked its whole family/.test(await text("#said-replay")),
    "replay sentence explains the family");

  // An admin gets 200 on /admin.
  await page.click("#login-admin");
  await waitText("#said-login", /Logged in as admin/, "admin logged in");
  await page.click("#call-admin");
  await waitText("#result-status", /^200/, "/admin is 200 for admin");

  // 6: logout.
  await page.click("#logout");
  await waitText("#said-logout", /Logout: 200.*RFC 7009/, "logout");

  // 7: the RBAC model from the running configuration, then asked live.
  await page.click("#rbac-load");
  await waitText("#said-rbac", /3 roles and 3 protected routes/, "RBAC read");
  check(/✗/.test(await cell("rbac-matrix", { role: "user", route: "GET /admin" })),
    "matrix: user does not reach GET /admin");
  check(/✓/.test(await cell("rbac-matrix", { role: "moderator", route: "GET /admin" })),
    "matrix: moderator reaches GET /admin");
  check(/✓/.test(await cell("rbac-matrix", { role: "admin", route: "DELETE /admin/users" })),
    "matrix: admin reaches DELETE /admin/users");
  await page.fill("#grid-user", "nobody");
  await page.fill("#grid-pass", "not-the-password");
  await page.press("#grid-pass", "Enter"); // the form works from the keyboard
  await waitText("#said-rbac", /nobody joins the grid/, "a user added to the grid");
  await page.click("#grid-fill");
  await waitText("#said-rbac", /for 3 users/, "grid filled");
  const grid = {
    "user1|GET /protected": "200", "user1|GET /admin": "403",
    "user1|DELETE /admin/users": "403", "admin|GET /protected": "200",
    "admin|GET /admin": "200", "admin|DELETE /admin/users": "200",
  };
  for (const [k, want] of Object.entries(grid)) {
    const [user, route] = k.split("|");
    check(await cell("rbac-grid", { user, route }) === want, `grid ${k} is ${want}`);
  }
  check(/login 401/.test(await text("#rbac-grid")), "a wrong password shows as login 401");
  await noOverflow("with the RBAC grid");
  await shot("#step-rbac", `demo-rbac-${name}.png`);

  if (opt.perms_file && opt.reload_pid) {
    // The tutorial's lesson: a role gains a permission, SIGHUP, ask again.
    const perms = JSON.parse(readFileSync(opt.perms_file, "utf8"));
    perms.roles.user.permissions.push("read:admin_panel");
    writeFileSync(opt.perms_file, JSON.stringify(perms));
    process.kill(opt.reload_pid, "SIGHUP");
    await clickUntil("#grid-fill", '#rbac-grid td[data-user="user1"][data-route="GET /admin"]',
      /^200$/, "after the change and SIGHUP user1 gets 200 on GET /admin");
    check(/✓/.test(await cell("rbac-matrix", { role: "user", route: "GET /admin" })),
      "matrix: user now reaches GET /admin");
  }

  // 9: the published keys; with rotate, a second key, the old token still
  // verifying and a new token signed by the new key.
  await page.click("#login-user1");
  await waitText("#said-login", /Logged in as user1/, "user1 logged in again");
  await page.click("#keys-load");
  await waitText("#said-keys", /1 key\(s\) published/, "one key published");
  check(/signs new tokens/.test(await text(`#keys-table tr[data-kid="${firstKid}"]`)),
    "the token's kid is the signing key");
  if (opt.rotate) {
    execFileSync(opt.rotate.argv[0], opt.rotate.argv.slice(1),
      { env: { ...process.env, ...opt.rotate.env }, stdio: "pipe" });
    process.kill(opt.reload_pid, "SIGHUP");
    await clickUntil("#keys-load", "#said-keys", /2 key\(s\) published/,
      "after rotate and SIGHUP the JWKS lists two keys");
    check(/verifies only/.test(await text(`#keys-table tr[data-kid="${firstKid}"]`)),
      "the old key verifies only");
    await page.click("#keys-check");
    await waitText("#said-keys", /: 200\. /, "the token signed before the rotation still verifies");
    await page.click("#login-user1");
    const kidNow = async () => JSON.parse(await text("#token-header")).kid;
    const newKid = await waitFor(kidNow, new RegExp(`^(?!${firstKid}$)`),
      "the new token names the new key");
    // The verifier follows the JWKS: the first request with the new kid
    // may be refused while it refetches; then both tokens verify.
    await clickUntil("#keys-check", "#said-keys", /^GET \/protected: token by .*: 200; token by .*: 200\. /,
      "old and new tokens both verify", 40000);
    await page.click("#keys-load");
    await waitText(`#keys-table tr[data-kid="${newKid}"]`, /signs new tokens.*your current token/,
      "the new key signs the current token");
    await shot("#step-keys", `demo-keys-${name}.png`);
  }
  // 10, continued: at exp + leeway the page asks again by itself and
  // shows the 401; the wait is bounded by the token's remaining life.
  const untilRefused = (expiryExp + (opt.leeway ?? 30)) * 1000 - Date.now();
  await waitText("#expiry-status", /^401 .*invalid_token: token expired/,
    "expiry: 401 invalid_token \"token expired\" at zero",
    Math.max(untilRefused, 0) + 10000);
  await waitText("#expiry-www", /^Bearer realm="resource_service", error="invalid_token", error_description="token expired"$/,
    "expiry: the WWW-Authenticate challenge says why");
  check(await text("#expiry-countdown") === "expired", "expiry: the countdown shows expired");
  check(/RFC 7519 4\.1\.4/.test(await text("#said-expiry")), "expiry: sentence cites RFC 7519");
  await noOverflow("with the 401 of the expiry lesson");
  await shot("#step-expiry", `demo-expiry-${name}.png`);
  await page.click("#expiry-refresh");
  await waitText("#expiry-status", /^200/, "expiry: the refresh recovers (200 again)");
  await waitText("#expiry-countdown", /^\d+ s$/, "expiry: a new countdown");
  check(Number((await text("#expiry-exp")).split(" ")[0]) > expiryExp,
    "expiry: the refreshed token has a later exp");
  check(/grant_type=refresh_token/.test((await page.locator("#log li").allTextContents()).join("\n")),
    "expiry: the log shows the refresh through POST /token");

  await noOverflow("at the end");
  check((await page.locator("#log li").count()) >= 20, "the log lists the steps");


  // Accessibility: axe-core on the filled page; serious and critical
  // violations fail.
  await page.evaluate(axeSource);
  const result = await page.evaluate(async () => {
    const r = await window.axe.run(document, {
      runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"] },
    });
    if (r.passes.length < 20) return [{ id: "axe ran too few rules", impact: "critical", n: r.passes.length, where: [] }];
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, n: v.nodes.length,
      where: v.nodes.slice(0, 3).map((x) => x.target.join(" ")) }));
  });
  const serious = result.filter((v) => v.impact === "serious" || v.impact === "critical");
  check(serious.length === 0, `axe: no serious violation: ${JSON.stringify(serious)}`);
  for (const v of result.filter((x) => !serious.includes(x)))
    console.log(`axe [${name}] ${v.impact}: ${v.id} x${v.n} ${v.where.join(", ")}`);
  check(pageErrors.length === 0, `no page errors: ${pageErrors.join(" | ")}`);
} catch (e) {
  check(false, `unexpected: ${e && e.stack ? e.stack : e}`);
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}

console.log(`demo e2e [${name}]: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);

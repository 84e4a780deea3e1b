// demo.mjs: drives the teaching demo page in Debian's headless chromium
// (playwright-core, no bundled browser) against running daemons:
//   node tests/e2e/demo.mjs <auth_url> <resource_url> [screenshot.png]
// Every step of the page is clicked and its visible outcome checked: the
// decoded token, 200 vs 403 with WWW-Authenticate across origins (CORS),
// refresh rotation, the replayed token revoking its family, logout.
// Exit status 0 when every check passed.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";

const [authUrl, resourceUrl, screenshot] = process.argv.slice(2);
if (!authUrl || !resourceUrl) {
  console.error("usage: node demo.mjs AUTH_URL RESOURCE_URL [SCREENSHOT]");
  process.exit(2);
}

let passed = 0;
let failed = 0;
function check(ok, what) {
  if (ok) {
    passed++;
  } else {
    failed++;
    console.error(`FAIL ${what}`);
  }
}

const profile = mkdtempSync(join(tmpdir(), "demo-chromium-"));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: "/usr/bin/chromium",
  headless: true,
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

const text = (sel) => page.locator(sel).innerText();
// Polled from node, never evaluated in the page: the page's CSP allows
// no eval, and the test must not need it to.
async function waitText(sel, pattern, what) {
  const deadline = Date.now() + 10000;
  let last = "";
  while (Date.now() < deadline) {
    last = (await page.locator(sel).textContent()) || "";
    if (pattern.test(last)) {
      check(true, what);
      return;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  check(false, `${what}: ${sel} = ${JSON.stringify(last)}`);
}

try {
  const resp = await page.goto(
    `${authUrl}/demo?resource=${encodeURIComponent(resourceUrl)}`);
  check(resp.status() === 200, "GET /demo is 200");
  const csp = resp.headers()["content-security-policy"] || "";
  check(/default-src 'none'/.test(csp) && csp.includes(resourceUrl),
    `CSP allows the resource origin: ${csp}`);
  await page.waitForSelector("body[data-ready='1']", { timeout: 10000 });

  // 1-2: log in as user1; the token is decoded and counts down.
  await page.click("#login-user1");
  await waitText("#said-login", /Logged in as user1/, "user1 logged in");
  await waitText("#token-header", /"typ": "at\+jwt"/, "header decoded");
  await waitText("#token-claims", /"read:data"/, "claims decoded");
  await waitText("#countdown", /\d+ min \d+ s/, "countdown runs");
  check(/RFC 9068 2\.1/.test(await text("#said-token")), "token sentence cites RFC 9068");

  // 3: 200 on /protected, 403 on /admin with the challenge, 401 bare.
  await page.click("#call-protected");
  await waitText("#result-status", /^200/, "/protected is 200 for user1");
  await waitText("#result-body", /"data":\[1,2,3,4,5\]/, "/protected body");
  await page.click("#call-admin");
  await waitText("#result-status", /^403/, "/admin is 403 for user1");
  await waitText("#result-www", /error="insufficient_scope".*scope="read:admin_panel"/,
    "403 challenge readable across origins");
  check(/RFC 6750 3\.1/.test(await text("#said-call")), "403 sentence cites RFC 6750");
  await page.click("#call-none");
  await waitText("#result-status", /^401/, "no token is 401");
  await waitText("#result-www", /^Bearer realm="resource_service"$/, "bare challenge");

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
  check((await page.locator("#log li").count()) >= 10, "the log lists the steps");

  if (screenshot) await page.screenshot({ path: screenshot, fullPage: true });
  check(pageErrors.length === 0, `no page errors: ${pageErrors.join(" | ")}`);
} catch (e) {
  check(false, `unexpected: ${e && e.stack ? e.stack : e}`);
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}

console.log(`demo e2e: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);

// End to end in Debian's Chromium (playwright-core drives /usr/bin/chromium; no browser is ever
// downloaded): the demo page of `sessionkit serve --demo`, against the real binary over a fresh
// SQLite database, the page running this package's SessionClient (served by the server from
// --demo-package, this directory once built). Two browser contexts sign in as the same user (two
// devices) and see each other; each edits its state (versions shown); one edits offline while the
// app's backend (the admin API) writes the same session's state, and the page shows the merge the
// client reports; one context revokes the other, which shows it is signed out within a heartbeat.
//   SESSIONKIT_BIN=../target/debug/sessionkit node --test e2e/server-demo.e2e.mjs
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const BIN = process.env.SESSIONKIT_BIN;
/** The built package (this directory: src/ and dist/wasm/). */
const PACKAGE = fileURLToPath(new URL('..', import.meta.url));
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const ARGS = [
  '--no-sandbox', '--headless', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];
const HEARTBEAT_MS = 500;
/** "Within a few heartbeats": how long a revoked window may take to show it is signed out. */
const SIGNED_OUT_WITHIN_MS = 6 * HEARTBEAT_MS;
const TIMEOUT = 15_000;
/** A copy of the screenshot for people to look at (git-ignored, like the other e2e's). */
const SCREENSHOT_COPY = fileURLToPath(new URL('./screenshots/server-demo.png', import.meta.url));
const USER = 'alice';

let dir;
let server;
let browser;
const windows = [];
const servers = [];

before(async () => {
  assert.ok(BIN, 'the sessionkit binary: pass its path in SESSIONKIT_BIN');
  assert.ok(existsSync(path.join(PACKAGE, 'dist/wasm/sessionkit_wasm_bg.wasm')), 'build the package first: npm run build');
  assert.ok(existsSync(BIN), `no sessionkit binary at ${BIN}`);
  dir = mkdtempSync(path.join(tmpdir(), 'sessionkit-server-demo-'));
  server = await startServer(dir, 'sessionkit');
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS, headless: true });
});

after(async () => {
  await browser?.close();
  for (const s of servers) {
    if (s.exit === null) {
      process.kill(s.pid, 'SIGKILL');
      await s.exited;
    }
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/**
 * Starts `sessionkit serve --demo` (with this package unless `withPackage` is false) on a free
 * port over `<name>.db` in `workDir`; resolves once it
 * printed its listening line, with `{ url, pid, exited (a promise of {code, signal}), exit, stderr() }`.
 */
function startServer(workDir, name, extraArgs = [], withPackage = true) {
  const child = spawn(path.resolve(BIN), [
    '--db', path.join(workDir, `${name}.db`),
    'serve', '--listen', '127.0.0.1:0', '--demo', ...(withPackage ? ['--demo-package', PACKAGE] : []),
    '--heartbeat-ms', String(HEARTBEAT_MS),
    '--admin-key-file', path.join(workDir, `${name}.admin-key`),
    ...extraArgs,
  ], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk) => { stderr += chunk; });
  const handle = {
    pid: child.pid,
    adminKeyFile: path.join(workDir, `${name}.admin-key`),
    exit: null,
    stderr: () => stderr,
    exited: new Promise((resolve) => {
      child.on('exit', (code, signal) => {
        handle.exit = { code, signal };
        resolve(handle.exit);
      });
    }),
  };
  servers.push(handle);
  const lines = readline.createInterface({ input: child.stdout });
  return new Promise((resolve, reject) => {
    const fail = (err) => {
      if (handle.exit === null) child.kill('SIGKILL');
      reject(err);
    };
    const timer = setTimeout(() => fail(new Error(`no listening line within ${TIMEOUT} ms:\n${stderr}`)), TIMEOUT);
    lines.once('line', (line) => {
      clearTimeout(timer);
      const match = /^listening on (http:\/\/127\.0\.0\.1:\d+)$/.exec(line);
      if (match) {
        handle.url = match[1];
        resolve(handle);
      } else {
        fail(new Error(`unexpected first line: ${JSON.stringify(line)}`));
      }
    });
    lines.on('line', () => {}); // keep draining stdout
    child.once('error', reject);
    handle.exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`the server exited early (${code ?? signal}):\n${stderr}`));
    });
  });
}

/** Collects uncaught page errors and console errors, but for the statuses these tests cause. */
function watch(page) {
  const problems = [];
  page.on('pageerror', (err) => problems.push(`pageerror: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() !== 'error') return;
    // Chromium logs every failed fetch: 401 (signed out), 409 (a conflict), offline.
    if (/Failed to load resource: the server responded with a status of (401|409)\b/.test(msg.text())) return;
    if (/ERR_INTERNET_DISCONNECTED|ERR_CONNECTION_REFUSED|ERR_NETWORK_CHANGED/.test(msg.text())) return;
    problems.push(`console.error: ${msg.text()}`);
  });
  return problems;
}

/** A new browser context (a device of its own) with the page loaded. */
async function openWindow(url = server.url) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  context.setDefaultTimeout(TIMEOUT);
  const page = await context.newPage();
  const win = { context, page, problems: watch(page) };
  windows.push(win);
  await page.goto(`${url}/`);
  await page.locator('body[data-ready="true"]').waitFor({ state: 'attached' });
  return win;
}

async function signIn(page, user, device) {
  await page.locator('#sign-in-view').waitFor();
  await page.fill('#user-id', user);
  await page.fill('#device-name', device);
  await page.click('#sign-in');
  await page.locator('#app-view').waitFor();
  await page.locator('#connection-state[data-state="connected"]').waitFor();
}

/** Writes session `id`'s state through the admin API, as the app's backend would. */
async function adminPut(id, data) {
  const key = readFileSync(server.adminKeyFile, 'utf8').trim();
  const response = await fetch(`${server.url}/v1/admin/sessions/${id}/state`, {
    method: 'PUT',
    headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ data }),
  });
  const text = await response.text();
  assert.equal(response.status, 200, text);
  return JSON.parse(text).version;
}

const deviceCount = (page, n) => page.locator(`#devices[data-count="${n}"]`).waitFor({ state: 'attached' });
const row = (page, device) => page.locator(`#devices tr[data-device="${device}"]`);
const editorState = async (page) => JSON.parse(await page.inputValue('#state-json'));

async function edit(page, button, json) {
  await page.fill('#state-json', json);
  await page.click(button);
}

let a;
let b;

test('the page loads the package from the server: JavaScript and wasm with their content types', async () => {
  const js = await fetch(`${server.url}/demo/pkg/src/browser.js`);
  assert.equal(js.status, 200);
  assert.match(js.headers.get('content-type'), /^text\/javascript\b/);
  const wasm = await fetch(`${server.url}/demo/pkg/dist/wasm/sessionkit_wasm_bg.wasm`);
  assert.equal(wasm.status, 200);
  assert.equal(wasm.headers.get('content-type'), 'application/wasm');
  assert.equal((await fetch(`${server.url}/demo/pkg/package.json`)).status, 404);
});

test('two windows signed in as the same user each see both devices, live', async () => {
  a = await openWindow();
  b = await openWindow();
  await a.page.getByText('demo — anyone can sign in as anyone').waitFor();

  await signIn(a.page, USER, 'window A');
  await deviceCount(a.page, 1);
  await signIn(b.page, USER, 'window B');
  // A sees B without reloading anything.
  for (const win of [a, b]) {
    await deviceCount(win.page, 2);
    assert.equal(await win.page.locator('#device-count').innerText(), '2');
  }
  assert.equal(await row(a.page, 'window A').getAttribute('data-current'), 'true');
  assert.equal(await row(a.page, 'window A').locator('button.revoke').count(), 0, 'no revoke button on this device');
  assert.equal(await row(a.page, 'window B').locator('button.revoke').count(), 1);
  assert.equal(await row(b.page, 'window B').getAttribute('data-current'), 'true');

  const idA = await a.page.locator('#session-id').innerText();
  const idB = await b.page.locator('#session-id').innerText();
  assert.notEqual(idA, idB);
  assert.equal(await row(b.page, 'window A').getAttribute('data-session-id'), idA);
  assert.match(await a.page.locator('#session-expires').innerText(), /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \(in /);
  // The client's events and metrics are on the page.
  await a.page.locator('#event-log li[data-event="connection_established"]').waitFor({ state: 'attached' });
  assert.match(await a.page.locator('#metrics dd[data-metric="syncs"]').innerText(), /^\d+$/);
});

let screenshot;

test('edits in both windows are synchronized with their versions; an offline edit merges with a backend write', async (t) => {
  await edit(a.page, '#state-put', '{"theme": "dark"}');
  await a.page.locator('#state-version', { hasText: /^1$/ }).waitFor();
  await a.page.locator('#state-message', { hasText: 'Synchronized: the server has version 1.' }).waitFor();
  await edit(b.page, '#state-put', '{"theme": "light", "tabs": ["inbox"]}');
  await b.page.locator('#state-version', { hasText: /^1$/ }).waitFor();
  await edit(b.page, '#state-patch', '{"tabs": ["inbox", "drafts"]}');
  await b.page.locator('#state-version', { hasText: /^2$/ }).waitFor();
  assert.deepEqual(await editorState(b.page), { theme: 'light', tabs: ['inbox', 'drafts'] });

  // A goes offline and edits: applied locally at once, one change pending.
  await a.context.setOffline(true);
  await a.page.locator('#event-log li[data-event="connection_lost"]').waitFor({ state: 'attached' });
  await edit(a.page, '#state-patch', '{"font": "large"}');
  await a.page.locator('#state-pending[data-count="1"]').waitFor();
  assert.deepEqual(await editorState(a.page), { theme: 'dark', font: 'large' });
  // Meanwhile the app's backend writes A's state (version 2).
  const idA = await a.page.locator('#session-id').innerText();
  assert.equal(await adminPut(idA, { theme: 'dark', plan: 'pro' }), 2);

  // Back online: the client reports the conflict it settled by merging, and version 3.
  const online = Date.now();
  await a.context.setOffline(false);
  await a.page.locator('#state-conflict[data-resolution="merge"]').waitFor();
  await a.page.locator('#state-version', { hasText: /^3$/ }).waitFor();
  t.diagnostic(`merged and synchronized ${Date.now() - online} ms after coming back online`);
  assert.deepEqual(await editorState(a.page), { theme: 'dark', plan: 'pro', font: 'large' });
  await a.page.locator('#state-pending[data-count="0"]').waitFor({ state: 'attached' });
  await a.page.locator('#event-log li[data-event="sync_conflict"]').waitFor({ state: 'attached' });
  await a.page.locator('#metrics dd[data-metric="conflicts"]', { hasText: /^1$/ }).waitFor();
  // B's state is its own session's: untouched.
  assert.deepEqual(await editorState(b.page), { theme: 'light', tabs: ['inbox', 'drafts'] });

  screenshot = path.join(dir, 'server-demo.png');
  await a.page.screenshot({ path: screenshot, fullPage: true });
});

test('revoking a device from the other signs it out within a heartbeat (auth_required)', async (t) => {
  const started = Date.now();
  await row(b.page, 'window A').locator('button.revoke').click();
  await a.page
    .locator('#signed-out', { hasText: 'signed out (revoked)' })
    .waitFor({ timeout: SIGNED_OUT_WITHIN_MS });
  t.diagnostic(`window A showed "signed out (revoked)" ${Date.now() - started} ms after the click`);
  await a.page.locator('#sign-in-view').waitFor();
  assert.equal(await a.page.locator('#app-view').isVisible(), false);
  await a.page.locator('#event-log li[data-event="auth_required"]').waitFor({ state: 'attached' });

  await deviceCount(b.page, 1);
  await b.page.getByText('Revoked window A.').waitFor();
  assert.equal(await b.page.locator('#connection-state').getAttribute('data-state'), 'connected');
});

test('the screenshot is a real PNG of the page', () => {
  assert.ok(screenshot, 'the state test took the screenshot');
  const png = readFileSync(screenshot);
  assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'PNG signature');
  assert.equal(png.subarray(12, 16).toString('latin1'), 'IHDR');
  const width = png.readUInt32BE(16);
  const height = png.readUInt32BE(20);
  assert.equal(width, 1280);
  assert.ok(height >= 900, `height ${height}`);
  assert.ok(statSync(screenshot).size > 30 * 1024, `only ${statSync(screenshot).size} bytes`);
  mkdirSync(path.dirname(SCREENSHOT_COPY), { recursive: true });
  copyFileSync(screenshot, SCREENSHOT_COPY);
});

test('SIGTERM stops the server with exit code 0; the open page starts reconnecting', async () => {
  assert.equal(await b.page.locator('#connection-state').getAttribute('data-state'), 'connected');
  process.kill(server.pid, 'SIGTERM');
  const { code, signal } = await server.exited;
  assert.equal(signal, null, server.stderr());
  assert.equal(code, 0, server.stderr());
  await b.page.locator('#connection-state[data-state="reconnecting"]').waitFor({ state: 'attached' });
  await b.page.locator('#event-log li[data-event="connection_lost"]').waitFor({ state: 'attached' });
  for (const win of windows) assert.deepEqual(win.problems, []);
});

test('without a built package the page and stderr say how to build it', async () => {
  const bare = await startServer(dir, 'bare', [], false);
  const html = await (await fetch(`${bare.url}/`)).text();
  assert.match(html, /This demo cannot start: the demo page needs the built npm package.*scripts\/demo\.sh/s);
  process.kill(bare.pid, 'SIGTERM');
  assert.deepEqual(await bare.exited, { code: 0, signal: null }, bare.stderr());
  assert.match(bare.stderr(), /needs the built npm package.*scripts\/demo\.sh/s);
});

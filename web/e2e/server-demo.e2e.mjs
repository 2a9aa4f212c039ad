// End to end in Debian's Chromium (playwright-core drives /usr/bin/chromium; no browser is ever
// downloaded): the demo page of `sessionkit serve --demo`, against the real binary over a fresh
// SQLite database. Two browser contexts sign in as the same user (two devices), see each other
// live, one revokes the other, and two tabs of one device race a state write into a conflict.
//   SESSIONKIT_BIN=../target/debug/sessionkit node --test e2e/server-demo.e2e.mjs
//   node e2e/server-demo.e2e.mjs ../target/debug/sessionkit
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const BIN = process.env.SESSIONKIT_BIN || process.argv[2];
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
  assert.ok(BIN, 'the sessionkit binary: pass its path as the first argument or in SESSIONKIT_BIN');
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
 * Starts `sessionkit serve --demo` on a free port over `<name>.db` in `workDir`; resolves once it
 * printed its listening line, with `{ url, pid, exited (a promise of {code, signal}), exit, stderr() }`.
 */
function startServer(workDir, name, extraArgs = []) {
  const child = spawn(path.resolve(BIN), [
    '--db', path.join(workDir, `${name}.db`),
    'serve', '--listen', '127.0.0.1:0', '--demo',
    '--heartbeat-ms', String(HEARTBEAT_MS),
    '--admin-key-file', path.join(workDir, `${name}.admin-key`),
    ...extraArgs,
  ], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk) => { stderr += chunk; });
  const handle = {
    pid: child.pid,
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
    // Chromium logs every non-2xx fetch; 401 (signed out) and 409 (conflict) are expected here.
    if (/Failed to load resource: the server responded with a status of (401|409)\b/.test(msg.text())) return;
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
  await page.locator('#stream-status[data-state="live"]').waitFor();
}

const deviceCount = (page, n) => page.locator(`#devices[data-count="${n}"]`).waitFor({ state: 'attached' });
const row = (page, device) => page.locator(`#devices tr[data-device="${device}"]`);

let a;
let b;

test('two windows signed in as the same user each see both devices, live', async () => {
  a = await openWindow();
  b = await openWindow();
  await a.page.getByText('demo — anyone can sign in as anyone').waitFor();

  await signIn(a.page, USER, 'window A');
  await deviceCount(a.page, 1);
  await signIn(b.page, USER, 'window B');

  // A learns of B from the event stream, without reloading anything itself.
  await a.page.locator('#event-log li[data-event="created"]').waitFor();
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

  // The token is in sessionStorage only, and never in a URL the page requested.
  const token = await a.page.evaluate(() => sessionStorage.getItem('sessionkit-demo.token'));
  assert.match(token, /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
  assert.ok(token.startsWith(`${idA}.`));
});

test('revoking a device from the other signs it out within a few heartbeats', async (t) => {
  const started = Date.now();
  await row(b.page, 'window A').locator('button.revoke').click();
  await a.page
    .locator('#signed-out', { hasText: 'signed out (revoked)' })
    .waitFor({ timeout: SIGNED_OUT_WITHIN_MS });
  t.diagnostic(`window A showed "signed out (revoked)" ${Date.now() - started} ms after the click`);
  await a.page.locator('#sign-in-view').waitFor();
  assert.equal(await a.page.locator('#app-view').isVisible(), false);
  assert.equal(await a.page.evaluate(() => sessionStorage.getItem('sessionkit-demo.token')), null);

  await deviceCount(b.page, 1);
  await b.page.getByText('Revoked window A.').waitFor();
  await b.page.locator('#event-log li[data-event="revoked"]').waitFor();
  assert.equal(await b.page.locator('#stream-status').getAttribute('data-state'), 'live');
});

let screenshot;

test('a stale save in another tab of the same device is a conflict; the server\'s version loads', async () => {
  const { page } = b;
  await page.locator('#state-message', { hasText: 'No state yet' }).waitFor();
  assert.equal(await page.locator('#state-version').innerText(), '0');
  await page.fill('#state-json', '{"theme": "dark", "tabs": ["inbox"]}');
  await page.click('#state-save');
  await page.locator('#state-message', { hasText: 'Saved version 1.' }).waitFor();
  assert.equal(await page.locator('#state-version').innerText(), '1');

  // A second tab of window B: it starts with a copy of B's sessionStorage, so the same session.
  const [tab] = await Promise.all([b.context.waitForEvent('page'), page.click('#open-tab')]);
  const tabProblems = watch(tab);
  await tab.locator('body[data-ready="true"]').waitFor({ state: 'attached' });
  await tab.locator('#app-view').waitFor();
  assert.equal(await tab.locator('#session-id').innerText(), await page.locator('#session-id').innerText());
  await tab.locator('#state-version', { hasText: /^1$/ }).waitFor();
  await deviceCount(tab, 1);

  // The tab starts an edit from version 1; meanwhile window B saves version 2.
  await tab.fill('#state-json', '{"theme": "light"}');
  await tab.locator('#state-dirty', { hasText: 'based on version 1' }).waitFor();
  await page.fill('#state-json', '{"theme": "blue", "tabs": ["inbox", "drafts"]}');
  await page.click('#state-save');
  await page.locator('#state-message', { hasText: 'Saved version 2.' }).waitFor();

  // The tab hears of it (state_changed) and keeps the edit, warning that it is stale…
  await tab.locator('#state-remote', { hasText: 'Version 2 was saved elsewhere' }).waitFor();
  assert.equal(await tab.inputValue('#state-json'), '{"theme": "light"}');
  // …and saving it anyway is a 409 that changes nothing.
  await tab.click('#state-save');
  await tab
    .locator('#state-conflict', { hasText: 'Conflict: the server has version 2, your edit was based on version 1. Nothing was saved.' })
    .waitFor();
  assert.equal(await tab.locator('#state-version').innerText(), '1');
  assert.equal(await tab.locator('#state-remote').isVisible(), false, 'the conflict replaces the stale-edit notice');

  screenshot = path.join(dir, 'server-demo.png');
  await tab.screenshot({ path: screenshot, fullPage: true });

  // Load the server's version (it came with the 409 answer).
  await tab.click('#state-load-server');
  await tab.locator('#state-version', { hasText: /^2$/ }).waitFor();
  assert.deepEqual(JSON.parse(await tab.inputValue('#state-json')), { theme: 'blue', tabs: ['inbox', 'drafts'] });
  assert.equal(await tab.locator('#state-conflict').isVisible(), false);

  // With no edit in progress, a change made elsewhere reloads the editor by itself.
  await page.fill('#state-json', '{"theme": "green"}');
  await page.click('#state-save');
  await page.locator('#state-message', { hasText: 'Saved version 3.' }).waitFor();
  await tab.locator('#state-version', { hasText: /^3$/ }).waitFor();
  await tab.locator('#state-message', { hasText: 'Reloaded: version 3 was saved elsewhere.' }).waitFor();
  assert.deepEqual(JSON.parse(await tab.inputValue('#state-json')), { theme: 'green' });
  assert.equal(await tab.locator('#event-log li[data-event="state_changed"]').count(), 2);

  await tab.close();
  assert.deepEqual(tabProblems, []);
});

test('the screenshot is a real PNG of the page', () => {
  assert.ok(screenshot, 'the conflict test took the screenshot');
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

test('SIGTERM stops the server with exit code 0, ending the open event stream', async () => {
  // Window B still follows its stream: shutdown must end it, and the page starts reconnecting.
  assert.equal(await b.page.locator('#stream-status').getAttribute('data-state'), 'live');
  process.kill(server.pid, 'SIGTERM');
  const { code, signal } = await server.exited;
  assert.equal(signal, null, server.stderr());
  assert.equal(code, 0, server.stderr());
  await b.page.locator('#stream-status[data-state="reconnecting"]').waitFor({ state: 'attached' });
  // It retries with a growing delay: the first two attempts are logged with their waits.
  const retries = b.page.locator('#event-log li[data-event="disconnected"]');
  await retries.nth(1).waitFor();
  const waits = await retries.evaluateAll((items) => items.reverse().map((li) => JSON.parse(li.querySelector('code').textContent).retry_in_ms));
  assert.ok(waits[1] > waits[0], `retry delays ${waits}`);

  for (const win of windows) {
    // After the shutdown only B's reconnect attempts may fail to reach the server.
    const problems = win.problems.filter((p) => !/ERR_CONNECTION_REFUSED/.test(p));
    assert.deepEqual(problems, []);
  }
});

test('an idle window is signed out (expired) by a heartbeat: an open page does not keep its session alive', async (t) => {
  const IDLE_MS = 2_000;
  const idle = await startServer(dir, 'idle', ['--idle-timeout-ms', String(IDLE_MS), '--touch-interval-ms', '200']);
  const win = await openWindow(idle.url);
  const started = Date.now();
  await signIn(win.page, 'bob', 'idle window');
  await deviceCount(win.page, 1);
  // Nothing happens on the page; no event announces an idle expiry, the heartbeat finds it.
  await win.page
    .locator('#signed-out', { hasText: 'signed out (expired)' })
    .waitFor({ timeout: IDLE_MS + SIGNED_OUT_WITHIN_MS });
  const elapsed = Date.now() - started;
  t.diagnostic(`the idle window showed "signed out (expired)" ${elapsed} ms after signing in (idle timeout ${IDLE_MS} ms)`);
  assert.ok(elapsed >= IDLE_MS, `signed out after ${elapsed} ms, before the idle timeout`);
  await win.context.close();
  process.kill(idle.pid, 'SIGTERM');
  assert.deepEqual(await idle.exited, { code: 0, signal: null }, idle.stderr());
  assert.deepEqual(win.problems, []);
});

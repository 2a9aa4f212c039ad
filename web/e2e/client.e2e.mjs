// SessionClient (docs/SPEC.md §9) end to end in Debian's Chromium (playwright-core drives
// /usr/bin/chromium; no browser is downloaded) against a real `sessionkit serve` over SQLite:
// device A is one browser context with two tabs sharing one client (Web Locks, BroadcastChannel,
// the replica in IndexedDB), device B another context. Offline edits merge with an admin write;
// the server is killed and restarted mid-sync; tabs reload with queued changes; a revocation
// from device B signs device A's tabs out within a heartbeat.
//   SESSIONKIT_BIN=../target/debug/sessionkit node --test e2e/client.e2e.mjs
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { startServer } from '../scripts/serve.mjs';
import { adminPut, newSession, serverState, startServe } from '../test/serve.mjs';

const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const ARGS = [
  '--no-sandbox', '--headless', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];
const HEARTBEAT_MS = 1000;
const TIMEOUT = 20_000;

let dir;
let pages;
let api;
let browser;
const problems = [];

before(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'sessionkit-client-e2e-'));
  pages = await startServer({ port: 0 });
  api = await serve();
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS, headless: true });
});

after(async () => {
  await browser?.close();
  await api?.stop('SIGKILL');
  await pages?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function serve(port = 0) {
  return startServe(path.join(dir, 'sessions.db'), {
    port,
    args: ['--heartbeat-ms', String(HEARTBEAT_MS), '--cors-origin', pages.url],
  });
}

/** Records uncaught errors and console errors, but for the failed requests these tests cause. */
function watch(page, name) {
  page.on('pageerror', (err) => problems.push(`${name} pageerror: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() !== 'error') return;
    const text = msg.text();
    // Chromium logs failed fetches: the server down, offline, 401 after the revocation.
    if (/Failed to load resource|net::ERR_|status of 401/.test(text)) return;
    problems.push(`${name} console.error: ${text}`);
  });
}

/** A tab of `context` with the test page loaded and a client opened (default options). */
async function tab(context, name) {
  const page = await context.newPage();
  watch(page, name);
  await page.goto(`${pages.url}/e2e/client.html`);
  await page.locator('body[data-ready="true"]').waitFor({ state: 'attached' });
  const leader = await page.evaluate((baseUrl) => window.openClient({
    baseUrl,
    name: 'app',
    heartbeatMs: 1000,
    backoff: { initialMs: 100, multiplier: 2, maxMs: 800 },
  }), api.url);
  return { page, name, leader };
}

const call = (t, method, ...args) =>
  t.page.evaluate(([m, a]) => window.client[m](...a), [method, args]);
const stateOf = (t) => t.page.evaluate(() => window.client.state());
const sessionOf = (t) => t.page.evaluate(() => window.client.session());

/** Waits until the tab saw an event matching `{type, ...fields}` after `since` (ms). */
async function sawEvent(t, match, since = 0) {
  await t.page.waitForFunction(
    ([m, s]) => window.events.some((e) => e.at >= s && Object.entries(m).every(([k, v]) => e[k] === v)),
    [match, since],
    { timeout: TIMEOUT },
  );
  return t.page.evaluate(
    ([m, s]) => window.events.find((e) => e.at >= s && Object.entries(m).every(([k, v]) => e[k] === v)),
    [match, since],
  );
}

/** Waits until the tab's local state equals `expected`. */
async function stateIs(t, expected) {
  await t.page.waitForFunction(
    (want) => {
      const sorted = (v) => (v && typeof v === 'object' && !Array.isArray(v)
        ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, sorted(v[k])]))
        : v);
      return JSON.stringify(sorted(window.client.state())) === want;
    },
    JSON.stringify(sortKeys(expected)),
    { timeout: TIMEOUT },
  ).catch(async (err) => {
    throw new Error(`${t.name}: state ${JSON.stringify(await stateOf(t))}, expected ${JSON.stringify(expected)}: ${err.message}`);
  });
}

/** Waits until the server's state of `id` has `data` (keys sorted as the server sorts them). */
async function serverHas(id, data) {
  const want = JSON.stringify(sortKeys(data));
  const deadline = Date.now() + TIMEOUT;
  for (;;) {
    const got = await serverState(api.url, id);
    if (got && JSON.stringify(sortKeys(got.data)) === want) return got;
    if (Date.now() > deadline) throw new Error(`server state ${JSON.stringify(got)}, expected ${want}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function sortKeys(value) {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.keys(value).sort().map((k) => [k, sortKeys(value[k])]));
  }
  return value;
}

// The phases share one world, in order: device A (tabs A1, A2), device B (tab B1).
let deviceA;
let deviceB;
let a1;
let a2;
let b1;
let idA;
let idB;
let merged;
let afterRestart;

test('tabs of one device share one client; sign-in from a follower tab; edits show in every tab', async () => {
  deviceA = await browser.newContext();
  deviceB = await browser.newContext();
  a1 = await tab(deviceA, 'A1');
  a2 = await tab(deviceA, 'A2');
  b1 = await tab(deviceB, 'B1');
  assert.equal(a1.leader, true, 'the first tab of a device holds the connection');
  assert.equal(a2.leader, false, 'the second tab forwards to it');
  assert.equal(b1.leader, true, 'another device has its own client');

  // Sign in: device A from its second tab (forwarded to the first), device B on its own.
  const sessionA = await newSession(api.url, 'alice', 'device A');
  const sessionB = await newSession(api.url, 'alice', 'device B');
  idA = sessionA.session.id;
  idB = sessionB.session.id;
  await call(a2, 'signIn', sessionA.token);
  await call(b1, 'signIn', sessionB.token);
  await sawEvent(a2, { type: 'connection_established' });
  await sawEvent(b1, { type: 'connection_established' });
  assert.equal((await sessionOf(a2))?.id, idA);

  // A change in one tab shows in the other and reaches the server.
  await call(a2, 'putState', { a: 1, s: 'base' });
  await stateIs(a1, { a: 1, s: 'base' });
  await serverHas(idA, { a: 1, s: 'base' });
  await call(b1, 'putState', { b: 1 });
  await serverHas(idB, { b: 1 });
  assert.deepEqual(problems, []);
});

test('a device offline edits while the other device and the admin API edit: back online, merged', async () => {
  // Device A offline: its second tab edits; meanwhile device B and the admin API edit.
  const offlineAt = Date.now();
  await deviceA.setOffline(true);
  await sawEvent(a1, { type: 'connection_lost' }, offlineAt);
  await call(a2, 'patchState', { mine: 1, s: 'local' });
  await stateIs(a1, { a: 1, s: 'local', mine: 1 });
  await call(b1, 'patchState', { b: 2 });
  await serverHas(idB, { b: 2 });
  await adminPut(api.url, idA, { a: 1, s: 'server', theirs: 1 });
  // Back online: the merge policy replays the local patch on the server's state.
  const onlineAt = Date.now();
  await deviceA.setOffline(false);
  const conflict = await sawEvent(a2, { type: 'sync_conflict' }, onlineAt);
  assert.equal(conflict.resolution, 'merge');
  merged = { a: 1, s: 'local', theirs: 1, mine: 1 };
  await serverHas(idA, merged);
  await stateIs(a1, merged);
  await stateIs(a2, merged);
  assert.deepEqual(problems, []);
});

test('the server killed mid-sync and restarted on the same database: clients recover, lose nothing', async () => {
  // The server killed mid-sync and restarted on the same database: nothing is lost.
  // The first change is being pushed (its request may be in flight) when the server dies.
  const port = api.port;
  await call(a1, 'patchState', { during: 1 });
  await api.stop('SIGKILL');
  await call(a2, 'patchState', { during2: 1 });
  await call(b1, 'patchState', { during: 'b' });
  const restartAt = Date.now();
  api = await serve(port);
  await sawEvent(a1, { type: 'connection_restored' }, restartAt);
  await sawEvent(b1, { type: 'connection_restored' }, restartAt);
  afterRestart = { ...merged, during: 1, during2: 1 };
  await serverHas(idA, afterRestart);
  await serverHas(idB, { b: 2, during: 'b' });
  await stateIs(a2, afterRestart);
  assert.deepEqual(problems, []);
});

test('both tabs reloaded with changes queued (server down): none is lost', async () => {
  // Reload both tabs with changes still queued (the server down): the queue survives in
  // IndexedDB, and is pushed once the server is back.
  const port = api.port;
  await api.stop('SIGKILL');
  await call(a1, 'patchState', { queued: 1 });
  await call(a2, 'patchState', { queued2: 1 });
  const queued = { ...afterRestart, queued: 1, queued2: 1 };
  for (const t of [a1, a2]) {
    await t.page.reload();
    await t.page.locator('body[data-ready="true"]').waitFor({ state: 'attached' });
    await t.page.evaluate((baseUrl) => window.openClient({
      baseUrl,
      name: 'app',
      heartbeatMs: 1000,
      backoff: { initialMs: 100, multiplier: 2, maxMs: 800 },
    }), api.url);
  }
  await stateIs(a1, queued);
  await stateIs(a2, queued);
  assert.equal((await call(a1, 'metrics')).pendingChanges + (await call(a2, 'metrics')).pendingChanges > 0, true);
  const backAt = Date.now();
  api = await serve(port);
  await serverHas(idA, queued);
  await sawEvent(b1, { type: 'connection_restored' }, backAt);
  assert.deepEqual(problems, []);
});

test('a revocation from the other device signs both tabs out within a heartbeat', async () => {
  // Device B revokes device A: both of A's tabs are signed out within a heartbeat.
  await sawEvent(a1, { type: 'state_synchronized' });
  const devices = await call(b1, 'devices', { activeOnly: true });
  assert.deepEqual(devices.items.map((d) => d.id).sort(), [idA, idB].sort());
  assert.equal(devices.items.find((d) => d.id === idB).current, true);
  const revokedAt = Date.now();
  await call(b1, 'revokeDevice', idA);
  const [ev1, ev2] = await Promise.all([
    sawEvent(a1, { type: 'auth_required' }, revokedAt),
    sawEvent(a2, { type: 'auth_required' }, revokedAt),
  ]);
  assert.equal(ev1.reason, 'revoked');
  assert.equal(ev2.reason, 'revoked');
  assert.ok(ev1.at - revokedAt <= HEARTBEAT_MS, `signed out after ${ev1.at - revokedAt} ms`);
  assert.ok(ev2.at - revokedAt <= HEARTBEAT_MS, `signed out after ${ev2.at - revokedAt} ms`);
  assert.equal(await sessionOf(a1), null);
  assert.equal(await sessionOf(a2), null);
  assert.equal((await call(a2, 'connectionState')).state, 'signed_out');
  assert.equal((await call(b1, 'connectionState')).state, 'connected');

  assert.deepEqual(problems, []);
  await deviceA.close();
  await deviceB.close();
});

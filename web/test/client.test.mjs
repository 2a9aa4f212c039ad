// SessionClient (docs/SPEC.md §9) in Node against a real `sessionkit serve` (SESSIONKIT_BIN):
// sign-in, local edits pushed, conflicts with an admin write under every policy, a revocation
// signing the client out, and the server killed and restarted over the same database while the
// client keeps editing. Each test has its own temp dir, database and server.
//   SESSIONKIT_BIN=../target/debug/sessionkit node --test test/client.test.mjs
import { after, afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { MemoryReplicaStore, SessionClient, SessionkitError } from '../src/node.js';
import { adminPut, admin, newSession, serverState, startServe } from './serve.mjs';

const HEARTBEAT_MS = 300;
const EVENT_TIMEOUT_MS = 15_000;
const cleanups = [];

afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()();
});
after(() => {});

function tempDir() {
  const dir = mkdtempSync(path.join(tmpdir(), 'sessionkit-client-'));
  cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function serve(dir, options = {}) {
  const server = await startServe(path.join(dir, 'sessions.db'), {
    ...options,
    args: ['--heartbeat-ms', String(HEARTBEAT_MS), ...(options.args ?? [])],
  });
  cleanups.push(() => server.stop('SIGKILL'));
  return server;
}

/** A fetch the test can cut off: while `down`, every request fails like a dead network. */
function switchableFetch() {
  const net = { down: false, requests: [] };
  net.fetch = (url, init) => {
    net.requests.push({ at: Date.now(), url: String(url), method: init?.method ?? 'GET' });
    if (net.down) return Promise.reject(new TypeError('fetch failed (network down in the test)'));
    return fetch(url, init);
  };
  return net;
}

async function open(url, options = {}) {
  const client = await SessionClient.open({
    baseUrl: url,
    store: new MemoryReplicaStore(),
    heartbeatMs: HEARTBEAT_MS,
    backoff: { initialMs: 50, multiplier: 2, maxMs: 400 },
    ...options,
  });
  cleanups.push(() => client.close());
  return client;
}

/** Resolves with the first event `predicate` accepts (listening from now on). */
function nextEvent(client, predicate, what = 'an event') {
  return new Promise((resolve, reject) => {
    const seen = [];
    const timer = setTimeout(() => {
      off();
      reject(new Error(`no ${what} within ${EVENT_TIMEOUT_MS} ms; saw ${JSON.stringify(seen)}`));
    }, EVENT_TIMEOUT_MS);
    const off = client.subscribe((event) => {
      seen.push(event);
      if (predicate(event)) {
        clearTimeout(timer);
        off();
        resolve(event);
      }
    });
  });
}

const synchronized = (client, version) =>
  nextEvent(client, (e) => e.type === 'state_synchronized' && (version === undefined || e.version === version), `state_synchronized ${version ?? ''}`);

/** A signed-in, connected client with the state `{a: 1, s: 'base'}` synchronized. */
async function signedIn(server, options = {}) {
  const created = await newSession(server.url, 'alice');
  const client = await open(server.url, options);
  const connected = nextEvent(client, (e) => e.type === 'connection_established', 'connection_established');
  await client.signIn(created.token);
  await connected;
  const synced = synchronized(client, 1);
  await client.putState({ a: 1, s: 'base' });
  await synced;
  return { client, id: created.session.id, token: created.token };
}

test('signs in, edits locally at once, and the server gets every change', async () => {
  const server = await serve(tempDir());
  const { client, id } = await signedIn(server);
  assert.deepEqual(client.connectionState(), { state: 'connected' });
  assert.equal(client.session().id, id);
  assert.equal(client.session().userId, 'alice');

  const synced = synchronized(client, 2);
  await client.patchState({ b: 2, s: null });
  // Local view at once, before the server answered.
  assert.deepEqual(client.state(), { a: 1, b: 2 });
  await synced;
  assert.deepEqual(await serverState(server.url, id), { version: 2, data: { a: 1, b: 2 } });

  const result = await client.sync();
  assert.deepEqual(result, { pushed: 0, pulled: 0, conflicts: 0, version: 2, pending: 0, offline: false });
  const metrics = client.metrics();
  assert.ok(metrics.syncs >= 2, JSON.stringify(metrics));
  assert.ok(metrics.bytesSent > 0 && metrics.bytesReceived > 0, JSON.stringify(metrics));
  assert.equal(metrics.pendingChanges, 0);
  assert.equal(typeof metrics.lastRoundTripMs, 'number');

  const devices = await client.devices({ activeOnly: true });
  assert.equal(devices.items.length, 1);
  assert.equal(devices.items[0].id, id);
  assert.equal(devices.items[0].current, true);
  assert.equal(devices.nextCursor, null);
});

test('refuses bad options and bad input by name, changing nothing', async () => {
  await assert.rejects(SessionClient.open({}), (err) => err instanceof SessionkitError && err.field === 'baseUrl');
  await assert.rejects(
    SessionClient.open({ baseUrl: 'http://127.0.0.1:9', heartbeatMss: 5 }),
    (err) => err.kind === 'InvalidInput' && err.field === 'heartbeatMss',
  );
  await assert.rejects(
    SessionClient.open({ baseUrl: 'http://127.0.0.1:9', conflictPolicy: 'mine' }),
    (err) => err.kind === 'InvalidInput' && err.field === 'config',
  );
  const client = await open('http://127.0.0.1:9');
  assert.deepEqual(client.connectionState(), { state: 'signed_out' });
  assert.equal(client.session(), null);
  await assert.rejects(client.patchState([1]), (err) => err.kind === 'InvalidInput' && err.field === 'patch');
  await assert.rejects(client.putState(undefined), (err) => err.kind === 'InvalidInput' && err.field === 'data');
  await assert.rejects(client.sync(), (err) => err.kind === 'InvalidToken');
  await assert.rejects(client.devices({ limit: 0 }), (err) => err.field === 'limit');
});

for (const [policy, expected] of [
  ['merge', { a: 1, b: 2, c: 3, s: 'local' }],
  ['server_wins', { a: 1, c: 3, s: 'server' }],
  ['client_wins', { a: 1, b: 2, s: 'local' }],
  ['custom', { a: 1, b: 2, c: 3, s: 'base+local+server' }],
]) {
  test(`a conflict with an admin write is settled as ${policy} says`, async () => {
    const server = await serve(tempDir());
    const net = switchableFetch();
    const resolver = (base, local, remote) => ({ ...remote, b: local.b, s: `${base.s}+${local.s}+${remote.s}` });
    const { client, id } = await signedIn(server, {
      fetch: net.fetch,
      conflictPolicy: policy,
      ...(policy === 'custom' ? { resolver } : {}),
    });
    const lost = nextEvent(client, (e) => e.type === 'connection_lost', 'connection_lost');
    net.down = true;
    await client.patchState({ b: 2, s: 'local' });
    await lost;
    assert.equal(client.metrics().pendingChanges, 1);
    // Another writer (the app's backend) changes the state meanwhile.
    await adminPut(server.url, id, { a: 1, c: 3, s: 'server' });

    const conflict = nextEvent(client, (e) => e.type === 'sync_conflict', 'sync_conflict');
    const version = policy === 'server_wins' ? 2 : 3;
    const synced = synchronized(client, version);
    net.down = false;
    assert.equal((await conflict).resolution, policy);
    await synced;
    assert.deepEqual(client.state(), expected);
    assert.deepEqual(await serverState(server.url, id), { version, data: expected });
    assert.equal(client.metrics().conflicts, 1);
  });
}

test('a revocation elsewhere signs the client out within a heartbeat', async () => {
  const server = await serve(tempDir());
  const { client, id } = await signedIn(server);
  const signedOut = nextEvent(client, (e) => e.type === 'auth_required', 'auth_required');
  const revokedAt = Date.now();
  const { status } = await admin(server.url, 'POST', `/v1/admin/sessions/${id}/revoke`);
  assert.equal(status, 204);
  assert.deepEqual(await signedOut, { type: 'auth_required', reason: 'revoked' });
  assert.ok(Date.now() - revokedAt <= 2 * HEARTBEAT_MS + 1000, 'signed out within a heartbeat');
  assert.equal(client.session(), null);
  assert.equal(client.state(), null);
  assert.deepEqual(client.connectionState(), { state: 'signed_out' });
  assert.deepEqual(await client.recover(), { outcome: 'signed_out', reason: 'signed_out', version: 0, pending: 0 });
});

test('the server killed and restarted on the same database: reconnects with growing delays and loses nothing', async () => {
  const dir = tempDir();
  let server = await serve(dir);
  const net = switchableFetch();
  const { client, id } = await signedIn(server, { fetch: net.fetch });
  const port = server.port;

  const lost = nextEvent(client, (e) => e.type === 'connection_lost', 'connection_lost');
  await server.stop('SIGKILL');
  await lost;
  // Edits while the server is down stay in the queue (and in the local store).
  await client.patchState({ offline1: true });
  await client.patchState({ offline2: true });
  await client.putState({ ...client.state(), whole: 'put' });
  assert.equal(client.metrics().pendingChanges, 3);

  // Watch the reconnect attempts: each one validates first (GET /v1/session).
  const attempts = [];
  const seenAttempts = new Promise((resolve) => {
    const poll = () => {
      const state = client.connectionState();
      if (state.state === 'reconnecting' && attempts.at(-1)?.attempt !== state.attempt) attempts.push(state);
      if (attempts.length >= 4) resolve();
      else setTimeout(poll, 5);
    };
    poll();
  });
  await seenAttempts;
  for (let i = 1; i < attempts.length; i += 1) {
    assert.equal(attempts[i].attempt, attempts[i - 1].attempt + 1, JSON.stringify(attempts));
  }
  // Full jitter under a ceiling that grows 50 · 2^n up to 400 ms.
  for (const { attempt, retryInMs } of attempts) {
    assert.ok(retryInMs <= Math.min(400, 50 * 2 ** (attempt - 1)), JSON.stringify(attempts));
  }

  const restored = nextEvent(client, (e) => e.type === 'connection_restored', 'connection_restored');
  const synced = synchronized(client);
  server = await serve(dir, { port });
  await restored;
  const { version } = await synced;
  const expected = { a: 1, s: 'base', offline1: true, offline2: true, whole: 'put' };
  assert.deepEqual(client.state(), expected);
  assert.deepEqual(await serverState(server.url, id), { version, data: expected });
  const metrics = client.metrics();
  assert.ok(metrics.retries >= 4, JSON.stringify(metrics));
  assert.equal(metrics.reconnects, 1);
  assert.equal(metrics.pendingChanges, 0);
  assert.ok(metrics.offlineMs > 0);
});

test('queued changes survive closing the client: a new one over the same store picks them up', async () => {
  const server = await serve(tempDir());
  const store = new MemoryReplicaStore();
  const net = switchableFetch();
  const { client, id } = await signedIn(server, { store, fetch: net.fetch });
  net.down = true;
  await client.patchState({ queued: 1 });
  await client.close();

  const again = await open(server.url, { store });
  assert.deepEqual(again.state(), { a: 1, s: 'base', queued: 1 });
  assert.equal(again.metrics().pendingChanges, 1);
  const synced = synchronized(again, 2);
  const result = await again.sync();
  await synced;
  assert.equal(result.pending, 0);
  assert.deepEqual(await serverState(server.url, id), { version: 2, data: { a: 1, s: 'base', queued: 1 } });
  const recovered = await again.recover();
  assert.deepEqual(recovered, { outcome: 'restored', version: 2, pending: 0 });
});

test('sign out revokes the session on the server and clears the replica', async () => {
  const server = await serve(tempDir());
  const { client, token } = await signedIn(server);
  await client.signOut();
  assert.equal(client.session(), null);
  assert.deepEqual(client.connectionState(), { state: 'signed_out' });
  const { status } = await admin(server.url, 'POST', '/v1/admin/validate', { token });
  assert.equal(status, 401);
});

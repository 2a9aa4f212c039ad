// What the JavaScript face promises beyond the scenarios: its error class, its event idiom, its
// argument conversion (strict, integers stay integers), Config and ManualClock, export/import,
// and the shared state codec vectors, byte for byte through this wasm build.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Config, ERROR_KINDS, ManualClock, SessionManager, SessionkitError } from 'sessionkit';

const START = 1_700_000_000_000;

async function open(config = {}) {
  const clock = new ManualClock(START);
  const manager = await SessionManager.openMemory(config, clock);
  return { clock, manager };
}

/** Asserts `promise` rejects with a SessionkitError of `kind` whose fields include `fields`. */
async function rejectsWith(promise, kind, fields = {}) {
  const err = await promise.then(
    (value) => assert.fail(`expected ${kind}, resolved with ${JSON.stringify(value)}`),
    (e) => e,
  );
  assert.ok(err instanceof SessionkitError, `not a SessionkitError: ${err?.stack ?? err}`);
  assert.ok(err instanceof Error);
  assert.equal(err.name, 'SessionkitError');
  assert.equal(err.kind, kind, err.message);
  for (const [k, v] of Object.entries(fields)) assert.equal(err[k], v, `${k} of ${err.message}`);
  return err;
}

test('errors are SessionkitError instances with kind and fields', async () => {
  const { manager } = await open();
  const { session } = await manager.create({ userId: 'alice', clientKind: 'web' });
  await manager.putState(session.id, { a: 1 });

  const conflict = await rejectsWith(manager.putState(session.id, { a: 2 }, 0), 'Conflict', {
    currentVersion: 1,
  });
  assert.match(conflict.message, /conflict/);
  assert.ok(conflict.stack.includes('SessionkitError'));

  await rejectsWith(manager.validate('garbage'), 'InvalidToken');
  await rejectsWith(manager.get('AAAAAAAAAAAAAAAAAAAAAA'), 'NotFound');
  await rejectsWith(manager.get('not-an-id'), 'InvalidInput', { field: 'id' });
  await rejectsWith(manager.create({ userId: '', clientKind: 'web' }), 'InvalidInput', {
    field: 'user_id',
  });
  await rejectsWith(manager.create({ userId: 'bob', clientKind: 'tablet' }), 'InvalidInput', {
    field: 'client_kind',
  });
  const limited = await open({ stateMaxBytes: 10 });
  const s2 = await limited.manager.create({ userId: 'alice', clientKind: 'web' });
  await rejectsWith(limited.manager.putState(s2.session.id, 'x'.repeat(20)), 'LimitExceeded', {
    what: 'state_max_bytes',
  });
  await manager.revoke(session.id);
  await rejectsWith(manager.touch(session.id), 'Revoked');
  assert.deepEqual(ERROR_KINDS.length, 10);
});

test('arguments are converted strictly and bad ones never reach storage', async () => {
  const { manager } = await open();
  const { session } = await manager.create({ userId: 'alice', clientKind: 'web' });
  const id = session.id;
  await rejectsWith(manager.create({ userId: 42, clientKind: 'web' }), 'InvalidInput', {
    field: 'user_id',
  });
  await rejectsWith(manager.create({ userId: 'a', clientKind: 'web', userAgnet: 'x' }), 'InvalidInput', {
    field: 'userAgnet',
  });
  await rejectsWith(manager.create(undefined), 'InvalidInput', { field: 'session' });
  await rejectsWith(manager.create({ userId: 'a', clientKind: 'web', metadata: [1] }), 'InvalidInput', {
    field: 'metadata',
  });
  await rejectsWith(manager.validate(12), 'InvalidInput', { field: 'token' });
  await rejectsWith(manager.get(undefined), 'InvalidInput', { field: 'id' });
  // Not JSON: refused instead of silently written as something else.
  await rejectsWith(manager.putState(id, undefined), 'InvalidInput', { field: 'data' });
  await rejectsWith(manager.putState(id, { n: 1n }), 'InvalidInput', { field: 'data' });
  const cyclic = {};
  cyclic.self = cyclic;
  await rejectsWith(manager.putState(id, cyclic), 'InvalidInput', { field: 'data' });
  // A version that is not a non-negative safe integer is refused, never treated as "no check".
  for (const bad of [NaN, -1, 1.5, Infinity, '1', 2 ** 60]) {
    await rejectsWith(manager.putState(id, {}, bad), 'InvalidInput', { field: 'expected_version' });
  }
  await rejectsWith(manager.listUserSessions('alice', { limit: 0 }), 'InvalidInput', { field: 'limit' });
  await rejectsWith(manager.listUserSessions('alice', { limit: -1 }), 'InvalidInput', { field: 'limit' });
  await rejectsWith(manager.listUserSessions('alice', { activeOnly: 'yes' }), 'InvalidInput', {
    field: 'active_only',
  });
  await rejectsWith(manager.countUserSessions('alice', 1), 'InvalidInput', { field: 'active_only' });
  await rejectsWith(manager.revokeUserSessions('alice', 'nope'), 'InvalidInput', { field: 'id' });
  assert.equal(await manager.getState(id), null, 'nothing was written');
  assert.equal(await manager.countActive(), 1);
});

test('integers stay integers and times are exact numbers', async () => {
  const { manager } = await open({ stateCompressionThreshold: 0 });
  const { session } = await manager.create({
    userId: 'alice',
    clientKind: 'mobile',
    clientVersion: '2.1',
    device: 'Pixel 8',
    metadata: { plan: 'pro', seats: 3 },
  });
  assert.equal(session.createdAt, START);
  assert.ok(Number.isSafeInteger(session.expiresAt));
  assert.deepEqual(session.client, { kind: 'mobile', version: '2.1', device: 'Pixel 8' });
  const data = {
    n: 1, big: 2 ** 53 - 1, neg: -5, float: 1.5, list: [1, 2.25], nested: { zero: 0 }, pad: 'ab'.repeat(100),
  };
  const version = await manager.putState(session.id, data);
  assert.equal(version, 1);
  const state = await manager.getState(session.id);
  assert.deepEqual(state.data, data);
  assert.equal(state.compressed, true);
  assert.equal(state.size, JSON.stringify(data).length);
  assert.match(state.checksum, /^crc32:[0-9a-f]{8}$/);
  const updated = await manager.updateMetadata(session.id, { seats: 4, plan: null });
  assert.deepEqual(updated.metadata, { seats: 4 });
  assert.equal(await manager.patchState(session.id, { n: 2, list: null }, 1), 2);
  assert.deepEqual((await manager.getState(session.id)).data, {
    n: 2, big: 2 ** 53 - 1, neg: -5, float: 1.5, nested: { zero: 0 }, pad: 'ab'.repeat(100),
  });
});

test('subscribe delivers events until the returned function is called', async () => {
  const { manager } = await open();
  const seen = [];
  const unsubscribe = manager.subscribe((e) => seen.push(e));
  assert.equal(typeof unsubscribe, 'function');
  const { session } = await manager.create({ userId: 'alice', clientKind: 'web' });
  await manager.putState(session.id, { a: 1 });
  const rotated = await manager.rotate(session.id);
  assert.deepEqual(seen, [
    { type: 'Created', sessionId: session.id, userId: 'alice' },
    { type: 'StateChanged', sessionId: session.id, version: 1 },
    { type: 'Rotated', sessionId: rotated.session.id, oldSessionId: session.id, userId: 'alice' },
  ]);
  unsubscribe();
  unsubscribe(); // a second call does nothing
  await manager.revoke(rotated.session.id);
  await manager.cleanupExpired();
  assert.equal(seen.length, 3, 'no events after unsubscribing');
});

test('a throwing listener neither breaks the operation nor other listeners', async (t) => {
  const { manager } = await open();
  const logged = [];
  t.mock.method(console, 'error', (...args) => logged.push(args));
  const seen = [];
  const stopBad = manager.subscribe(() => {
    throw new Error('listener bug');
  });
  const stopGood = manager.subscribe((e) => seen.push(e.type));
  const { session } = await manager.create({ userId: 'alice', clientKind: 'web' });
  assert.equal((await manager.get(session.id)).id, session.id);
  assert.deepEqual(seen, ['Created']);
  assert.equal(logged.length, 1);
  stopBad();
  stopGood();
  assert.throws(() => manager.subscribe('not a function'), SessionkitError);
});

test('an ignored unsubscribe function keeps the subscription alive', async () => {
  const { manager } = await open();
  const seen = [];
  manager.subscribe((e) => seen.push(e.type)); // handle dropped on purpose
  if (globalThis.gc) globalThis.gc();
  await manager.create({ userId: 'alice', clientKind: 'web' });
  assert.deepEqual(seen, ['Created']);
});

test('Config: a class with optional fields, or an object literal', async () => {
  const c = new Config();
  assert.equal(c.idleTimeoutMs, undefined);
  const defaults = (await SessionManager.openMemory(c)).config;
  assert.deepEqual(defaults, {
    idleTimeoutMs: 1_800_000,
    absoluteTimeoutMs: 2_592_000_000,
    touchIntervalMs: 60_000,
    maxSessionsPerUser: null,
    sessionLimitPolicy: 'reject',
    stateCompressionThreshold: 10_240,
    stateMaxBytes: 5_242_880,
    contextPolicy: 'signal',
  });
  const fromClass = new Config({ idleTimeoutMs: 60_000, touchIntervalMs: 0 });
  fromClass.maxSessionsPerUser = 2;
  fromClass.sessionLimitPolicy = 'evict_oldest';
  const m1 = await SessionManager.openMemory(fromClass);
  assert.equal(m1.config.idleTimeoutMs, 60_000);
  assert.equal(m1.config.maxSessionsPerUser, 2);
  assert.equal(m1.config.sessionLimitPolicy, 'evict_oldest');
  const m2 = await SessionManager.openMemory({ stateMaxBytes: 1024 });
  assert.equal(m2.config.stateMaxBytes, 1024);
  assert.equal((await SessionManager.openMemory()).config.touchIntervalMs, 60_000);
  await rejectsWith(SessionManager.openMemory({ idleTimeout: 5 }), 'InvalidInput', { field: 'idleTimeout' });
  await rejectsWith(SessionManager.openMemory({ idleTimeoutMs: NaN }), 'InvalidInput', {
    field: 'idle_timeout_ms',
  });
  await rejectsWith(SessionManager.openMemory({ idleTimeoutMs: 0 }), 'InvalidInput', {
    field: 'idle_timeout_ms',
  });
  await rejectsWith(SessionManager.openMemory({ sessionLimitPolicy: 'lru' }), 'InvalidInput', {
    field: 'session_limit_policy',
  });
  await rejectsWith(SessionManager.openMemory({ maxSessionsPerUser: -1 }), 'InvalidInput', {
    field: 'max_sessions_per_user',
  });
  await rejectsWith(SessionManager.openMemory(42), 'InvalidInput', { field: 'config' });
  await rejectsWith(SessionManager.openMemory({}, { nowMs: 5 }), 'InvalidInput', { field: 'clock' });
  assert.throws(() => new SessionManager(), TypeError);
});

test('ManualClock drives expiry without sleeping', async () => {
  const clock = new ManualClock(START);
  assert.equal(clock.nowMs, START);
  assert.equal(clock.advance(1000), START + 1000);
  clock.set(START);
  assert.equal(clock.nowMs, START);
  assert.throws(() => new ManualClock('soon'), (e) => e instanceof SessionkitError && e.field === 'start_ms');
  assert.throws(() => clock.advance(0.5), (e) => e instanceof SessionkitError && e.field === 'ms');
  const manager = await SessionManager.openMemory({ idleTimeoutMs: 60_000, touchIntervalMs: 0 }, clock);
  const { token } = await manager.create({ userId: 'alice', clientKind: 'web' });
  clock.advance(59_999);
  await manager.validate(token);
  clock.advance(60_000);
  await rejectsWith(manager.validate(token), 'Expired');
});

test('the system clock is used without a ManualClock', async () => {
  const manager = await SessionManager.openMemory();
  const before = Date.now();
  const { session } = await manager.create({ userId: 'alice', clientKind: 'other' });
  assert.ok(session.createdAt >= before - 1000 && session.createdAt <= Date.now() + 1000);
});

test('operations may run concurrently', async () => {
  const { manager } = await open();
  const created = await Promise.all(
    Array.from({ length: 50 }, (_, i) => manager.create({ userId: `u${i % 5}`, clientKind: 'web' })),
  );
  assert.equal(new Set(created.map((c) => c.session.id)).size, 50);
  const counts = await Promise.all(['u0', 'u1', 'u2', 'u3', 'u4'].map((u) => manager.countUserSessions(u)));
  assert.deepEqual(counts, [10, 10, 10, 10, 10]);
  const page1 = await manager.listUserSessions('u0', { limit: 4 });
  const page2 = await manager.listUserSessions('u0', { limit: 4, cursor: page1.nextCursor });
  const page3 = await manager.listUserSessions('u0', { limit: 4, cursor: page2.nextCursor });
  assert.equal(page3.nextCursor, null);
  assert.equal(new Set([...page1.items, ...page2.items, ...page3.items].map((s) => s.id)).size, 10);
  const stats = await manager.stats();
  assert.equal(stats.total, 50);
  assert.equal(stats.byClientKind.web, 50);
});

test('export and import move sessions with their state; tokens keep working', async () => {
  const a = await open();
  const { session, token } = await a.manager.create({ userId: 'alice', clientKind: 'desktop' });
  await a.manager.putState(session.id, { draft: 'hello' });
  const records = await a.manager.export({ limit: 10 });
  assert.equal(records.length, 1);
  assert.equal(records[0].session.user_id, 'alice');
  assert.equal(typeof records[0].token_hash, 'string');
  assert.deepEqual(await a.manager.export({ after: session.id }), []);

  const b = await open();
  assert.equal(await b.manager.import(records[0]), true);
  assert.equal(await b.manager.import(records[0]), false, 'insert-only');
  assert.equal((await b.manager.validate(token)).id, session.id);
  assert.deepEqual((await b.manager.getState(session.id)).data, { draft: 'hello' });
  await rejectsWith(b.manager.import({ ...records[0], extra: 1 }), 'InvalidInput', { field: 'record' });
});

test('openIndexedDb outside a browser is a Storage error', async () => {
  await rejectsWith(SessionManager.openIndexedDb('sessions'), 'Storage');
  await rejectsWith(SessionManager.openIndexedDb(7), 'InvalidInput', { field: 'name' });
});

// ---- the shared state codec vectors (tests/vectors/state_codec.json) -----------------------

const vectors = JSON.parse(readFileSync(new URL('../../tests/vectors/state_codec.json', import.meta.url), 'utf8'));
const b64url = (bytes) => Buffer.from(bytes).toString('base64url');
const fromB64 = (text) => Buffer.from(text, 'base64');

/**
 * Whether a JS value can carry this JSON unchanged: JS numbers cannot hold integers beyond 2^53
 * and do not tell `12.0` from `12`, so such documents cannot be re-encoded from JS byte for byte.
 */
const jsExact = (canonical) => JSON.stringify(JSON.parse(canonical)) === canonical;

async function recordWith(blob, maxBytes) {
  const { manager } = await open({ stateMaxBytes: maxBytes });
  const { session, token } = await manager.create({ userId: 'vectors', clientKind: 'other' });
  await manager.putState(session.id, 0);
  const [record] = await manager.export();
  const { manager: target } = await open({ stateMaxBytes: maxBytes });
  return { target, token, record: { ...record, state: { ...record.state, blob: b64url(blob) } } };
}

for (const v of vectors.vectors) {
  test(`state vector ${v.name}: written by this build byte for byte`, { skip: !jsExact(v.canonical_json) && 'JS numbers cannot carry this document exactly (integers beyond 2^53, 12.0 vs 12)' }, async () => {
    const { manager } = await open({ stateCompressionThreshold: v.compression_threshold, stateMaxBytes: v.max_bytes });
    const { session } = await manager.create({ userId: 'vectors', clientKind: 'other' });
    await manager.putState(session.id, JSON.parse(v.input_json));
    const [record] = await manager.export();
    assert.equal(record.state.blob, b64url(fromB64(v.blob_base64)));
    const state = await manager.getState(session.id);
    assert.equal(state.checksum, v.checksum);
    assert.equal(state.compressed, v.compressed);
    assert.equal(state.size, v.size);
  });

  test(`state vector ${v.name}: read by this build`, async () => {
    const { target, record } = await recordWith(fromB64(v.blob_base64), v.max_bytes);
    assert.equal(await target.import(record), true);
    const state = await target.getState(record.session.id);
    assert.deepEqual(state.data, JSON.parse(v.canonical_json));
    assert.equal(state.checksum, v.checksum);
    assert.equal(state.compressed, v.compressed);
    assert.equal(state.size, v.size);
    assert.equal(state.storedSize, fromB64(v.blob_base64).length);
  });
}

for (const c of vectors.corrupt) {
  test(`corrupt state blob ${c.name}: refused as Corrupt`, async () => {
    const { target, record } = await recordWith(fromB64(c.blob_base64), c.max_bytes);
    await rejectsWith(target.import(record), 'Corrupt');
    assert.equal(await target.countActive(), 0, 'nothing was imported');
  });
}

test('revokeAllSessions, deleteUserSessions and validateInContext', async () => {
  const { manager } = await open({ contextPolicy: 'strict' });
  const events = [];
  const unsubscribe = manager.subscribe((e) => events.push(e));
  const a = await manager.create({ userId: 'a', clientKind: 'web', ip: '192.0.2.1', userAgent: 'app/1' });
  await manager.create({ userId: 'b', clientKind: 'web' });
  await manager.create({ userId: 'b', clientKind: 'mobile' });
  await manager.validateInContext(a.token, { ip: '192.0.2.1', userAgent: 'app/1' });
  await rejectsWith(manager.validateInContext(a.token, { ip: '192.0.2.1', userAgent: 'app/2' }), 'InvalidToken');
  const changed = events.filter((e) => e.type === 'ContextChanged');
  assert.deepEqual(changed, [
    { type: 'ContextChanged', sessionId: a.session.id, ipChanged: false, userAgentChanged: true },
  ]);
  assert.equal(await manager.deleteUserSessions('b'), 2);
  assert.equal(await manager.revokeAllSessions(), 1);
  await rejectsWith(manager.validate(a.token), 'Revoked');
  unsubscribe();
});

// ---- state encryption at rest (options.stateKeys) -----------------------------------------

const K1 = 'AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=';
const K2 = Buffer.alloc(32, 0x5a).toString('base64');
const fromB64url = (text) => Buffer.from(text, 'base64url');
/** The key id an encrypted blob names (bytes 5-8, little-endian), or null for a plain blob. */
const blobKeyId = (blob) => (blob.subarray(0, 4).toString('latin1') === 'SKSE' ? blob.readUInt32LE(5) : null);

async function openWithKeys(stateKeys, config = {}) {
  const clock = new ManualClock(START);
  return SessionManager.openMemory(config, clock, stateKeys === undefined ? undefined : { stateKeys });
}

test('stateKeys: state is stored encrypted, read back, and Corrupt without the key', async () => {
  const manager = await openWithKeys(`1:${K1}`);
  const { session } = await manager.create({ userId: 'alice', clientKind: 'web' });
  const data = { secret: 'plain text nobody should find in the store', n: 1 };
  await manager.putState(session.id, data);
  assert.deepEqual((await manager.getState(session.id)).data, data);

  const [record] = await manager.export();
  const blob = fromB64url(record.state.blob);
  assert.equal(blobKeyId(blob), 1);
  assert.ok(!blob.includes(Buffer.from('plain text')), 'the state is in the clear');
  assert.equal((await manager.getState(session.id)).storedSize, blob.length);

  // A manager without keys (or with another key) cannot read it: Corrupt, nothing imported.
  for (const other of [await openWithKeys(undefined), await openWithKeys(`1:${K2}`), await openWithKeys(`2:${K1}`)]) {
    await rejectsWith(other.import(record), 'Corrupt');
    assert.equal(await other.countActive(), 0);
  }
  // With the key, the record imports and reads.
  const again = await openWithKeys(`1:${K1}`);
  assert.equal(await again.import(record), true);
  assert.deepEqual((await again.getState(session.id)).data, data);
});

test('stateKeys: rotated keys still read old blobs; new writes use the first key', async () => {
  const old = await openWithKeys(`1:${K1}`);
  const { session } = await old.create({ userId: 'alice', clientKind: 'web' });
  await old.putState(session.id, { v: 1 });
  const [record] = await old.export();

  const rotated = await openWithKeys(`# new key first\n2:${K2}\n\n1:${K1}\n`);
  assert.equal(await rotated.import(record), true);
  assert.deepEqual((await rotated.getState(session.id)).data, { v: 1 });
  let [stored] = await rotated.export();
  assert.equal(blobKeyId(fromB64url(stored.state.blob)), 1, 'the old blob is kept as it was');

  await rotated.putState(session.id, { v: 2 }, 1);
  [stored] = await rotated.export();
  assert.equal(blobKeyId(fromB64url(stored.state.blob)), 2);
  assert.deepEqual((await rotated.getState(session.id)).data, { v: 2 });

  // Key 2 alone reads the new blob, not the old one.
  const onlyNew = await openWithKeys(`2:${K2}`);
  await rejectsWith(onlyNew.import(record), 'Corrupt');
  assert.equal(await onlyNew.import(stored), true);
  assert.deepEqual((await onlyNew.getState(session.id)).data, { v: 2 });
});

test('stateKeys: bad key text or options are InvalidInput, never showing a key', async () => {
  const bad = ['', '# only a comment', `${K1}`, '1:not base64!', `1:${K1.slice(0, 40)}`, `-1:${K1}`, `4294967296:${K1}`, `1:${K1}\n1:${K2}`];
  for (const stateKeys of bad) {
    const err = await rejectsWith(openWithKeys(stateKeys), 'InvalidInput', { field: 'state_keys' });
    assert.ok(!err.message.includes(K1) && !err.message.includes(K2), err.message);
  }
  await rejectsWith(openWithKeys(7), 'InvalidInput', { field: 'state_keys' });
  await rejectsWith(SessionManager.openMemory({}, null, { stateKey: `1:${K1}` }), 'InvalidInput', { field: 'stateKey' });
  await rejectsWith(SessionManager.openMemory({}, null, `1:${K1}`), 'InvalidInput', { field: 'options' });
  await rejectsWith(SessionManager.openIndexedDb('sessions', {}, null, { stateKeys: 'x' }), 'InvalidInput', { field: 'state_keys' });
  // Absent keys: a manager storing plain state, as before.
  for (const options of [undefined, null, {}, { stateKeys: undefined }, { stateKeys: null }]) {
    const manager = await SessionManager.openMemory({}, null, options);
    const { session } = await manager.create({ userId: 'u', clientKind: 'web' });
    await manager.putState(session.id, { a: 1 });
    const [record] = await manager.export();
    assert.equal(blobKeyId(fromB64url(record.state.blob)), null);
  }
});

// The shared vectors (tests/vectors/state_encryption.json), byte for byte through this build.
const encryption = JSON.parse(readFileSync(new URL('../../tests/vectors/state_encryption.json', import.meta.url), 'utf8'));
const keyText = (pairs) => pairs.map(([id, key]) => `${id}:${key}`).join('\n');
const vectorKey = (id) => encryption.keys.find((k) => k.id === id).key_base64;

/** An exported record of a fresh manager whose state blob is `blob`. */
async function recordWithBlob(blob, maxBytes) {
  const manager = await openWithKeys(undefined, { stateMaxBytes: maxBytes });
  const { session } = await manager.create({ userId: 'vectors', clientKind: 'other' });
  await manager.putState(session.id, 0);
  const [record] = await manager.export();
  return { ...record, state: { ...record.state, blob: b64url(blob) } };
}

test('state encryption vectors cover every key and the refusals', () => {
  assert.ok(encryption.vectors.length >= 3 && encryption.refused.length >= 10);
  assert.deepEqual(new Set(encryption.vectors.map((v) => v.key_id)), new Set(encryption.keys.map((k) => k.id)));
});

for (const v of encryption.vectors) {
  const config = { stateCompressionThreshold: v.compression_threshold, stateMaxBytes: v.max_bytes };
  // Current key first, then every other key of the document.
  const allKeys = keyText([[v.key_id, vectorKey(v.key_id)], ...encryption.keys.filter((k) => k.id !== v.key_id).map((k) => [k.id, k.key_base64])]);

  test(`state encryption vector ${v.name}: written by this build byte for byte`, { skip: !jsExact(v.canonical_json) && 'JS numbers cannot carry this document exactly' }, async (t) => {
    const manager = await openWithKeys(allKeys, config);
    const { session } = await manager.create({ userId: 'vectors', clientKind: 'other' });
    // The nonce is the platform's randomness (crypto.getRandomValues): fixed to the vector's
    // for this one write, which draws nothing else.
    const nonce = fromB64(v.nonce_base64);
    const draws = [];
    t.mock.method(globalThis.crypto, 'getRandomValues', (array) => {
      draws.push(array.length);
      array.set(nonce);
      return array;
    });
    await manager.putState(session.id, JSON.parse(v.canonical_json));
    t.mock.restoreAll();
    assert.deepEqual(draws, [nonce.length]);
    const [record] = await manager.export();
    assert.equal(record.state.blob, b64url(fromB64(v.blob_base64)));

    // The plain blob inside is the codec's, as a manager without keys writes it.
    const plain = await openWithKeys(undefined, config);
    const created = await plain.create({ userId: 'vectors', clientKind: 'other' });
    await plain.putState(created.session.id, JSON.parse(v.canonical_json));
    const [plainRecord] = await plain.export();
    assert.equal(plainRecord.state.blob, b64url(fromB64(v.plain_blob_base64)));
  });

  test(`state encryption vector ${v.name}: read by this build`, async () => {
    const record = await recordWithBlob(fromB64(v.blob_base64), v.max_bytes);
    for (const stateKeys of [`${v.key_id}:${vectorKey(v.key_id)}`, allKeys, `7:${K2}\n${v.key_id}:${vectorKey(v.key_id)}`]) {
      const target = await openWithKeys(stateKeys, config);
      assert.equal(await target.import(record), true);
      const state = await target.getState(record.session.id);
      assert.deepEqual(state.data, JSON.parse(v.canonical_json));
      assert.equal(state.storedSize, fromB64(v.blob_base64).length);
    }
  });
}

for (const c of encryption.refused) {
  test(`refused encrypted blob ${c.name}: Corrupt`, async () => {
    const record = await recordWithBlob(fromB64(c.blob_base64));
    const target = await openWithKeys(c.keys.length ? keyText(c.keys) : undefined);
    await rejectsWith(target.import(record), 'Corrupt');
    assert.equal(await target.countActive(), 0, 'nothing was imported');
  });
}

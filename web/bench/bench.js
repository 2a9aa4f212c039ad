// The browser benchmark, run inside the page by bench/run.mjs: sessionkit's IndexedDB-backed
// SessionManager (the npm package's JS API over the wasm engine) against the same operations
// written directly over IndexedDB with the npm `idb` package, on the same layout and data.
//
// Layout of the hand-written side (the same as core/sessionkit-indexeddb's schema): object store
// `sessions` (key path `i`, indexes `user_activity` on [u, a, i] and `expiry` on e) and object
// store `states` (out-of-line key: the session id). Records use the same one-letter fields.
//
//   create     random 16-byte id + 32-byte secret, SHA-256 of the secret (WebCrypto), `add` of
//              the record in one readwrite transaction, awaited until it commits;
//   validate   parse `<id>.<secret>`, get by id, SHA-256 + constant-time compare, status checks,
//              and (when due, once a minute as in the default Config) a touch in a readwrite
//              transaction;
//   get_state  the session and its state record by id in one readonly transaction, then the
//              blob's header, length and CRC-32 checked and its JSON decoded.
//
// Each case alternates the two sides round by round (ABBA order), after a warm-up round, and
// reports the median time per operation. Nothing here asserts a time.
import { openDB } from './vendor/idb.js';
import { Config, SessionManager } from '/src/browser.js';

const IDLE_TIMEOUT_MS = 30 * 60_000;
const ABSOLUTE_TIMEOUT_MS = 30 * 24 * 60 * 60_000;
const TOUCH_INTERVAL_MS = 60_000;

// ---- the hand-written side, over `idb` -------------------------------------------------------

const b64url = (bytes) => {
  let text = '';
  for (const b of bytes) text += String.fromCharCode(b);
  return btoa(text).replaceAll('+', '-').replaceAll('/', '_').replace(/=+$/, '');
};

const fromB64url = (text) => {
  const raw = atob(text.replaceAll('-', '+').replaceAll('_', '/'));
  const bytes = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i += 1) bytes[i] = raw.charCodeAt(i);
  return bytes;
};

class BenchError extends Error {
  constructor(kind) {
    super(kind);
    this.kind = kind;
  }
}

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n += 1) {
    let c = n;
    for (let k = 0; k < 8; k += 1) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC-32 (IEEE) continued from `crc` over `bytes`. */
function crc32(bytes, crc = 0) {
  let c = ~crc >>> 0;
  for (let i = 0; i < bytes.length; i += 1) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

const MAGIC = [0x53, 0x4b, 0x53, 0x54]; // "SKST"
const HEADER_LEN = 18;

/** The state blob format of sessionkit's codec (raw JSON only: bench states stay small). */
function encodeState(data) {
  const json = new TextEncoder().encode(JSON.stringify(data));
  const blob = new Uint8Array(HEADER_LEN + json.length);
  blob.set(MAGIC, 0);
  blob[4] = 1; // format version
  blob[5] = 0; // raw JSON
  const view = new DataView(blob.buffer);
  view.setUint32(6, json.length, true);
  view.setUint32(10, 0, true);
  blob.set(json, HEADER_LEN);
  view.setUint32(14, crc32(json, crc32(blob.subarray(0, 14))), true);
  return blob;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function decodeState(blob) {
  if (!(blob instanceof Uint8Array) || blob.length < HEADER_LEN) throw new BenchError('Corrupt');
  for (let i = 0; i < 4; i += 1) if (blob[i] !== MAGIC[i]) throw new BenchError('Corrupt');
  if (blob[4] !== 1 || blob[5] !== 0) throw new BenchError('Corrupt');
  const view = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  const size = view.getUint32(6, true) + view.getUint32(10, true) * 2 ** 32;
  const stored = view.getUint32(14, true);
  const crc = crc32(blob.subarray(HEADER_LEN), crc32(blob.subarray(0, 14)));
  if (crc !== stored || size !== blob.length - HEADER_LEN) throw new BenchError('Corrupt');
  return {
    data: JSON.parse(utf8.decode(blob.subarray(HEADER_LEN))),
    size,
    checksum: `crc32:${crc.toString(16).padStart(8, '0')}`,
  };
}

function sessionOf(r) {
  return {
    id: b64url(r.i),
    userId: r.u,
    createdAt: r.c,
    lastActiveAt: r.a,
    expiresAt: r.e,
    absoluteExpiresAt: r.x,
    clientKind: r.k,
    device: r.d,
    active: r.r,
    metadata: JSON.parse(r.m),
  };
}

async function openIdb(name) {
  return openDB(name, 1, {
    upgrade(db) {
      const sessions = db.createObjectStore('sessions', { keyPath: 'i' });
      sessions.createIndex('user_activity', ['u', 'a', 'i']);
      sessions.createIndex('expiry', 'e');
      db.createObjectStore('states');
    },
  });
}

async function idbCreate(db, { userId, clientKind, device }) {
  const id = crypto.getRandomValues(new Uint8Array(16));
  const secret = crypto.getRandomValues(new Uint8Array(32));
  const hash = new Uint8Array(await crypto.subtle.digest('SHA-256', secret));
  const now = Date.now();
  const absolute = now + ABSOLUTE_TIMEOUT_MS;
  const record = {
    i: id, u: userId, c: now, a: now, e: Math.min(now + IDLE_TIMEOUT_MS, absolute), x: absolute,
    k: clientKind, d: device, r: true, m: '{}', h: hash,
  };
  const tx = db.transaction('sessions', 'readwrite');
  await Promise.all([tx.store.add(record), tx.done]);
  return { session: sessionOf(record), token: `${b64url(id)}.${b64url(secret)}` };
}

async function idbValidate(db, token) {
  if (typeof token !== 'string' || token.length !== 66 || token[22] !== '.') {
    throw new BenchError('InvalidToken');
  }
  const id = fromB64url(token.slice(0, 22));
  const secret = fromB64url(token.slice(23));
  const record = await db.get('sessions', id);
  if (!record) throw new BenchError('InvalidToken');
  const hash = new Uint8Array(await crypto.subtle.digest('SHA-256', secret));
  let diff = 0;
  for (let i = 0; i < 32; i += 1) diff |= hash[i] ^ record.h[i];
  if (diff !== 0) throw new BenchError('InvalidToken');
  const now = Date.now();
  if (!record.r) throw new BenchError('Revoked');
  if (record.e <= now) throw new BenchError('Expired');
  if (now - record.a >= TOUCH_INTERVAL_MS && now > record.a) {
    const tx = db.transaction('sessions', 'readwrite');
    const current = await tx.store.get(id);
    if (!current?.r) {
      tx.abort();
      throw new BenchError('Revoked');
    }
    current.a = now;
    current.e = Math.min(now + IDLE_TIMEOUT_MS, current.x);
    await Promise.all([tx.store.put(current), tx.done]);
    return sessionOf(current);
  }
  return sessionOf(record);
}

async function idbGetState(db, idText) {
  const id = fromB64url(idText);
  const tx = db.transaction(['sessions', 'states'], 'readonly');
  const [session, state] = await Promise.all([
    tx.objectStore('sessions').get(id),
    tx.objectStore('states').get(id),
  ]);
  if (!session) throw new BenchError('NotFound');
  if (!state?.b) return null;
  const decoded = decodeState(state.b);
  return {
    version: state.v,
    data: decoded.data,
    checksum: decoded.checksum,
    size: decoded.size,
    compressed: false,
    storedSize: state.b.length,
    updatedAt: state.t,
  };
}

async function idbPutState(db, idText, data) {
  const tx = db.transaction('states', 'readwrite');
  await Promise.all([tx.store.put({ v: 1, b: encodeState(data), t: Date.now() }, fromB64url(idText)), tx.done]);
}

// ---- the benchmark ----------------------------------------------------------------------------

/** Deterministic client state of about 2 KiB, keys in sorted order (as the codec writes them). */
function sampleState(n) {
  const items = [];
  for (let i = 0; i < 12; i += 1) {
    items.push({ done: i % 3 === 0, id: n * 100 + i, tags: ['inbox', `t${i % 5}`], title: `item ${i} of session ${n}` });
  }
  return { draft: 'x'.repeat(200), items, settings: { density: 'compact', notifications: true, theme: 'dark' }, tab: 'inbox' };
}

function median(values) {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** Runs `op(i)` `count` times in sequence; nanoseconds per operation. */
async function timed(count, op) {
  const start = performance.now();
  for (let i = 0; i < count; i += 1) await op(i);
  return ((performance.now() - start) * 1e6) / count;
}

/**
 * Runs one case: a warm-up round of each side, then `rounds` rounds alternating which side goes
 * first. Returns the median ns per operation of each side.
 */
async function runCase(name, rounds, count, ours, idb, log) {
  await timed(count, ours);
  await timed(count, idb);
  const samples = { ours: [], idb: [] };
  for (let round = 0; round < rounds; round += 1) {
    const order = round % 2 === 0 ? ['ours', 'idb'] : ['idb', 'ours'];
    for (const side of order) samples[side].push(await timed(count, side === 'ours' ? ours : idb));
  }
  const oursNs = median(samples.ours);
  const idbNs = median(samples.idb);
  log(`${name}: ours ${Math.round(oursNs)} ns, idb ${Math.round(idbNs)} ns (per op, median of ${rounds})`);
  return {
    name,
    ours_ns: Math.round(oursNs),
    idb_ns: Math.round(idbNs),
    ratio: Number((oursNs / idbNs).toFixed(3)),
  };
}

/**
 * The whole benchmark. `rounds` timed rounds per case; `creates` operations per create round,
 * `reads` per validate and get_state round; `sessions` sessions of each side carry state.
 */
export async function runBench({ rounds = 9, creates = 100, reads = 300, sessions = 300, tag = 'bench' } = {}) {
  const lines = [];
  const log = (line) => lines.push(line);
  const manager = await SessionManager.openIndexedDb(`sessionkit-${tag}`, new Config({}));
  const db = await openIdb(`idb-${tag}`);
  const input = (i) => ({ userId: `user-${i % 50}`, clientKind: 'web', device: 'Chromium on Linux' });

  const ours = { tokens: [], ids: [] };
  const theirs = { tokens: [], ids: [] };
  const cases = [];
  let n = 0;
  cases.push(await runCase('create', rounds, creates,
    async () => {
      const { session, token } = await manager.create(input(n++));
      ours.tokens.push(token);
      ours.ids.push(session.id);
    },
    async () => {
      const { session, token } = await idbCreate(db, input(n++));
      theirs.tokens.push(token);
      theirs.ids.push(session.id);
    }, log));

  // The same state on `sessions` sessions of each side (untimed).
  const withState = Math.min(sessions, ours.ids.length, theirs.ids.length);
  let stateBytes = { ours: 0, idb: 0 };
  for (let i = 0; i < withState; i += 1) {
    await manager.putState(ours.ids[i], sampleState(i), 0);
    await idbPutState(db, theirs.ids[i], sampleState(i));
  }
  {
    const a = await manager.getState(ours.ids[0]);
    const b = await idbGetState(db, theirs.ids[0]);
    if (a.checksum !== b.checksum || a.storedSize !== b.storedSize) {
      throw new Error(`the two sides store different blobs: ${a.checksum}/${a.storedSize} vs ${b.checksum}/${b.storedSize}`);
    }
    stateBytes = a.storedSize;
  }

  // A fixed pseudo-random visiting order, the same for both sides.
  let seed = 0x2545f491;
  const pick = (below) => {
    seed ^= seed << 13; seed ^= seed >>> 17; seed ^= seed << 5;
    return (seed >>> 0) % below;
  };
  const order = Array.from({ length: reads }, () => pick(withState));

  cases.push(await runCase('validate', rounds, reads,
    async (i) => { await manager.validate(ours.tokens[order[i]]); },
    async (i) => { await idbValidate(db, theirs.tokens[order[i]]); }, log));

  cases.push(await runCase('get_state', rounds, reads,
    async (i) => {
      const state = await manager.getState(ours.ids[order[i]]);
      if (state.version !== 1) throw new Error('ours: unexpected state');
    },
    async (i) => {
      const state = await idbGetState(db, theirs.ids[order[i]]);
      if (state.version !== 1) throw new Error('idb: unexpected state');
    }, log));

  db.close();
  return {
    cases,
    params: { rounds, creates, reads, sessions_created: ours.ids.length, sessions_with_state: withState, state_bytes: stateBytes },
    lines,
  };
}

// The hand-written side on its own, for profiling one operation at a time.
export { openIdb, idbCreate, idbValidate, idbGetState, idbPutState };

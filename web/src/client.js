// SessionClient (docs/SPEC.md §9): a signed-in session and a local replica of its state, kept in
// step with a sessionkit server (§8).
//
// No rules live here. The engine's sync machine (compiled to wasm, `SyncClientCore`) decides
// everything: what to send, when to retry, how a conflict is settled, what to tell the app. This
// file only does the I/O it asks for — fetch, the event stream (Server-Sent Events read through
// fetch, so the token travels in a header, never in a URL), timers, connectivity, the local
// store — and shares one client between the tabs of an origin: one tab (the holder of a Web Lock)
// does the I/O, the others forward their calls to it and receive its replica and events over a
// BroadcastChannel. It must be imported through src/browser.js or src/node.js, which load the
// wasm first.

import { ReplicaStoreCore, SyncClientCore } from '../dist/wasm/sessionkit_wasm.js';
import { SessionkitError, toError } from './api.js';

const CONFIG_NAMES = {
  heartbeatMs: 'heartbeat_ms',
  stableAfterMs: 'stable_after_ms',
  expiringWithinMs: 'expiring_within_ms',
  keepAlive: 'keep_alive',
  channel: 'channel',
  conflictPolicy: 'conflict_policy',
  backoff: 'backoff',
};
const BACKOFF_NAMES = { initialMs: 'initial_ms', multiplier: 'multiplier', maxMs: 'max_ms' };
const FACE_OPTIONS = ['baseUrl', 'store', 'name', 'resolver', 'fetch', 'requestTimeoutMs', 'shareTabs'];

function invalid(field, reason) {
  return new SessionkitError('InvalidInput', `invalid ${field}: ${reason}`, { field, reason });
}

function isObject(value) {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** camelCase options → the engine's field names; unknown keys are refused by name. */
function renamed(object, names, what) {
  const out = {};
  for (const [key, value] of Object.entries(object)) {
    if (value === undefined) continue;
    const name = names[key];
    if (name === undefined) {
      throw invalid(key, `is not a ${what} option (known: ${Object.keys(names).join(', ')})`);
    }
    out[name] = value;
  }
  return out;
}

function clientConfig(options) {
  const rest = {};
  for (const [key, value] of Object.entries(options)) {
    if (!FACE_OPTIONS.includes(key)) rest[key] = value;
  }
  if (isObject(rest.backoff)) rest.backoff = renamed(rest.backoff, BACKOFF_NAMES, 'backoff');
  if (typeof options.resolver === 'function' && rest.conflictPolicy === undefined) {
    rest.conflictPolicy = 'custom';
  }
  return renamed(rest, CONFIG_NAMES, 'SessionClient');
}

/** A 53-bit seed for the reconnect jitter from the platform's random source. */
function seed() {
  const words = new Uint32Array(2);
  globalThis.crypto.getRandomValues(words);
  return (words[0] & 0x1fffff) * 2 ** 32 + words[1];
}

/** A session of the server's wire format (snake_case) in the package's record shape. */
function sessionOf(wire) {
  const session = {
    id: wire.id,
    userId: wire.user_id,
    createdAt: wire.created_at,
    lastActiveAt: wire.last_active_at,
    expiresAt: wire.expires_at,
    absoluteExpiresAt: wire.absolute_expires_at,
    client: {
      kind: wire.client?.kind,
      version: wire.client?.version ?? null,
      device: wire.client?.device ?? null,
    },
    ip: wire.ip ?? null,
    userAgent: wire.user_agent ?? null,
    active: wire.active,
    metadata: wire.metadata ?? {},
  };
  if (wire.current !== undefined) session.current = wire.current;
  return session;
}

/** The replica records of one process, by name (the default store in Node). */
export class MemoryReplicaStore {
  #records = new Map();

  /** The record saved under `key`: `{revision, record}`, or null. */
  async load(key) {
    return this.#records.get(key) ?? null;
  }

  /** Saves `record` at `revision` unless a record of that revision or newer is stored. */
  async save(key, revision, record) {
    const stored = this.#records.get(key);
    if (stored && stored.revision >= revision) return false;
    this.#records.set(key, { revision, record });
    return true;
  }
}

/** Replica records in an IndexedDB database of the browser (the default in browsers). */
export class IndexedDbReplicaStore {
  #core;

  constructor(token, core) {
    if (token !== IndexedDbReplicaStore) throw new TypeError('use IndexedDbReplicaStore.open()');
    this.#core = core;
  }

  /** Opens (creating or upgrading) the IndexedDB database `name` (default 'sessionkit-client'). */
  static async open(name = 'sessionkit-client') {
    try {
      return new IndexedDbReplicaStore(IndexedDbReplicaStore, await ReplicaStoreCore.openIndexedDb(name));
    } catch (raw) {
      throw toError(raw);
    }
  }

  /** The record saved under `key`: `{revision, record}`, or null. */
  async load(key) {
    try {
      return await this.#core.load(key);
    } catch (raw) {
      throw toError(raw);
    }
  }

  /** Saves `record` at `revision` unless a record of that revision or newer is stored. */
  async save(key, revision, record) {
    try {
      return await this.#core.save(key, revision, record);
    } catch (raw) {
      throw toError(raw);
    }
  }
}

function checkStore(store) {
  if (!isObject(store) || typeof store.load !== 'function' || typeof store.save !== 'function') {
    throw invalid('store', 'must have load(key) and save(key, revision, record) methods');
  }
  return store;
}

/** The default store where there is no IndexedDB: one per process, so a reopened client finds its replica. */
let sharedMemoryStore = null;

const TAB_METHODS = new Set([
  'signIn', 'signOut', 'putState', 'patchState', 'sync', 'recover', 'devices', 'revokeDevice',
  'revokeOtherDevices',
]);

/** The sync client of §9. Open it with `SessionClient.open({ baseUrl, ... })`. */
export class SessionClient {
  #core;
  #store;
  #key;
  #baseUrl;
  #fetch;
  #timeoutMs;
  #listeners = new Set();
  #ops = new Map();
  #nextOp = 1;
  #timers = new Map();
  #stream = null;
  #streamGen = 0;
  #requests = new Set();
  #inFlight = new Map();
  #saving = Promise.resolve();
  #unsaved = false;
  #saveLoop = null;
  #closed = false;
  #leader = false;
  #channel = null;
  #tab = Math.random().toString(36).slice(2);
  #forwarded = new Map();
  #nextForward = 1;
  #status = { connectionState: { state: 'disconnected' }, metrics: null };
  #releaseLock = null;
  #offCallbacks = [];

  constructor(token) {
    if (token !== SessionClient) throw new TypeError('use SessionClient.open()');
  }

  /**
   * Opens the client named `name` (default 'default') over `store` (default: IndexedDB in
   * browsers, memory in Node) for the server at `baseUrl`, restoring the saved replica, and
   * connects if it holds a session.
   */
  static async open(options) {
    if (!isObject(options)) throw invalid('options', 'must be an object');
    if (typeof options.baseUrl !== 'string' || options.baseUrl === '') {
      throw invalid('baseUrl', 'must be the server URL');
    }
    const name = options.name ?? 'default';
    if (typeof name !== 'string' || name === '') throw invalid('name', 'must be a non-empty string');
    if (options.resolver !== undefined && typeof options.resolver !== 'function') {
      throw invalid('resolver', 'must be a function (base, local, remote) => data');
    }
    const timeoutMs = options.requestTimeoutMs ?? 30_000;
    if (!Number.isSafeInteger(timeoutMs) || timeoutMs <= 0) {
      throw invalid('requestTimeoutMs', 'must be a positive integer');
    }
    const config = clientConfig(options);
    const store = checkStore(options.store ?? (await SessionClient.defaultStore()));
    const client = new SessionClient(SessionClient);
    client.#store = store;
    client.#key = name;
    client.#baseUrl = options.baseUrl.replace(/\/+$/, '');
    client.#fetch = options.fetch ?? globalThis.fetch.bind(globalThis);
    client.#timeoutMs = timeoutMs;
    const saved = await store.load(name);
    try {
      client.#core = new SyncClientCore(config, saved?.record ?? undefined, seed());
    } catch (raw) {
      throw toError(raw);
    }
    if (options.resolver) {
      const resolver = options.resolver;
      client.#core.setResolver((base, local, remote) => {
        try {
          return resolver(base, local, remote);
        } catch (err) {
          console.error('sessionkit: the conflict resolver threw; the local state stands', err);
          return local;
        }
      });
    }
    const share = options.shareTabs ?? true;
    if (share && globalThis.navigator?.locks && typeof globalThis.BroadcastChannel === 'function') {
      await client.#joinTabs();
    } else {
      client.#lead();
    }
    return client;
  }

  /** The store used when none is given: IndexedDB where there is one, else memory. */
  static async defaultStore() {
    if (globalThis.indexedDB) return IndexedDbReplicaStore.open();
    return (sharedMemoryStore ??= new MemoryReplicaStore());
  }

  // ---- the app's API ----

  /** Stores the token the app's backend handed over and connects; resolves once saved. */
  signIn(token) {
    return this.#call('signIn', [token]);
  }

  /** Signs out (revoking the session on the server when reachable) and clears the replica. */
  signOut() {
    return this.#call('signOut', []);
  }

  /** The session as last seen, or null when signed out. Instant; works offline. */
  session() {
    return this.#sync(() => this.#core.session());
  }

  /** The local state: the server's base with the queued changes applied. Instant; offline too. */
  state() {
    return this.#sync(() => this.#core.state());
  }

  /** Replaces the state locally at once; queued and pushed. Resolves once saved locally. */
  putState(data) {
    return this.#call('putState', [data]);
  }

  /** Merge-patches the state locally at once; queued and pushed. Resolves once saved locally. */
  patchState(patch) {
    return this.#call('patchState', [patch]);
  }

  /** Pulls and pushes now: `{pushed, pulled, conflicts, version, pending, offline}`. */
  sync() {
    return this.#call('sync', []);
  }

  /** Re-validates and reconciles: `{outcome: 'restored'|'signed_out'|'offline', reason?, version, pending}`. */
  recover() {
    return this.#call('recover', []);
  }

  /** The user's sessions, a page (`current: true` marks this one). */
  devices(options) {
    return this.#call('devices', [options]);
  }

  /** Revokes one of the user's sessions. */
  revokeDevice(id) {
    return this.#call('revokeDevice', [id]);
  }

  /** Revokes every other session of the user; resolves with how many. */
  revokeOtherDevices() {
    return this.#call('revokeOtherDevices', []);
  }

  /** Syncs, conflicts, retries, reconnects, bytes, last round trip, time offline, pending changes. */
  metrics() {
    if (this.#leader) return this.#sync(() => this.#core.metrics(Date.now()));
    return this.#status.metrics ?? {
      syncs: 0, conflicts: 0, retries: 0, reconnects: 0, bytesSent: 0, bytesReceived: 0,
      lastRoundTripMs: null, offlineMs: 0,
      pendingChanges: 0,
    };
  }

  /** `{state: 'disconnected'|'connecting'|'connected'|'reconnecting'|'signed_out', attempt?, retryInMs?}`. */
  connectionState() {
    if (this.#closed) return { state: 'disconnected' };
    if (this.#leader) return this.#sync(() => this.#core.connectionState());
    if (!this.#core.signedIn()) return { state: 'signed_out' };
    return this.#status.connectionState;
  }

  /** Whether this copy (tab) holds the connection for all copies of the client. */
  get isLeader() {
    return this.#leader;
  }

  /** Calls `listener(event)` with every §9 event; returns a function that unsubscribes. */
  subscribe(listener) {
    if (typeof listener !== 'function') throw invalid('listener', 'must be a function');
    const entry = { listener };
    this.#listeners.add(entry);
    return () => {
      this.#listeners.delete(entry);
    };
  }

  /** Stops: no more requests, timers or events; hands the connection to another tab. */
  async close() {
    if (this.#closed) return;
    this.#closed = true;
    for (const handle of this.#timers.values()) clearTimeout(handle);
    this.#timers.clear();
    this.#closeStream();
    for (const controller of this.#requests) controller.abort();
    for (const off of this.#offCallbacks) off();
    const closed = new SessionkitError('Storage', 'the client is closed');
    for (const { reject } of this.#ops.values()) reject(closed);
    for (const { reject } of this.#forwarded.values()) reject(closed);
    this.#ops.clear();
    this.#forwarded.clear();
    await this.#saving;
    this.#channel?.close();
    this.#releaseLock?.();
    this.#core.free();
  }

  // ---- one client for every tab ----

  async #joinTabs() {
    const lockName = `sessionkit-client:${this.#key}`;
    this.#channel = new BroadcastChannel(lockName);
    this.#channel.onmessage = (event) => this.#onMessage(event.data);
    const held = new Promise((resolve) => {
      this.#releaseLock = resolve;
    });
    const granted = await new Promise((resolve) => {
      globalThis.navigator.locks
        .request(lockName, { ifAvailable: true }, (lock) => {
          resolve(lock !== null);
          return lock ? held : undefined;
        })
        .catch(() => resolve(false));
    });
    if (granted) {
      await this.#takeOver();
      return;
    }
    this.#post({ t: 'hello' });
    globalThis.navigator.locks
      .request(lockName, () => (this.#closed ? undefined : this.#takeOver().then(() => held)))
      .catch(() => {});
  }

  /** This tab becomes the one that does the I/O: from the newest saved replica. */
  async #takeOver() {
    if (this.#closed) return;
    const saved = await this.#store.load(this.#key);
    if (saved && saved.revision > this.#core.revision) this.#sync(() => this.#core.adopt(Date.now(), saved.record));
    this.#lead();
    this.#post({ t: 'leader' });
    this.#postStatus();
  }

  #lead() {
    this.#leader = true;
    const win = globalThis.window;
    if (win?.addEventListener && globalThis.navigator && 'onLine' in globalThis.navigator) {
      const online = () => this.#input((c, now) => c.online(now, true));
      const offline = () => this.#input((c, now) => c.online(now, false));
      win.addEventListener('online', online);
      win.addEventListener('offline', offline);
      this.#offCallbacks.push(() => {
        win.removeEventListener('online', online);
        win.removeEventListener('offline', offline);
      });
      if (globalThis.navigator.onLine === false) this.#input((c, now) => c.online(now, false));
    }
    this.#input((c, now) => c.start(now));
  }

  #post(message) {
    try {
      this.#channel?.postMessage(message);
    } catch {
      // A closed channel: the tab is going away.
    }
  }

  #postStatus() {
    if (!this.#channel || !this.#leader) return;
    this.#post({
      t: 'status',
      connectionState: this.#core.connectionState(),
      metrics: this.#core.metrics(Date.now()),
    });
  }

  #onMessage(message) {
    if (this.#closed || !isObject(message)) return;
    switch (message.t) {
      case 'call':
        if (this.#leader) this.#serve(message);
        break;
      case 'reply': {
        if (message.to !== this.#tab) return;
        const pending = this.#forwarded.get(message.id);
        if (!pending) return;
        this.#forwarded.delete(message.id);
        if (message.error) pending.reject(toError(message.error));
        else pending.resolve(message.value);
        break;
      }
      case 'replica':
        if (!this.#leader && message.revision > this.#core.revision) {
          this.#sync(() => this.#core.adopt(Date.now(), message.record));
        }
        break;
      case 'event':
        if (!this.#leader) this.#dispatch(message.event);
        break;
      case 'status':
        if (!this.#leader) {
          this.#status = { connectionState: message.connectionState, metrics: message.metrics };
        }
        break;
      case 'leader':
        // A new leader: calls sent to the old one may be lost; send them again (every call is
        // safe to repeat: state changes are whole values or merge patches).
        for (const [id, pending] of this.#forwarded) {
          this.#post({ t: 'call', from: this.#tab, id, method: pending.method, args: pending.args });
        }
        break;
      case 'hello':
        if (this.#leader) {
          this.#post({ t: 'replica', revision: this.#core.revision, record: this.#core.record() });
          this.#postStatus();
        }
        break;
      default:
    }
  }

  async #serve({ from, id, method, args }) {
    let reply;
    try {
      if (!TAB_METHODS.has(method)) throw invalid('method', 'unknown');
      reply = { t: 'reply', to: from, id, value: await this.#local(method, Array.isArray(args) ? args : []) };
    } catch (err) {
      const error = err instanceof SessionkitError
        ? { ...err, kind: err.kind, message: err.message }
        : { kind: 'Storage', message: String(err?.message ?? err) };
      reply = { t: 'reply', to: from, id, error };
    }
    this.#post(reply);
  }

  // ---- calls ----

  #sync(call) {
    try {
      return call();
    } catch (raw) {
      throw toError(raw);
    }
  }

  #call(method, args) {
    if (this.#closed) return Promise.reject(new SessionkitError('Storage', 'the client is closed'));
    if (this.#leader) return this.#local(method, args);
    return new Promise((resolve, reject) => {
      const id = this.#nextForward++;
      this.#forwarded.set(id, { method, args, resolve, reject });
      this.#post({ t: 'call', from: this.#tab, id, method, args });
    });
  }

  /** Runs a call on this tab's machine (the leader's). */
  async #local(method, args) {
    const now = Date.now();
    const core = this.#core;
    switch (method) {
      case 'signIn':
        this.#run(this.#sync(() => core.signIn(now, args[0])));
        await this.#saving;
        return undefined;
      case 'putState':
        this.#run(this.#sync(() => core.putState(now, args[0])));
        await this.#saving;
        return undefined;
      case 'patchState':
        this.#run(this.#sync(() => core.patchState(now, args[0])));
        await this.#saving;
        return undefined;
      case 'signOut': {
        // The machine completes the sign-out once the server answered the revocation (or could
        // not be reached); waiting on the request as well keeps that true whatever the order.
        let sent = [];
        await this.#op((op) => {
          const outputs = core.signOut(now, op);
          sent = outputs.filter((o) => o.type === 'send').map((o) => o.id);
          return outputs;
        });
        await Promise.allSettled(sent.map((id) => this.#inFlight.get(id)));
        return undefined;
      }
      case 'sync':
        return this.#op((op) => core.sync(now, op));
      case 'recover':
        return this.#op((op) => core.recover(now, op));
      case 'devices': {
        const options = args[0] ?? {};
        if (!isObject(options)) throw invalid('options', 'must be an object');
        for (const key of Object.keys(options)) {
          if (!['activeOnly', 'limit', 'cursor'].includes(key)) {
            throw invalid(key, 'is not a devices option (known: activeOnly, limit, cursor)');
          }
        }
        const { activeOnly = false, limit, cursor } = options;
        if (typeof activeOnly !== 'boolean') throw invalid('active_only', 'must be a boolean');
        if (limit !== undefined && limit !== null && (!Number.isSafeInteger(limit) || limit < 1 || limit > 1000)) {
          throw invalid('limit', 'must be between 1 and 1000');
        }
        if (cursor !== undefined && cursor !== null && typeof cursor !== 'string') {
          throw invalid('cursor', 'must be a string');
        }
        const page = await this.#op((op) => core.devices(now, op, activeOnly, limit ?? undefined, cursor ?? undefined));
        return { items: (page?.items ?? []).map(sessionOf), nextCursor: page?.next_cursor ?? null };
      }
      case 'revokeDevice':
        await this.#op((op) => core.revokeDevice(now, op, args[0]));
        return undefined;
      case 'revokeOtherDevices': {
        const answer = await this.#op((op) => core.revokeOtherDevices(now, op));
        return answer?.revoked ?? 0;
      }
      default:
        throw invalid('method', 'unknown');
    }
  }

  /** Starts an app call that completes with a `done` output. */
  #op(start) {
    return new Promise((resolve, reject) => {
      const op = this.#nextOp++;
      this.#ops.set(op, { resolve, reject });
      let outputs;
      try {
        outputs = start(op);
      } catch (raw) {
        this.#ops.delete(op);
        reject(toError(raw));
        return;
      }
      this.#run(outputs);
    });
  }

  // ---- the I/O the machine asks for ----

  /** Feeds the machine one input (unless closed) and carries out what it returns. */
  #input(feed) {
    if (this.#closed || !this.#leader) return;
    let outputs;
    try {
      outputs = feed(this.#core, Date.now());
    } catch (raw) {
      console.error('sessionkit: the sync client refused an input', toError(raw));
      return;
    }
    this.#run(outputs);
  }

  #run(outputs) {
    for (const out of outputs) {
      switch (out.type) {
        case 'send':
          this.#send(out);
          break;
        case 'open_stream':
          this.#openStream(out.token);
          break;
        case 'close_stream':
          this.#closeStream();
          break;
        case 'set_timer':
          this.#setTimer(out.timer, out.afterMs);
          break;
        case 'cancel_timer':
          clearTimeout(this.#timers.get(out.timer));
          this.#timers.delete(out.timer);
          break;
        case 'emit':
          this.#emit(out.event);
          break;
        case 'persist':
          this.#persist();
          break;
        case 'done':
          this.#done(out);
          break;
        default:
      }
    }
    this.#postStatus();
  }

  /**
   * Saves the replica. Saves run one at a time, after the requests of the same step went out; a
   * record that a newer one replaced before its turn is never even encoded (each record is the
   * whole replica, and the store keeps the newest revision). `#saving` resolves once the newest
   * record so far is written; the other tabs get each record as it is saved.
   */
  #persist() {
    this.#unsaved = true;
    if (!this.#saveLoop) this.#saveLoop = this.#drainSaves();
    this.#saving = this.#saveLoop;
  }

  async #drainSaves() {
    await null;
    while (this.#unsaved) {
      this.#unsaved = false;
      const taken = this.#core.takeRecord();
      if (!taken) continue;
      this.#post({ t: 'replica', revision: taken.revision, record: taken.record });
      try {
        await this.#store.save(this.#key, taken.revision, taken.record);
      } catch (err) {
        this.#emit({ type: 'error', kind: 'Storage', message: `the replica could not be saved: ${err?.message ?? err}` });
      }
    }
    this.#saveLoop = null;
  }

  #done({ op, value, error }) {
    const pending = this.#ops.get(op);
    if (!pending) return;
    this.#ops.delete(op);
    // Resolve once what the call changed is saved locally.
    this.#saving.then(() => {
      if (error) pending.reject(toError(error));
      else pending.resolve(value ?? null);
    });
  }

  #emit(event) {
    this.#post({ t: 'event', event });
    this.#dispatch(event);
  }

  #dispatch(event) {
    for (const { listener } of [...this.#listeners]) {
      try {
        listener(event);
      } catch (err) {
        console.error('sessionkit: an event listener threw', err);
      }
    }
  }

  #setTimer(timer, afterMs) {
    clearTimeout(this.#timers.get(timer));
    const handle = setTimeout(() => {
      this.#timers.delete(timer);
      this.#input((c, now) => c.timer(now, timer));
    }, afterMs);
    this.#timers.set(timer, handle);
  }

  #send({ id, method, path, headers, body }) {
    const controller = new AbortController();
    this.#requests.add(controller);
    const timeout = setTimeout(() => controller.abort(), this.#timeoutMs);
    const init = {
      method,
      headers: Object.fromEntries(headers),
      body: body ?? undefined,
      signal: controller.signal,
      cache: 'no-store',
    };
    const done = this.#fetch(this.#baseUrl + path, init)
      .then(async (response) => {
        const text = await response.text();
        return { status: response.status, retryAfter: response.headers.get('retry-after'), etag: response.headers.get('etag'), text };
      })
      .then(
        (r) => this.#input((c, now) => c.httpResponse(now, id, r.status, r.retryAfter ?? undefined, r.etag ?? undefined, r.text)),
        () => this.#input((c, now) => c.networkFailure(now, id)),
      )
      .finally(() => {
        clearTimeout(timeout);
        this.#requests.delete(controller);
        this.#inFlight.delete(id);
      });
    this.#inFlight.set(id, done);
  }

  #closeStream() {
    this.#streamGen += 1;
    this.#stream?.abort();
    this.#stream = null;
  }

  /** The server's events as Server-Sent Events, read through fetch (the token in a header). */
  #openStream(token) {
    this.#closeStream();
    const gen = this.#streamGen;
    const controller = new AbortController();
    this.#stream = controller;
    const current = () => gen === this.#streamGen && !this.#closed;
    const closed = (retryAfterMs) => {
      if (!current()) return;
      this.#stream = null;
      this.#input((c, now) => c.streamClosed(now, retryAfterMs));
    };
    (async () => {
      let response;
      try {
        response = await this.#fetch(`${this.#baseUrl}/v1/session/events`, {
          headers: { Authorization: `Bearer ${token}`, Accept: 'text/event-stream' },
          signal: controller.signal,
          cache: 'no-store',
        });
      } catch {
        closed(undefined);
        return;
      }
      if (!response.ok || !response.body) {
        const seconds = Number.parseInt(response.headers.get('retry-after') ?? '', 10);
        response.body?.cancel().catch(() => {});
        closed(Number.isSafeInteger(seconds) && seconds >= 0 ? seconds * 1000 : undefined);
        return;
      }
      if (!current()) return;
      this.#input((c, now) => c.streamOpened(now));
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = '';
      let name = '';
      let data = [];
      try {
        for (;;) {
          const { value, done } = await reader.read();
          if (done || !current()) break;
          buffer += value;
          let end;
          while ((end = buffer.indexOf('\n')) >= 0) {
            let line = buffer.slice(0, end);
            buffer = buffer.slice(end + 1);
            if (line.endsWith('\r')) line = line.slice(0, -1);
            if (line === '') {
              if (data.length > 0) {
                const event = name || 'message';
                const text = data.join('\n');
                this.#input((c, now) => c.streamEvent(now, event, text));
              }
              name = '';
              data = [];
            } else if (line.startsWith(':')) {
              // A comment (keep-alive).
            } else {
              const colon = line.indexOf(':');
              const field = colon < 0 ? line : line.slice(0, colon);
              let text = colon < 0 ? '' : line.slice(colon + 1);
              if (text.startsWith(' ')) text = text.slice(1);
              if (field === 'event') name = text;
              else if (field === 'data') data.push(text);
            }
          }
        }
      } catch {
        // Aborted or broken: reported below.
      }
      reader.cancel().catch(() => {});
      closed(undefined);
    })();
  }
}

// The public JavaScript face of sessionkit: thin classes over the wasm exports.
//
// No rules live here. The Rust engine (compiled to wasm) checks every argument and applies every
// policy; this file only gives the results their JavaScript idiom: a real Error subclass for
// failures, a function that unsubscribes, and class names without the "Core" suffix. It must be
// imported through src/browser.js or src/node.js, which load the wasm first.

import { ManualClockCore, SessionManagerCore } from '../dist/wasm/sessionkit_wasm.js';

/** The names of the error kinds (docs/SPEC.md §5). */
export const ERROR_KINDS = Object.freeze([
  'InvalidToken',
  'NotFound',
  'Expired',
  'Revoked',
  'Conflict',
  'LimitExceeded',
  'InvalidInput',
  'Corrupt',
  'IncompatibleSchema',
  'Storage',
]);

const DETAIL_FIELDS = ['currentVersion', 'what', 'field', 'reason', 'found', 'supported'];

/** Every sessionkit failure: `kind` names the docs/SPEC.md §5 variant; its fields ride along. */
export class SessionkitError extends Error {
  constructor(kind, message, details = {}) {
    super(message);
    this.name = 'SessionkitError';
    this.kind = kind;
    for (const key of DETAIL_FIELDS) {
      if (details[key] !== undefined) this[key] = details[key];
    }
  }
}

/** Turns the engine's `{kind, message, …}` rejection data into a SessionkitError. */
export function toError(raw) {
  if (raw instanceof Error) return raw;
  if (raw !== null && typeof raw === 'object' && ERROR_KINDS.includes(raw.kind)) {
    return new SessionkitError(raw.kind, raw.message, raw);
  }
  return raw;
}

function rethrow(raw) {
  throw toError(raw);
}

/** Runs a synchronous wasm call, rethrowing its failure as a SessionkitError. */
function sync(call) {
  try {
    return call();
  } catch (raw) {
    return rethrow(raw);
  }
}

/** Runs a Promise-returning wasm call, rejecting with a SessionkitError. */
function async(call) {
  try {
    return call().catch(rethrow);
  } catch (raw) {
    return Promise.reject(toError(raw));
  }
}

/**
 * Manager settings. Every field is optional; an unset field keeps the engine's default
 * (30 min idle, 30 days absolute, 60 s touch interval, no per-user limit, 'reject', 10 KiB
 * compression threshold, 5 MiB state limit). An object literal with the same fields works too.
 */
export class Config {
  idleTimeoutMs = undefined;
  absoluteTimeoutMs = undefined;
  touchIntervalMs = undefined;
  maxSessionsPerUser = undefined;
  sessionLimitPolicy = undefined;
  stateCompressionThreshold = undefined;
  stateMaxBytes = undefined;
  contextPolicy = undefined;

  constructor(fields = {}) {
    Object.assign(this, fields);
  }
}

const core = Symbol('sessionkit.core');

function coreClock(clock) {
  if (clock === undefined || clock === null) return undefined;
  if (!(clock instanceof ManualClock)) {
    throw new SessionkitError('InvalidInput', 'invalid clock: must be a ManualClock', {
      field: 'clock',
      reason: 'must be a ManualClock',
    });
  }
  return clock[core].share();
}

/** A clock that only moves when told to, so expiry is testable without sleeping. */
export class ManualClock {
  constructor(startMs) {
    this[core] = sync(() => new ManualClockCore(startMs));
  }

  /** Moves the clock by `ms` (negative moves it back); returns the new time. */
  advance(ms) {
    return sync(() => this[core].advance(ms));
  }

  /** Sets the clock to `nowMs`. */
  set(nowMs) {
    sync(() => this[core].set(nowMs));
  }

  /** The current time, ms since the epoch. */
  get nowMs() {
    return this[core].nowMs;
  }
}

/** Sessions and per-session state over one store. Every operation returns a Promise. */
export class SessionManager {
  constructor(token, coreManager) {
    if (token !== core) {
      throw new TypeError('use SessionManager.openMemory() or SessionManager.openIndexedDb()');
    }
    this[core] = coreManager;
  }

  /**
   * A manager over a fresh in-memory store (browsers and Node). `options.stateKeys` encrypts
   * state at rest: one `<id>:<base64 of 32 bytes>` a line, the first the current key.
   */
  static async openMemory(config, clock, options) {
    const opened = await async(() =>
      SessionManagerCore.openMemory(config, coreClock(clock), options),
    );
    return new SessionManager(core, opened);
  }

  /**
   * A manager over the IndexedDB database `name` (browsers), created or upgraded on open.
   * `options` as in `openMemory`; every argument is checked before the database is opened.
   */
  static async openIndexedDb(name, config, clock, options) {
    const opened = await async(() =>
      SessionManagerCore.openIndexedDb(name, config, coreClock(clock), options),
    );
    return new SessionManager(core, opened);
  }

  /** The configuration in force, every field filled in. */
  get config() {
    return sync(() => this[core].config());
  }

  create(session) {
    return async(() => this[core].create(session));
  }

  validate(token) {
    return async(() => this[core].validate(token));
  }

  validateInContext(token, context) {
    return async(() => this[core].validateInContext(token, context));
  }

  get(id) {
    return async(() => this[core].get(id));
  }

  touch(id) {
    return async(() => this[core].touch(id));
  }

  updateMetadata(id, patch) {
    return async(() => this[core].updateMetadata(id, patch));
  }

  rotate(id) {
    return async(() => this[core].rotate(id));
  }

  revoke(id) {
    return async(() => this[core].revoke(id));
  }

  delete(id) {
    return async(() => this[core].delete(id));
  }

  listUserSessions(userId, options) {
    return async(() => this[core].listUserSessions(userId, options));
  }

  revokeUserSessions(userId, except) {
    return async(() => this[core].revokeUserSessions(userId, except));
  }

  revokeAllSessions() {
    return async(() => this[core].revokeAllSessions());
  }

  deleteUserSessions(userId) {
    return async(() => this[core].deleteUserSessions(userId));
  }

  cleanupExpired() {
    return async(() => this[core].cleanupExpired());
  }

  countActive() {
    return async(() => this[core].countActive());
  }

  countUserSessions(userId, activeOnly) {
    return async(() => this[core].countUserSessions(userId, activeOnly));
  }

  stats() {
    return async(() => this[core].stats());
  }

  getState(id) {
    return async(() => this[core].getState(id));
  }

  putState(id, data, expectedVersion) {
    return async(() => this[core].putState(id, data, expectedVersion));
  }

  patchState(id, patch, expectedVersion) {
    return async(() => this[core].patchState(id, patch, expectedVersion));
  }

  clearState(id) {
    return async(() => this[core].clearState(id));
  }

  export(options) {
    return async(() => this[core].export(options));
  }

  import(record) {
    return async(() => this[core].import(record));
  }

  /**
   * Calls `listener` with every event from now on. Returns a function that stops it (calling it
   * again does nothing). A listener that throws is reported on the console; the operation that
   * emitted the event is not affected.
   */
  subscribe(listener) {
    if (typeof listener !== 'function') {
      throw new SessionkitError('InvalidInput', 'invalid listener: must be a function', {
        field: 'listener',
        reason: 'must be a function',
      });
    }
    const id = this[core].subscribe((event) => {
      try {
        listener(event);
      } catch (err) {
        console.error('sessionkit: an event listener threw', err);
      }
    });
    let subscribed = true;
    return () => {
      if (subscribed) {
        subscribed = false;
        this[core].unsubscribe(id);
      }
    };
  }
}

// The conformance scenario runner for the JavaScript API (format: tests/conformance/README.md).
//
// Plain ES module with no Node imports, so the same runner drives the package in Node (memory
// store) and in a browser (IndexedDB). Scenarios speak SPEC names (snake_case); this runner maps
// their arguments to the JS API's camelCase and maps results, events and errors back, touching
// only the API's own field names, never user JSON (metadata, state data, patches).

/** `user_agent` -> `userAgent`. */
const camel = (name) => name.replace(/_([a-z0-9])/g, (_, c) => c.toUpperCase());

/** Renames an object's own top-level keys to camelCase (values untouched). */
function camelKeys(object) {
  if (object === null || typeof object !== 'object' || Array.isArray(object)) return object;
  return Object.fromEntries(Object.entries(object).map(([k, v]) => [camel(k), v]));
}

const orNull = (v) => (v === undefined ? null : v);

function sessionOut(s) {
  return {
    id: s.id,
    user_id: s.userId,
    created_at: s.createdAt,
    last_active_at: s.lastActiveAt,
    expires_at: s.expiresAt,
    absolute_expires_at: s.absoluteExpiresAt,
    client: { kind: s.client.kind, version: s.client.version, device: s.client.device },
    ip: s.ip,
    user_agent: s.userAgent,
    active: s.active,
    metadata: s.metadata,
  };
}

const createdOut = (c) => ({ session: sessionOut(c.session), token: c.token });

const pageOut = (p) => ({ items: p.items.map(sessionOut), next_cursor: p.nextCursor });

function stateOut(s) {
  if (s === null) return null;
  return {
    version: s.version,
    data: s.data,
    checksum: s.checksum,
    size: s.size,
    compressed: s.compressed,
    stored_size: s.storedSize,
    updated_at: s.updatedAt,
  };
}

const statsOut = (s) => ({
  total: s.total,
  active: s.active,
  created_last_24h: s.createdLast24h,
  created_last_7d: s.createdLast7d,
  by_client_kind: s.byClientKind,
  average_duration_ms: s.averageDurationMs,
});

/** An event in the scenarios' shape: `type` plus its snake_case fields. */
export function eventOut(e) {
  const out = { type: e.type };
  for (const [k, v] of Object.entries(e)) {
    if (k !== 'type') out[k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)] = v;
  }
  return out;
}

/** An error as scenarios match it: `kind`, `message` and the variant's fields, snake_case. */
export function errorOut(err, SessionkitError) {
  if (!(err instanceof SessionkitError)) {
    throw new Error(`expected a SessionkitError, got ${err?.stack ?? err}`);
  }
  const out = { kind: err.kind, message: err.message };
  const fields = {
    currentVersion: 'current_version',
    what: 'what',
    field: 'field',
    reason: 'reason',
    found: 'found',
    supported: 'supported',
  };
  for (const [js, spec] of Object.entries(fields)) {
    if (err[js] !== undefined) out[spec] = err[js];
  }
  return out;
}

/** Performs one operation: SPEC args in, SPEC-shaped result out. */
async function call(m, op, a) {
  switch (op) {
    case 'create': {
      const input = camelKeys(a);
      return createdOut(await m.create(input));
    }
    case 'validate':
      return sessionOut(await m.validate(a.token));
    case 'get':
      return sessionOut(await m.get(a.id));
    case 'touch':
      return sessionOut(await m.touch(a.id));
    case 'update_metadata':
      return sessionOut(await m.updateMetadata(a.id, a.patch));
    case 'rotate':
      return createdOut(await m.rotate(a.id));
    case 'revoke':
      return orNull(await m.revoke(a.id));
    case 'delete':
      return orNull(await m.delete(a.id));
    case 'list_user_sessions': {
      const { user_id: userId, ...options } = a;
      return pageOut(await m.listUserSessions(userId, camelKeys(options)));
    }
    case 'revoke_user_sessions':
      return await m.revokeUserSessions(a.user_id, a.except);
    case 'cleanup_expired':
      return await m.cleanupExpired();
    case 'count_active':
      return await m.countActive();
    case 'count_user_sessions':
      return await m.countUserSessions(a.user_id, a.active_only);
    case 'stats':
      return statsOut(await m.stats());
    case 'get_state':
      return stateOut(await m.getState(a.id));
    case 'put_state':
      return await m.putState(a.id, a.data, a.expected_version);
    case 'patch_state':
      return await m.patchState(a.id, a.patch, a.expected_version);
    case 'clear_state':
      return orNull(await m.clearState(a.id));
    default:
      throw new ScenarioError(`unknown operation ${JSON.stringify(op)}`);
  }
}

/** The scenario itself is malformed (not a failure of the code under test's answers). */
class ScenarioError extends Error {}

// ---- references, expressions, matching --------------------------------------------------

const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);
const only = (v, key) => isObject(v) && Object.keys(v).length === 1 && key in v;

/** Replaces `$name.path`, `$$text`, `$concat` and `$repeat` by what they denote. */
export function resolve(value, saved) {
  if (typeof value === 'string') {
    if (value.startsWith('$$')) return value.slice(1);
    if (value.startsWith('$')) return lookup(value.slice(1), saved);
    return value;
  }
  if (Array.isArray(value)) return value.map((v) => resolve(v, saved));
  if (only(value, '$concat')) {
    const parts = resolve(value.$concat, saved);
    if (!Array.isArray(parts)) throw new ScenarioError('$concat takes an array');
    return parts.map((p) => (typeof p === 'string' ? p : JSON.stringify(p))).join('');
  }
  if (only(value, '$repeat')) {
    const args = resolve(value.$repeat, saved);
    const [text, count] = Array.isArray(args) ? args : [];
    if (!Array.isArray(args) || args.length !== 2 || typeof text !== 'string' ||
        !Number.isInteger(count) || count < 0) {
      throw new ScenarioError('$repeat takes [string, count]');
    }
    return text.repeat(count);
  }
  if (isObject(value)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolve(v, saved)]));
  }
  return value;
}

function lookup(path, saved) {
  const [name, ...parts] = path.split('.');
  if (!saved.has(name)) throw new ScenarioError(`no saved result named ${JSON.stringify(name)}`);
  let current = saved.get(name);
  for (const part of parts) {
    let next;
    if (Array.isArray(current)) next = /^\d+$/.test(part) ? current[Number(part)] : undefined;
    else if (isObject(current) && Object.hasOwn(current, part)) next = current[part];
    if (next === undefined) throw new ScenarioError(`$${path}: nothing at ${JSON.stringify(part)}`);
    current = next;
  }
  return current;
}

function typeName(v) {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v; // string number boolean object
}

/** Deep JSON equality (for `$ne`). */
export function deepEqual(a, b) {
  if (a === b) return true;
  if (typeName(a) !== typeName(b)) return false;
  if (Array.isArray(a)) return a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  if (isObject(a)) {
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => Object.hasOwn(b, k) && deepEqual(a[k], b[k]));
  }
  return false;
}

/** Whether `actual` matches `expected` (subset match for objects; matchers; see README). */
export function matches(expected, actual) {
  if (only(expected, '$type')) return typeName(actual) === expected.$type;
  if (only(expected, '$len')) {
    if (Array.isArray(actual)) return actual.length === expected.$len;
    if (typeof actual === 'string') return [...actual].length === expected.$len;
    return false;
  }
  if (only(expected, '$ne')) return !deepEqual(expected.$ne, actual);
  if (isObject(expected)) {
    if (!isObject(actual)) return false;
    return Object.entries(expected).every(([k, v]) =>
      Object.hasOwn(actual, k) ? matches(v, actual[k]) : v === null,
    );
  }
  if (Array.isArray(expected)) {
    return Array.isArray(actual) && expected.length === actual.length &&
      expected.every((e, i) => matches(e, actual[i]));
  }
  return expected === actual;
}

const show = (v) => JSON.stringify(v);

/**
 * Runs one scenario. `api` is the package's exports; `open(config, clock)` opens a manager on
 * a fresh, empty store (`config` is the scenario's config in camelCase, an object literal).
 * Throws an Error naming the step on the first mismatch.
 */
export async function runScenario(scenario, api, open) {
  const { ManualClock, SessionkitError } = api;
  const fail = (step, message) => {
    const where = step === null ? scenario.name : `${scenario.name} (step ${step})`;
    return new Error(`${where}: ${message}`);
  };
  const clock = new ManualClock(scenario.clock_start_ms ?? 1_700_000_000_000);
  const config = camelKeys(scenario.config ?? {});

  let manager;
  try {
    manager = await open(config, clock);
  } catch (err) {
    if (scenario.open_error === undefined) throw fail(null, `open failed: ${err?.stack ?? err}`);
    const actual = errorOut(err, SessionkitError);
    const expected = typeof scenario.open_error === 'string' ? { kind: scenario.open_error } : scenario.open_error;
    if (!matches(expected, actual)) throw fail(null, `open failed with ${show(actual)}, expected ${show(expected)}`);
    return;
  }
  if (scenario.open_error !== undefined) {
    throw fail(null, `open succeeded, expected error ${show(scenario.open_error)}`);
  }

  const events = [];
  const unsubscribe = manager.subscribe((e) => events.push(e));
  const saved = new Map();
  try {
    for (const [index, step] of (scenario.steps ?? []).entries()) {
      const args = resolve(step.args ?? {}, saved);
      let value;
      let error;
      try {
        if (step.op === 'advance') {
          if (!Number.isInteger(args.ms)) throw new ScenarioError('advance needs an integer `ms`');
          value = clock.advance(args.ms);
        } else if (step.op === 'events') {
          value = events.splice(0).map(eventOut);
        } else {
          value = await call(manager, step.op, args);
        }
      } catch (err) {
        if (err instanceof ScenarioError) throw fail(index, `${step.op}: ${err.message}`);
        error = err;
      }
      if (error === undefined) {
        if (step.error !== undefined) {
          throw fail(index, `${step.op}: succeeded with ${show(value)}, expected error ${show(step.error)}`);
        }
        if (step.expect !== undefined) {
          const expect = resolve(step.expect, saved);
          if (!matches(expect, value)) throw fail(index, `${step.op}: got ${show(value)}, expected ${show(expect)}`);
        }
        if (step.save !== undefined) saved.set(step.save, value);
      } else {
        if (!(error instanceof SessionkitError)) {
          throw fail(index, `${step.op}: threw a non-SessionkitError: ${error?.stack ?? error}`);
        }
        const actual = errorOut(error, SessionkitError);
        if (step.error === undefined) throw fail(index, `${step.op}: failed: ${show(actual)}`);
        let expected = resolve(step.error, saved);
        if (typeof expected === 'string') expected = { kind: expected };
        if (!matches(expected, actual)) {
          throw fail(index, `${step.op}: failed with ${show(actual)}, expected ${show(expected)}`);
        }
      }
    }
  } finally {
    unsubscribe();
  }
}

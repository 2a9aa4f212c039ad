// The JS conformance runner itself: matching, references and expressions behave as the format
// says (tests/conformance/README.md), and a scenario that expects the wrong thing fails.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as api from 'sessionkit';
import { matches, resolve, runScenario } from './conformance-runner.js';

test('subset matching and matchers', () => {
  const actual = { a: 1, b: [1, 2], c: 'xyz', d: null };
  assert.ok(matches({ a: 1 }, actual));
  assert.ok(!matches({ a: 2 }, actual));
  assert.ok(!matches({ b: [1] }, actual));
  assert.ok(matches({ b: { $len: 2 }, c: { $type: 'string' } }, actual));
  assert.ok(matches({ c: { $ne: 'abc' }, d: null, e: null }, actual));
  assert.ok(!matches({ e: 1 }, actual));
  assert.ok(matches({ $len: 2 }, '東京'));
  assert.ok(!matches({ $ne: { x: [1] } }, { x: [1] }));
  assert.ok(matches({ $type: 'array' }, []) && matches({ $type: 'null' }, null));
});

test('references and expressions resolve', () => {
  const saved = new Map([['s', { session: { id: 'abc' }, list: [10, 20] }]]);
  assert.equal(resolve('$s.session.id', saved), 'abc');
  assert.equal(resolve('$s.list.1', saved), 20);
  assert.equal(resolve({ $concat: ['$s.session.id', '.', 7] }, saved), 'abc.7');
  assert.equal(resolve({ $repeat: ['ab', 3] }, saved), 'ababab');
  assert.equal(resolve('$$literal', saved), '$literal');
  assert.throws(() => resolve('$missing', saved));
  assert.throws(() => resolve('$s.nothing', saved));
});

const open = (config, clock) => api.SessionManager.openMemory(config, clock);

test('a scenario expecting the wrong result, error or event fails', async () => {
  const base = { name: 'wrong', description: '' };
  const create = { op: 'create', args: { user_id: 'alice', client_kind: 'web' }, save: 'a' };
  const wrong = [
    [create, { op: 'get', args: { id: '$a.session.id' }, expect: { user_id: 'bob' } }],
    [create, { op: 'get', args: { id: '$a.session.id' }, error: 'NotFound' }],
    [{ op: 'validate', args: { token: 'x' }, error: { kind: 'NotFound' } }],
    [{ op: 'validate', args: { token: 'x' } }],
    [create, { op: 'events', expect: [{ type: 'Created', session_id: 'nope' }] }],
    [{ op: 'frobnicate' }],
  ];
  for (const steps of wrong) {
    await assert.rejects(runScenario({ ...base, steps }, api, open), undefined, JSON.stringify(steps));
  }
  await assert.rejects(runScenario({ ...base, config: { idle_timeout_ms: 0 } }, api, open));
  await assert.rejects(
    runScenario({ ...base, open_error: { kind: 'InvalidInput', field: 'touch_interval_ms' }, config: { idle_timeout_ms: 0 } }, api, open),
  );
  await runScenario(
    { ...base, open_error: { kind: 'InvalidInput', field: 'idle_timeout_ms' }, config: { idle_timeout_ms: 0 } },
    api,
    open,
  );
  await runScenario(
    {
      ...base,
      steps: [
        create,
        { op: 'get', args: { id: '$a.session.id' }, expect: { user_id: 'alice', client: { kind: 'web' } } },
        { op: 'events', expect: [{ type: 'Created', session_id: '$a.session.id', user_id: 'alice' }] },
      ],
    },
    api,
    open,
  );
});

// Every conformance scenario in tests/conformance/ through the JS API, on the memory store.
// The list is read from the directory: new scenarios run without touching this file.
import { test } from 'node:test';
import { readdirSync, readFileSync } from 'node:fs';
import * as api from 'sessionkit';
import { runScenario } from './conformance-runner.js';

const dir = new URL('../../tests/conformance/', import.meta.url);
const files = readdirSync(dir).filter((f) => f.endsWith('.json')).sort();

test('the scenario directory is not empty', () => {
  if (files.length === 0) throw new Error(`no scenarios in ${dir.pathname}`);
});

for (const file of files) {
  const scenario = JSON.parse(readFileSync(new URL(file, dir), 'utf8'));
  test(`conformance: ${scenario.name}`, async () => {
    if (`${scenario.name}.json` !== file) throw new Error(`name ${scenario.name} differs from ${file}`);
    await runScenario(scenario, api, (config, clock) => api.SessionManager.openMemory(config, clock));
  });
}

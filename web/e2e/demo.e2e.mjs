// End to end in Debian's Chromium (playwright-core drives /usr/bin/chromium; no browser is ever
// downloaded): the demo page over IndexedDB on disk (a fresh persistent profile per run), every
// conformance scenario through the JS API on IndexedDB in the same browser, and state encryption
// at rest there (bad keys create no database; what IndexedDB holds is ciphertext).
//   npm run test:e2e        (after npm run build)
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { startServer } from '../scripts/serve.mjs';

const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const ARGS = [
  '--no-sandbox', '--headless', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];
const SCREENSHOT = new URL('./screenshots/demo.png', import.meta.url);
const CONFLICT_SCREENSHOT = new URL('./screenshots/demo-conflict.png', import.meta.url);
const TIMEOUT = 15_000;

let server;
let context;
let profile;

before(async () => {
  server = await startServer({ port: 0 });
  profile = mkdtempSync(path.join(tmpdir(), 'sessionkit-e2e-profile-'));
  context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    args: ARGS,
    headless: true,
    viewport: { width: 1280, height: 900 },
  });
  context.setDefaultTimeout(TIMEOUT);
});

after(async () => {
  await context?.close();
  await server?.close();
  if (profile) rmSync(profile, { recursive: true, force: true });
});

/** Fails the test on any uncaught page error or console error. */
function watch(page) {
  const problems = [];
  page.on('pageerror', (err) => problems.push(`pageerror: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error') problems.push(`console.error: ${msg.text()}`);
  });
  return problems;
}

test('demo: devices, validate, revoke, sign out everywhere else, state CAS, live events', async () => {
  const page = await context.newPage();
  const problems = watch(page);
  await page.goto(`${server.url}/demo/`);
  await page.locator('body[data-ready="true"]').waitFor();
  await page.getByText('Ready: IndexedDB database "sessionkit-demo" open').waitFor();

  const rows = page.locator('#devices tr');
  const row = (device) => page.locator(`#devices tr[data-device="${device}"]`);
  const message = page.locator('#devices-message');

  // Sign in on three devices.
  for (const [kind, device] of [['desktop', 'Work laptop'], ['mobile', 'Pixel 8'], ['web', 'Firefox on Linux']]) {
    await page.selectOption('#client-kind', kind);
    await page.fill('#device-name', device);
    await page.click('#sign-in');
    await row(device).waitFor();
    await page.getByText(`Signed in: ${device}`).waitFor();
  }
  assert.equal(await rows.count(), 3);
  assert.match(await row('Work laptop').innerText(), /this device/, 'the first sign-in is this device');
  assert.match(await row('Pixel 8').innerText(), /mobile/);

  // Validate a token.
  await row('Pixel 8').locator('button.validate').click();
  await page.getByText(/^Valid: Pixel 8 until /).waitFor();

  // Revoke one; its token stops validating.
  await row('Firefox on Linux').locator('button.revoke').click();
  await row('Firefox on Linux').locator('.badge.revoked').waitFor();
  await row('Firefox on Linux').locator('button.validate').click();
  await page.locator('#devices-message.error', { hasText: 'Revoked' }).waitFor();

  // Sign out everywhere else: only the phone was still active besides this device.
  await page.click('#sign-out-others');
  await page.getByText('Signed out everywhere else: 1 session revoked').waitFor();
  await row('Pixel 8').locator('.badge.revoked').waitFor();
  assert.equal(await row('Work laptop').locator('.badge.active').count(), 1);
  assert.equal(await page.locator('#devices .badge.revoked').count(), 2);

  // State editor: save, a write from elsewhere, then a stale save is a Conflict.
  await page.getByText('no state yet').waitFor();
  await page.fill('#state-json', '{"theme": "dark", "tabs": ["inbox"]}');
  await page.click('#state-save');
  await page.getByText('Saved version 1').waitFor();
  assert.equal(await page.locator('#state-version').innerText(), '1');
  assert.equal(await page.locator('#state-compressed').innerText(), 'no');
  await page.click('#state-other-write');
  await page.getByText('Another device saved version 2').waitFor();
  await page.fill('#state-json', '{"theme": "light"}');
  await page.click('#state-save');
  await page.locator('#state-message.error', { hasText: 'Conflict: another writer got there first; current version is 2' }).waitFor();
  assert.equal(await page.locator('#state-version').innerText(), '1', 'the editor still shows what it loaded');
  mkdirSync(new URL('.', SCREENSHOT), { recursive: true });
  await page.screenshot({ path: CONFLICT_SCREENSHOT.pathname, fullPage: true });
  await page.click('#state-reload');
  await page.getByText('Reloaded version 2').waitFor();
  assert.match(await page.inputValue('#state-json'), /another device/);

  // A large state is stored compressed.
  await page.click('#state-big');
  await page.click('#state-save');
  await page.getByText('Saved version 3').waitFor();
  assert.equal(await page.locator('#state-compressed').innerText(), 'yes');
  const size = parseInt(await page.locator('#state-size').innerText(), 10);
  const stored = parseInt(await page.locator('#state-stored-size').innerText(), 10);
  assert.ok(size > 20_000 && stored < size / 4, `size ${size}, stored ${stored}`);

  // The live event log saw all of it, newest first.
  const types = await page.locator('#event-log li').evaluateAll((items) => items.map((li) => li.dataset.type));
  assert.deepEqual(types.slice().reverse(), [
    'Created', 'Created', 'Created', 'Revoked', 'Revoked', 'StateChanged', 'StateChanged', 'StateChanged',
  ]);

  await page.getByText('1 active session stored').waitFor();
  await page.screenshot({ path: SCREENSHOT.pathname, fullPage: true });

  // Everything is in IndexedDB on disk: a reload lists the same devices and state.
  await page.reload();
  await page.locator('body[data-ready="true"]').waitFor();
  await page.getByText('1 active session stored').waitFor();
  await rows.nth(2).waitFor();
  assert.equal(await rows.count(), 3);
  assert.equal(await page.locator('#devices .badge.revoked').count(), 2);
  await row('Work laptop').locator('button.use').click();
  await page.locator('#state-version', { hasText: '3' }).waitFor();
  assert.deepEqual(problems, []);
  await page.close();
});

test('every conformance scenario through the JS API on IndexedDB in Chromium', async (t) => {
  const dir = new URL('../../tests/conformance/', import.meta.url);
  const scenarios = readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => JSON.parse(readFileSync(new URL(f, dir), 'utf8')));
  assert.ok(scenarios.length > 0);
  const page = await context.newPage();
  const problems = watch(page);
  await page.goto(`${server.url}/e2e/blank.html`);
  const failures = await page.evaluate(async (all) => {
    const api = await import('/src/browser.js');
    const { runScenario } = await import('/test/conformance-runner.js');
    const out = [];
    for (const [i, scenario] of all.entries()) {
      const name = `sessionkit-conformance-${i}-${scenario.name}`;
      try {
        await runScenario(scenario, api, (config, clock) => api.SessionManager.openIndexedDb(name, config, clock));
      } catch (err) {
        out.push(String(err?.message ?? err));
      }
    }
    return out;
  }, scenarios);
  t.diagnostic(`IndexedDB conformance: ${scenarios.length - failures.length} passed, ${failures.length} failed`);
  assert.deepEqual(failures, []);
  assert.deepEqual(problems, []);
  await page.close();
});

test('state keys through the JS API on IndexedDB in Chromium: bad keys create nothing, state is stored encrypted', async () => {
  const page = await context.newPage();
  const problems = watch(page);
  await page.goto(`${server.url}/e2e/blank.html`);
  const result = await page.evaluate(async () => {
    const { SessionManager } = await import('/src/browser.js');
    const K1 = 'AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=';
    const K2 = btoa(String.fromCharCode(...new Uint8Array(32).fill(0x5a)));
    const name = `sessionkit-state-keys-${Math.random()}`;
    const names = async () => (await indexedDB.databases()).map((d) => d.name);
    const kindOf = (promise) => promise.then(() => 'resolved', (e) => `${e.kind}:${e.field ?? ''}`);

    const refused = [];
    for (const stateKeys of ['', '1:not base64!', `1:${K1}\n1:${K2}`, 7]) {
      refused.push(await kindOf(SessionManager.openIndexedDb(name, null, null, { stateKeys })));
    }
    const createdByBadKeys = (await names()).includes(name);

    const secret = 'a secret nobody should find in IndexedDB';
    const writer = await SessionManager.openIndexedDb(name, null, null, { stateKeys: `1:${K1}` });
    const { session } = await writer.create({ userId: 'alice', clientKind: 'web' });
    await writer.putState(session.id, { secret });

    // Every value in every object store, typed arrays as latin1 text: the secret is nowhere.
    const raw = await new Promise((resolve, reject) => {
      const open = indexedDB.open(name);
      open.onerror = () => reject(open.error);
      open.onsuccess = () => {
        const db = open.result;
        const stores = [...db.objectStoreNames];
        const tx = db.transaction(stores, 'readonly');
        const texts = [];
        const text = (v) => {
          if (v instanceof ArrayBuffer) v = new Uint8Array(v);
          if (ArrayBuffer.isView(v)) return String.fromCharCode(...new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
          if (v !== null && typeof v === 'object') return Object.values(v).map(text).join('\u0000');
          return String(v);
        };
        for (const store of stores) {
          const all = tx.objectStore(store).getAll();
          all.onsuccess = () => texts.push(...all.result.map(text));
        }
        tx.oncomplete = () => {
          db.close();
          resolve(texts.join('\n'));
        };
        tx.onerror = () => reject(tx.error);
      };
    });

    const withoutKeys = await SessionManager.openIndexedDb(name);
    const readWithoutKeys = await kindOf(withoutKeys.getState(session.id));
    const rotated = await SessionManager.openIndexedDb(name, null, null, { stateKeys: `2:${K2}\n1:${K1}` });
    const readRotated = (await rotated.getState(session.id)).data.secret;
    return { refused, createdByBadKeys, secretInStore: raw.includes(secret), sawSkse: raw.includes('SKSE'), readWithoutKeys, readRotated };
  });
  assert.deepEqual(result.refused, Array(4).fill('InvalidInput:state_keys'));
  assert.equal(result.createdByBadKeys, false, 'bad keys created the database');
  assert.equal(result.secretInStore, false, 'the state is in the clear in IndexedDB');
  assert.equal(result.sawSkse, true, 'no encrypted blob in IndexedDB');
  assert.equal(result.readWithoutKeys, 'Corrupt:');
  assert.equal(result.readRotated, 'a secret nobody should find in IndexedDB');
  assert.deepEqual(problems, []);
  await page.close();
});

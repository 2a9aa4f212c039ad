// SessionClient benchmark in Debian's Chromium (playwright-core; never a downloaded browser)
// against a real `sessionkit serve` (SESSIONKIT_BIN, over a fresh SQLite file):
//   1. a sync round trip — putState(doc) until `state_synchronized` — against a bare fetch PUT of
//      the same JSON body to the same server, interleaved in one page (target: ≤ 1.3×), with the
//      replica in IndexedDB (the browser default) and in memory;
//   2. bytes on the wire for the 16 KiB corpus document (benches/corpus/doc_16KiB.json): the
//      JSON body of a PUT and of a GET against the encoded state (`application/vnd.sessionkit.state`).
//
//   SESSIONKIT_BIN=../target/release/sessionkit node bench/client.mjs [--quick] [--out FILE]
//
// Needs the package built (npm run build). Times are reported, never asserted.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { startServer } from '../scripts/serve.mjs';
import { newSession, startServe } from '../test/serve.mjs';

const web = fileURLToPath(new URL('..', import.meta.url));
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const ARGS = [
  '--no-sandbox', '--headless', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];
const CORPUS = path.join(web, '..', 'benches', 'corpus', 'doc_16KiB.json');

let quick = false;
let out = path.join(web, '..', 'target', 'bench', 'client.json');
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i += 1) {
  if (argv[i] === '--quick') quick = true;
  else if (argv[i] === '--out' && argv[i + 1]) out = path.resolve(argv[(i += 1)]);
  else {
    console.error('usage: node bench/client.mjs [--quick] [--out FILE]');
    process.exit(2);
  }
}
const params = quick ? { rounds: 5, warmup: 1 } : { rounds: 200, warmup: 20 };

const dir = mkdtempSync(path.join(tmpdir(), 'sessionkit-client-bench-'));
const pages = await startServer({ port: 0 });
const api = await startServe(path.join(dir, 'bench.db'), { args: ['--cors-origin', pages.url] });
const browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS, headless: true });
try {
  const docText = readFileSync(CORPUS, 'utf8');
  const doc = JSON.parse(docText);

  const runs = {};
  for (const store of ['indexeddb', 'memory']) {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${pages.url}/bench/client.html`);
    await page.locator('body[data-ready="true"]').waitFor({ state: 'attached' });
    const clientToken = (await newSession(api.url, 'bench', `client-${store}`)).token;
    const bareToken = (await newSession(api.url, 'bench', `bare-${store}`)).token;
    runs[store] = await page.evaluate((args) => window.runBench(args), {
      baseUrl: api.url, clientToken, bareToken, doc, store, ...params,
    });
    await context.close();
  }

  // Bytes on the wire for the corpus document, stored once through the client API.
  const { token } = await newSession(api.url, 'bench', 'bytes');
  const auth = { Authorization: `Bearer ${token}` };
  const putBody = JSON.stringify({ data: doc, expected_version: 0 });
  const put = await fetch(`${api.url}/v1/session/state`, {
    method: 'PUT', headers: { ...auth, 'Content-Type': 'application/json' }, body: putBody,
  });
  if (put.status !== 200) throw new Error(`PUT failed: ${put.status}`);
  const getJson = Buffer.from(await (await fetch(`${api.url}/v1/session/state`, { headers: { ...auth, Accept: 'application/json' } })).arrayBuffer());
  const blob = Buffer.from(await (await fetch(`${api.url}/v1/session/state`, { headers: { ...auth, Accept: 'application/vnd.sessionkit.state' } })).arrayBuffer());
  const putEncoded = await fetch(`${api.url}/v1/session/state`, {
    method: 'PUT', headers: { ...auth, 'Content-Type': 'application/vnd.sessionkit.state', 'If-Match': '"1"' }, body: blob,
  });
  const bytes = {
    document_json: Buffer.byteLength(docText),
    put_json_body: Buffer.byteLength(putBody),
    get_json_body: getJson.length,
    encoded_blob: blob.length,
    encoded_put_status: putEncoded.status,
  };

  const result = {
    date: new Date().toISOString(),
    mode: quick ? 'quick' : 'full',
    browser: browser.version(),
    server: path.basename(path.dirname(process.env.SESSIONKIT_BIN ?? '')),
    params,
    round_trip: runs,
    bytes,
  };
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
  const ms = (x) => `${x.toFixed(2)} ms`;
  for (const [store, r] of Object.entries(runs)) {
    console.log(`round trip (${store} replica): SessionClient ${ms(r.client.median_ms)} (p95 ${ms(r.client.p95_ms)}) vs bare fetch ${ms(r.bare.median_ms)} (p95 ${ms(r.bare.p95_ms)}): ${r.ratio.toFixed(2)}x (target <= 1.3x)`);
  }
  console.log(`bytes, doc_16KiB.json: PUT JSON body ${bytes.put_json_body} B, GET JSON body ${bytes.get_json_body} B, encoded blob ${bytes.encoded_blob} B (${(bytes.put_json_body / bytes.encoded_blob).toFixed(2)}x smaller than the JSON PUT); encoded PUT answered ${bytes.encoded_put_status}`);
  console.log(`written to ${out}`);
} finally {
  await browser.close();
  await api.stop('SIGKILL');
  await pages.close();
  rmSync(dir, { recursive: true, force: true });
}

// Browser benchmark: sessionkit's IndexedDB store (through the npm package's JS API) against the
// same operations written directly with the npm `idb` package, in Debian's Chromium driven by
// playwright-core (never a downloaded browser), with IndexedDB on disk (a fresh persistent
// profile per run). See bench/bench.js for what each case does.
//
//   npm run bench                     full run  -> ../target/bench/browser.json
//   npm run bench -- --quick          a few seconds, tiny sizes (CI: proves it runs, no timing)
//   node bench/run.mjs --out FILE     another output path (relative to the current directory)
//
// Needs the package built (npm run build). Times are reported, never asserted.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { startServer } from '../scripts/serve.mjs';

const web = fileURLToPath(new URL('..', import.meta.url));
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const ARGS = [
  '--no-sandbox', '--headless', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];
const IDB_MODULE = path.join(web, 'node_modules', 'idb', 'build', 'index.js');

let quick = false;
let out = path.join(web, '..', 'target', 'bench', 'browser.json');
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i += 1) {
  if (argv[i] === '--quick') quick = true;
  else if (argv[i] === '--out' && argv[i + 1]) out = path.resolve(argv[(i += 1)]);
  else {
    console.error('usage: node bench/run.mjs [--quick] [--out FILE]');
    process.exit(2);
  }
}

const params = quick
  ? { rounds: 3, creates: 10, reads: 20, sessions: 20 }
  : { rounds: 15, creates: 60, reads: 150, sessions: 300 };

const browserVersion = (() => {
  try {
    return execFileSync(CHROMIUM, ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return 'unknown';
  }
})();

const started = Date.now();
const server = await startServer({ port: 0 });
const profile = mkdtempSync(path.join(tmpdir(), 'sessionkit-bench-profile-'));
let context;
try {
  context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    args: ARGS,
    headless: true,
  });
  // The static server never serves node_modules; hand the page the `idb` module directly.
  const idbSource = readFileSync(IDB_MODULE, 'utf8');
  await context.route('**/bench/vendor/idb.js', (route) =>
    route.fulfill({ status: 200, contentType: 'text/javascript; charset=utf-8', body: idbSource }),
  );
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (err) => problems.push(`pageerror: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error') problems.push(`console.error: ${msg.text()}`);
  });
  await page.goto(`${server.url}/bench/`);
  const result = await page.evaluate(
    async (p) => (await import('/bench/bench.js')).runBench(p),
    { ...params, tag: quick ? 'quick' : 'full' },
  );
  if (problems.length) throw new Error(problems.join('\n'));
  for (const line of result.lines) console.log(line);

  const report = {
    cases: result.cases,
    browser: browserVersion,
    date: new Date().toISOString(),
    mode: quick ? 'quick' : 'full',
    params: result.params,
  };
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
  console.log('case        ours ns/op   idb ns/op   ours/idb');
  for (const c of report.cases) {
    console.log(`${c.name.padEnd(10)} ${String(c.ours_ns).padStart(11)} ${String(c.idb_ns).padStart(11)}   ${c.ratio.toFixed(2)}`);
  }
  console.log(`${browserVersion}; wrote ${out} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
} finally {
  await context?.close();
  await server.close();
  rmSync(profile, { recursive: true, force: true });
}

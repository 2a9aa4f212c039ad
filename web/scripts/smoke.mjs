// The packed tarball as a user gets it: `npm pack`, install the .tgz into an empty temp project
// (no network: the package has no dependencies), then import it from Node ESM and type-check an
// import of it with TypeScript's Node resolution. Prints "smoke: N passed, M failed".
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const web = fileURLToPath(new URL('..', import.meta.url));
const pkg = JSON.parse(readFileSync(path.join(web, 'package.json'), 'utf8'));
const npm = (args, cwd) => execFileSync('npm', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });

let passed = 0;
let failed = 0;
function check(name, fn) {
  try {
    fn();
    passed += 1;
    console.log(`ok - ${name}`);
  } catch (err) {
    failed += 1;
    console.log(`not ok - ${name}\n  ${String(err?.stack ?? err).split('\n').join('\n  ')}`);
  }
}

const packed = JSON.parse(npm(['pack', '--json'], web))[0];
const tarball = path.join(web, packed.filename);
check(`npm pack wrote ${packed.filename}`, () => {
  if (packed.filename !== `sessionkit-${pkg.version}.tgz`) throw new Error(packed.filename);
});
check('the tarball holds the entry points, types and wasm, and nothing else', () => {
  const files = packed.files.map((f) => f.path).sort();
  const expected = [
    'README.md', 'dist/wasm/sessionkit_wasm.js', 'dist/wasm/sessionkit_wasm_bg.wasm', 'index.d.ts',
    'package.json', 'src/api.js', 'src/browser.js', 'src/client.js', 'src/node.js',
  ];
  if (JSON.stringify(files) !== JSON.stringify(expected)) throw new Error(`files: ${files.join(', ')}`);
});

const dir = mkdtempSync(path.join(tmpdir(), 'sessionkit-smoke-'));
try {
  writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'smoke', private: true, type: 'module' }));
  check('npm install ./sessionkit-<version>.tgz into an empty project', () => {
    npm(['install', '--no-audit', '--no-fund', '--offline', tarball], dir);
  });

  writeFileSync(path.join(dir, 'smoke.mjs'), `
    import { SessionManager, Config, ManualClock, SessionkitError } from 'sessionkit';
    const clock = new ManualClock(1_700_000_000_000);
    const manager = await SessionManager.openMemory(new Config({ idleTimeoutMs: 60_000, touchIntervalMs: 0 }), clock);
    const events = [];
    const stop = manager.subscribe((e) => events.push(e.type));
    const { session, token } = await manager.create({ userId: 'alice', clientKind: 'web' });
    if ((await manager.validate(token)).id !== session.id) throw new Error('validate');
    if (await manager.putState(session.id, { n: 1 }) !== 1) throw new Error('putState');
    let kind;
    try { await manager.putState(session.id, {}, 0); } catch (e) { kind = e instanceof SessionkitError && e.kind; }
    if (kind !== 'Conflict') throw new Error('expected a Conflict SessionkitError, got ' + kind);
    clock.advance(60_000);
    try { await manager.validate(token); } catch (e) { kind = e.kind; }
    if (kind !== 'Expired') throw new Error('expected Expired, got ' + kind);
    stop();
    console.log(JSON.stringify(events));
  `);
  check('import { SessionManager, Config, ManualClock } from "sessionkit" works in Node ESM', () => {
    const out = execFileSync(process.execPath, ['smoke.mjs'], { cwd: dir, encoding: 'utf8' });
    if (out.trim() !== '["Created","StateChanged","Expired"]') throw new Error(`events: ${out}`);
  });

  writeFileSync(path.join(dir, 'typed.ts'), `
    import { SessionManager, type Session } from 'sessionkit';
    export async function f(): Promise<Session> {
      const m = await SessionManager.openMemory({ idleTimeoutMs: 60_000 });
      const { token } = await m.create({ userId: 'alice', clientKind: 'mobile' });
      return m.validate(token);
    }
  `);
  check('TypeScript (module nodenext, strict) finds the package types', () => {
    execFileSync(path.join(web, 'node_modules', '.bin', 'tsc'), [
      '--noEmit', '--strict', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022',
      'typed.ts',
    ], { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'inherit', 'inherit'] });
  });
} finally {
  rmSync(dir, { recursive: true, force: true });
}

console.log(`smoke: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);

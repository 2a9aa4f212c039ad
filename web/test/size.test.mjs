// The size budget of the shipped wasm (after `npm run build`: wasm-pack with the `wasm-release`
// profile, then wasm-opt -Oz). Raising the budget is a decision: say why in the commit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';

/** Gzipped bytes allowed (level 9). Where the bytes go: web/README.md, "Size". */
export const GZIP_BUDGET = 322 * 1024;

test('the gzipped wasm fits the size budget', (t) => {
  const wasm = readFileSync(new URL('../dist/wasm/sessionkit_wasm_bg.wasm', import.meta.url));
  const gzipped = gzipSync(wasm, { level: 9 }).length;
  const kib = (n) => `${(n / 1024).toFixed(1)} KiB`;
  t.diagnostic(`wasm ${kib(wasm.length)} raw, ${kib(gzipped)} gzipped (budget ${kib(GZIP_BUDGET)})`);
  assert.ok(gzipped <= GZIP_BUDGET, `${kib(gzipped)} gzipped exceeds the ${kib(GZIP_BUDGET)} budget`);
});

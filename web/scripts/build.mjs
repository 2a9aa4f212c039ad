// Builds the package's wasm into dist/wasm/:
//   1. wasm-pack (cargo profile `wasm-release`: opt-level "s", fat LTO, one codegen unit;
//      wasm-bindgen --target web, using the wasm-bindgen-cli on PATH, never downloading one);
//   2. wasm-opt from the npm package `binaryen` (wasm-pack's own wasm-opt step is off): drop the
//      exports of zstd's C shims, then -Oz.
// Prints the raw and gzipped size of the result.
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import path from 'node:path';

const web = fileURLToPath(new URL('..', import.meta.url));
const crate = path.join(web, '..', 'bindings', 'wasm');
const out = path.join(web, 'dist', 'wasm');
const wasm = path.join(out, 'sessionkit_wasm_bg.wasm');

function run(command, args, options = {}) {
  console.log(`$ ${command} ${args.join(' ')}`);
  const result = spawnSync(command, args, { stdio: 'inherit', ...options });
  if (result.error) throw result.error;
  if (result.status !== 0) {
    console.error(`${command} failed with exit code ${result.status}`);
    process.exit(result.status ?? 1);
  }
}

// zstd (C, compiled by clang) is most of the wasm. Build it small for this package only:
// - zstd-sys' own "thin" set: no forced inlining, no error strings, the small decoders;
// - no block compressors but ZSTD_fast: the engine compresses at level 1, which is ZSTD_fast for
//   every input size (zstd's clevels.h), so the bytes produced are unchanged. The Node tests
//   prove it: they re-encode tests/vectors/state_codec.json through this build byte for byte.
const zstdFlags = [
  '-DHUF_FORCE_DECOMPRESS_X1=1', '-DZSTD_FORCE_DECOMPRESS_SEQUENCES_SHORT=1',
  '-DZSTD_NO_INLINE=1', '-DZSTD_STRIP_ERROR_STRINGS=1', '-DDYNAMIC_BMI2=0',
  ...['DFAST', 'GREEDY', 'LAZY', 'LAZY2', 'BTLAZY2', 'BTOPT', 'BTULTRA']
    .map((s) => `-DZSTD_EXCLUDE_${s}_BLOCK_COMPRESSOR`),
];
const env = { ...process.env, CFLAGS_wasm32_unknown_unknown: zstdFlags.join(' ') };

rmSync(out, { recursive: true, force: true });
run('wasm-pack', [
  'build', crate,
  '--mode', 'no-install',
  '--target', 'web',
  '--profile', 'wasm-release',
  '--out-dir', out,
  '--out-name', 'sessionkit_wasm',
  '--no-pack', '--no-typescript', '--no-gitignore', '--no-opt',
], { env });

const before = statSync(wasm).size;
// Features the Rust wasm32 target enables by default; wasm-opt must accept (not add) them.
const features = [
  '--enable-bulk-memory', '--enable-mutable-globals', '--enable-nontrapping-float-to-int',
  '--enable-sign-ext', '--enable-reference-types', '--enable-multivalue',
];
// The zstd crate's C shims (malloc, memcpy, qsort, … for zstd's C code) are `#[no_mangle]`
// functions, so the linker exports them from the cdylib, and an export keeps a function alive.
// Nothing but zstd's own code calls them (the JS glue never does): without the exports, -Oz
// drops what zstd does not use, chiefly `qsort` (five sort instances, about 10 KiB gzipped).
const unusedExports = 'rust_zstd_wasm_shim_*';
run(path.join(web, 'node_modules', '.bin', 'wasm-opt'), [
  wasm, `--remove-exports=${unusedExports}`, '-Oz', ...features, '--strip-debug', '--strip-producers',
  '-o', wasm,
]);

const bytes = readFileSync(wasm);
const gz = gzipSync(bytes, { level: 9 }).length;
const kib = (n) => `${(n / 1024).toFixed(1)} KiB`;
console.log(`wasm: ${kib(before)} from wasm-bindgen -> ${kib(bytes.length)} after wasm-opt -Oz (${kib(gz)} gzipped)`);

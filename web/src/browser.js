// Entry point for browsers and bundlers: fetches and instantiates the wasm module next to the
// glue code (bundlers such as Vite and webpack 5 emit it as an asset from the `new URL` below),
// then exports the API. Uses top-level await (ES2022).
import init from '../dist/wasm/sessionkit_wasm.js';

await init({ module_or_path: new URL('../dist/wasm/sessionkit_wasm_bg.wasm', import.meta.url) });

export { Config, ERROR_KINDS, ManualClock, SessionManager, SessionkitError } from './api.js';
export { IndexedDbReplicaStore, MemoryReplicaStore, SessionClient } from './client.js';

// Entry point for Node (>= 20): reads the wasm module from the package with `fs` and
// instantiates it synchronously, then exports the API. Node has no IndexedDB, so use
// `SessionManager.openMemory` there.
import { readFileSync } from 'node:fs';
import { initSync } from '../dist/wasm/sessionkit_wasm.js';

initSync({ module: readFileSync(new URL('../dist/wasm/sessionkit_wasm_bg.wasm', import.meta.url)) });

export { Config, ERROR_KINDS, ManualClock, SessionManager, SessionkitError } from './api.js';
export { IndexedDbReplicaStore, MemoryReplicaStore, SessionClient } from './client.js';

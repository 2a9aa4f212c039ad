// A real `sessionkit serve` for the tests: started on port 0 (or a given port) over a SQLite file,
// its URL read from the `listening on http://…` line, stopped by pid. The admin key travels in
// SESSIONKIT_ADMIN_KEY. SESSIONKIT_BIN names the binary (scripts/test-web.sh builds it).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';

export const BIN = process.env.SESSIONKIT_BIN;
export const ADMIN_KEY = 'test-admin-key-0123456789abcdef';
const START_TIMEOUT_MS = 20_000;

/**
 * Starts `sessionkit --db <db> serve --listen 127.0.0.1:<port>` (`port` 0 picks one); resolves
 * with `{url, port, pid, exited, stop(signal?)}` once it prints its listening line.
 */
export function startServe(db, { port = 0, args = [] } = {}) {
  if (!BIN || !existsSync(BIN)) {
    throw new Error(`set SESSIONKIT_BIN to the sessionkit binary (got ${BIN ?? 'nothing'})`);
  }
  const child = spawn(path.resolve(BIN), ['--db', db, 'serve', '--listen', `127.0.0.1:${port}`, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, SESSIONKIT_ADMIN_KEY: ADMIN_KEY },
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk) => {
    stderr += chunk;
  });
  const handle = {
    pid: child.pid,
    exit: null,
    stderr: () => stderr,
    exited: new Promise((resolve) => {
      child.on('exit', (code, signal) => {
        handle.exit = { code, signal };
        resolve(handle.exit);
      });
    }),
    /** Stops it by pid and waits for the exit. */
    async stop(signal = 'SIGTERM') {
      if (handle.exit === null) process.kill(handle.pid, signal);
      return handle.exited;
    },
  };
  const lines = readline.createInterface({ input: child.stdout });
  return new Promise((resolve, reject) => {
    const fail = (err) => {
      if (handle.exit === null) child.kill('SIGKILL');
      reject(err);
    };
    const timer = setTimeout(() => fail(new Error(`no listening line within ${START_TIMEOUT_MS} ms:\n${stderr}`)), START_TIMEOUT_MS);
    lines.once('line', (line) => {
      clearTimeout(timer);
      const match = /^listening on (http:\/\/127\.0\.0\.1:(\d+))$/.exec(line);
      if (match) {
        handle.url = match[1];
        handle.port = Number(match[2]);
        resolve(handle);
      } else {
        fail(new Error(`unexpected first line: ${JSON.stringify(line)}`));
      }
    });
    lines.on('line', () => {});
    child.once('error', reject);
    handle.exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`the server exited early (${code ?? signal}):\n${stderr}`));
    });
  });
}

/** An admin API call; resolves with `{status, body}` (body parsed when JSON). */
export async function admin(url, method, route, body) {
  const response = await fetch(url + route, {
    method,
    headers: { Authorization: `Bearer ${ADMIN_KEY}`, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  let parsed = text;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    // not JSON
  }
  return { status: response.status, body: parsed };
}

/** A new session for `user` through the admin API: `{session, token}`. */
export async function newSession(url, user, device = 'test') {
  const { status, body } = await admin(url, 'POST', '/v1/admin/sessions', {
    user_id: user,
    client_kind: 'web',
    device,
  });
  if (status !== 201) throw new Error(`create failed: ${status} ${JSON.stringify(body)}`);
  return body;
}

/** The server's state of session `id`: `{version, data}` or null. */
export async function serverState(url, id) {
  const { status, body } = await admin(url, 'GET', `/v1/admin/sessions/${id}/state`);
  if (status === 204) return null;
  if (status !== 200) throw new Error(`state failed: ${status} ${JSON.stringify(body)}`);
  return { version: body.version, data: body.data };
}

/** Writes the server's state of session `id` as an admin (another writer). */
export async function adminPut(url, id, data) {
  const { status, body } = await admin(url, 'PUT', `/v1/admin/sessions/${id}/state`, { data });
  if (status !== 200) throw new Error(`admin put failed: ${status} ${JSON.stringify(body)}`);
  return body.version;
}

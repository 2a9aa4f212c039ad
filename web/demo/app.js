// The sessionkit demo: a device list, a state editor with compare-and-swap, and a live event log,
// all over IndexedDB through the npm package's browser entry. Served by `npm run demo`.
import { SessionManager, SessionkitError } from '../src/browser.js';

const DB_NAME = 'sessionkit-demo';
const $ = (id) => document.getElementById(id);

/** Tokens are returned once by create/rotate; the demo keeps them in memory only. */
const tokens = new Map();
let manager;
let current = null; // the session id this page acts as ("this device")
let loadedVersion = 0; // the state version the editor was loaded from (0 = none)

function describe(err) {
  if (!(err instanceof SessionkitError)) return String(err?.message ?? err);
  const details = {
    Conflict: () => `another writer got there first; current version is ${err.currentVersion}`,
    LimitExceeded: () => `limit ${err.what}`,
    InvalidInput: () => `${err.field}: ${err.reason}`,
    Corrupt: () => err.what,
  }[err.kind];
  return `${err.kind}${details ? `: ${details()}` : ''}`;
}

function say(id, text, tone = '') {
  const el = $(id);
  el.textContent = text;
  el.className = `message ${tone}`;
}

const time = (ms) => new Date(ms).toLocaleTimeString();
const short = (id) => `${id.slice(0, 8)}…`;

function button(label, cls, onClick, disabled = false) {
  const b = document.createElement('button');
  b.type = 'button';
  b.textContent = label;
  b.className = `small ${cls}`;
  b.disabled = disabled;
  b.addEventListener('click', onClick);
  return b;
}

function cell(row, content) {
  const td = document.createElement('td');
  if (content instanceof Node) td.append(content);
  else td.textContent = content;
  row.append(td);
  return td;
}

async function renderDevices() {
  const userId = $('user-id').value;
  const page = await manager.listUserSessions(userId, { limit: 100 });
  const body = $('devices');
  body.replaceChildren();
  for (const s of page.items) {
    const expired = s.expiresAt <= Date.now();
    const status = !s.active ? 'revoked' : expired ? 'expired' : 'active';
    const row = document.createElement('tr');
    row.dataset.sessionId = s.id;
    row.dataset.device = s.client.device ?? '';
    row.className = [status, s.id === current ? 'current' : ''].join(' ').trim();
    cell(row, `${s.client.device ?? '(unnamed)'}${s.id === current ? ' (this device)' : ''}`);
    cell(row, s.client.kind);
    const code = document.createElement('code');
    code.textContent = short(s.id);
    code.title = s.id;
    cell(row, code);
    cell(row, time(s.lastActiveAt));
    cell(row, time(s.expiresAt));
    const badge = document.createElement('span');
    badge.className = `badge status ${status}`;
    badge.textContent = status;
    cell(row, badge);
    const actions = cell(row, '');
    actions.append(
      button('Validate', 'validate', () => validate(s.id), !tokens.has(s.id)),
      ' ',
      button('Revoke', 'revoke', () => revoke(s.id), !s.active),
      ' ',
      button('Use here', 'use', () => use(s.id), !s.active || s.id === current),
    );
    body.append(row);
  }
  $('sign-out-others').disabled = current === null;
  const active = await manager.countActive();
  $('status').textContent = `Ready: IndexedDB database "${DB_NAME}" open, ${active} active session${active === 1 ? '' : 's'} stored.`;
  return page.items;
}

async function act(messageId, work) {
  try {
    const text = await work();
    if (text) say(messageId, text, 'ok');
  } catch (err) {
    say(messageId, describe(err), 'error');
  }
  await renderDevices();
}

async function signIn(event) {
  event.preventDefault();
  await act('devices-message', async () => {
    const { session, token } = await manager.create({
      userId: $('user-id').value,
      clientKind: $('client-kind').value,
      device: $('device-name').value || null,
      userAgent: navigator.userAgent,
    });
    tokens.set(session.id, token);
    if (current === null) await use(session.id, false);
    return `Signed in: ${session.client.device ?? session.client.kind} (${short(session.id)})`;
  });
}

const validate = (id) =>
  act('devices-message', async () => {
    const s = await manager.validate(tokens.get(id));
    return `Valid: ${s.client.device ?? short(s.id)} until ${time(s.expiresAt)}`;
  });

const revoke = (id) =>
  act('devices-message', async () => {
    await manager.revoke(id);
    return `Revoked ${short(id)}`;
  });

async function use(id, render = true) {
  current = id;
  $('current-session').textContent = short(id);
  for (const b of ['state-save', 'state-other-write', 'state-big', 'state-reload']) $(b).disabled = false;
  await loadState(true);
  if (render) await renderDevices();
}

async function loadState(fillEditor) {
  const state = await manager.getState(current);
  loadedVersion = state?.version ?? 0;
  $('state-expected').textContent = String(loadedVersion);
  $('state-version').textContent = state ? String(state.version) : 'no state yet';
  $('state-size').textContent = state ? `${state.size} bytes` : '–';
  $('state-stored-size').textContent = state ? `${state.storedSize} bytes` : '–';
  $('state-compressed').textContent = state ? (state.compressed ? 'yes' : 'no') : '–';
  $('state-checksum').textContent = state ? state.checksum : '–';
  if (fillEditor && state) $('state-json').value = JSON.stringify(state.data, null, 2);
}

async function saveState() {
  let data;
  try {
    data = JSON.parse($('state-json').value);
  } catch (err) {
    say('state-message', `Not JSON: ${err.message}`, 'error');
    return;
  }
  try {
    const version = await manager.putState(current, data, loadedVersion);
    await loadState(false);
    say('state-message', `Saved version ${version}`, 'ok');
  } catch (err) {
    say('state-message', `${describe(err)}. Reload to see it, then save again.`, 'error');
  }
}

async function otherWrite() {
  try {
    const version = await manager.patchState(current, { lastWriter: 'another device', at: Date.now() });
    say('state-message', `Another device saved version ${version} (this editor still holds version ${loadedVersion})`);
  } catch (err) {
    say('state-message', describe(err), 'error');
  }
}

function fillBig() {
  const rows = [];
  for (let i = 0; JSON.stringify(rows).length < 20_000; i += 1) {
    rows.push({ id: i, label: `row ${i}`, done: i % 3 === 0 });
  }
  $('state-json').value = JSON.stringify({ rows });
  say('state-message', 'Editor filled with about 20 KB of rows; save to store it compressed');
}

async function reloadState() {
  try {
    await loadState(true);
    say('state-message', `Reloaded version ${loadedVersion}`);
  } catch (err) {
    say('state-message', describe(err), 'error');
  }
}

function logEvent(event) {
  const li = document.createElement('li');
  li.dataset.type = event.type;
  const type = document.createElement('span');
  type.className = 'type';
  type.textContent = event.type;
  const fields = Object.entries(event)
    .filter(([k]) => k !== 'type')
    .map(([k, v]) => `${k}=${k.endsWith('Id') && k !== 'userId' ? short(v) : v}`)
    .join(' ');
  li.append(`${time(Date.now())} `, type, ` ${fields}`);
  $('event-log').prepend(li);
}

async function main() {
  try {
    manager = await SessionManager.openIndexedDb(DB_NAME, { touchIntervalMs: 0 });
  } catch (err) {
    $('status').textContent = `Could not open IndexedDB: ${describe(err)}`;
    return;
  }
  manager.subscribe((event) => {
    logEvent(event);
    if (event.type !== 'StateChanged') renderDevices().catch(() => {});
  });
  $('sign-in-form').addEventListener('submit', signIn);
  $('user-id').addEventListener('change', () => renderDevices());
  $('sign-out-others').addEventListener('click', () =>
    act('devices-message', async () => {
      const n = await manager.revokeUserSessions($('user-id').value, current);
      return `Signed out everywhere else: ${n} session${n === 1 ? '' : 's'} revoked`;
    }),
  );
  $('cleanup').addEventListener('click', () =>
    act('devices-message', async () => `Cleaned up ${await manager.cleanupExpired()} expired session(s)`),
  );
  $('state-save').addEventListener('click', saveState);
  $('state-other-write').addEventListener('click', otherWrite);
  $('state-big').addEventListener('click', fillBig);
  $('state-reload').addEventListener('click', reloadState);
  await renderDevices();
  document.body.dataset.ready = 'true';
}

main();

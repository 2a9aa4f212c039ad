// The demo page of `sessionkit serve --demo`, on the npm package's SessionClient (docs/SPEC.md §9),
// which this server serves under /demo/pkg/. The page holds no sync logic and calls the API
// only through the client: the engine's state machine (wasm) decides every request, retry,
// conflict resolution and event. The one request of its own is the demo-only sign-in, standing
// for the app's backend that hands a token over after a real sign-in.

const $ = (id) => document.getElementById(id);
const LOG_LIMIT = 200;
/** How often the device list and the metrics are refreshed while signed in. */
const REFRESH_MS = 1_000;

let client = null;
let version = null;
let dirty = false;
let refreshTimer = null;
let refreshing = false;

// ---- small helpers -------------------------------------------------------------------------

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key === 'dataset') Object.assign(node.dataset, value);
    else if (key === 'class') node.className = value;
    else node[key] = value;
  }
  for (const child of children) node.append(child);
  return node;
}

function when(ms) {
  if (!Number.isFinite(ms)) return '–';
  const iso = new Date(ms).toISOString().replace('T', ' ').slice(0, 19);
  const delta = Math.round((ms - Date.now()) / 1000);
  const span = Math.abs(delta) < 120 ? `${Math.abs(delta)} s`
    : Math.abs(delta) < 7200 ? `${Math.round(Math.abs(delta) / 60)} min`
      : `${Math.round(Math.abs(delta) / 3600)} h`;
  return `${iso} (${delta >= 0 ? 'in ' : ''}${span}${delta < 0 ? ' ago' : ''})`;
}

function say(id, text, kind = '') {
  const node = $(id);
  node.textContent = text;
  node.className = `message ${kind}`.trim();
}

function errorText(err) {
  return err?.kind ? `${err.kind}: ${err.message}` : String(err?.message ?? err);
}

function log(event) {
  const { type, ...rest } = event;
  const item = el('li', { dataset: { event: type } },
    el('time', {}, new Date().toISOString().slice(11, 23)),
    el('span', { class: 'name' }, type),
    el('code', {}, JSON.stringify(rest)));
  const list = $('event-log');
  list.prepend(item);
  while (list.children.length > LOG_LIMIT) list.lastChild.remove();
}

// ---- views ---------------------------------------------------------------------------------

function showSignIn(reason) {
  stopRefresh();
  $('app-view').hidden = true;
  $('sign-in-view').hidden = false;
  const notice = $('signed-out');
  notice.hidden = !reason;
  notice.textContent = reason ? `signed out (${reason})` : '';
  $('devices').replaceChildren();
  $('devices').dataset.count = '0';
  version = null;
  dirty = false;
}

/** Signed in: the session as last seen (right after signIn it is known once validated). */
function showApp() {
  $('sign-in-view').hidden = true;
  $('signed-out').hidden = true;
  $('app-view').hidden = false;
  renderSession();
  loadEditor();
  renderStatus();
  startRefresh();
}

function renderSession() {
  const session = client.session();
  if (!session) return;
  $('session-user').textContent = session.userId;
  $('session-device').textContent = session.client?.device ?? 'an unnamed device';
  $('session-id').textContent = session.id;
  $('session-expires').textContent = when(session.expiresAt);
}

function renderVersion() {
  $('state-version').textContent = version === null ? '–' : String(version);
}

/** The editor shows the client's local state (the server's base with queued edits applied). */
function loadEditor() {
  const data = client.state();
  $('state-json').value = data === null ? '' : JSON.stringify(data, null, 2);
  dirty = false;
  $('state-dirty').hidden = true;
  renderVersion();
}

function renderStatus() {
  if (!client) return;
  const connection = client.connectionState();
  const node = $('connection-state');
  node.dataset.state = connection.state;
  node.textContent = connection.state === 'reconnecting'
    ? `reconnecting (attempt ${connection.attempt}, next in ${connection.retryInMs} ms)`
    : connection.state;
  $('tab-role').textContent = client.isLeader
    ? 'holds the connection for every tab of this browser profile'
    : 'follows the tab that holds the connection';
  const m = client.metrics();
  const facts = [
    ['syncs', m.syncs], ['conflicts', m.conflicts], ['retries', m.retries],
    ['reconnects', m.reconnects], ['bytes sent / received', `${m.bytesSent} / ${m.bytesReceived}`],
    ['last round trip', m.lastRoundTripMs === null ? '–' : `${m.lastRoundTripMs} ms`],
    ['time offline', `${m.offlineMs} ms`], ['pending changes', m.pendingChanges],
  ];
  $('metrics').replaceChildren(...facts.flatMap(([name, value]) => [
    el('dt', {}, name),
    el('dd', { dataset: { metric: name.split(' ')[0] } }, String(value)),
  ]));
  const pending = $('state-pending');
  pending.dataset.count = String(m.pendingChanges);
  pending.hidden = m.pendingChanges === 0;
  pending.textContent = `${m.pendingChanges} change${m.pendingChanges === 1 ? '' : 's'} not pushed yet`;
}

function renderDevices(items) {
  const body = $('devices');
  body.replaceChildren(...items.map((s) => {
    const device = s.client?.device ?? '';
    const cells = [
      el('td', {}, device || '–', s.current ? ' ' : '', s.current ? el('span', { class: 'badge' }, 'this device') : ''),
      el('td', {}, s.client?.kind ?? ''),
      el('td', {}, el('code', {}, s.id)),
      el('td', {}, when(s.lastActiveAt)),
      el('td', {}, when(s.expiresAt)),
      el('td', { class: 'ua' }, s.userAgent ?? ''),
      el('td', {}, s.current ? '' : el('button', {
        type: 'button', class: 'danger revoke', textContent: 'Revoke',
        onclick: () => revoke(s.id, device),
      })),
    ];
    return el('tr', {
      class: s.current ? 'current' : '',
      dataset: { device, sessionId: s.id, current: String(Boolean(s.current)) },
    }, ...cells);
  }));
  body.dataset.count = String(items.length);
  $('device-count').textContent = String(items.length);
}

async function refreshDevices() {
  if (!client?.session() || refreshing) return;
  refreshing = true;
  try {
    const page = await client.devices({ activeOnly: true });
    if (client.session()) renderDevices(page.items);
  } catch {
    // offline or signed out: the connection state and the events say so
  } finally {
    refreshing = false;
  }
}

function startRefresh() {
  stopRefresh();
  refreshDevices();
  refreshTimer = setInterval(() => {
    renderSession();
    renderStatus();
    refreshDevices();
  }, REFRESH_MS);
}

function stopRefresh() {
  if (refreshTimer !== null) clearInterval(refreshTimer);
  refreshTimer = null;
}

// ---- what the client reports ---------------------------------------------------------------

function onEvent(event) {
  log(event);
  switch (event.type) {
    case 'auth_required':
      showSignIn(event.reason);
      return;
    case 'state_synchronized':
      version = event.version;
      if (!dirty) loadEditor();
      say('state-message', `Synchronized: the server has version ${event.version}.`, 'ok');
      break;
    case 'sync_conflict': {
      const notice = $('state-conflict');
      notice.hidden = false;
      notice.dataset.resolution = event.resolution;
      notice.textContent = `Conflict: this session's state was written elsewhere while your edit was pending; `
        + `settled by "${event.resolution}" (${new Date().toLocaleTimeString()}).`;
      if (!dirty) loadEditor();
      break;
    }
    case 'error':
      say('session-message', `${event.kind}: ${event.message}`, 'error');
      break;
    default:
      break;
  }
  renderSession();
  renderStatus();
  if (client?.session()) refreshDevices();
}

// ---- what the user does --------------------------------------------------------------------

async function signIn(event) {
  event.preventDefault();
  const user = $('user-id').value.trim();
  const device = $('device-name').value.trim();
  $('sign-in').disabled = true;
  say('sign-in-message', 'Signing in…');
  try {
    // Demo only: the app's backend would create the session after a real sign-in.
    const response = await fetch('/demo/sign-in', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(device ? { user_id: user, device } : { user_id: user }),
    });
    const body = await response.json();
    if (!response.ok) throw new Error(body?.message ?? `sign-in failed (${response.status})`);
    await client.signIn(body.token);
    say('sign-in-message', '');
    showApp();
    await syncNow();
  } catch (err) {
    say('sign-in-message', errorText(err), 'error');
  } finally {
    $('sign-in').disabled = false;
  }
}

async function syncNow() {
  try {
    const result = await client.sync();
    if (result.version !== undefined && result.version !== null) version = result.version;
    if (!dirty) loadEditor();
    renderVersion();
    renderStatus();
  } catch (err) {
    say('state-message', errorText(err), 'error');
  }
}

async function edit(method) {
  let data;
  try {
    data = JSON.parse($('state-json').value || 'null');
  } catch (err) {
    say('state-message', `Not JSON: ${err.message}`, 'error');
    return;
  }
  try {
    $('state-conflict').hidden = true;
    await client[method](data);
    dirty = false;
    $('state-dirty').hidden = true;
    loadEditor();
    // The push may already be through (state_synchronized said so): only say it is pending.
    if (client.metrics().pendingChanges > 0) {
      say('state-message', `Applied locally (${method}); pushing…`);
    }
    renderStatus();
  } catch (err) {
    say('state-message', errorText(err), 'error');
  }
}

async function revoke(id, device) {
  try {
    await client.revokeDevice(id);
    say('devices-message', `Revoked ${device || id}.`, 'ok');
    await refreshDevices();
  } catch (err) {
    say('devices-message', errorText(err), 'error');
  }
}

async function revokeOthers() {
  try {
    const n = await client.revokeOtherDevices();
    say('devices-message', `Signed out ${n} other device${n === 1 ? '' : 's'}.`, 'ok');
    await refreshDevices();
  } catch (err) {
    say('devices-message', errorText(err), 'error');
  }
}

async function signOut() {
  try {
    await client.signOut();
    showSignIn('you signed out');
  } catch (err) {
    say('session-message', errorText(err), 'error');
  }
}

// ---- start ---------------------------------------------------------------------------------

async function start() {
  let SessionClient;
  try {
    ({ SessionClient } = await import('/demo/pkg/src/browser.js'));
  } catch (err) {
    document.body.dataset.ready = 'unavailable';
    if (!$('package-missing')) {
      $('demo-warning').after(el('p', { id: 'package-missing', class: 'notice error', role: 'alert' },
        `This demo cannot start: the npm package did not load (${err.message}).`));
    }
    return;
  }
  const heartbeatMs = Number(document.body.dataset.heartbeatMs) || undefined;
  client = await SessionClient.open({ baseUrl: location.origin, name: 'sessionkit-demo', heartbeatMs });
  client.subscribe(onEvent);
  $('sign-in-form').addEventListener('submit', signIn);
  $('sign-out').addEventListener('click', signOut);
  $('sign-out-others').addEventListener('click', revokeOthers);
  $('sync-now').addEventListener('click', syncNow);
  $('state-put').addEventListener('click', () => edit('putState'));
  $('state-patch').addEventListener('click', () => edit('patchState'));
  $('state-reload').addEventListener('click', loadEditor);
  $('state-json').addEventListener('input', () => {
    dirty = true;
    $('state-dirty').hidden = false;
  });
  if (client.session()) {
    showApp();
    syncNow();
  } else {
    showSignIn();
  }
  document.body.dataset.ready = 'true';
}

start();

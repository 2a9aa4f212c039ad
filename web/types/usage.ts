// Typed usage of the package, compiled with `tsc --noEmit --strict` (npm run test:types): the
// hand-written index.d.ts must accept real usage and reject misuse (@ts-expect-error lines).
import {
  Config,
  ManualClock,
  SessionManager,
  SessionkitError,
  type ConfigInit,
  type Created,
  type JsonValue,
  type OpenOptions,
  type Page,
  type Session,
  type SessionEvent,
  type State,
  type Stats,
  MemoryReplicaStore,
  SessionClient,
  type ClientEvent,
  type ConnectionState,
  type RecoveryResult,
  type SyncResult,
} from 'sessionkit';

export async function usage(): Promise<void> {
  const clock = new ManualClock(1_700_000_000_000);
  const config = new Config({ idleTimeoutMs: 15 * 60_000 });
  config.maxSessionsPerUser = 5;
  config.sessionLimitPolicy = 'evict_oldest';
  const literal: ConfigInit = { touchIntervalMs: 0, stateMaxBytes: 1 << 20 };

  const manager: SessionManager = await SessionManager.openMemory(config, clock);
  const browser: SessionManager = await SessionManager.openIndexedDb('app-sessions', literal);
  const plain = await SessionManager.openMemory();
  const keys: OpenOptions = { stateKeys: '1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=' };
  const encrypted = await SessionManager.openIndexedDb('app-sessions', null, null, keys);
  const encryptedMemory = await SessionManager.openMemory(config, undefined, { stateKeys: null });
  // @ts-expect-error the key text is a string
  await SessionManager.openMemory(config, clock, { stateKeys: new Uint8Array(32) });
  void encrypted;
  void encryptedMemory;
  void browser;
  void plain;

  const resolved: number = manager.config.idleTimeoutMs;
  void resolved;

  const created: Created = await manager.create({
    userId: 'alice',
    clientKind: 'web',
    device: 'Firefox on Linux',
    metadata: { plan: 'pro', seats: 3 },
  });
  const token: string = created.token;
  const session: Session = await manager.validate(token);
  const kind: 'desktop' | 'mobile' | 'web' | 'other' = session.client.kind;
  const device: string | null = session.client.device;
  const expiresAt: number = session.expiresAt;
  void kind;
  void device;
  void expiresAt;

  await manager.touch(session.id);
  await manager.updateMetadata(session.id, { seats: 4 });
  const rotated = await manager.rotate(session.id);

  const page: Page<Session> = await manager.listUserSessions('alice', { activeOnly: true, limit: 20 });
  if (page.nextCursor !== null) {
    await manager.listUserSessions('alice', { cursor: page.nextCursor });
  }
  const revoked: number = await manager.revokeUserSessions('alice', rotated.session.id);
  const removed: number = await manager.cleanupExpired();
  const active: number = await manager.countActive();
  const mine: number = await manager.countUserSessions('alice', true);
  const stats: Stats = await manager.stats();
  const web: number = stats.byClientKind.web;
  void [revoked, removed, active, mine, web];

  const version: number = await manager.putState(rotated.session.id, { theme: 'dark', tabs: [1, 2] }, 0);
  await manager.patchState(rotated.session.id, { theme: null }, version);
  const state: State | null = await manager.getState(rotated.session.id);
  if (state !== null) {
    const data: JsonValue = state.data;
    const sizes: [number, number, boolean] = [state.size, state.storedSize, state.compressed];
    void data;
    void sizes;
  }
  await manager.clearState(rotated.session.id);

  const unsubscribe: () => void = manager.subscribe((event: SessionEvent) => {
    switch (event.type) {
      case 'Rotated':
        console.log(event.oldSessionId, '->', event.sessionId);
        break;
      case 'StateChanged':
        console.log(event.sessionId, event.version);
        break;
      case 'CleanupCompleted':
        console.log(event.removed);
        break;
      default:
        console.log(event.type);
    }
  });
  unsubscribe();

  try {
    await manager.putState(rotated.session.id, {}, 99);
  } catch (err) {
    if (err instanceof SessionkitError && err.kind === 'Conflict') {
      const current: number | undefined = err.currentVersion;
      void current;
    }
  }

  const records = await manager.export({ limit: 100 });
  for (const record of records) {
    const imported: boolean = await plain.import(record);
    void imported;
  }
  await manager.revoke(rotated.session.id);
  await manager.delete(rotated.session.id);
  clock.advance(60_000);
  const now: number = clock.nowMs;
  void now;
}

export async function misuse(manager: SessionManager): Promise<void> {
  // @ts-expect-error: unknown client kind
  await manager.create({ userId: 'a', clientKind: 'tablet' });
  // @ts-expect-error: userId is required
  await manager.create({ clientKind: 'web' });
  // @ts-expect-error: metadata must be an object
  await manager.create({ userId: 'a', clientKind: 'web', metadata: [1] });
  // @ts-expect-error: unknown policy
  new Config({ sessionLimitPolicy: 'lru' });
  // @ts-expect-error: unknown config field
  await SessionManager.openMemory({ idleTimeout: 5 });
  // @ts-expect-error: the constructor is private; use openMemory / openIndexedDb
  new SessionManager();
  // @ts-expect-error: versions are numbers
  await manager.putState('id', {}, '1');
  // @ts-expect-error: a clock must be a ManualClock
  await SessionManager.openMemory({}, { nowMs: 1 });
  // @ts-expect-error: BigInt is not JSON
  await manager.putState('id', { n: 1n });
  const event = {} as SessionEvent;
  if (event.type === 'CleanupCompleted') {
    // @ts-expect-error: CleanupCompleted names no session
    void event.sessionId;
  }
}

export async function clientUsage(token: string): Promise<void> {
  const client = await SessionClient.open({
    baseUrl: 'https://api.example.com',
    store: new MemoryReplicaStore(),
    name: 'main',
    heartbeatMs: 25_000,
    backoff: { initialMs: 500, maxMs: 30_000 },
    resolver: (base, local, remote) => remote ?? local ?? base,
  });
  await client.signIn(token);
  await client.putState({ tab: 'inbox', drafts: [] });
  await client.patchState({ tab: 'sent' });
  const view: JsonValue | null = client.state();
  void view;
  const synced: SyncResult = await client.sync();
  const pending: number = synced.pending;
  void pending;
  const recovered: RecoveryResult = await client.recover();
  if (recovered.outcome === 'signed_out') {
    const reason: string = recovered.reason;
    void reason;
  }
  const devices = await client.devices({ activeOnly: true });
  for (const device of devices.items) {
    if (!device.current) await client.revokeDevice(device.id);
  }
  const revoked: number = await client.revokeOtherDevices();
  void revoked;
  const state: ConnectionState = client.connectionState();
  if (state.state === 'reconnecting') {
    const inMs: number = state.retryInMs;
    void inMs;
  }
  const bytes: number = client.metrics().bytesSent;
  void bytes;
  const off = client.subscribe((event: ClientEvent) => {
    if (event.type === 'auth_required') void event.reason;
    if (event.type === 'state_synchronized') void event.version;
  });
  off();
  const session: Session | null = client.session();
  void session;
  await client.signOut();
  await client.close();
}

export async function clientMisuse(client: SessionClient): Promise<void> {
  // @ts-expect-error: baseUrl is required
  await SessionClient.open({});
  // @ts-expect-error: unknown policy
  await SessionClient.open({ baseUrl: 'x', conflictPolicy: 'mine' });
  // @ts-expect-error: a patch is an object
  await client.patchState([1]);
  // @ts-expect-error: the constructor is private; use open
  new SessionClient();
  client.subscribe((event) => {
    // @ts-expect-error: connection_lost carries nothing
    void (event.type === 'connection_lost' && event.version);
  });
}

// Types of the npm package `sessionkit` (hand-written; checked by types/usage.ts under
// `tsc --strict`). Field names are docs/SPEC.md §1's in camelCase; times are integer
// milliseconds since the Unix epoch; JSON values are plain JS values.

/** Any JSON value. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** A JSON object. */
export type JsonObject = { [key: string]: JsonValue };

/** What kind of client a session belongs to. */
export type ClientKind = 'desktop' | 'mobile' | 'web' | 'other';

/** What `create` does when a user is at `maxSessionsPerUser`. */
export type SessionLimitPolicy = 'reject' | 'evict_oldest';

/** Manager settings; every field optional (unset = the engine's default). */
export interface ConfigInit {
  /** A session unused this long expires (default 30 minutes). */
  idleTimeoutMs?: number;
  /** A session expires this long after creation whatever its activity (default 30 days). */
  absoluteTimeoutMs?: number;
  /** `validate` writes the slid expiry at most this often (default 60 000). */
  touchIntervalMs?: number;
  /** Live sessions allowed per user (default: no limit). */
  maxSessionsPerUser?: number | null;
  /** What happens at the per-user limit (default `'reject'`). */
  sessionLimitPolicy?: SessionLimitPolicy;
  /** State larger than this many bytes (serialized JSON) is stored compressed (default 10 KiB). */
  stateCompressionThreshold?: number;
  /** State larger than this many bytes is refused with `LimitExceeded` (default 5 MiB). */
  stateMaxBytes?: number;
  /** What `validateInContext` does on a changed IP or User-Agent (default `'signal'`). */
  contextPolicy?: ContextPolicy;
}

/** `'signal'` emits `ContextChanged`; `'strict'` also refuses the request. */
export type ContextPolicy = 'signal' | 'strict';

/** Manager settings as a class: `new Config()` or `new Config({ idleTimeoutMs: 60_000 })`. */
export class Config implements ConfigInit {
  constructor(fields?: ConfigInit);
  idleTimeoutMs?: number;
  absoluteTimeoutMs?: number;
  touchIntervalMs?: number;
  maxSessionsPerUser?: number | null;
  sessionLimitPolicy?: SessionLimitPolicy;
  stateCompressionThreshold?: number;
  stateMaxBytes?: number;
  contextPolicy?: ContextPolicy;
}

/** How a manager is opened, beyond its configuration and clock. */
export interface OpenOptions {
  /**
   * Encrypts state at rest (XChaCha20-Poly1305): one `<id>:<base64 of 32 bytes>` a line, the
   * first line the current key (new writes), the others older keys still read; blank lines and
   * `#` comments are skipped. Bad text is `InvalidInput` (field `state_keys`) and opens nothing.
   * A state encrypted under a key not given here is `Corrupt`.
   */
  stateKeys?: string | null;
}

/** The configuration in force, every field filled in. */
export interface ResolvedConfig {
  idleTimeoutMs: number;
  absoluteTimeoutMs: number;
  touchIntervalMs: number;
  maxSessionsPerUser: number | null;
  sessionLimitPolicy: SessionLimitPolicy;
  stateCompressionThreshold: number;
  stateMaxBytes: number;
  contextPolicy: ContextPolicy;
}

/** A clock that only moves when told to (for tests): share it with a manager. */
export class ManualClock {
  /** A clock reading `startMs` (ms since the epoch) until advanced. */
  constructor(startMs: number);
  /** Moves the clock by `ms` (negative moves it back); returns the new time. */
  advance(ms: number): number;
  /** Sets the clock to `nowMs`. */
  set(nowMs: number): void;
  /** The clock's current time. */
  readonly nowMs: number;
}

/** What `create` needs. */
export interface NewSession {
  /** The owner: opaque, non-empty, at most 256 bytes. */
  userId: string;
  clientKind: ClientKind;
  clientVersion?: string | null;
  /** A device name for device lists ("Pixel 8", "Firefox on Linux"). */
  device?: string | null;
  ip?: string | null;
  userAgent?: string | null;
  /** Initial metadata; must be a JSON object. */
  metadata?: JsonObject | null;
}

/** The client a session belongs to. */
export interface ClientInfo {
  kind: ClientKind;
  version: string | null;
  device: string | null;
}

/** A session. Holds no secret. */
export interface Session {
  /** Public identifier (22 characters, base64url); safe to show in a device list. */
  id: string;
  userId: string;
  createdAt: number;
  lastActiveAt: number;
  /** The earlier of idle expiry and `absoluteExpiresAt`. */
  expiresAt: number;
  /** `createdAt + absoluteTimeoutMs`; never extended. */
  absoluteExpiresAt: number;
  client: ClientInfo;
  ip: string | null;
  userAgent: string | null;
  /** False once revoked. */
  active: boolean;
  metadata: JsonObject;
}

/** The result of `create` and `rotate`. */
export interface Created {
  session: Session;
  /** The bearer token `<id>.<secret>`, returned only here and never stored: hand it to the client. */
  token: string;
}

/** Options of `listUserSessions`. */
export interface ListOptions {
  /** Only sessions neither revoked nor expired (default false). */
  activeOnly?: boolean;
  /** Page size, 1 to 1000 (default 50). */
  limit?: number;
  /** `nextCursor` of the previous page. */
  cursor?: string | null;
}

/** One page of a listing, newest activity first. */
export interface Page<T> {
  items: T[];
  /** Pass back as `cursor` for the next page; null on the last page. */
  nextCursor: string | null;
}

/** A session's client state, decoded and verified. */
export interface State {
  /** Starts at 1 and grows by one with every write. */
  version: number;
  data: JsonValue;
  /** `crc32:` and 8 hex digits. */
  checksum: string;
  /** Serialized JSON size in bytes. */
  size: number;
  compressed: boolean;
  /** Stored (encoded) size in bytes. */
  storedSize: number;
  updatedAt: number;
}

/** Aggregate figures over all stored sessions. */
export interface Stats {
  total: number;
  active: number;
  createdLast24h: number;
  createdLast7d: number;
  byClientKind: Record<ClientKind, number>;
  averageDurationMs: number;
}

/** An exported session in the interchange format shared with the CLI (snake_case, as stored). */
export interface ExportRecord {
  session: {
    id: string;
    user_id: string;
    created_at: number;
    last_active_at: number;
    expires_at: number;
    absolute_expires_at: number;
    client: ClientInfo;
    ip: string | null;
    user_agent: string | null;
    active: boolean;
    metadata: JsonObject;
  };
  /** SHA-256 of the token's secret, base64url. */
  token_hash: string;
  state: { version: number; blob: string; updated_at: number } | null;
  /**
   * With no state: the version of the state last cleared, so writes after an import continue
   * after it. Absent when the session has a state or never had one cleared.
   */
  cleared_state_version?: number;
}

/** Options of `export`. */
export interface ExportOptions {
  /** Continue after this session id (the last one of the previous call). */
  after?: string | null;
  /** At most this many records (default 100). */
  limit?: number;
}

/** Something that happened, after it was stored. */
export type SessionEvent =
  | { type: 'Created'; sessionId: string; userId: string }
  | { type: 'Rotated'; sessionId: string; oldSessionId: string; userId: string }
  | { type: 'MetadataUpdated'; sessionId: string }
  | { type: 'Revoked'; sessionId: string }
  | { type: 'Deleted'; sessionId: string }
  | { type: 'Expired'; sessionId: string }
  | { type: 'StateChanged'; sessionId: string; version: number }
  | { type: 'ContextChanged'; sessionId: string; ipChanged: boolean; userAgentChanged: boolean }
  | { type: 'CleanupCompleted'; removed: number };

/** The error kinds (docs/SPEC.md §5). */
export type ErrorKind =
  | 'InvalidToken'
  | 'NotFound'
  | 'Expired'
  | 'Revoked'
  | 'Conflict'
  | 'LimitExceeded'
  | 'InvalidInput'
  | 'Corrupt'
  | 'IncompatibleSchema'
  | 'Storage';

/** Every kind, in SPEC order. */
export const ERROR_KINDS: readonly ErrorKind[];

/** Every sessionkit failure. `kind` names the variant; the variant's fields are set. */
export class SessionkitError extends Error {
  constructor(kind: ErrorKind, message: string, details?: Partial<SessionkitErrorDetails>);
  readonly name: 'SessionkitError';
  readonly kind: ErrorKind;
  /** Conflict: the version stored now (0 when there is no state). */
  readonly currentVersion?: number;
  /** LimitExceeded, Corrupt: which limit or what was corrupt. */
  readonly what?: string;
  /** InvalidInput: the SPEC (snake_case) name of the argument or config field at fault. */
  readonly field?: string;
  /** InvalidInput: why it was refused. */
  readonly reason?: string;
  /** IncompatibleSchema: the schema version found. */
  readonly found?: number;
  /** IncompatibleSchema: the newest version this build supports. */
  readonly supported?: number;
}

/** The optional fields of a `SessionkitError`. */
export interface SessionkitErrorDetails {
  currentVersion: number;
  what: string;
  field: string;
  reason: string;
  found: number;
  supported: number;
}

/** Sessions and per-session client state over one store. Every operation returns a Promise. */
export class SessionManager {
  private constructor();
  /** A manager over a fresh in-memory store (browsers and Node). */
  static openMemory(
    config?: Config | ConfigInit | null,
    clock?: ManualClock | null,
    options?: OpenOptions | null,
  ): Promise<SessionManager>;
  /** A manager over the IndexedDB database `name` (browsers); nothing is created on bad input. */
  static openIndexedDb(
    name: string,
    config?: Config | ConfigInit | null,
    clock?: ManualClock | null,
    options?: OpenOptions | null,
  ): Promise<SessionManager>;

  /** The configuration in force. */
  readonly config: ResolvedConfig;

  /** Starts a session; the token in the result is shown once. */
  create(session: NewSession): Promise<Created>;
  /** Checks a token (InvalidToken, Expired, Revoked) and slides the idle expiry. */
  validate(token: string): Promise<Session>;
  /** `validate`, comparing the request's IP and User-Agent with the stored ones (docs/SPEC.md §11). */
  validateInContext(token: string, context: { ip?: string | null; userAgent?: string | null }): Promise<Session>;
  /** The session with this id, whatever its status. */
  get(id: string): Promise<Session>;
  /** Marks a live session active now. */
  touch(id: string): Promise<Session>;
  /** Applies a JSON Merge Patch (an object) to a live session's metadata. */
  updateMetadata(id: string, patch: JsonObject): Promise<Session>;
  /** Replaces a live session with a new id and token; state and metadata carry over. */
  rotate(id: string): Promise<Created>;
  /** Revokes a session (soft: it stays listed with `active: false`). */
  revoke(id: string): Promise<void>;
  /** Deletes a session and its state. */
  delete(id: string): Promise<void>;
  /** One page of a user's sessions, newest activity first. */
  listUserSessions(userId: string, options?: ListOptions): Promise<Page<Session>>;
  /** Revokes every active session of a user except `except`; resolves with the count. */
  revokeUserSessions(userId: string, except?: string | null): Promise<number>;
  /** Revokes every live session of every user (in batches); resolves with the count. */
  revokeAllSessions(): Promise<number>;
  /** Deletes every session and state of a user (account deletion, erasure); resolves with the count. */
  deleteUserSessions(userId: string): Promise<number>;
  /** Removes every expired session; resolves with the count. */
  cleanupExpired(): Promise<number>;
  /** Sessions neither revoked nor expired. */
  countActive(): Promise<number>;
  /** A user's stored sessions (only live ones with `activeOnly`). */
  countUserSessions(userId: string, activeOnly?: boolean): Promise<number>;
  /** Aggregate figures. */
  stats(): Promise<Stats>;
  /** The session's state, or null when it has none. */
  getState(id: string): Promise<State | null>;
  /** Replaces the state; with `expectedVersion` only if it is the stored one (else Conflict). */
  putState(id: string, data: JsonValue, expectedVersion?: number | null): Promise<number>;
  /** Applies a JSON Merge Patch to the state (compare-and-swap as `putState`). */
  patchState(id: string, patch: JsonValue, expectedVersion?: number | null): Promise<number>;
  /** Removes the state of a live session. */
  clearState(id: string): Promise<void>;
  /** Sessions in id order with their encoded state, for backup or moving stores. */
  export(options?: ExportOptions): Promise<ExportRecord[]>;
  /** Imports one exported session (insert-only); false when its id exists already. */
  import(record: ExportRecord): Promise<boolean>;
  /** Calls `listener` with every event; returns a function that unsubscribes. */
  subscribe(listener: (event: SessionEvent) => void): () => void;
}

// ---- The sync client (docs/SPEC.md §9) ----

/** How a conflict between local changes and a newer server state is settled. */
export type ConflictPolicy = 'merge' | 'server_wins' | 'client_wins' | 'custom';

/** The app's resolver for `'custom'`: `(base, local, remote) => data`; null where there is no state. */
export type ConflictResolver = (
  base: JsonValue | null,
  local: JsonValue | null,
  remote: JsonValue | null,
) => JsonValue;

/** Where a client's replica is kept: one record per client name, replaced whole. */
export interface ReplicaStore {
  /** The record saved under `key`, or null. */
  load(key: string): Promise<{ revision: number; record: string } | null>;
  /** Saves `record` at `revision` unless a record of that revision or newer is stored; whether it wrote. */
  save(key: string, revision: number, record: string): Promise<boolean>;
}

/** Replica records in memory (the default in Node; lost when the process ends). */
export class MemoryReplicaStore implements ReplicaStore {
  constructor();
  load(key: string): Promise<{ revision: number; record: string } | null>;
  save(key: string, revision: number, record: string): Promise<boolean>;
}

/** Replica records in an IndexedDB database (browsers; the default there). */
export class IndexedDbReplicaStore implements ReplicaStore {
  private constructor();
  /** Opens (creating or upgrading) the IndexedDB database `name` (default 'sessionkit-client'). */
  static open(name?: string): Promise<IndexedDbReplicaStore>;
  load(key: string): Promise<{ revision: number; record: string } | null>;
  save(key: string, revision: number, record: string): Promise<boolean>;
}

/** `SessionClient.open`'s options; all but `baseUrl` optional. */
export interface SessionClientOptions {
  /** The sessionkit server, e.g. `https://api.example.com` (paths are `/v1/...` under it). */
  baseUrl: string;
  /** Where the replica is kept (default: IndexedDB in browsers, memory in Node). */
  store?: ReplicaStore;
  /** The client's name: its record in the store, and what the tabs of an origin share (default 'default'). */
  name?: string;
  /** Default `'merge'` (`'custom'` when a resolver is given). */
  conflictPolicy?: ConflictPolicy;
  /** Asked by the `'custom'` policy; a resolver that throws leaves the local state standing. */
  resolver?: ConflictResolver;
  /** The server's heartbeat period (default 25 000); a stream silent for twice as long plus 1 s is lost. */
  heartbeatMs?: number;
  /** A connection up this long resets the reconnect backoff (default 10 000). */
  stableAfterMs?: number;
  /** `session_expiring` fires this long before expiry (default 60 000). */
  expiringWithinMs?: number;
  /** Validate once more before the idle expiry instead of letting it lapse (default true). */
  keepAlive?: boolean;
  /** `'stream'` (Server-Sent Events, default) or `'poll'` (validate and pull every `heartbeatMs`). */
  channel?: 'stream' | 'poll';
  /** Reconnect delays: random(0, min(maxMs, initialMs · multiplier^attempt)); defaults 1 000, 1.6, 60 000. */
  backoff?: { initialMs?: number; multiplier?: number; maxMs?: number };
  /** A request with no answer after this long counts as a network failure (default 30 000). */
  requestTimeoutMs?: number;
  /** Share one client between the tabs of an origin (default true where Web Locks exist). */
  shareTabs?: boolean;
  /** The fetch to use (default `globalThis.fetch`). */
  fetch?: typeof fetch;
}

/** Where the connection stands. */
export type ConnectionState =
  | { state: 'disconnected' }
  | { state: 'connecting' }
  | { state: 'connected' }
  | { state: 'reconnecting'; attempt: number; retryInMs: number }
  | { state: 'signed_out' };

/** What the client tells the app (§9 names). */
export type ClientEvent =
  | { type: 'connection_established' }
  | { type: 'connection_lost' }
  | { type: 'connection_restored' }
  | { type: 'auth_required'; reason: 'revoked' | 'expired' | 'rotated' | 'deleted' | 'invalid_token' | string }
  | { type: 'session_expiring'; expiresAt: number }
  | { type: 'state_synchronized'; version: number }
  | { type: 'sync_conflict'; resolution: ConflictPolicy }
  | { type: 'error'; kind: ErrorKind; message: string };

/** What `sync()` did. */
export interface SyncResult {
  pushed: number;
  pulled: number;
  conflicts: number;
  /** The server version the local state rests on. */
  version: number;
  /** Local changes still waiting. */
  pending: number;
  /** True when the server could not be reached (the changes wait). */
  offline: boolean;
}

/** What `recover()` found. */
export type RecoveryResult =
  | { outcome: 'restored'; version: number; pending: number }
  | { outcome: 'offline'; version: number; pending: number }
  | { outcome: 'signed_out'; reason: string; version: number; pending: number };

/** The client's figures. */
export interface ClientMetrics {
  syncs: number;
  conflicts: number;
  retries: number;
  reconnects: number;
  bytesSent: number;
  bytesReceived: number;
  lastRoundTripMs: number | null;
  offlineMs: number;
  pendingChanges: number;
}

/** A device in `devices()`: a session, `current` marking this client's own. */
export interface Device extends Session {
  current: boolean;
}

/**
 * A signed-in session and a local replica of its state, kept in step with a sessionkit server.
 * Reads are local and instant; writes apply locally at once, are saved, queued and pushed.
 */
export class SessionClient {
  private constructor();
  /** Opens the client, restoring its saved replica; connects if it holds a session. */
  static open(options: SessionClientOptions): Promise<SessionClient>;
  /** Stores the token the app's backend handed over and connects; resolves once saved. */
  signIn(token: string): Promise<void>;
  /** Signs out (revoking the session on the server when reachable) and clears the replica. */
  signOut(): Promise<void>;
  /** The session as last seen, or null when signed out. */
  session(): Session | null;
  /** The local state (the server's base with the queued changes applied), or null. */
  state(): JsonValue | null;
  /** Replaces the state; resolves once saved locally (it is pushed when online). */
  putState(data: JsonValue): Promise<void>;
  /** Merge-patches the state (RFC 7396; an object); resolves once saved locally. */
  patchState(patch: JsonObject): Promise<void>;
  /** Pulls and pushes now. */
  sync(): Promise<SyncResult>;
  /** Re-validates the session and reconciles the replica. */
  recover(): Promise<RecoveryResult>;
  /** The user's sessions (one page). */
  devices(options?: ListOptions): Promise<Page<Device>>;
  /** Revokes one of the user's sessions. */
  revokeDevice(id: string): Promise<void>;
  /** Revokes every other session of the user; resolves with how many. */
  revokeOtherDevices(): Promise<number>;
  /** The figures so far. */
  metrics(): ClientMetrics;
  /** Where the connection stands. */
  connectionState(): ConnectionState;
  /** Whether this copy (tab) holds the connection for every copy of the client. */
  readonly isLeader: boolean;
  /** Calls `listener` with every event; returns a function that unsubscribes. */
  subscribe(listener: (event: ClientEvent) => void): () => void;
  /** Stops this copy: no more requests, timers or events; another tab takes over. */
  close(): Promise<void>;
}

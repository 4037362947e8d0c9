// Session data: typed, schema-validated per-session values with change listeners and a JSON export.
import { DEFAULT_CODEC_LIMITS } from '../codec/check.js';
import { buildEntry, type Entry } from '../codec/direction.js';
import { NetloomError } from '../codec/errors.js';
import { p, type Schema, type SchemaType } from '../codec/packcat.js';
import type { Identity, Json } from './identity.js';
import type { Logger, Metrics } from './metrics.js';

/**
 * Types of declared session-data keys, by key. Augment it to type your own keys:
 * `declare module 'netloom/server' { interface SessionDataTypes { 'game.team': string } }`.
 */
export interface SessionDataTypes {
  /** The session's user id, seeded from its identity. */
  'auth.userId': string;
  /** The session's roles, seeded from `identity.data.roles` when it is a list of strings. */
  'auth.roles': string[];
}

/** A declared key, as `define` returns it: pass it to `get`/`set` for typed access. */
export interface SessionDataKey<T> {
  readonly key: string;
  readonly schema: Schema;
  /** Type-only marker (absent at run time). */
  readonly '~type'?: T;
}

/** A key by name (typed when it is in `SessionDataTypes`) or by the handle `define` returned. */
export type DataKey = string | SessionDataKey<unknown>;
/** The value type of a key. */
export type DataValue<K> =
  K extends SessionDataKey<infer T> ? T : K extends keyof SessionDataTypes ? SessionDataTypes[K] : unknown;

/** A session, by id or by anything with an `id` (a ServerSession, an RPC caller). */
export type SessionRef = string | { readonly id: string };

/** One change of one key; `value` is undefined when the key was deleted. */
export interface SessionDataChange<T = unknown> {
  sessionId: string;
  key: string;
  value: T | undefined;
  previous: T | undefined;
}

/** One session's data: what RPC handlers, requirements and multicast filters see. */
export interface SessionDataView {
  /** The session's id; undefined for an HTTP caller (no session). */
  readonly sessionId: string | undefined;
  get<K extends DataKey>(key: K): DataValue<K> | undefined;
  /** Validates and stores a value; throws `session_data_invalid`, or `session_unknown` without a session. */
  set<K extends DataKey>(key: K, value: DataValue<K>): void;
  delete(key: DataKey): boolean;
  /** The data as JSON (bigints as strings, typed arrays as arrays). */
  toJSON(): Record<string, Json>;
}

/** `server.sessionData`: declare keys, read and write values, listen, export. */
export interface SessionDataApi {
  /**
   * Declares a key with a packcat schema. Keys are 1..128 characters of letters, digits and
   * `_ . : -`; declaring a key again with the same schema is a no-op, with another schema throws
   * `session_data_invalid`.
   */
  define<S extends Schema>(key: string, schema: S): SessionDataKey<SchemaType<S>>;
  /** Declared keys. */
  keys(): string[];
  get<K extends DataKey>(session: SessionRef, key: K): DataValue<K> | undefined;
  /**
   * Validates `value` against the key's schema (and the codec limits once packed) and stores a copy.
   * Throws `session_data_invalid` for an undeclared key or a bad value, `session_unknown` when the
   * session is not live on this node. Listeners run synchronously after the change.
   */
  set<K extends DataKey>(session: SessionRef, key: K, value: DataValue<K>): void;
  /** Removes a value; listeners see `value: undefined`. Returns false when there was none. */
  delete(session: SessionRef, key: DataKey): boolean;
  /** A session's data as JSON, for debugging (empty when the session is unknown). */
  export(session: SessionRef): Record<string, Json>;
  /** A view of one session's data. */
  view(session: SessionRef): SessionDataView;
  /** Calls `fn` on every change of `key`; returns a function that removes the listener. */
  on<K extends DataKey>(key: K, fn: (change: SessionDataChange<DataValue<K>>) => void): () => void;
}

const KEY_PATTERN = /^[A-Za-z0-9_.:-]{1,128}$/;

interface KeyDef {
  schema: Schema;
  entry: Entry;
  canonical: string;
}

function keyName(key: DataKey): string {
  return typeof key === 'string' ? key : key.key;
}

function sessionIdOf(session: SessionRef): string {
  return typeof session === 'string' ? session : session.id;
}

/** A value as JSON: bigints as strings, typed arrays as arrays of numbers (or strings for 64-bit ones). */
export function toJson(value: unknown): Json {
  if (value === undefined || value === null) return null;
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'number') return Number.isFinite(value) ? value : String(value);
  if (typeof value === 'string' || typeof value === 'boolean') return value;
  if (ArrayBuffer.isView(value)) {
    return Array.from(value as unknown as ArrayLike<number | bigint>, (x) =>
      typeof x === 'bigint' ? x.toString() : x,
    );
  }
  if (Array.isArray(value)) return value.map(toJson);
  if (typeof value === 'object') {
    const out: Record<string, Json> = {};
    for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = toJson(v);
    return out;
  }
  return String(value);
}

/** Stores the data of every live session of this node. */
export class SessionDataStore implements SessionDataApi {
  private readonly defs = new Map<string, KeyDef>();
  private readonly data = new Map<string, Map<string, unknown>>();
  private readonly listeners = new Map<string, Set<(change: SessionDataChange) => void>>();
  /** Sessions whose identity was copied into `auth.*` already. */
  private readonly seeded = new Set<string>();

  constructor(
    private readonly log: Logger,
    private readonly metrics: Metrics,
  ) {
    this.define('auth.userId', p.string());
    this.define('auth.roles', p.list(p.string()));
  }

  define<S extends Schema>(key: string, schema: S): SessionDataKey<SchemaType<S>> {
    if (typeof key !== 'string' || !KEY_PATTERN.test(key)) {
      throw new NetloomError(
        'session_data_invalid',
        `session data key must be 1..128 characters of letters, digits and _ . : - (got ${JSON.stringify(key)})`,
      );
    }
    let entry: Entry;
    try {
      entry = buildEntry('session data', { name: key, op: 0, schema, explicit: false }, DEFAULT_CODEC_LIMITS);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      throw new NetloomError('session_data_invalid', `session data "${key}": ${message}`, { cause: err });
    }
    const canonical = JSON.stringify(schema, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
    const existing = this.defs.get(key);
    if (existing && existing.canonical !== canonical) {
      throw new NetloomError(
        'session_data_invalid',
        `session data "${key}" is already defined with another schema`,
      );
    }
    if (!existing) this.defs.set(key, { schema, entry, canonical });
    return Object.freeze({ key, schema });
  }

  keys(): string[] {
    return [...this.defs.keys()];
  }

  get<K extends DataKey>(session: SessionRef, key: K): DataValue<K> | undefined {
    return this.data.get(sessionIdOf(session))?.get(keyName(key)) as DataValue<K> | undefined;
  }

  set<K extends DataKey>(session: SessionRef, key: K, value: DataValue<K>): void {
    const id = sessionIdOf(session);
    const name = keyName(key);
    const def = this.defs.get(name);
    if (!def) throw new NetloomError('session_data_invalid', `session data "${name}" is not defined`);
    const values = this.data.get(id);
    if (!values) throw new NetloomError('session_unknown', `no live session ${id} on this node`);
    const problem = def.entry.validate(value);
    if (problem !== undefined) {
      this.metrics.error('session_data_invalid');
      throw new NetloomError('session_data_invalid', `session data "${name}": ${problem}`);
    }
    let packed: Uint8Array;
    try {
      packed = def.entry.pack(value);
      def.entry.check(packed, 0, packed.length);
    } catch (err) {
      this.metrics.error('session_data_invalid');
      const detail = err instanceof Error ? err.message : String(err);
      throw new NetloomError('session_data_invalid', `session data "${name}": ${detail}`, { cause: err });
    }
    const previous = values.get(name);
    const stored = structuredClone(value) as unknown;
    values.set(name, stored);
    this.emit({ sessionId: id, key: name, value: stored, previous });
  }

  delete(session: SessionRef, key: DataKey): boolean {
    const id = sessionIdOf(session);
    const name = keyName(key);
    const values = this.data.get(id);
    if (!values?.has(name)) return false;
    const previous = values.get(name);
    values.delete(name);
    this.emit({ sessionId: id, key: name, value: undefined, previous });
    return true;
  }

  export(session: SessionRef): Record<string, Json> {
    const out: Record<string, Json> = {};
    const values = this.data.get(sessionIdOf(session));
    if (values) for (const [k, v] of values) out[k] = toJson(v);
    return out;
  }

  view(session: SessionRef): SessionDataView {
    const id = sessionIdOf(session);
    return {
      sessionId: id,
      get: (key) => this.get(id, key),
      set: (key, value) => this.set(id, key, value),
      delete: (key) => this.delete(id, key),
      toJSON: () => this.export(id),
    };
  }

  on<K extends DataKey>(key: K, fn: (change: SessionDataChange<DataValue<K>>) => void): () => void {
    const name = keyName(key);
    let set = this.listeners.get(name);
    if (!set) {
      set = new Set();
      this.listeners.set(name, set);
    }
    const listener = fn as (change: SessionDataChange) => void;
    set.add(listener);
    return () => {
      set.delete(listener);
    };
  }

  // ---- session lifecycle (called by the server) ----

  /** A session went live: it gets an empty data set, seeded from its identity when it has one. */
  open(sessionId: string, identity: Identity | undefined): void {
    if (!this.data.has(sessionId)) this.data.set(sessionId, new Map());
    this.seed(sessionId, identity);
  }

  /**
   * Copies the identity into `auth.userId` and `auth.roles` once. Cheap to call again: the identity
   * may arrive after the session opened.
   */
  seed(sessionId: string, identity: Identity | undefined): void {
    if (identity === undefined || this.seeded.has(sessionId) || !this.data.has(sessionId)) return;
    this.seeded.add(sessionId);
    try {
      this.set(sessionId, 'auth.userId', identity.userId);
      const roles = identity.data?.roles;
      if (Array.isArray(roles) && roles.every((r) => typeof r === 'string')) {
        this.set(sessionId, 'auth.roles', roles as string[]);
      }
    } catch (err) {
      this.log.warn({ err, sessionId }, 'could not seed session data from the identity');
    }
  }

  /** The session ended: its data is dropped (no change events). */
  close(sessionId: string): void {
    this.data.delete(sessionId);
    this.seeded.delete(sessionId);
  }

  /** Number of sessions holding data. */
  get size(): number {
    return this.data.size;
  }

  private emit(change: SessionDataChange): void {
    const set = this.listeners.get(change.key);
    if (!set) return;
    for (const fn of [...set]) {
      try {
        fn(change);
      } catch (err) {
        this.metrics.inc('hook_errors{onSessionData}');
        this.log.error({ err, sessionId: change.sessionId, key: change.key }, 'session data listener threw');
      }
    }
  }
}

/**
 * A read-only view of data derived from an identity alone, for callers without a session
 * (RPC over HTTP): `auth.userId` and `auth.roles`; `set` throws `session_unknown`.
 */
export function identityView(identity: Identity | undefined): SessionDataView {
  const values = new Map<string, unknown>();
  if (identity) {
    values.set('auth.userId', identity.userId);
    const roles = identity.data?.roles;
    if (Array.isArray(roles) && roles.every((r) => typeof r === 'string')) values.set('auth.roles', roles);
  }
  return {
    sessionId: undefined,
    get: (key) => values.get(keyName(key)) as never,
    set: () => {
      throw new NetloomError('session_unknown', 'an HTTP caller has no session to store data in');
    },
    delete: () => false,
    toJSON: () => {
      const out: Record<string, Json> = {};
      for (const [k, v] of values) out[k] = toJson(v);
      return out;
    },
  };
}

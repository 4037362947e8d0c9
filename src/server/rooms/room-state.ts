// Room key-value state: validated JSON values per key, changes batched to the room's clients, snapshots for joiners.
import { NetloomError } from '../../codec/errors.js';
import type { StateChange } from '../../codec/frames.js';
import type { Json } from '../identity.js';
import type { MemberPort } from './host.js';

/** Limits of one room's key-value state. */
export interface RoomStateLimits {
  /** Most keys a room holds at once (default 1,024). */
  maxKeys: number;
  /** Longest key, in UTF-8 bytes (default 256; at most 1,024). */
  maxKeyBytes: number;
  /** Largest value as JSON text, in UTF-8 bytes (default 16,384; at most 60,000 so that one key fits a frame). */
  maxValueBytes: number;
}

export const DEFAULT_ROOM_STATE_LIMITS: Readonly<RoomStateLimits> = Object.freeze({
  maxKeys: 1_024,
  maxKeyBytes: 256,
  maxValueBytes: 16_384,
});

const HARD_MAX_KEY_BYTES = 1_024;
const HARD_MAX_VALUE_BYTES = 60_000;
/** Deepest nesting of a value (deeper is refused, which also catches cycles). */
const MAX_DEPTH = 64;
/** Largest state message body aimed for; bigger batches and snapshots are split. */
export const STATE_CHUNK_BYTES = 32_768;

/** The room's key-value state, as room code sees it (`room.state`). Values are JSON; reads are frozen copies. */
export interface RoomState {
  /** The value of `key`, deeply frozen, or undefined when unset. */
  get(key: string): Json | undefined;
  has(key: string): boolean;
  /**
   * Sets `key` to a JSON value; clients get a `state-change` event. Throws NetloomError
   * `request_invalid` for a value that is not JSON (undefined, functions, NaN, class instances,
   * cycles), a key or value over its limit, or a new key beyond `maxKeys`.
   */
  set(key: string, value: Json): void;
  /** Removes `key`; returns false when it was not set. */
  delete(key: string): boolean;
  keys(): string[];
  entries(): Array<[string, Json]>;
  /** Removes every key. */
  clear(): void;
  readonly size: number;
}

interface Entry {
  json: string;
  value: Json;
}

const encoder = new TextEncoder();
const bytesOf = (s: string) => encoder.encode(s).length;

/** Resolves limits: defaults for what is missing; numbers that are not positive integers are refused. */
export function resolveStateLimits(limits: Partial<RoomStateLimits> = {}): RoomStateLimits {
  const out = { ...DEFAULT_ROOM_STATE_LIMITS };
  for (const key of Object.keys(DEFAULT_ROOM_STATE_LIMITS) as (keyof RoomStateLimits)[]) {
    const v = limits[key];
    if (v === undefined) continue;
    if (!Number.isInteger(v) || v < 1) {
      throw new NetloomError('request_invalid', `room state limit ${key} must be a positive integer`);
    }
    out[key] = v;
  }
  out.maxKeyBytes = Math.min(out.maxKeyBytes, HARD_MAX_KEY_BYTES);
  out.maxValueBytes = Math.min(out.maxValueBytes, HARD_MAX_VALUE_BYTES);
  return out;
}

/** Server side of `room.state`: the entries, plus the changes not yet sent to clients. */
export class RoomStateStore implements RoomState {
  private readonly entriesByKey = new Map<string, Entry>();
  /** Keys changed since the last flush, with their JSON at the last flush (null: was unset). */
  private readonly before = new Map<string, string | null>();
  private scheduled = false;
  readonly limits: RoomStateLimits;
  /** Also told of every flushed batch (a `sharedState` room mirrors it into the cluster's store). */
  onFlush: ((changes: StateChange[]) => void) | null = null;

  constructor(
    limits: Partial<RoomStateLimits> | undefined,
    private readonly targets: () => Iterable<{ readonly port: MemberPort }>,
  ) {
    this.limits = resolveStateLimits(limits);
  }

  get size(): number {
    return this.entriesByKey.size;
  }

  get(key: string): Json | undefined {
    return this.entriesByKey.get(key)?.value;
  }

  has(key: string): boolean {
    return this.entriesByKey.has(key);
  }

  keys(): string[] {
    return [...this.entriesByKey.keys()];
  }

  entries(): Array<[string, Json]> {
    return [...this.entriesByKey].map(([k, e]) => [k, e.value]);
  }

  set(key: string, value: Json): void {
    this.checkKey(key);
    const json = toJson(value, this.limits.maxValueBytes);
    const old = this.entriesByKey.get(key);
    if (old?.json === json) return;
    if (!old && this.entriesByKey.size >= this.limits.maxKeys) {
      throw new NetloomError('request_invalid', `room state holds at most ${this.limits.maxKeys} keys`);
    }
    this.touch(key, old);
    this.entriesByKey.set(key, { json, value: deepFreeze(JSON.parse(json) as Json) });
  }

  delete(key: string): boolean {
    const old = this.entriesByKey.get(key);
    if (!old) return false;
    this.touch(key, old);
    this.entriesByKey.delete(key);
    return true;
  }

  clear(): void {
    for (const [key, old] of this.entriesByKey) this.touch(key, old);
    this.entriesByKey.clear();
  }

  /** Every key with its value as JSON text. */
  jsonEntries(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [key, entry] of this.entriesByKey) out[key] = entry.json;
    return out;
  }

  /** Sends the whole state to one joining member (nothing when empty). Call `flush` first. */
  snapshotTo(port: MemberPort): void {
    const changes: StateChange[] = [];
    for (const [key, e] of this.entriesByKey) changes.push({ key, value: e.json });
    if (changes.length > 0) sendChunked(port, true, changes);
  }

  /** Sends the net changes since the last flush to every member. */
  flush(): void {
    if (this.before.size === 0) return;
    const changes: StateChange[] = [];
    for (const [key, was] of this.before) {
      const now = this.entriesByKey.get(key)?.json ?? null;
      if (now !== was) changes.push({ key, value: now });
    }
    this.before.clear();
    if (changes.length === 0) return;
    for (const { port } of this.targets()) sendChunked(port, false, changes);
    this.onFlush?.(changes);
  }

  private touch(key: string, old: Entry | undefined): void {
    if (!this.before.has(key)) this.before.set(key, old?.json ?? null);
    if (this.scheduled) return;
    this.scheduled = true;
    queueMicrotask(() => {
      this.scheduled = false;
      this.flush();
    });
  }

  private checkKey(key: unknown): asserts key is string {
    if (typeof key !== 'string' || key.length === 0) {
      throw new NetloomError('request_invalid', 'room state key must be a non-empty string');
    }
    if (bytesOf(key) > this.limits.maxKeyBytes) {
      throw new NetloomError('request_invalid', `room state key exceeds ${this.limits.maxKeyBytes} bytes`);
    }
  }
}

/** JSON text of `value`, refusing anything JSON would change or drop, and anything over `maxBytes`. */
function toJson(value: unknown, maxBytes: number): string {
  checkJson(value, 0);
  const json = JSON.stringify(value);
  const size = bytesOf(json);
  if (size > maxBytes) {
    throw new NetloomError('request_invalid', `room state value of ${size} bytes exceeds ${maxBytes}`);
  }
  return json;
}

function checkJson(value: unknown, depth: number): void {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return;
  if (typeof value === 'number') {
    if (!Number.isFinite(value))
      throw new NetloomError('request_invalid', 'room state numbers must be finite');
    return;
  }
  if (typeof value !== 'object') {
    throw new NetloomError('request_invalid', `room state values must be JSON, not ${typeof value}`);
  }
  if (depth >= MAX_DEPTH) {
    throw new NetloomError(
      'request_invalid',
      `room state value nests deeper than ${MAX_DEPTH} (or is cyclic)`,
    );
  }
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      if (!(i in value)) throw new NetloomError('request_invalid', 'room state arrays may not have holes');
      checkJson(value[i], depth + 1);
    }
    return;
  }
  const proto = Object.getPrototypeOf(value) as unknown;
  if (proto !== Object.prototype && proto !== null) {
    throw new NetloomError('request_invalid', 'room state objects must be plain objects');
  }
  for (const v of Object.values(value)) checkJson(v, depth + 1);
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

/** Sends state changes as one message, or several under STATE_CHUNK_BYTES each; only the first carries `reset`. */
function sendChunked(port: MemberPort, reset: boolean, changes: StateChange[]): void {
  let batch: StateChange[] = [];
  let bytes = 0;
  let first = true;
  const emit = () => {
    port.state(reset && first, batch);
    first = false;
    batch = [];
    bytes = 0;
  };
  for (const c of changes) {
    const size = bytesOf(c.key) + (c.value === null ? 0 : bytesOf(c.value)) + 8;
    if (bytes + size > STATE_CHUNK_BYTES && bytes > 0) emit();
    batch.push(c);
    bytes += size;
  }
  if (batch.length > 0) emit();
}

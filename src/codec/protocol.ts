// defineProtocol: typed user messages over packcat schemas, with stable op codes, a hash and checked decode.
import { type CodecLimits, resolveLimits } from './check.js';
import { buildEntry, Direction } from './direction.js';
import { NetloomError } from './errors.js';
import type { Schema, SchemaType } from './packcat.js';

/** A message with an explicit op code (Nakama style); other messages get one assigned. */
export interface MessageSpec<S extends Schema = Schema> {
  op: number;
  schema: S;
}

/** One message of a direction: a packcat schema, or `{ op, schema }` to pin its op code. */
export type MessageDef = Schema | MessageSpec;

/** Message name -> definition, for one direction. */
export type DirectionDef = Record<string, MessageDef>;

/**
 * The directions of a protocol: `client` lists what clients send (the server decodes it),
 * `server` lists what the server sends (clients decode it), and the optional `peer` lists what
 * members of a peer-assisted room send each other (directly, or relayed by the server).
 */
export interface ProtocolDef {
  client: DirectionDef;
  server: DirectionDef;
  peer?: DirectionDef;
}

/** Message name -> payload type of a definition's `peer` section (none when it has no such section). */
export type PeerMessagesOf<D extends ProtocolDef> = D extends { peer: infer X extends DirectionDef }
  ? MessagesOf<X>
  : Record<never, never>;

/** The packcat schema of a message definition. */
export type SchemaOf<D> = D extends { schema: infer S extends Schema } ? S : D extends Schema ? D : never;

/** Message name -> payload type, for one direction's definition. */
export type MessagesOf<D extends DirectionDef> = { [K in keyof D & string]: SchemaType<SchemaOf<D[K]>> };

/** A decoded message: a union over the direction's names, so `switch (m.name)` narrows `m.value`. */
export type DecodedMessage<M> = { [K in keyof M & string]: { name: K; value: M[K] } }[keyof M & string];

/** An encoded message: its op code and its packcat payload bytes. */
export interface EncodedMessage {
  op: number;
  payload: Uint8Array;
}

/** One row of a direction's table. */
export interface MessageInfo {
  readonly name: string;
  readonly op: number;
  readonly schema: Schema;
  /** True when the op was given explicitly in the definition. */
  readonly explicit: boolean;
}

/** Encoding, checked decoding and op lookup for the messages of one direction. */
export interface ProtocolDirection<M> {
  /** `client` (messages clients send), `server` (messages the server sends) or `peer` (between members). */
  readonly side: 'client' | 'server' | 'peer';
  /** Every message of this direction, ordered by op. */
  readonly messages: readonly MessageInfo[];
  /** True when `name` is a message of this direction. */
  has(name: string): name is keyof M & string;
  /** The op code of a message; throws `unknown_op` for a name not in this direction. */
  opOf(name: keyof M & string): number;
  /** The name of an op code, or undefined when the op is unknown. */
  nameOf(op: number): (keyof M & string) | undefined;
  /**
   * Validates `value` against the message's schema and packs it. Throws `encode_invalid` when the
   * value does not fit the schema or when its packed bytes would be refused by a peer using the
   * same limits (a list, string or payload over the limit).
   */
  encode<K extends keyof M & string>(name: K, value: M[K]): EncodedMessage;
  /**
   * Like `encode`, but the payload is a view into a scratch buffer shared by every protocol, valid
   * only until the next `encodeTransient` call: for senders that copy it into a frame at once (rooms
   * do). Saves an allocation per message.
   */
  encodeTransient<K extends keyof M & string>(name: K, value: M[K]): EncodedMessage;
  /**
   * Decodes untrusted payload bytes. Throws `unknown_op` for an op this direction does not have,
   * then any checker error (`frame_truncated`, `frame_trailing_bytes`, `frame_too_large`,
   * `list_too_long`, `string_too_long`, `payload_too_deep`, `payload_invalid`) before packcat's
   * unpack ever sees the bytes. `payload` may be a view into a larger buffer; it is not retained:
   * values that packcat would return as views (`uint8Array`, `int8Array`, `uint8ClampedArray`)
   * are decoded from a private copy.
   */
  decode(op: number, payload: Uint8Array): DecodedMessage<M>;
  /** `decode` without the name: the checked value only. */
  decodeValue(op: number, payload: Uint8Array): M[keyof M];
  /** Runs only the checks of `decode` (no unpack). */
  check(op: number, payload: Uint8Array): void;
}

/** A protocol shared by client and server. Build one with `defineProtocol`. */
export interface Protocol<
  C = Record<string, unknown>,
  S = Record<string, unknown>,
  PM = Record<string, unknown>,
> {
  /** Messages clients send to the server. */
  readonly client: ProtocolDirection<C>;
  /** Messages the server sends to clients. */
  readonly server: ProtocolDirection<S>;
  /** Messages members of a peer-assisted room send each other (empty when the definition has no `peer`). */
  readonly peer: ProtocolDirection<PM>;
  /**
   * 8 hex digits (FNV-1a 32-bit) over the canonical JSON of both directions' names, ops and schemas.
   * Equal hashes mean compatible wire formats; peers compare them when joining a room.
   */
  readonly hash: string;
  /** The limits every decode of this protocol enforces. */
  readonly limits: Readonly<CodecLimits>;
}

/** Message name -> payload type of what clients send, e.g. `ClientMessages<typeof protocol>['input']`. */
export type ClientMessages<P> = P extends { readonly client: ProtocolDirection<infer C> } ? C : never;
/** Message name -> payload type of what the server sends. */
export type ServerMessages<P> = P extends { readonly server: ProtocolDirection<infer S> } ? S : never;
/** Message name -> payload type of what peers send each other (the protocol's `peer` section). */
export type PeerMessages<P> = P extends { readonly peer: ProtocolDirection<infer M> } ? M : never;

export interface ProtocolOptions {
  /** Decode limits (defaults in DEFAULT_CODEC_LIMITS). Encode refuses what a peer with these limits would refuse. */
  limits?: Partial<CodecLimits>;
}

/** Highest op code a message may have. Op 0 is reserved. */
export const MAX_OP = 0xffff;

function isSpec(def: MessageDef): def is MessageSpec {
  return typeof (def as { type?: unknown }).type !== 'string' && 'schema' in def;
}

/** Assigns op codes: explicit ones first, then the other names in sorted order from 1 up, skipping taken ops. */
function assignOps(
  side: string,
  defs: DirectionDef,
): { name: string; op: number; schema: Schema; explicit: boolean }[] {
  if (typeof defs !== 'object' || defs === null) {
    throw new NetloomError('protocol_invalid', `protocol.${side} must be an object of messages`);
  }
  const taken = new Map<number, string>();
  const rows: { name: string; op: number; schema: Schema; explicit: boolean }[] = [];
  const names = Object.keys(defs).sort();
  for (const name of names) {
    if (name.length === 0)
      throw new NetloomError('protocol_invalid', `protocol.${side} has an empty message name`);
    const def = defs[name];
    if (typeof def !== 'object' || def === null || !isSpec(def)) continue;
    const op = def.op;
    if (!Number.isInteger(op) || op < 1 || op > MAX_OP) {
      throw new NetloomError(
        'protocol_invalid',
        `${side} message "${name}": op must be an integer in 1..${MAX_OP}`,
      );
    }
    const other = taken.get(op);
    if (other !== undefined) {
      throw new NetloomError(
        'protocol_invalid',
        `${side} messages "${other}" and "${name}" both use op ${op}`,
      );
    }
    taken.set(op, name);
    rows.push({ name, op, schema: def.schema, explicit: true });
  }
  let next = 1;
  for (const name of names) {
    const def = defs[name];
    if (typeof def === 'object' && def !== null && isSpec(def)) continue;
    while (taken.has(next)) next++;
    if (next > MAX_OP) throw new NetloomError('protocol_invalid', `protocol.${side} has too many messages`);
    taken.set(next, name);
    rows.push({ name, op: next, schema: def as Schema, explicit: false });
  }
  return rows.sort((a, b) => a.op - b.op);
}

/** The canonical JSON of a schema: object keys sorted at every level. */
function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return v;
    const sorted: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) sorted[k] = (v as Record<string, unknown>)[k];
    return sorted;
  });
}

/** FNV-1a 32-bit over the UTF-8 bytes of `text`, as 8 lowercase hex digits. */
export function fnv1a32(text: string): string {
  const bytes = new TextEncoder().encode(text);
  let h = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) {
    h ^= bytes[i];
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0).toString(16).padStart(8, '0');
}

/**
 * Defines a protocol shared by client and server. Message names and payload types are inferred
 * from the packcat schemas, so `protocol.client.encode('input', value)` is type-checked end to end.
 *
 * Op codes: a message written as `{ op, schema }` keeps its op (1..65535); the others are numbered
 * from 1 in sorted name order, skipping ops already taken. Each direction has its own op space.
 * Throws `protocol_invalid` for a repeated op, an op out of range, or a schema that is malformed
 * or that packcat cannot round-trip. Every checker and codec is compiled here, once.
 *
 * @example
 * const protocol = defineProtocol({
 *   client: { input: p.object({ seq: p.varuint(), dx: p.float32(), dy: p.float32() }) },
 *   server: { state: { op: 10, schema: p.object({ tick: p.varuint() }) } },
 * });
 */
export function defineProtocol<D extends ProtocolDef>(
  definition: D,
  options: ProtocolOptions = {},
): Protocol<MessagesOf<D['client']>, MessagesOf<D['server']>, PeerMessagesOf<D>> {
  if (typeof definition !== 'object' || definition === null) {
    throw new NetloomError('protocol_invalid', 'defineProtocol needs { client, server }');
  }
  const limits = Object.freeze(resolveLimits(options.limits));
  const clientRows = assignOps('client', definition.client);
  const serverRows = assignOps('server', definition.server);
  const peerRows = definition.peer === undefined ? [] : assignOps('peer', definition.peer);
  const canon = (rows: MessageInfo[]) => rows.map((r) => [r.op, r.name, JSON.parse(canonicalJson(r.schema))]);
  // The `peer` rows join the hashed text only when the section exists, so older protocols keep their hash.
  const hashed: Record<string, unknown> = { client: canon(clientRows), server: canon(serverRows) };
  if (definition.peer !== undefined) hashed.peer = canon(peerRows);
  const hash = fnv1a32(`netloom-protocol/1${canonicalJson(hashed)}`);
  return Object.freeze({
    peer: new Direction<PeerMessagesOf<D>>(
      'peer',
      peerRows.map((r) => buildEntry('peer', r, limits)),
      limits.maxPayloadBytes,
    ),
    client: new Direction<MessagesOf<D['client']>>(
      'client',
      clientRows.map((r) => buildEntry('client', r, limits)),
      limits.maxPayloadBytes,
    ),
    server: new Direction<MessagesOf<D['server']>>(
      'server',
      serverRows.map((r) => buildEntry('server', r, limits)),
      limits.maxPayloadBytes,
    ),
    hash,
    limits,
  });
}

// One direction of a protocol (client or server messages): checked decode, validated encode, op lookup.
import { type Checker, type CodecLimits, compileChecker } from './check.js';
import { schemaAliasesInput } from './check-schema.js';
import { compileValueValidator, type ValueValidator } from './check-value.js';
import { NetloomError } from './errors.js';
import { build } from './packcat.js';
import type { DecodedMessage, EncodedMessage, MessageInfo, ProtocolDirection } from './protocol.js';

/** Scratch space of `encodeTransient`, grown on demand up to the largest payload allowed. */
let scratch = new Uint8Array(4096);

export interface Entry extends MessageInfo {
  readonly check: Checker;
  readonly validate: ValueValidator;
  readonly pack: (value: unknown) => Uint8Array;
  readonly packInto: (
    value: unknown,
    u8: Uint8Array,
    offset: number,
  ) => { ok: boolean; bytesWritten: number };
  readonly unpack: (bytes: Uint8Array) => unknown;
  readonly aliases: boolean;
}

export function buildEntry(side: string, row: MessageInfo, limits: CodecLimits): Entry {
  let check: Checker;
  try {
    check = compileChecker(row.schema, limits);
  } catch (err) {
    if (err instanceof NetloomError) {
      throw new NetloomError('protocol_invalid', `${side} message "${row.name}": ${err.message}`, {
        cause: err,
      });
    }
    throw err;
  }
  const built = build(row.schema);
  return {
    ...row,
    check,
    validate: compileValueValidator(row.schema),
    pack: built.pack as (value: unknown) => Uint8Array,
    packInto: built.packInto as Entry['packInto'],
    unpack: built.unpack as (bytes: Uint8Array) => unknown,
    aliases: schemaAliasesInput(row.schema),
  };
}

export class Direction<M> implements ProtocolDirection<M> {
  readonly messages: readonly MessageInfo[];
  private readonly byName = new Map<string, Entry>();
  private readonly byOp: (Entry | undefined)[] = [];

  constructor(
    readonly side: 'client' | 'server' | 'peer',
    entries: Entry[],
    /** Largest payload `encodeTransient` will grow its scratch buffer to. */
    private readonly maxScratch: number,
  ) {
    for (const e of entries) {
      this.byName.set(e.name, e);
      this.byOp[e.op] = e;
    }
    this.messages = Object.freeze(
      entries.map((e) => Object.freeze({ name: e.name, op: e.op, schema: e.schema, explicit: e.explicit })),
    );
  }

  has(name: string): name is keyof M & string {
    return this.byName.has(name);
  }

  opOf(name: keyof M & string): number {
    return this.entryByName(name).op;
  }

  nameOf(op: number): (keyof M & string) | undefined {
    return this.byOp[op]?.name as (keyof M & string) | undefined;
  }

  private entryByName(name: string): Entry {
    const e = this.byName.get(name);
    if (e === undefined) throw new NetloomError('unknown_op', `no ${this.side} message named "${name}"`);
    return e;
  }

  private entryByOp(op: number): Entry {
    const e = Number.isInteger(op) && op >= 0 ? this.byOp[op] : undefined;
    if (e === undefined) throw new NetloomError('unknown_op', `unknown ${this.side} op ${op}`);
    return e;
  }

  encode<K extends keyof M & string>(name: K, value: M[K]): EncodedMessage {
    const e = this.entryByName(name);
    this.validateFor(e, name, value);
    let payload: Uint8Array;
    try {
      payload = e.pack(value);
    } catch (cause) {
      throw new NetloomError('encode_invalid', `${this.side} message "${name}": packcat refused the value`, {
        cause,
      });
    }
    this.checkOwn(e, name, payload);
    return { op: e.op, payload };
  }

  encodeTransient<K extends keyof M & string>(name: K, value: M[K]): EncodedMessage {
    const e = this.entryByName(name);
    this.validateFor(e, name, value);
    let written = 0;
    try {
      for (;;) {
        const result = e.packInto(value, scratch, 0);
        if (result.ok) {
          written = result.bytesWritten;
          break;
        }
        if (scratch.length >= this.maxScratch) {
          throw new NetloomError(
            'encode_invalid',
            `${this.side} message "${name}" is larger than ${this.maxScratch} bytes`,
          );
        }
        scratch = new Uint8Array(Math.min(this.maxScratch, scratch.length * 2));
      }
    } catch (cause) {
      if (cause instanceof NetloomError) throw cause;
      throw new NetloomError('encode_invalid', `${this.side} message "${name}": packcat refused the value`, {
        cause,
      });
    }
    const payload = scratch.subarray(0, written);
    this.checkOwn(e, name, payload);
    return { op: e.op, payload };
  }

  private validateFor(e: Entry, name: string, value: unknown): void {
    const problem = e.validate(value);
    if (problem !== undefined) {
      throw new NetloomError('encode_invalid', `${this.side} message "${name}": ${problem}`);
    }
  }

  /** Refuses to send what a peer with the same limits would refuse. */
  private checkOwn(e: Entry, name: string, payload: Uint8Array): void {
    try {
      e.check(payload, 0, payload.length);
    } catch (cause) {
      const detail = cause instanceof NetloomError ? `${cause.code}: ${cause.message}` : String(cause);
      throw new NetloomError(
        'encode_invalid',
        `${this.side} message "${name}" would be refused (${detail})`,
        {
          cause,
        },
      );
    }
  }

  check(op: number, payload: Uint8Array): void {
    this.entryByOp(op).check(payload, 0, payload.length);
  }

  decode(op: number, payload: Uint8Array): DecodedMessage<M> {
    const e = this.entryByOp(op);
    return { name: e.name, value: this.decodeEntry(e, op, payload) } as DecodedMessage<M>;
  }

  /** `decode` without the name: the checked value only (the room's hot path looks its handler up by op). */
  decodeValue(op: number, payload: Uint8Array): M[keyof M] {
    return this.decodeEntry(this.entryByOp(op), op, payload) as M[keyof M];
  }

  private decodeEntry(e: Entry, op: number, payload: Uint8Array): unknown {
    e.check(payload, 0, payload.length);
    // packcat reads from index 0 of the view it is given, so a subarray works as is; a copy only
    // when the decoded value would otherwise alias the caller's buffer.
    const bytes = e.aliases ? new Uint8Array(payload) : payload;
    let value: unknown;
    try {
      value = e.unpack(bytes);
    } catch (cause) {
      // Unreachable when the checker mirrors packcat; kept so a mismatch can never escape as a raw error.
      throw new NetloomError('internal_error', `${this.side} op ${op}: unpack failed after check`, { cause });
    }
    return value;
  }
}

// The safety core: compiles a packcat schema into a function that walks untrusted bytes and throws before unpack.
import {
  assertSchema,
  minWireSize,
  plainFixedSize,
  quatComponentBytes,
  TYPED_ARRAY_ELEMENT_BYTES,
} from './check-schema.js';
import { type ErrorCode, NetloomError } from './errors.js';
import type { Schema } from './packcat.js';

/** Limits applied while checking an untrusted payload. Every limit has a default. */
export interface CodecLimits {
  /** Most elements in one list or entries in one record (default 4,096). */
  maxListLength: number;
  /** Most list elements and record entries in one payload, all lists together (default 65,536). */
  maxElements: number;
  /** Longest string (or record key), in UTF-8 bytes (default 4,096). */
  maxStringBytes: number;
  /** Deepest nesting of objects, tuples, lists, records and unions; the top-level value is depth 1 (default 32). */
  maxDepth: number;
  /** Largest payload, in bytes (default 65,536). */
  maxPayloadBytes: number;
}

export const DEFAULT_CODEC_LIMITS: Readonly<CodecLimits> = Object.freeze({
  maxListLength: 4096,
  maxElements: 65_536,
  maxStringBytes: 4096,
  maxDepth: 32,
  maxPayloadBytes: 65_536,
});

/** Fills in defaults and refuses limits that are not non-negative integers (`protocol_invalid`). */
export function resolveLimits(limits: Partial<CodecLimits> = {}): CodecLimits {
  const out = { ...DEFAULT_CODEC_LIMITS };
  for (const key of Object.keys(DEFAULT_CODEC_LIMITS) as (keyof CodecLimits)[]) {
    const v = limits[key];
    if (v === undefined) continue;
    if (!Number.isSafeInteger(v) || v < 0) {
      throw new NetloomError('protocol_invalid', `limit ${key} must be an integer >= 0, got ${v}`);
    }
    out[key] = v;
  }
  return out;
}

/**
 * Checks that `bytes[offset..end)` is exactly one value of the schema, as packcat's unpack would
 * read it, within the limits. Returns nothing; throws a NetloomError otherwise.
 */
export type Checker = (bytes: Uint8Array, offset: number, end: number) => void;

// Failure kinds the generated code raises by number, to keep call sites small.
const TRUNCATED = 0;
const BAD_FLAG = 1;
const LIST_LONG = 2;
const STRING_LONG = 3;
const TOO_DEEP = 4;
const TRAILING = 5;
const TOO_LARGE = 6;
const BAD_UTF8 = 7;
const BAD_VARUINT = 8;
const TOTAL_ELEMENTS = 9;
const BAD_TAG = 10;
const BAD_ENUM = 11;
const BAD_KEY = 12;

const FAIL_CODES: readonly ErrorCode[] = [
  'frame_truncated',
  'payload_invalid',
  'list_too_long',
  'string_too_long',
  'payload_too_deep',
  'frame_trailing_bytes',
  'frame_too_large',
  'payload_invalid',
  'payload_invalid',
  'list_too_long',
  'payload_invalid',
  'payload_invalid',
  'payload_invalid',
];

function failMessage(kind: number, at: number, n: number, limits: CodecLimits): string {
  switch (kind) {
    case TRUNCATED:
      return `payload truncated at byte ${at}`;
    case BAD_FLAG:
      return `invalid flag or boolean byte at byte ${at}`;
    case LIST_LONG:
      return `list of ${n} elements exceeds maxListLength ${limits.maxListLength}`;
    case STRING_LONG:
      return `string of ${n} bytes exceeds maxStringBytes ${limits.maxStringBytes}`;
    case TOO_DEEP:
      return `payload nests deeper than maxDepth ${limits.maxDepth}`;
    case TRAILING:
      return `${n} unexpected trailing byte(s) after the payload`;
    case TOO_LARGE:
      return `payload of ${n} bytes exceeds maxPayloadBytes ${limits.maxPayloadBytes}`;
    case BAD_UTF8:
      return `string at byte ${at} is not valid UTF-8`;
    case BAD_VARUINT:
      return `varuint at byte ${at} is longer than 5 bytes or exceeds 32 bits`;
    case TOTAL_ELEMENTS:
      return `payload holds more than maxElements ${limits.maxElements} list elements`;
    case BAD_TAG:
      return `unknown union tag ${n}`;
    case BAD_ENUM:
      return `enumeration index ${n} out of range`;
    default:
      return 'record key "__proto__" is not allowed';
  }
}

/**
 * True when `bytes[start..end)` is well-formed UTF-8 (no overlongs, no surrogates, at most U+10FFFF).
 * ASCII runs take the fast path.
 */
export function isValidUtf8(bytes: Uint8Array, start: number, end: number): boolean {
  let i = start;
  while (i < end) {
    const b = bytes[i];
    if (b < 0x80) {
      i++;
      continue;
    }
    if (b < 0xc2 || b > 0xf4) return false;
    if (b < 0xe0) {
      if (i + 1 >= end || (bytes[i + 1] & 0xc0) !== 0x80) return false;
      i += 2;
      continue;
    }
    if (b < 0xf0) {
      if (i + 2 >= end) return false;
      const b1 = bytes[i + 1];
      if ((b1 & 0xc0) !== 0x80 || (bytes[i + 2] & 0xc0) !== 0x80) return false;
      if (b === 0xe0 && b1 < 0xa0) return false; // overlong
      if (b === 0xed && b1 > 0x9f) return false; // UTF-16 surrogate
      i += 3;
      continue;
    }
    if (i + 3 >= end) return false;
    const b1 = bytes[i + 1];
    if ((b1 & 0xc0) !== 0x80 || (bytes[i + 2] & 0xc0) !== 0x80 || (bytes[i + 3] & 0xc0) !== 0x80)
      return false;
    if (b === 0xf0 && b1 < 0x90) return false; // overlong
    if (b === 0xf4 && b1 > 0x8f) return false; // above U+10FFFF
    i += 4;
  }
  return true;
}

/** True when the 9 bytes at `at` spell `__proto__` (a record key refused to keep decoded prototypes intact). */
function isProtoKey(bytes: Uint8Array, at: number): boolean {
  const proto = '__proto__';
  for (let i = 0; i < 9; i++) if (bytes[at + i] !== proto.charCodeAt(i)) return false;
  return true;
}

/** Generates the body of a checker: straight-line code per schema node, loops for lists and records. */
class CheckerGen {
  private counter = 0;
  constructor(private readonly limits: CodecLimits) {}

  private v(prefix: string): string {
    return `${prefix}${this.counter++}`;
  }

  /** Reads a varuint into `n`, exactly as packcat does, refusing more than 5 bytes or more than 32 bits. */
  varuint(): string {
    return (
      `if (o >= end) F(${TRUNCATED}, o, 0); n = u8[o++];` +
      `if (n > 127) { n &= 127; s = 7; do { if (o >= end) F(${TRUNCATED}, o, 0); b = u8[o++];` +
      ` if (s === 28 && b > 15) F(${BAD_VARUINT}, o - 5, 0); n |= (b & 127) << s; s += 7; } while (b > 127); n >>>= 0; }`
    );
  }

  /** Skips `k` bytes that need no inspection. */
  skip(k: number): string {
    if (k === 0) return '';
    return `if (end - o < ${k}) F(${TRUNCATED}, o, 0); o += ${k};`;
  }

  /** Skips `count` bitpacked booleans, refusing set bits past the last one. */
  bits(count: string | number): string {
    if (typeof count === 'number') {
      if (count === 0) return '';
      const bytes = Math.ceil(count / 8);
      const rem = count % 8;
      let code = `if (end - o < ${bytes}) F(${TRUNCATED}, o, 0);`;
      if (rem !== 0)
        code += `if (u8[o + ${bytes - 1}] > ${(1 << rem) - 1}) F(${BAD_FLAG}, o + ${bytes - 1}, 0);`;
      return code + `o += ${bytes};`;
    }
    const k = this.v('k');
    return (
      `const ${k} = (${count} + 7) >>> 3; if (end - o < ${k}) F(${TRUNCATED}, o, 0);` +
      `if ((${count} & 7) !== 0 && (u8[o + ${k} - 1] >>> (${count} & 7)) !== 0) F(${BAD_FLAG}, o + ${k} - 1, 0);` +
      `o += ${k};`
    );
  }

  /** Reads a count, enforcing maxListLength, the payload-wide element budget and the bytes left. */
  count(minElementBytes: number): string {
    let code = this.varuint();
    code += `if (n > ${this.limits.maxListLength}) F(${LIST_LONG}, o, n);`;
    code += `el += n; if (el > ${this.limits.maxElements}) F(${TOTAL_ELEMENTS}, o, el);`;
    if (minElementBytes > 0) code += `if (n * ${minElementBytes} > end - o) F(${TRUNCATED}, o, 0);`;
    return code;
  }

  string(isKey: boolean): string {
    let code = this.varuint();
    code += `if (n > ${this.limits.maxStringBytes}) F(${STRING_LONG}, o, n);`;
    code += `if (n > end - o) F(${TRUNCATED}, o, 0);`;
    if (isKey) code += `if (n === 9 && K(u8, o)) F(${BAD_KEY}, o, 0);`;
    code += `if (n !== 0 && !U(u8, o, o + n)) F(${BAD_UTF8}, o, 0); o += n;`;
    return code;
  }

  /** Code that checks one value of `s` at `o`; `depth` counts the containers already entered. */
  node(s: Schema, depth: number): string {
    const fixed = plainFixedSize(s);
    if (fixed >= 0) return this.skip(fixed);
    switch (s.type) {
      case 'boolean':
        return `if (o >= end) F(${TRUNCATED}, o, 0); if (u8[o++] > 1) F(${BAD_FLAG}, o - 1, 0);`;
      case 'string':
        return this.string(false);
      case 'varint':
      case 'varuint':
        return this.varuint();
      case 'literal':
        return '';
      case 'enumeration':
        return this.varuint() + `if (n >= ${s.values.length}) F(${BAD_ENUM}, o, n);`;
      case 'quat':
        return (
          `if (end - o < ${1 + 3 * quatComponentBytes(s.step)}) F(${TRUNCATED}, o, 0);` +
          `if (u8[o] > 7) F(${BAD_FLAG}, o, 0); o += ${1 + 3 * quatComponentBytes(s.step)};`
        );
      case 'nullable':
      case 'optional':
        return (
          `if (o >= end) F(${TRUNCATED}, o, 0); b = u8[o++];` +
          `if (b === 1) { ${this.node(s.of, depth)} } else if (b !== 0) F(${BAD_FLAG}, o - 1, 0);`
        );
      case 'nullish':
        return (
          `if (o >= end) F(${TRUNCATED}, o, 0); b = u8[o++];` +
          `if (b === 2) { ${this.node(s.of, depth)} } else if (b > 2) F(${BAD_FLAG}, o - 1, 0);`
        );
      default:
        break;
    }
    if (depth + 1 > this.limits.maxDepth) return `F(${TOO_DEEP}, o, 0);`;
    return this.container(s, depth + 1);
  }

  private container(s: Schema, depth: number): string {
    switch (s.type) {
      case 'list':
        return this.list(s.of, s.length, depth);
      case 'tuple':
        return this.members(s.of, depth);
      case 'object':
        return this.members(
          Object.keys(s.fields)
            .sort()
            .map((k) => s.fields[k]),
          depth,
        );
      case 'record': {
        const c = this.v('c');
        const i = this.v('i');
        let code = this.count(1) + `const ${c} = n;`;
        code += `for (let ${i} = 0; ${i} < ${c}; ${i}++) { ${this.string(true)} }`;
        if (s.field.type === 'boolean') return code + this.bits(c);
        const j = this.v('i');
        return code + `for (let ${j} = 0; ${j} < ${c}; ${j}++) { ${this.node(s.field, depth)} }`;
      }
      case 'union': {
        let code = this.varuint() + 'switch (n) {';
        s.variants.forEach((variant, idx) => {
          code += `case ${idx}: { ${this.node(variant, depth - 1)} break; }`;
        });
        return code + `default: F(${BAD_TAG}, o, n); }`;
      }
      default: {
        // Variable-length typed arrays: a varuint element count, then count * element size bytes.
        const el = TYPED_ARRAY_ELEMENT_BYTES[s.type];
        return this.varuint() + `if (n * ${el} > end - o) F(${TRUNCATED}, o, 0); o += n * ${el};`;
      }
    }
  }

  private list(of: Schema, length: number | undefined, depth: number): string {
    const budget = (k: number) =>
      `el += ${k}; if (el > ${this.limits.maxElements}) F(${TOTAL_ELEMENTS}, o, el);`;
    if (length !== undefined) {
      if (length === 0) return '';
      if (of.type === 'boolean') return budget(length) + this.bits(length);
      const fixed = plainFixedSize(of);
      if (fixed >= 0) return budget(length) + this.skip(fixed * length);
      const i = this.v('i');
      return budget(length) + `for (let ${i} = 0; ${i} < ${length}; ${i}++) { ${this.node(of, depth)} }`;
    }
    if (of.type === 'boolean') {
      const c = this.v('c');
      return this.count(0) + `const ${c} = n;` + this.bits(c);
    }
    const fixed = plainFixedSize(of);
    if (fixed >= 0) return this.count(fixed) + `o += n * ${fixed};`;
    const c = this.v('c');
    const i = this.v('i');
    return (
      this.count(minWireSize(of)) +
      `const ${c} = n; for (let ${i} = 0; ${i} < ${c}; ${i}++) { ${this.node(of, depth)} }`
    );
  }

  /** Object fields (already in wire order) or tuple entries: bitpacked booleans first, then the rest in order. */
  private members(children: readonly Schema[], depth: number): string {
    let bools = 0;
    for (const c of children) if (c.type === 'boolean') bools++;
    let code = this.bits(bools);
    let pending = 0; // consecutive plain fixed-size members share one bounds check
    for (const c of children) {
      if (c.type === 'boolean') continue;
      const fixed = plainFixedSize(c);
      if (fixed >= 0) {
        pending += fixed;
        continue;
      }
      code += this.skip(pending);
      pending = 0;
      code += this.node(c, depth);
    }
    return code + this.skip(pending);
  }
}

/**
 * Compiles `schema` into a Checker that walks bytes exactly as packcat 0.3.0's unpack reads them and
 * throws before unpack could misbehave: `frame_truncated` (a read past `end`), `frame_trailing_bytes`,
 * `frame_too_large` (over maxPayloadBytes), `list_too_long` (maxListLength or maxElements),
 * `string_too_long`, `payload_too_deep`, and `payload_invalid` (unknown union tag, enumeration index
 * out of range, a flag or boolean byte other than those packcat writes, set padding bits, invalid UTF-8,
 * a varuint over 5 bytes or 32 bits, a record key `__proto__`).
 *
 * Throws `protocol_invalid` at compile time when the schema is malformed or one packcat cannot round-trip.
 * The code is generated once per schema (like packcat's own `build`), so checking is a tight loop.
 */
export function compileChecker(schema: Schema, limits: Partial<CodecLimits> = {}): Checker {
  assertSchema(schema);
  const resolved = resolveLimits(limits);
  const body = new CheckerGen(resolved).node(schema, 0);
  const source =
    `return function check(u8, o, end) {` +
    `if (!(o >= 0 && o <= end && end <= u8.length)) throw new RangeError('check: bad range ' + o + '..' + end);` +
    `if (end - o > ${resolved.maxPayloadBytes}) F(${TOO_LARGE}, o, end - o);` +
    `let b = 0, n = 0, s = 0, el = 0;` +
    body +
    `if (o !== end) F(${TRAILING}, o, end - o); };`;
  const fail = (kind: number, at: number, n: number): never => {
    throw new NetloomError(FAIL_CODES[kind], failMessage(kind, at, n, resolved));
  };
  const factory = new Function('F', 'U', 'K', source) as (
    f: typeof fail,
    u: typeof isValidUtf8,
    k: typeof isProtoKey,
  ) => Checker;
  return factory(fail, isValidUtf8, isProtoKey);
}

// Schema introspection for the checker: refuses schemas packcat 0.3.0 cannot round-trip, and computes wire sizes.
import { NetloomError } from './errors.js';
import type { Schema } from './packcat.js';

/** Element size in bytes of each packcat typed-array schema type. */
export const TYPED_ARRAY_ELEMENT_BYTES: Readonly<Record<string, number>> = {
  uint8Array: 1,
  int8Array: 1,
  uint8ClampedArray: 1,
  int16Array: 2,
  uint16Array: 2,
  int32Array: 4,
  uint32Array: 4,
  float32Array: 4,
  float64Array: 8,
  bigInt64Array: 8,
  bigUint64Array: 8,
};

/** Typed arrays that packcat's unpack returns as views into the input bytes (no copy). */
export const ALIASING_TYPED_ARRAYS: ReadonlySet<string> = new Set([
  'uint8Array',
  'int8Array',
  'uint8ClampedArray',
]);

const NUMBER_BYTES: Readonly<Record<string, number>> = {
  int8: 1,
  uint8: 1,
  int16: 2,
  uint16: 2,
  int32: 4,
  uint32: 4,
  int64: 8,
  uint64: 8,
  float16: 2,
  float32: 4,
  float64: 8,
};

/** Bits per quantized step index, computed exactly as packcat's pack/unpack compute it. */
function bitsFor(range: number, step: number): number {
  return Math.ceil(Math.log2(Math.ceil(range / step)));
}

/**
 * Wire size of a leaf schema whose bytes need no inspection (numbers, quantized values,
 * unit vectors, fixed-length typed arrays), or -1 when the schema is not such a leaf.
 * Call only on schemas that passed `assertSchema`.
 */
export function plainFixedSize(s: Schema): number {
  const n = NUMBER_BYTES[s.type];
  if (n !== undefined) return n;
  switch (s.type) {
    case 'quantized':
      return Math.ceil(bitsFor(s.max - s.min, s.step) / 8);
    case 'uv2':
      return Math.ceil(bitsFor(Math.PI * 2, s.step) / 8);
    case 'uv3':
      return Math.ceil((3 + 2 * bitsFor(Math.SQRT2, s.step)) / 8);
    default: {
      const el = TYPED_ARRAY_ELEMENT_BYTES[s.type];
      const length = (s as { length?: number }).length;
      if (el !== undefined && typeof length === 'number') return el * length;
      return -1;
    }
  }
}

/** Bytes per quat component (1, 2 or 4) as packcat lays them out after the metadata byte. */
export function quatComponentBytes(step: number): number {
  const bits = bitsFor(Math.SQRT2, step);
  return bits <= 8 ? 1 : bits <= 16 ? 2 : 4;
}

/** The smallest number of bytes any value of `s` occupies on the wire (used to refuse impossible counts early). */
export function minWireSize(s: Schema): number {
  const fixed = plainFixedSize(s);
  if (fixed >= 0) return fixed;
  switch (s.type) {
    case 'boolean':
    case 'string':
    case 'varint':
    case 'varuint':
    case 'enumeration':
    case 'nullable':
    case 'optional':
    case 'nullish':
    case 'record':
      return 1;
    case 'literal':
      return 0;
    case 'quat':
      return 1 + 3 * quatComponentBytes(s.step);
    case 'list':
      if (s.length === undefined) return 1;
      return s.of.type === 'boolean' ? Math.ceil(s.length / 8) : s.length * minWireSize(s.of);
    case 'tuple':
      return sumWithBits(s.of);
    case 'object':
      return sumWithBits(Object.values(s.fields));
    case 'union': {
      let min = Number.POSITIVE_INFINITY;
      for (const v of s.variants) min = Math.min(min, minWireSize(v));
      return 1 + min;
    }
    default:
      // Variable-length typed arrays: a varuint count of at least one byte.
      return 1;
  }
}

function sumWithBits(children: readonly Schema[]): number {
  let bools = 0;
  let total = 0;
  for (const c of children) {
    if (c.type === 'boolean') bools++;
    else total += minWireSize(c);
  }
  return total + Math.ceil(bools / 8);
}

function invalid(path: string, message: string): NetloomError {
  return new NetloomError('protocol_invalid', `schema at ${path || '(root)'}: ${message}`);
}

function isNonNegInt(n: unknown): n is number {
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
}

/**
 * Throws `protocol_invalid` unless `s` is a well-formed, acyclic packcat schema that packcat 0.3.0
 * packs and unpacks to the same number of bytes. Some precisions are refused because packcat's
 * pack and unpack disagree on them (for example a quantized value needing 3 bytes is written
 * with 3 bytes but read with 4).
 */
export function assertSchema(
  s: unknown,
  path = '',
  ancestors: Set<unknown> = new Set(),
): asserts s is Schema {
  if (typeof s !== 'object' || s === null || typeof (s as { type?: unknown }).type !== 'string') {
    throw invalid(path, 'not a packcat schema (expected an object with a string `type`)');
  }
  if (ancestors.has(s)) throw invalid(path, 'schema is cyclic');
  const schema = s as Schema;
  if (NUMBER_BYTES[schema.type] !== undefined) return;
  ancestors.add(s);
  try {
    assertNode(schema, path, ancestors);
  } finally {
    ancestors.delete(s);
  }
}

function assertPrecision(path: string, kind: string, range: number, step: number, extraBits: number): void {
  if (!(typeof step === 'number' && step > 0 && step <= range))
    throw invalid(path, `${kind} step ${step} invalid`);
  const bits = bitsFor(range, step);
  if (kind === 'quat') {
    if (bits < 1 || bits > 30)
      throw invalid(path, `quat needs ${bits} bits per component; packcat supports 1-30`);
    return;
  }
  const total = kind === 'uv3' ? extraBits + 2 * bits : extraBits + bits;
  const bytes = Math.ceil(total / 8);
  const ok =
    kind === 'uv3' ? bits >= 1 && total <= 32 : bits >= 1 && (bytes <= 2 || (bytes === 4 && total <= 30));
  if (!ok) {
    throw invalid(
      path,
      `${kind} needs ${total} bits; packcat 0.3.0 round-trips only 1-16 or 25-30 bits (uv3: at most 32) — pick another step`,
    );
  }
}

function assertNode(s: Schema, path: string, ancestors: Set<unknown>): void {
  switch (s.type) {
    case 'boolean':
    case 'string':
    case 'varint':
    case 'varuint':
      break;
    case 'quantized':
      if (!(Number.isFinite(s.min) && Number.isFinite(s.max) && s.min < s.max)) {
        throw invalid(path, 'quantized needs finite min < max');
      }
      assertPrecision(path, 'quantized', s.max - s.min, s.step, 0);
      break;
    case 'uv2':
      assertPrecision(path, 'uv2', Math.PI * 2, s.step, 0);
      break;
    case 'uv3':
      assertPrecision(path, 'uv3', Math.SQRT2, s.step, 3);
      break;
    case 'quat':
      assertPrecision(path, 'quat', Math.SQRT2, s.step, 0);
      break;
    case 'literal': {
      const t = typeof s.value;
      if (
        (t !== 'string' && t !== 'number' && t !== 'boolean') ||
        (t === 'number' && !Number.isFinite(s.value))
      ) {
        throw invalid(path, 'literal must be a string, a finite number or a boolean');
      }
      break;
    }
    case 'enumeration':
      if (!Array.isArray(s.values) || s.values.length === 0) throw invalid(path, 'enumeration needs values');
      for (const v of s.values) {
        if (typeof v !== 'string' && !(typeof v === 'number' && Number.isFinite(v))) {
          throw invalid(path, 'enumeration values are strings or finite numbers');
        }
      }
      if (new Set(s.values).size !== s.values.length) throw invalid(path, 'enumeration values repeat');
      break;
    case 'nullable':
    case 'optional':
    case 'nullish':
      assertSchema(s.of, `${path}?`, ancestors);
      break;
    case 'list':
      if (s.length !== undefined && !isNonNegInt(s.length)) {
        throw invalid(path, 'list length must be an integer >= 0');
      }
      assertSchema(s.of, `${path}[]`, ancestors);
      break;
    case 'tuple':
      if (!Array.isArray(s.of)) throw invalid(path, 'tuple needs an array of schemas');
      for (let i = 0; i < s.of.length; i++) assertSchema(s.of[i], `${path}[${i}]`, ancestors);
      break;
    case 'object':
      if (typeof s.fields !== 'object' || s.fields === null) throw invalid(path, 'object needs fields');
      for (const [k, c] of Object.entries(s.fields)) assertSchema(c, `${path}.${k}`, ancestors);
      break;
    case 'record':
      assertSchema(s.field, `${path}{}`, ancestors);
      break;
    case 'union':
      assertUnion(s.key, s.variants, path, ancestors);
      break;
    default: {
      if (TYPED_ARRAY_ELEMENT_BYTES[s.type] === undefined) {
        throw invalid(path, `unknown schema type ${JSON.stringify((s as { type: string }).type)}`);
      }
      const length = (s as { length?: unknown }).length;
      if (length !== undefined && !isNonNegInt(length)) {
        throw invalid(path, 'typed array length must be an integer >= 0');
      }
    }
  }
}

function assertUnion(key: unknown, variants: unknown, path: string, ancestors: Set<unknown>): void {
  if (typeof key !== 'string' || !Array.isArray(variants) || variants.length === 0) {
    throw invalid(path, 'union needs a key and at least one variant');
  }
  const seen = new Set<unknown>();
  for (let i = 0; i < variants.length; i++) {
    const v = variants[i] as { type?: unknown; fields?: Record<string, { type?: unknown; value?: unknown }> };
    const vp = `${path}<${i}>`;
    if (typeof v !== 'object' || v === null || v.type !== 'object')
      throw invalid(vp, 'union variants are objects');
    const disc = v.fields?.[key];
    if (disc?.type !== 'literal') throw invalid(vp, `variant needs a literal \`${key}\` field`);
    if (seen.has(disc.value)) throw invalid(vp, `discriminant ${JSON.stringify(disc.value)} repeats`);
    seen.add(disc.value);
    assertSchema(v, vp, ancestors);
  }
}

/** True when packcat's unpack of `s` may return views into the input bytes. */
export function schemaAliasesInput(s: Schema): boolean {
  if (ALIASING_TYPED_ARRAYS.has(s.type)) return true;
  switch (s.type) {
    case 'nullable':
    case 'optional':
    case 'nullish':
    case 'list':
      return schemaAliasesInput(s.of);
    case 'tuple':
      return s.of.some(schemaAliasesInput);
    case 'object':
      return Object.values(s.fields).some(schemaAliasesInput);
    case 'record':
      return schemaAliasesInput(s.field);
    case 'union':
      return s.variants.some(schemaAliasesInput);
    default:
      return false;
  }
}

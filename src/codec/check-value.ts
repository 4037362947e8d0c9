// Validates JS values against a schema before packing (strict where packcat's own validate is lenient or throws).
import { assertSchema } from './check-schema.js';
import type { Schema } from './packcat.js';

/** Returns undefined when `value` fits the schema, otherwise a description of the first problem with its path. */
export type ValueValidator = (value: unknown) => string | undefined;

const TYPED_ARRAY_CTORS: Readonly<Record<string, unknown>> = {
  uint8Array: Uint8Array,
  int8Array: Int8Array,
  uint8ClampedArray: Uint8ClampedArray,
  int16Array: Int16Array,
  uint16Array: Uint16Array,
  int32Array: Int32Array,
  uint32Array: Uint32Array,
  float32Array: Float32Array,
  float64Array: Float64Array,
  bigInt64Array: BigInt64Array,
  bigUint64Array: BigUint64Array,
};

const INT_RANGES: Readonly<Record<string, readonly [number, number]>> = {
  int8: [-128, 127],
  uint8: [0, 255],
  int16: [-32768, 32767],
  uint16: [0, 65535],
  int32: [-2147483648, 2147483647],
  uint32: [0, 4294967295],
  varint: [-2147483648, 2147483647],
  varuint: [0, 4294967295],
};

function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return `string ${JSON.stringify(v.length > 20 ? `${v.slice(0, 20)}…` : v)}`;
  if (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean')
    return `${typeof v} ${String(v)}`;
  if (typeof v === 'object') return (v as object).constructor?.name ?? 'object';
  return typeof v;
}

/** Builds the failure message; only called on the failure path. */
function problem(path: string, what: string, v: unknown): string {
  return `${path}: expected ${what}, got ${describeValue(v)}`;
}

/** A JS string literal for generated code. */
const lit = (s: string) => JSON.stringify(s);

/** Generates straight-line validation code: one block per schema node, loops for lists and records. */
class ValidatorGen {
  private counter = 0;
  readonly ctors: unknown[] = [];

  private v(prefix: string): string {
    return `${prefix}${this.counter++}`;
  }

  /** `path` is a JS expression evaluating to the path string (built only on failure). */
  node(s: Schema, val: string, path: string): string {
    const fail = (what: string) => `return P(${path}, ${lit(what)}, ${val});`;
    const range = INT_RANGES[s.type];
    if (range) {
      const [lo, hi] = range;
      return `if (typeof ${val} !== 'number' || !Number.isInteger(${val}) || ${val} < ${lo} || ${val} > ${hi}) ${fail(`an integer in ${lo}..${hi} (${s.type})`)}`;
    }
    switch (s.type) {
      case 'boolean':
        return `if (typeof ${val} !== 'boolean') ${fail('a boolean')}`;
      case 'string':
        return `if (typeof ${val} !== 'string') ${fail('a string')}`;
      case 'float16':
      case 'float32':
      case 'float64':
        return `if (typeof ${val} !== 'number') ${fail(`a number (${s.type})`)}`;
      case 'int64':
        return `if (typeof ${val} !== 'bigint' || ${val} < -9223372036854775808n || ${val} > 9223372036854775807n) ${fail('a bigint (int64)')}`;
      case 'uint64':
        return `if (typeof ${val} !== 'bigint' || ${val} < 0n || ${val} > 18446744073709551615n) ${fail('a bigint (uint64)')}`;
      case 'quantized':
        return `if (typeof ${val} !== 'number' || !(${val} >= ${s.min} && ${val} <= ${s.max})) ${fail(`a number in ${s.min}..${s.max}`)}`;
      case 'quat':
        return this.numberArray(val, 4, fail('[x, y, z, w] finite numbers'));
      case 'uv2':
        return this.numberArray(val, 2, fail('[x, y] finite numbers'));
      case 'uv3':
        return this.numberArray(val, 3, fail('[x, y, z] finite numbers'));
      case 'literal':
        return `if (${val} !== ${JSON.stringify(s.value)}) ${fail(`literal ${JSON.stringify(s.value)}`)}`;
      case 'enumeration': {
        const test = s.values.map((x) => `${val} !== ${JSON.stringify(x)}`).join(' && ');
        return `if (${test}) ${fail(`one of ${JSON.stringify(s.values)}`)}`;
      }
      case 'nullable':
        return `if (${val} !== null) { ${this.node(s.of, val, path)} }`;
      case 'optional':
        return `if (${val} !== undefined) { ${this.node(s.of, val, path)} }`;
      case 'nullish':
        return `if (${val} !== null && ${val} !== undefined) { ${this.node(s.of, val, path)} }`;
      case 'list': {
        const i = this.v('i');
        const el = this.v('v');
        let code = `if (!Array.isArray(${val})) ${fail('an array')}`;
        if (s.length !== undefined)
          code += `if (${val}.length !== ${s.length}) ${fail(`an array of ${s.length}`)}`;
        const elPath = `${path} + '[' + ${i} + ']'`;
        return (
          code +
          `for (let ${i} = 0; ${i} < ${val}.length; ${i}++) { const ${el} = ${val}[${i}]; ${this.node(s.of, el, elPath)} }`
        );
      }
      case 'tuple': {
        let code = `if (!Array.isArray(${val}) || ${val}.length !== ${s.of.length}) ${fail(`a tuple of ${s.of.length}`)}`;
        s.of.forEach((c, idx) => {
          const el = this.v('v');
          code += `const ${el} = ${val}[${idx}]; ${this.node(c, el, `${path} + ${lit(`[${idx}]`)}`)}`;
        });
        return code;
      }
      case 'object':
        return this.object(s.fields, val, path, fail('an object'));
      case 'record': {
        const keys = this.v('k');
        const i = this.v('i');
        const el = this.v('v');
        const elPath = `${path} + '[' + JSON.stringify(${keys}[${i}]) + ']'`;
        return (
          `if (typeof ${val} !== 'object' || ${val} === null || Array.isArray(${val})) ${fail('an object (record)')}` +
          `const ${keys} = Object.keys(${val});` +
          `for (let ${i} = 0; ${i} < ${keys}.length; ${i}++) {` +
          `if (${keys}[${i}] === '__proto__') return ${path} + ': record key "__proto__" is not allowed';` +
          `const ${el} = ${val}[${keys}[${i}]]; ${this.node(s.field, el, elPath)} }`
        );
      }
      case 'union': {
        const tag = this.v('t');
        const tags: unknown[] = [];
        let code = `if (typeof ${val} !== 'object' || ${val} === null || Array.isArray(${val})) ${fail('an object (union)')}`;
        code += `const ${tag} = ${val}[${lit(s.key)}];`;
        s.variants.forEach((variant, idx) => {
          const disc = variant.fields[s.key] as { value: unknown };
          tags.push(disc.value);
          code += `${idx === 0 ? '' : 'else '}if (${tag} === ${JSON.stringify(disc.value)}) { ${this.object(variant.fields, val, path, '')} }`;
        });
        const what = `${s.key} one of ${JSON.stringify(tags)}`;
        return code + `else return P(${path} + ${lit(`.${s.key}`)}, ${lit(what)}, ${tag});`;
      }
      default: {
        const idx = this.ctors.push(TYPED_ARRAY_CTORS[s.type]) - 1;
        const name = (TYPED_ARRAY_CTORS[s.type] as { name: string }).name;
        const length = (s as { length?: number }).length;
        let code = `if (!(${val} instanceof C[${idx}])) ${fail(`a ${name}`)}`;
        if (length !== undefined)
          code += `if (${val}.length !== ${length}) ${fail(`a ${name} of ${length}`)}`;
        return code;
      }
    }
  }

  private numberArray(val: string, n: number, fail: string): string {
    let test = `!Array.isArray(${val}) || ${val}.length !== ${n}`;
    for (let i = 0; i < n; i++) test += ` || !Number.isFinite(${val}[${i}])`;
    return `if (${test}) ${fail}`;
  }

  /** Object fields; a field absent from the value is validated as `undefined`. `fail` is empty when the caller checked the object. */
  private object(fields: Readonly<Record<string, Schema>>, val: string, path: string, fail: string): string {
    let code = fail
      ? `if (typeof ${val} !== 'object' || ${val} === null || Array.isArray(${val})) ${fail}`
      : '';
    for (const k of Object.keys(fields)) {
      const el = this.v('v');
      code += `const ${el} = ${val}[${lit(k)}]; ${this.node(fields[k], el, `${path} + ${lit(`.${k}`)}`)}`;
    }
    return code;
  }
}

/**
 * Compiles a strict validator for values about to be packed. Unlike packcat's `validate` it never
 * throws, checks integer ranges (varuint fits 32 bits, varint fits int32), refuses null objects,
 * non-finite unit vectors and `__proto__` record keys, and keeps checking after an absent optional.
 * Length limits are enforced afterwards by running the checker on the packed bytes.
 */
export function compileValueValidator(schema: Schema): ValueValidator {
  assertSchema(schema);
  const gen = new ValidatorGen();
  const body = gen.node(schema, 'value', "'value'");
  const factory = new Function(
    'P',
    'C',
    `return function validate(value) { ${body} return undefined; };`,
  ) as (p: typeof problem, c: unknown[]) => ValueValidator;
  return factory(problem, gen.ctors);
}

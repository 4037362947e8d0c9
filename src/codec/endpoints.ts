// defineEndpoints: RPC request/response schemas shared by client and server, with validated encode and checked decode.
import { type CodecLimits, resolveLimits } from './check.js';
import { buildEntry, type Entry } from './direction.js';
import { NetloomError } from './errors.js';
import { p, type Schema, type SchemaType } from './packcat.js';
import { fnv1a32, type ProtocolOptions } from './protocol.js';

/** One endpoint: the packcat schema of its request and of its response. */
export interface EndpointSpec<Req extends Schema = Schema, Res extends Schema = Schema> {
  request: Req;
  response: Res;
}

/** Endpoint name -> request and response schemas. */
export type EndpointsDef = Record<string, EndpointSpec>;

/** Endpoint name -> request type. */
export type RequestsOf<D extends EndpointsDef> = { [K in keyof D & string]: SchemaType<D[K]['request']> };
/** Endpoint name -> response type. */
export type ResponsesOf<D extends EndpointsDef> = { [K in keyof D & string]: SchemaType<D[K]['response']> };

/** Encoding and checked decoding of one endpoint's request and response (values untyped). */
export interface EndpointCodec {
  readonly name: string;
  readonly request: Schema;
  readonly response: Schema;
  /** 8 hex digits over the name and both schemas: equal hashes mean compatible endpoints. */
  readonly hash: string;
  /** Validates and packs a request; throws `encode_invalid`. */
  encodeRequest(value: unknown): Uint8Array;
  /** Decodes untrusted request bytes; the codec's checker runs before packcat sees them. */
  decodeRequest(bytes: Uint8Array): unknown;
  /** Validates and packs a response; throws `encode_invalid`. */
  encodeResponse(value: unknown): Uint8Array;
  /** Decodes untrusted response bytes, checked like requests. */
  decodeResponse(bytes: Uint8Array): unknown;
}

/** A JSON description of one endpoint, as the introspection route and RPC list it. */
export interface EndpointDescription {
  name: string;
  hash: string;
  /** The packcat schema of the request, as JSON. */
  request: unknown;
  /** The packcat schema of the response, as JSON. */
  response: unknown;
  /** Human-readable names of the requirements a caller must meet (server side only). */
  requirements: string[];
}

/** What the client needs of an endpoints definition at run time; every `defineEndpoints(...)` result fits. */
export interface AnyEndpoints {
  /** Type-only: the request and response types by name (absent at run time). */
  readonly '~types'?: { requests: Record<string, unknown>; responses: Record<string, unknown> };
  get(name: string): EndpointCodec | undefined;
}

/** A set of endpoints shared by client and server. Build one with `defineEndpoints`. */
export interface Endpoints<Q extends Record<string, unknown>, R extends Record<string, unknown>>
  extends AnyEndpoints {
  readonly '~types'?: { requests: Q; responses: R };
  /** Every endpoint, sorted by name. */
  readonly list: readonly EndpointCodec[];
  /** The limits every decode enforces. */
  readonly limits: Readonly<CodecLimits>;
  has(name: string): name is keyof Q & string;
  /** The codec of `name`, or undefined when there is no such endpoint. */
  get(name: string): EndpointCodec | undefined;
  encodeRequest<K extends keyof Q & string>(name: K, value: Q[K]): Uint8Array;
  decodeRequest<K extends keyof Q & string>(name: K, bytes: Uint8Array): Q[K];
  encodeResponse<K extends keyof R & string>(name: K, value: R[K]): Uint8Array;
  decodeResponse<K extends keyof R & string>(name: K, bytes: Uint8Array): R[K];
  /** JSON descriptions of every endpoint (no requirements: those live on the server). */
  describe(): EndpointDescription[];
}

/** Endpoint names of an endpoints definition (`string` for an untyped one). */
export type EndpointName<E> = E extends { readonly '~types'?: { requests: infer Q } }
  ? keyof Q & string
  : string;
/** Request type of endpoint `K`. */
export type EndpointRequest<E, K extends string> = E extends { readonly '~types'?: { requests: infer Q } }
  ? K extends keyof Q
    ? Q[K]
    : unknown
  : unknown;
/** Response type of endpoint `K`. */
export type EndpointResponse<E, K extends string> = E extends {
  readonly '~types'?: { responses: infer R };
}
  ? K extends keyof R
    ? R[K]
    : unknown
  : unknown;

/** Longest endpoint name, in characters. */
export const MAX_ENDPOINT_NAME = 128;
const NAME_PATTERN = /^[A-Za-z0-9_.:-]+$/;

/** Throws `protocol_invalid` unless `name` is 1..128 characters of letters, digits and `_ . : -`. */
export function assertEndpointName(name: unknown): asserts name is string {
  if (
    typeof name !== 'string' ||
    name.length === 0 ||
    name.length > MAX_ENDPOINT_NAME ||
    !NAME_PATTERN.test(name)
  ) {
    throw new NetloomError(
      'protocol_invalid',
      `endpoint name must be 1..${MAX_ENDPOINT_NAME} characters of letters, digits and _ . : - (got ${JSON.stringify(name)})`,
    );
  }
}

/** JSON text with object keys sorted at every level; bigints become strings. */
function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (typeof v === 'bigint') return v.toString();
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return v;
    const sorted: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) sorted[k] = (v as Record<string, unknown>)[k];
    return sorted;
  });
}

/** A schema as plain JSON, keys sorted (bigint literals become strings). */
export function schemaJson(schema: Schema): unknown {
  return JSON.parse(canonicalJson(schema));
}

function encodeWith(e: Entry, what: string, value: unknown): Uint8Array {
  const problem = e.validate(value);
  if (problem !== undefined) throw new NetloomError('encode_invalid', `${what}: ${problem}`);
  let bytes: Uint8Array;
  try {
    bytes = e.pack(value);
  } catch (cause) {
    throw new NetloomError('encode_invalid', `${what}: packcat refused the value`, { cause });
  }
  try {
    e.check(bytes, 0, bytes.length);
  } catch (cause) {
    const detail = cause instanceof NetloomError ? `${cause.code}: ${cause.message}` : String(cause);
    throw new NetloomError('encode_invalid', `${what} would be refused (${detail})`, { cause });
  }
  return bytes;
}

function decodeWith(e: Entry, what: string, bytes: Uint8Array): unknown {
  e.check(bytes, 0, bytes.length);
  try {
    return e.unpack(e.aliases ? new Uint8Array(bytes) : bytes);
  } catch (cause) {
    // Unreachable when the checker mirrors packcat; kept so a mismatch never escapes as a raw error.
    throw new NetloomError('internal_error', `${what}: unpack failed after check`, { cause });
  }
}

/** Builds the codec of one endpoint; throws `protocol_invalid` for a bad name or schema. */
export function endpointCodec(name: string, spec: EndpointSpec, limits: CodecLimits): EndpointCodec {
  assertEndpointName(name);
  if (typeof spec !== 'object' || spec === null) {
    throw new NetloomError('protocol_invalid', `endpoint "${name}" needs { request, response }`);
  }
  const req = buildEntry(
    'endpoint',
    { name: `${name}.request`, op: 0, schema: spec.request, explicit: false },
    limits,
  );
  const res = buildEntry(
    'endpoint',
    { name: `${name}.response`, op: 0, schema: spec.response, explicit: false },
    limits,
  );
  const hash = fnv1a32(
    `netloom-endpoint/1${canonicalJson({ name, request: spec.request, response: spec.response })}`,
  );
  return Object.freeze({
    name,
    request: spec.request,
    response: spec.response,
    hash,
    encodeRequest: (value: unknown) => encodeWith(req, `request of "${name}"`, value),
    decodeRequest: (bytes: Uint8Array) => decodeWith(req, `request of "${name}"`, bytes),
    encodeResponse: (value: unknown) => encodeWith(res, `response of "${name}"`, value),
    decodeResponse: (bytes: Uint8Array) => decodeWith(res, `response of "${name}"`, bytes),
  });
}

/** The JSON description of an endpoint codec. */
export function describeEndpoint(codec: EndpointCodec, requirements: string[] = []): EndpointDescription {
  return {
    name: codec.name,
    hash: codec.hash,
    request: schemaJson(codec.request),
    response: schemaJson(codec.response),
    requirements,
  };
}

/**
 * Defines RPC endpoints shared by client and server. Request and response types are inferred from
 * the packcat schemas, so `client.call('add', { a: 1, b: 2 })` is type-checked end to end. Requests
 * and responses are validated before packing and checked (limits, truncation, UTF-8, ...) before
 * packcat unpacks untrusted bytes. Throws `protocol_invalid` for a bad name or schema.
 *
 * @example
 * export const api = defineEndpoints({
 *   add: { request: p.object({ a: p.varint(), b: p.varint() }), response: p.object({ sum: p.varint() }) },
 * });
 */
export function defineEndpoints<D extends EndpointsDef>(
  definition: D,
  options: ProtocolOptions = {},
): Endpoints<RequestsOf<D>, ResponsesOf<D>> {
  if (typeof definition !== 'object' || definition === null) {
    throw new NetloomError('protocol_invalid', 'defineEndpoints needs { name: { request, response } }');
  }
  const limits = Object.freeze(resolveLimits(options.limits));
  const byName = new Map<string, EndpointCodec>();
  for (const name of Object.keys(definition).sort()) {
    byName.set(name, endpointCodec(name, definition[name], limits));
  }
  const list = Object.freeze([...byName.values()]);
  const must = (name: string): EndpointCodec => {
    const codec = byName.get(name);
    if (!codec) throw new NetloomError('endpoint_unknown', `no endpoint named "${name}"`);
    return codec;
  };
  return Object.freeze({
    list,
    limits,
    has: (name: string): name is keyof RequestsOf<D> & string => byName.has(name),
    get: (name: string) => byName.get(name),
    encodeRequest: (name: string, value: unknown) => must(name).encodeRequest(value),
    decodeRequest: (name: string, bytes: Uint8Array) => must(name).decodeRequest(bytes),
    encodeResponse: (name: string, value: unknown) => must(name).encodeResponse(value),
    decodeResponse: (name: string, bytes: Uint8Array) => must(name).decodeResponse(bytes),
    describe: () => list.map((c) => describeEndpoint(c)),
  }) as Endpoints<RequestsOf<D>, ResponsesOf<D>>;
}

/** Name of the built-in endpoint that lists a server's endpoints (see `BUILTIN_ENDPOINTS`). */
export const DESCRIBE_ENDPOINT = 'netloom.endpoints';

/**
 * Endpoints every netloom server offers unless introspection is turned off: `netloom.endpoints`
 * answers the server's endpoint list (schemas as JSON text, to keep the wire schema fixed).
 */
export const BUILTIN_ENDPOINTS = defineEndpoints({
  [DESCRIBE_ENDPOINT]: {
    request: p.object({}),
    response: p.object({
      endpoints: p.list(
        p.object({
          name: p.string(),
          hash: p.string(),
          request: p.string(),
          response: p.string(),
          requirements: p.list(p.string()),
        }),
      ),
    }),
  },
} as const);

// defineEndpoints: typed encode/decode of RPC requests and responses, checked decode of hostile bytes, bad definitions.
import { describe, expect, it } from 'vitest';
import { BUILTIN_ENDPOINTS, DESCRIBE_ENDPOINT, defineEndpoints } from '../../src/codec/endpoints.js';
import { p } from '../../src/codec/index.js';
import { codeOf } from '../helpers/codes.js';

const api = defineEndpoints({
  add: { request: p.object({ a: p.varint(), b: p.varint() }), response: p.object({ sum: p.varint() }) },
  'chat.say': { request: p.object({ text: p.string() }), response: p.object({ ok: p.boolean() }) },
  blob: { request: p.object({ bytes: p.uint8Array() }), response: p.object({ n: p.varuint() }) },
});

describe('defineEndpoints', () => {
  it('round-trips requests and responses with their types', () => {
    const bytes = api.encodeRequest('add', { a: -3, b: 7 });
    expect(api.decodeRequest('add', bytes)).toEqual({ a: -3, b: 7 });
    const res = api.encodeResponse('add', { sum: 4 });
    expect(api.decodeResponse('add', res)).toEqual({ sum: 4 });
    expect(api.list.map((e) => e.name)).toEqual(['add', 'blob', 'chat.say']);
    expect(api.has('add')).toBe(true);
    expect(api.has('nope')).toBe(false);
  });

  it('decodes byte arrays into a private copy, not a view of the input', () => {
    const bytes = api.encodeRequest('blob', { bytes: new Uint8Array([1, 2, 3]) });
    const decoded = api.decodeRequest('blob', bytes);
    bytes.fill(0);
    expect([...decoded.bytes]).toEqual([1, 2, 3]);
  });

  it('refuses values that do not fit the schema with encode_invalid', () => {
    expect(codeOf(() => api.encodeRequest('add', { a: 1, b: 'two' } as never))).toBe('encode_invalid');
    expect(codeOf(() => api.encodeResponse('chat.say', { ok: 1 } as never))).toBe('encode_invalid');
    expect(codeOf(() => api.get('add')?.encodeRequest(null))).toBe('encode_invalid');
  });

  it('checks hostile bytes before packcat sees them', () => {
    const codec = api.get('chat.say');
    if (!codec) throw new Error('missing codec');
    expect(codeOf(() => codec.decodeRequest(new Uint8Array([])))).toBe('frame_truncated');
    expect(codeOf(() => codec.decodeRequest(new Uint8Array([5, 0x61])))).toBe('frame_truncated');
    expect(codeOf(() => codec.decodeRequest(new Uint8Array([1, 0xff])))).toBe('payload_invalid');
    expect(codeOf(() => codec.decodeRequest(new Uint8Array([1, 0x61, 9])))).toBe('frame_trailing_bytes');
    expect(codeOf(() => codec.decodeRequest(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0x7f])))).toBe(
      'payload_invalid',
    );
  });

  it('enforces the decode limits it was given', () => {
    const small = defineEndpoints(
      { say: { request: p.object({ text: p.string() }), response: p.object({}) } },
      { limits: { maxStringBytes: 4 } },
    );
    const ok = small.encodeRequest('say', { text: 'abcd' });
    expect(small.decodeRequest('say', ok)).toEqual({ text: 'abcd' });
    expect(codeOf(() => small.encodeRequest('say', { text: 'abcde' }))).toBe('encode_invalid');
    expect(codeOf(() => small.decodeRequest('say', new Uint8Array([5, 97, 97, 97, 97, 97])))).toBe(
      'string_too_long',
    );
  });

  it('throws endpoint_unknown for a name it does not have', () => {
    expect(codeOf(() => api.encodeRequest('nope' as never, {} as never))).toBe('endpoint_unknown');
    expect(api.get('nope')).toBeUndefined();
  });

  it('refuses bad names and schemas with protocol_invalid', () => {
    const schemas = { request: p.object({}), response: p.object({}) };
    expect(codeOf(() => defineEndpoints({ '': schemas }))).toBe('protocol_invalid');
    expect(codeOf(() => defineEndpoints({ 'has space': schemas }))).toBe('protocol_invalid');
    expect(codeOf(() => defineEndpoints({ ['x'.repeat(129)]: schemas }))).toBe('protocol_invalid');
    expect(
      codeOf(() => defineEndpoints({ bad: { request: { type: 'nope' }, response: p.object({}) } } as never)),
    ).toBe('protocol_invalid');
    expect(codeOf(() => defineEndpoints(null as never))).toBe('protocol_invalid');
  });

  it('describes endpoints as JSON with a hash that changes with the schema', () => {
    const [add] = api.describe();
    expect(add.name).toBe('add');
    expect(add.request).toEqual({
      type: 'object',
      fields: { a: { type: 'varint' }, b: { type: 'varint' } },
    });
    expect(add.hash).toMatch(/^[0-9a-f]{8}$/);
    const other = defineEndpoints({
      add: { request: p.object({ a: p.varint(), b: p.varint() }), response: p.object({ sum: p.varuint() }) },
    });
    expect(other.describe()[0].hash).not.toBe(add.hash);
    expect(JSON.parse(JSON.stringify(api.describe()))).toEqual(api.describe());
  });

  it('ships the built-in introspection endpoint', () => {
    expect(BUILTIN_ENDPOINTS.has(DESCRIBE_ENDPOINT)).toBe(true);
    const bytes = BUILTIN_ENDPOINTS.encodeResponse(DESCRIBE_ENDPOINT, {
      endpoints: [{ name: 'x', hash: '00000000', request: '{}', response: '{}', requirements: ['r'] }],
    });
    expect(BUILTIN_ENDPOINTS.decodeResponse(DESCRIBE_ENDPOINT, bytes).endpoints[0].requirements).toEqual([
      'r',
    ]);
  });
});

// Extended CONNECT for WebTransport (RFC 9220, draft-02): the request and response header lists, and the server's checks.
import { NetloomError } from '../../../codec/errors.js';
import { encodeFrame, FRAME_HEADERS } from './h3-frames.js';
import { decodeFieldSection, encodeFieldSection, type HeaderField } from './qpack.js';

export interface ConnectRequest {
  authority: string;
  path: string;
  /** The `origin` header, when the client sent one (browsers always do). */
  origin: string | undefined;
  headers: HeaderField[];
}

export interface ConnectPolicy {
  /** Paths that accept WebTransport sessions: one path, a list, or a predicate. Default: any path. */
  path?: string | readonly string[] | ((path: string) => boolean);
  /** Origins allowed to open sessions (exact match); a request without `origin` is refused when set. Default: any. */
  allowedOrigins?: readonly string[] | ((origin: string | undefined) => boolean);
}

export type ConnectCheck =
  | { ok: true; request: ConnectRequest }
  | { ok: false; status: number; reason: string };

const PSEUDO = new Set([':method', ':protocol', ':scheme', ':authority', ':path']);

/** Validates an extended CONNECT request: 400 malformed, 405 not CONNECT, 404 wrong path, 403 refused origin. */
export function checkConnect(fields: readonly HeaderField[], policy: ConnectPolicy): ConnectCheck {
  const pseudo = new Map<string, string>();
  let regular = false;
  let origin: string | undefined;
  for (const { name, value } of fields) {
    if (name !== name.toLowerCase()) return { ok: false, status: 400, reason: `uppercase header ${name}` };
    if (name.startsWith(':')) {
      if (regular) return { ok: false, status: 400, reason: 'pseudo-header after a regular header' };
      if (!PSEUDO.has(name)) return { ok: false, status: 400, reason: `unknown pseudo-header ${name}` };
      if (pseudo.has(name)) return { ok: false, status: 400, reason: `duplicate ${name}` };
      pseudo.set(name, value);
    } else {
      regular = true;
      if (name === 'origin') origin = value;
    }
  }
  const method = pseudo.get(':method');
  if (method !== 'CONNECT') return { ok: false, status: 405, reason: `method ${method ?? '(none)'}` };
  if (pseudo.get(':protocol') !== 'webtransport')
    return { ok: false, status: 400, reason: `protocol ${pseudo.get(':protocol') ?? '(none)'}` };
  if (pseudo.get(':scheme') !== 'https') return { ok: false, status: 400, reason: 'scheme is not https' };
  const authority = pseudo.get(':authority') ?? '';
  const path = pseudo.get(':path') ?? '';
  if (authority === '' || !path.startsWith('/'))
    return { ok: false, status: 400, reason: 'missing :authority or :path' };
  if (!pathAllowed(path, policy.path))
    return { ok: false, status: 404, reason: `no WebTransport at ${path}` };
  if (!originAllowed(origin, policy.allowedOrigins))
    return { ok: false, status: 403, reason: `origin ${origin ?? '(none)'} refused` };
  return { ok: true, request: { authority, path, origin, headers: [...fields] } };
}

function pathAllowed(path: string, rule: ConnectPolicy['path']): boolean {
  if (rule === undefined) return true;
  const bare = path.split('?')[0];
  if (typeof rule === 'string') return bare === rule;
  if (typeof rule === 'function') return rule(path);
  return rule.includes(bare);
}

function originAllowed(origin: string | undefined, rule: ConnectPolicy['allowedOrigins']): boolean {
  if (rule === undefined) return true;
  if (typeof rule === 'function') return rule(origin);
  return origin !== undefined && rule.includes(origin);
}

/** The client's CONNECT header list. */
export function connectRequestFields(authority: string, path: string, origin?: string): HeaderField[] {
  const fields: HeaderField[] = [
    { name: ':method', value: 'CONNECT' },
    { name: ':protocol', value: 'webtransport' },
    { name: ':scheme', value: 'https' },
    { name: ':authority', value: authority },
    { name: ':path', value: path },
    { name: 'sec-webtransport-http3-draft02', value: '1' },
  ];
  if (origin !== undefined) fields.push({ name: 'origin', value: origin });
  return fields;
}

/** The server's response header list (`sec-webtransport-http3-draft` tells draft-02 clients which draft answered). */
export function connectResponseFields(status: number): HeaderField[] {
  const fields: HeaderField[] = [{ name: ':status', value: String(status) }];
  if (status === 200) fields.push({ name: 'sec-webtransport-http3-draft', value: 'draft02' });
  return fields;
}

/** The `:status` of a response header list, or 0 when it has none or it is not a number. */
export function responseStatus(fields: readonly HeaderField[]): number {
  const status = fields.find((f) => f.name === ':status')?.value ?? '';
  return /^[1-5][0-9][0-9]$/.test(status) ? Number(status) : 0;
}

/** Decodes a CONNECT header block and checks it; an oversized header list is a 431, other QPACK errors throw. */
export function decodeConnect(
  block: Uint8Array,
  maxHeaderListBytes: number,
  policy: ConnectPolicy,
): ConnectCheck {
  try {
    return checkConnect(decodeFieldSection(block, maxHeaderListBytes), policy);
  } catch (err) {
    if (err instanceof NetloomError && err.code === 'h3_headers_too_large')
      return { ok: false, status: 431, reason: err.message };
    throw err;
  }
}

/** The HEADERS frame answering a CONNECT with `status`. */
export function connectResponseFrame(status: number): Uint8Array {
  return encodeFrame(FRAME_HEADERS, encodeFieldSection(connectResponseFields(status)));
}

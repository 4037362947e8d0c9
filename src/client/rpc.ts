// Client side of RPC: `client.call(name, data)` over the open session (RpcRequest/RpcResponse) or over HTTP.
import {
  type AnyEndpoints,
  BUILTIN_ENDPOINTS,
  type EndpointCodec,
  type EndpointDescription,
} from '../codec/endpoints.js';
import { type ErrorCode, isErrorCode, NetloomError } from '../codec/errors.js';
import { DEFAULT_FRAME_LIMITS, type Message, MessageKind } from '../codec/frames.js';
import type { Clock, TimerHandle } from '../shared/clock.js';
import type { ServerConnection } from './connection.js';
import { type ControlRequest, controlRequest } from './http.js';

export interface CallOptions {
  /** Give up after this long with `rpc_timeout` (default: the client's `rpcTimeoutMs`, 10,000 ms). */
  timeoutMs?: number;
  /** `auto` (default): over the open session when there is one, else HTTP. */
  via?: 'auto' | 'session' | 'http';
}

type RpcResponse = Extract<Message, { kind: typeof MessageKind.RpcResponse }>;

interface Pending {
  connection: ServerConnection;
  codec: EndpointCodec;
  resolve(value: unknown): void;
  reject(err: NetloomError): void;
  timer: TimerHandle;
}

export interface RpcClientDeps {
  endpoints: AnyEndpoints | undefined;
  clock: Clock;
  timeoutMs: number;
  http: () => ControlRequest & { prefix: string };
  /** The session to call over, when one is open. */
  connection: () => ServerConnection | undefined;
}

/** Bytes kept free for the request header (kind, id, name) inside a frame. */
const REQUEST_HEADER_BYTES = 16;
const MAX_ID = 0x7fffffff;

/** Runs calls and matches responses to them by id. */
export class RpcClient {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();

  constructor(private readonly deps: RpcClientDeps) {}

  /** Calls `name` with `data`; resolves to the decoded response or rejects with a NetloomError. */
  async call(name: string, data: unknown, options: CallOptions = {}): Promise<unknown> {
    const codec = this.deps.endpoints?.get(name) ?? BUILTIN_ENDPOINTS.get(name);
    if (!codec) {
      throw new NetloomError('endpoint_unknown', `no endpoint named "${name}" in the client's endpoints`);
    }
    const payload = codec.encodeRequest(data);
    const timeoutMs = options.timeoutMs ?? this.deps.timeoutMs;
    const via = options.via ?? 'auto';
    const connection = via === 'http' ? undefined : this.deps.connection();
    if (connection) return this.overSession(connection, codec, payload, timeoutMs);
    if (via === 'session') throw new NetloomError('link_closed', 'no open session to call over');
    return this.overHttp(codec, payload, timeoutMs);
  }

  /** An RpcResponse arrived on `connection`. */
  response(connection: ServerConnection, message: RpcResponse): void {
    const call = this.pending.get(message.id);
    if (!call || call.connection !== connection) return;
    this.pending.delete(message.id);
    this.deps.clock.clearTimeout(call.timer);
    if (!message.ok) {
      call.reject(new NetloomError(codeOf(message.code), message.message));
      return;
    }
    try {
      call.resolve(call.codec.decodeResponse(message.payload));
    } catch (err) {
      call.reject(err instanceof NetloomError ? err : new NetloomError('payload_invalid', String(err)));
    }
  }

  /** `connection` closed: its calls can never be answered. */
  closed(connection: ServerConnection): void {
    for (const [id, call] of [...this.pending]) {
      if (call.connection !== connection) continue;
      this.pending.delete(id);
      this.deps.clock.clearTimeout(call.timer);
      call.reject(new NetloomError('link_closed', 'the session closed before the call was answered'));
    }
  }

  /** Calls waiting for an answer. */
  get inFlight(): number {
    return this.pending.size;
  }

  /** The server's endpoints, from `GET {prefix}/rpc`. */
  async describe(): Promise<EndpointDescription[]> {
    const http = this.deps.http();
    const reply = await controlRequest<{ endpoints: EndpointDescription[] }>(
      http,
      'GET',
      `${http.prefix}/rpc`,
    );
    return reply.endpoints;
  }

  private overSession(
    connection: ServerConnection,
    codec: EndpointCodec,
    payload: Uint8Array,
    timeoutMs: number,
  ): Promise<unknown> {
    if (payload.length + codec.name.length + REQUEST_HEADER_BYTES > DEFAULT_FRAME_LIMITS.maxFrameBytes) {
      return Promise.reject(
        new NetloomError('message_too_large', `request of ${payload.length} bytes is larger than a frame`),
      );
    }
    const id = this.nextId;
    this.nextId = this.nextId >= MAX_ID ? 1 : this.nextId + 1;
    return new Promise<unknown>((resolve, reject) => {
      const timer = this.deps.clock.setTimeout(() => {
        if (!this.pending.delete(id)) return;
        reject(new NetloomError('rpc_timeout', `"${codec.name}" was not answered within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { connection, codec, resolve, reject, timer });
      if (!connection.sendSession({ kind: MessageKind.RpcRequest, id, name: codec.name, payload })) {
        this.pending.delete(id);
        this.deps.clock.clearTimeout(timer);
        reject(new NetloomError('link_closed', 'the session is closed'));
      }
    });
  }

  private async overHttp(codec: EndpointCodec, payload: Uint8Array, timeoutMs: number): Promise<unknown> {
    const http = this.deps.http();
    const doFetch = http.fetch ?? globalThis.fetch;
    if (!doFetch) throw new NetloomError('transport_unavailable', 'no fetch available');
    const abort = new AbortController();
    let timedOut = false;
    const timer = this.deps.clock.setTimeout(() => {
      timedOut = true;
      abort.abort();
    }, timeoutMs);
    const failed = (err: unknown): NetloomError =>
      timedOut
        ? new NetloomError('rpc_timeout', `"${codec.name}" was not answered within ${timeoutMs} ms`)
        : new NetloomError('link_error', `server unreachable: ${err instanceof Error ? err.message : err}`);
    try {
      let response: Response;
      let body: ArrayBuffer;
      try {
        response = await doFetch(new URL(`${http.prefix}/rpc/${encodeURIComponent(codec.name)}`, http.base), {
          method: 'POST',
          headers: { ...http.headers, 'content-type': 'application/octet-stream' },
          body: new Uint8Array(payload),
          signal: abort.signal,
        });
        body = await response.arrayBuffer();
      } catch (err) {
        throw failed(err);
      }
      if (!response.ok) {
        let json: { code?: unknown; message?: unknown } | null = null;
        try {
          json = JSON.parse(new TextDecoder().decode(body)) as { code?: unknown; message?: unknown };
        } catch {
          json = null;
        }
        const code = typeof json?.code === 'string' ? codeOf(json.code) : 'internal_error';
        throw new NetloomError(
          code,
          typeof json?.message === 'string' ? json.message : `HTTP ${response.status}`,
        );
      }
      return codec.decodeResponse(new Uint8Array(body));
    } finally {
      this.deps.clock.clearTimeout(timer);
    }
  }
}

function codeOf(code: string): ErrorCode {
  return isErrorCode(code) ? code : 'internal_error';
}

// RPC dispatch: decode, requirements, handler (bounded in time), encode; over a session with an in-flight limit.
import type { FastifyRequest } from 'fastify';
import { NetloomError } from '../../codec/errors.js';
import { DEFAULT_FRAME_LIMITS, type Message, MessageKind } from '../../codec/frames.js';
import type { Clock } from '../../shared/clock.js';
import type { Logger, Metrics } from '../metrics.js';
import type { NetloomServerApi } from '../options.js';
import type { ServerSession } from '../session/server-session.js';
import type { SessionDataStore } from '../session-data.js';
import type { EndpointContext, EndpointRegistry, RegisteredEndpoint } from './registry.js';
import type { RpcCaller } from './requirements.js';

/** RPC limits; every one has a default. */
export interface RpcOptions {
  /** Calls one session may have running at once; more are refused with `rate_limited` (default 16). */
  maxInFlight?: number;
  /** Longest a handler may run before the call fails with `rpc_timeout` (default 30,000 ms). */
  handlerTimeoutMs?: number;
  /** Calls over HTTP allowed per second per IP address, sustained (default 50). */
  httpRatePerSecond?: number;
  /** Burst of calls over HTTP per IP address (default 100). */
  httpBurst?: number;
  /** Largest request body over HTTP, in bytes (default 65,536, the frame limit). */
  maxHttpBodyBytes?: number;
  /** Serve `GET {prefix}/rpc` and the `netloom.endpoints` RPC (default true). */
  introspection?: boolean;
}

export type ResolvedRpcOptions = Required<RpcOptions>;

/** Fills in defaults; refuses limits that are not positive numbers (`protocol_invalid`). */
export function resolveRpcOptions(options: RpcOptions = {}): ResolvedRpcOptions {
  const out: ResolvedRpcOptions = {
    maxInFlight: 16,
    handlerTimeoutMs: 30_000,
    httpRatePerSecond: 50,
    httpBurst: 100,
    maxHttpBodyBytes: DEFAULT_FRAME_LIMITS.maxFrameBytes,
    introspection: true,
  };
  for (const key of [
    'maxInFlight',
    'handlerTimeoutMs',
    'httpRatePerSecond',
    'httpBurst',
    'maxHttpBodyBytes',
  ] as const) {
    const v = options[key];
    if (v === undefined) continue;
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) {
      throw new NetloomError('protocol_invalid', `rpc.${key} must be a positive number, got ${String(v)}`);
    }
    out[key] = v;
  }
  if (options.introspection !== undefined) out.introspection = options.introspection !== false;
  return out;
}

type RpcRequestMessage = Extract<Message, { kind: typeof MessageKind.RpcRequest }>;

export interface RpcDispatcherDeps {
  registry: EndpointRegistry;
  store: SessionDataStore;
  /** The server API handlers see as `ctx.server` (read lazily: it is built after the dispatcher). */
  api: () => NetloomServerApi;
  clock: Clock;
  log: Logger;
  metrics: Metrics;
  options: ResolvedRpcOptions;
}

/** Longest error message sent in an RPC response (a client refuses longer strings in frames). */
const MAX_ERROR_MESSAGE = 500;
/** Bytes kept free for the response header inside a frame. */
const RESPONSE_HEADER_BYTES = 32;

/** Runs calls from sessions and from HTTP against the registry. */
export class RpcDispatcher {
  private readonly inFlight = new Map<string, number>();

  constructor(private readonly deps: RpcDispatcherDeps) {}

  /**
   * Runs one call and resolves to the encoded response. Rejects with a NetloomError: `endpoint_unknown`,
   * a codec code for bad request bytes, `requirement_failed`, `rpc_timeout`, `rpc_failed`, or the
   * code a handler or requirement threw.
   */
  async call(
    caller: RpcCaller,
    name: string,
    payload: Uint8Array,
    request?: FastifyRequest,
  ): Promise<Uint8Array> {
    const { registry, metrics } = this.deps;
    const endpoint = registry.get(name);
    if (!endpoint)
      throw new NetloomError('endpoint_unknown', `no endpoint named ${JSON.stringify(name.slice(0, 128))}`);
    metrics.inc('rpc_calls');
    const value = endpoint.codec.decodeRequest(payload);
    await this.checkRequirements(endpoint, caller);
    const log = this.deps.log.child({ endpoint: name, sessionId: caller.sessionId });
    const ctx: EndpointContext = { ...caller, name, server: this.deps.api(), log, request };
    const result = await this.runHandler(endpoint, value, ctx);
    try {
      return endpoint.codec.encodeResponse(result);
    } catch (err) {
      log.error({ err }, 'endpoint handler returned a value that does not fit its response schema');
      throw new NetloomError(
        'rpc_failed',
        `endpoint "${name}" answered a value that does not fit its response schema`,
      );
    }
  }

  /** An RpcRequest arrived on a session: answers it with an RpcResponse, at most `maxInFlight` at once. */
  onSessionRequest(session: ServerSession, message: RpcRequestMessage): void {
    const { options, store, metrics } = this.deps;
    const running = this.inFlight.get(session.id) ?? 0;
    if (running >= options.maxInFlight) {
      metrics.error('rate_limited');
      this.respondError(
        session,
        message.id,
        new NetloomError('rate_limited', `more than ${options.maxInFlight} calls in flight`),
      );
      return;
    }
    this.inFlight.set(session.id, running + 1);
    store.seed(session.id, session.identity);
    const caller: RpcCaller = {
      sessionId: session.id,
      identity: session.identity,
      data: store.view(session.id),
      transport: 'session',
    };
    this.call(caller, message.name, message.payload)
      .then(
        (payload) => {
          if (payload.length + RESPONSE_HEADER_BYTES > DEFAULT_FRAME_LIMITS.maxFrameBytes) {
            this.respondError(
              session,
              message.id,
              new NetloomError(
                'message_too_large',
                `response of ${payload.length} bytes is larger than a frame`,
              ),
            );
            return;
          }
          if (session.state !== 'ended') {
            session.core.sendMessage(
              { kind: MessageKind.RpcResponse, id: message.id, ok: true, payload },
              true,
            );
          }
        },
        (err: unknown) => this.respondError(session, message.id, err),
      )
      .finally(() => {
        const left = (this.inFlight.get(session.id) ?? 1) - 1;
        if (left <= 0) this.inFlight.delete(session.id);
        else this.inFlight.set(session.id, left);
      });
  }

  /** Calls running for a session (0 when none). */
  running(sessionId: string): number {
    return this.inFlight.get(sessionId) ?? 0;
  }

  private respondError(session: ServerSession, id: number, err: unknown): void {
    const e = this.asRpcError(err);
    this.deps.metrics.error(e.code);
    if (session.state === 'ended') return;
    session.core.sendMessage(
      {
        kind: MessageKind.RpcResponse,
        id,
        ok: false,
        code: e.code,
        message: e.message.slice(0, MAX_ERROR_MESSAGE),
      },
      true,
    );
  }

  /** A NetloomError as is; anything else is a bug in server code, answered `rpc_failed`. */
  asRpcError(err: unknown): NetloomError {
    if (err instanceof NetloomError) return err;
    return new NetloomError('rpc_failed', 'the endpoint failed');
  }

  private async checkRequirements(endpoint: RegisteredEndpoint, caller: RpcCaller): Promise<void> {
    const { requirements, requirementNames, codec } = endpoint;
    for (let i = 0; i < requirements.length; i++) {
      let ok: boolean;
      try {
        ok = (await requirements[i](caller)) === true;
      } catch (err) {
        if (err instanceof NetloomError) throw err;
        this.deps.log.error({ err, endpoint: codec.name }, 'endpoint requirement threw');
        ok = false;
      }
      if (!ok) {
        throw new NetloomError(
          'requirement_failed',
          `endpoint "${codec.name}" requires ${requirementNames[i]}`,
        );
      }
    }
  }

  private runHandler(endpoint: RegisteredEndpoint, value: unknown, ctx: EndpointContext): Promise<unknown> {
    const { clock } = this.deps;
    const timeoutMs = endpoint.timeoutMs ?? this.deps.options.handlerTimeoutMs;
    return new Promise<unknown>((resolve, reject) => {
      let settled = false;
      const timer = clock.setTimeout(() => {
        if (settled) return;
        settled = true;
        reject(
          new NetloomError('rpc_timeout', `endpoint "${ctx.name}" did not answer within ${timeoutMs} ms`),
        );
      }, timeoutMs);
      const finish = (fn: () => void) => {
        if (settled) return;
        settled = true;
        clock.clearTimeout(timer);
        fn();
      };
      let pending: unknown;
      try {
        pending = endpoint.handler(value, ctx);
      } catch (err) {
        pending = Promise.reject(err);
      }
      Promise.resolve(pending).then(
        (result) => finish(() => resolve(result)),
        (err: unknown) =>
          finish(() => {
            if (err instanceof NetloomError) reject(err);
            else {
              ctx.log.error({ err }, 'endpoint handler threw');
              reject(new NetloomError('rpc_failed', `endpoint "${ctx.name}" failed`));
            }
          }),
      );
    });
  }
}

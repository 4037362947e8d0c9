// Server pushes: broadcast and multicast of messages typed by the `notices` protocol, to live sessions.
import { NetloomError } from '../codec/errors.js';
import { DEFAULT_FRAME_LIMITS, MessageKind } from '../codec/frames.js';
import type { ServerMessages } from '../codec/protocol.js';
import type { Identity, Json } from './identity.js';
import type { Logger, Metrics } from './metrics.js';
import type { Middleware } from './middleware.js';
import type { ServerSession } from './session/server-session.js';
import type { SessionDataStore, SessionDataView, SessionRef } from './session-data.js';

/** What the server needs of the notices protocol; every `defineProtocol(...)` result fits (its `server` side is used). */
export interface NoticeProtocol {
  readonly hash: string;
  readonly server: {
    encode(name: string, value: unknown): { op: number; payload: Uint8Array };
    has(name: string): boolean;
  };
}

/** A live session as a multicast filter sees it. */
export interface SessionInfo {
  readonly id: string;
  readonly identity: Identity | undefined;
  readonly data: SessionDataView;
}

/** Chooses the sessions a multicast reaches. A filter that throws skips that session (and is logged). */
export type SessionFilter = (session: SessionInfo) => boolean;

/**
 * A multicast target that can travel between nodes (a function cannot): a session is chosen when
 * every given condition holds — its user id is in `userIds`, its id is in `sessionIds`, and each
 * key of `data` has that value in its session data.
 */
export interface SessionSelector {
  userIds?: string[];
  sessionIds?: string[];
  data?: Record<string, Json>;
}

/** A push on its way to the other nodes of a cluster (payload base64). */
export interface ClusterPush {
  op: number;
  payload: string;
  selector?: SessionSelector;
}

/** Push messages typed by a notices protocol `N` (see `typedPush`). */
export interface PushApi<M = Record<string, unknown>> {
  /**
   * Sends to every live session; returns how many it reached on this node. In a cluster it also
   * reaches every other node's sessions.
   */
  broadcast<K extends keyof M & string>(type: K, message: M[K]): number;
  /**
   * Sends to the live sessions `filter` accepts; returns how many it reached on this node. A
   * function filter runs on this node only; a SessionSelector object also reaches the sessions it
   * selects on every other node of a cluster.
   */
  multicast<K extends keyof M & string>(
    filter: SessionFilter | SessionSelector,
    type: K,
    message: M[K],
  ): number;
  /** Sends to one session; false when it is not live on this node. */
  push<K extends keyof M & string>(session: SessionRef, type: K, message: M[K]): boolean;
}

/** The push messages of a notices protocol, by name. */
export type NoticeMessages<N> = ServerMessages<N>;

export interface PusherDeps {
  protocol: NoticeProtocol | undefined;
  sessions: () => Iterable<ServerSession>;
  session: (id: string) => ServerSession | undefined;
  store: SessionDataStore;
  middleware: Middleware;
  log: Logger;
  metrics: Metrics;
}

/** Bytes kept free for the frame and message header around a push payload. */
const PUSH_HEADER_BYTES = 16;

/** Encodes a push once and sends it, reliably, to the chosen sessions. */
export class Pusher implements PushApi {
  constructor(private readonly deps: PusherDeps) {}

  /** Set in a cluster: hands each broadcast and selector multicast to the other nodes. */
  fanout: ((push: ClusterPush) => void) | null = null;

  broadcast(type: string, message: unknown): number {
    const { op, payload } = this.encode(type, message);
    this.fanout?.({ op, payload: Buffer.from(payload).toString('base64') });
    return this.deliverAll(op, payload, null);
  }

  multicast(filter: SessionFilter | SessionSelector, type: string, message: unknown): number {
    if (typeof filter !== 'function' && (typeof filter !== 'object' || filter === null)) {
      throw new TypeError('multicast needs a filter function or a session selector');
    }
    const { op, payload } = this.encode(type, message);
    if (typeof filter === 'function') return this.deliverAll(op, payload, filter);
    this.fanout?.({ op, payload: Buffer.from(payload).toString('base64'), selector: filter });
    return this.deliverAll(op, payload, selectorFilter(filter));
  }

  /** Delivers a push that another node of the cluster encoded. */
  receive(push: ClusterPush): number {
    if (typeof push?.op !== 'number' || typeof push.payload !== 'string') return 0;
    const payload = new Uint8Array(Buffer.from(push.payload, 'base64'));
    return this.deliverAll(push.op, payload, push.selector ? selectorFilter(push.selector) : null);
  }

  private deliverAll(op: number, payload: Uint8Array, filter: SessionFilter | null): number {
    const { store, log, metrics } = this.deps;
    let sent = 0;
    for (const session of this.deps.sessions()) {
      if (session.state === 'ended') continue;
      if (filter) {
        store.seed(session.id, session.identity);
        let chosen: boolean;
        try {
          chosen =
            filter({ id: session.id, identity: session.identity, data: store.view(session.id) }) === true;
        } catch (err) {
          metrics.inc('hook_errors{multicast}');
          log.error({ err, sessionId: session.id }, 'multicast filter threw; session skipped');
          continue;
        }
        if (!chosen) continue;
      }
      if (this.deliver(session, op, payload)) sent++;
    }
    metrics.inc('pushes_sent', sent);
    return sent;
  }

  push(session: SessionRef, type: string, message: unknown): boolean {
    const { op, payload } = this.encode(type, message);
    const target = this.deps.session(typeof session === 'string' ? session : session.id);
    if (!target || !this.deliver(target, op, payload)) return false;
    this.deps.metrics.inc('pushes_sent');
    return true;
  }

  private encode(type: string, message: unknown): { op: number; payload: Uint8Array } {
    const protocol = this.deps.protocol;
    if (!protocol) {
      throw new NetloomError('protocol_invalid', 'no notices protocol: pass `notices` in the server options');
    }
    const encoded = protocol.server.encode(type, message);
    if (encoded.payload.length + PUSH_HEADER_BYTES > DEFAULT_FRAME_LIMITS.maxFrameBytes) {
      throw new NetloomError(
        'message_too_large',
        `push "${type}" of ${encoded.payload.length} bytes is larger than a frame`,
      );
    }
    return encoded;
  }

  private deliver(session: ServerSession, op: number, payload: Uint8Array): boolean {
    if (session.state === 'ended') return false;
    const hook = this.deps.middleware.send;
    if (
      hook !== null &&
      !hook({
        kind: 'push',
        sessionId: session.id,
        identity: session.identity,
        roomId: undefined,
        clientId: undefined,
        op,
        reliable: true,
        size: payload.length,
        payload,
      })
    ) {
      return false;
    }
    session.core.sendMessage({ kind: MessageKind.Push, op, payload }, true);
    return true;
  }
}

/**
 * A typed view of `server`'s push methods for the notices protocol `notices` (the one passed in the
 * server options): `typedPush(app.netloom, notices).broadcast('chat', { text })` checks the payload type.
 */
export function typedPush<N extends NoticeProtocol>(
  server: PushApi,
  _notices: N,
): PushApi<NoticeMessages<N>> {
  return server as unknown as PushApi<NoticeMessages<N>>;
}

/** A SessionSelector as a filter: every given condition must hold. */
export function selectorFilter(selector: SessionSelector): SessionFilter {
  const users = Array.isArray(selector.userIds) ? new Set(selector.userIds) : null;
  const ids = Array.isArray(selector.sessionIds) ? new Set(selector.sessionIds) : null;
  const data = selector.data && typeof selector.data === 'object' ? Object.entries(selector.data) : [];
  return (session) => {
    if (users && (session.identity === undefined || !users.has(session.identity.userId))) return false;
    if (ids && !ids.has(session.id)) return false;
    if (data.length === 0) return true;
    const own = session.data.toJSON();
    for (const [key, value] of data) {
      if (JSON.stringify(own[key] ?? null) !== JSON.stringify(value)) return false;
    }
    return true;
  };
}

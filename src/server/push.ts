// Server pushes: broadcast and multicast of messages typed by the `notices` protocol, to live sessions.
import { NetloomError } from '../codec/errors.js';
import { DEFAULT_FRAME_LIMITS, MessageKind } from '../codec/frames.js';
import type { ServerMessages } from '../codec/protocol.js';
import type { Identity } from './identity.js';
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

/** Push messages typed by a notices protocol `N` (see `typedPush`). */
export interface PushApi<M = Record<string, unknown>> {
  /** Sends to every live session; returns how many it reached. */
  broadcast<K extends keyof M & string>(type: K, message: M[K]): number;
  /** Sends to every live session `filter` accepts; returns how many it reached. */
  multicast<K extends keyof M & string>(filter: SessionFilter, type: K, message: M[K]): number;
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

  broadcast(type: string, message: unknown): number {
    const { op, payload } = this.encode(type, message);
    let sent = 0;
    for (const session of this.deps.sessions()) if (this.deliver(session, op, payload)) sent++;
    this.deps.metrics.inc('pushes_sent', sent);
    return sent;
  }

  multicast(filter: SessionFilter, type: string, message: unknown): number {
    if (typeof filter !== 'function') throw new TypeError('multicast needs a filter function');
    const { op, payload } = this.encode(type, message);
    const { store, log, metrics } = this.deps;
    let sent = 0;
    for (const session of this.deps.sessions()) {
      if (session.state === 'ended') continue;
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
      if (chosen && this.deliver(session, op, payload)) sent++;
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

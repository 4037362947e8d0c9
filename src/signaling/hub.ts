// The signaling hub: takes SIGNAL messages of established sessions, checks them, and routes each to the handler of its target peer.
import { type ErrorCode, NetloomError } from '../codec/errors.js';
import { DEFAULT_SIGNAL_LIMITS, parseSignal, type SignalLimits, type SignalMessage } from './messages.js';

/** The peer id of the server itself. */
export const SERVER_PEER = '';

/** Who a SIGNAL message came from: an established session (so already authenticated), able to get an answer. */
export interface SignalSource {
  /** The session's public id. */
  readonly id: string;
  /** Sends `message` to this session's client as coming from `peer`. */
  sendSignal(peer: string, message: SignalMessage): void;
}

/**
 * Handles the messages routed to one peer. Returns a code to refuse the message (the hub answers the
 * sender a `close` with it and counts it), or nothing when it took the message.
 */
export type SignalRoute<S extends SignalSource> = (
  from: S,
  message: SignalMessage,
) => ErrorCode | null | undefined;

export interface SignalHubOptions {
  /** Size bounds on each message (defaults: DEFAULT_SIGNAL_LIMITS). */
  limits?: Partial<SignalLimits>;
  /** Called for every refused message (the server counts them in `errors{code}`). */
  onRefused?: (code: ErrorCode, peer: string, reason: string) => void;
}

/**
 * Routes signaling between a session and the server's own peer (`SERVER_PEER`, registered by the WebRTC
 * upgrade); a message to any other peer id that reaches the hub is refused with `signal_peer_unknown`.
 * Member-to-member signaling (peer-assisted rooms) never reaches it: the session hands a SIGNAL whose
 * peer is a client id to the peers of a room both members share (`src/server/rooms/peers/`), which
 * checks and forwards it, so it works whether or not the server offers WebRTC itself.
 */
export class SignalHub<S extends SignalSource> {
  private readonly routes = new Map<string, SignalRoute<S>>();
  private readonly limits: SignalLimits;

  constructor(private readonly options: SignalHubOptions = {}) {
    this.limits = { ...DEFAULT_SIGNAL_LIMITS, ...options.limits };
  }

  /** Sets the handler of `peer`; returns a function that removes it. */
  register(peer: string, route: SignalRoute<S>): () => void {
    this.routes.set(peer, route);
    return () => {
      if (this.routes.get(peer) === route) this.routes.delete(peer);
    };
  }

  /**
   * Routes one SIGNAL message (`payload` is its JSON text) from `from` to `peer`. Malformed or
   * oversize messages, unknown peers and refusals by the handler are answered with a `close` carrying
   * the code, reported to `onRefused`, and returned; null when the message was taken. Never throws.
   */
  route(from: S, peer: string, payload: string): ErrorCode | null {
    const handler = this.routes.get(peer);
    if (!handler) return this.refuse(from, peer, 'signal_peer_unknown', 'no such signaling peer');
    let message: SignalMessage;
    try {
      message = parseSignal(payload, this.limits);
    } catch (err) {
      const e = err instanceof NetloomError ? err : new NetloomError('signal_invalid', String(err));
      return this.refuse(from, peer, e.code, e.message);
    }
    let code: ErrorCode | null | undefined;
    try {
      code = handler(from, message);
    } catch (err) {
      const e = err instanceof NetloomError ? err : new NetloomError('internal_error', String(err));
      code = e.code;
    }
    if (!code) return null;
    return this.refuse(from, peer, code, `${message.kind} refused`);
  }

  /** Answers `from` a `close` with `code` (as coming from `peer`) and reports it. Returns `code`. */
  refuse(from: S, peer: string, code: ErrorCode, reason: string): ErrorCode {
    this.options.onRefused?.(code, peer, reason);
    try {
      from.sendSignal(peer, { kind: 'close', code, reason: reason.slice(0, 200) });
    } catch {
      // the session is gone: nothing to tell
    }
    return code;
  }
}

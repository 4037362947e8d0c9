// What a server session does with its client's messages besides room traffic (join, leave, RPC, peer, signal), and the rate and middleware checks on room traffic.
import { NetloomError } from '../../codec/errors.js';
import { type Message, MessageKind } from '../../codec/frames.js';
import { SERVER_PEER } from '../../signaling/hub.js';
import type { SignalMessage } from '../../signaling/messages.js';
import type { Metrics } from '../metrics.js';
import type { Middleware } from '../middleware.js';
import { RateVerdict } from './limits.js';
import { type PeerSessionView, receivePeer, routePeerSignal } from './peer-messages.js';
import type { ServerSession } from './server-session.js';
import type { Membership, SessionContext } from './session-context.js';

/**
 * A message from the client other than a room message (rate already taken). Returns the error to
 * end the session with, or null when handled.
 */
export function onClientMessage(
  session: ServerSession,
  ctx: SessionContext,
  message: Message,
  reliable: boolean,
): NetloomError | null {
  switch (message.kind) {
    case MessageKind.Join:
      void session.joinRoom(message.handle, message.seat);
      return null;
    case MessageKind.RpcRequest:
      if (ctx.rpc) ctx.rpc(session, message);
      else {
        const reply = { code: 'endpoint_unknown', message: 'this server has no endpoints' };
        session.core.sendMessage(
          { kind: MessageKind.RpcResponse, id: message.id, ok: false, ...reply },
          true,
        );
      }
      return null;
    case MessageKind.Peer: {
      const code = receivePeer(session.peerView, message, reliable, (handle) => session.port(handle));
      return code ? new NetloomError(code, 'peer message not accepted from a client') : null;
    }
    case MessageKind.Signal:
      if (message.peer !== SERVER_PEER) routePeerSignal(session.peerView, message.peer, message.payload);
      else if (ctx.signaling) ctx.signaling.message(session, message.peer, message.payload);
      else {
        ctx.metrics.error('transport_unavailable');
        const reason = 'this server offers no transport upgrade';
        session.sendSignal(message.peer, { kind: 'close', code: 'transport_unavailable', reason });
      }
      return null;
    case MessageKind.Leave:
      session.leaveRoom(message.handle);
      return null;
    default:
      return new NetloomError('frame_malformed', 'message kind not accepted from a client');
  }
}

/** The session as its peer traffic sees it: its memberships, the metrics and a way to signal its client. */
export function peerViewOf(session: ServerSession, metrics: Metrics): PeerSessionView {
  const sendSignal = (peer: string, message: SignalMessage) => session.sendSignal(peer, message);
  return { memberships: session.memberships, metrics, sendSignal };
}

/** A message over the rate was dropped: warn the client, or kick it once the grace period is over. */
export function overRate(session: ServerSession, ctx: SessionContext, verdict: RateVerdict): void {
  ctx.metrics.inc('messages_rate_limited');
  if (verdict === RateVerdict.Warn) {
    ctx.metrics.inc('rate_limit_warnings');
    ctx.log.warn({ code: 'message_rate_exceeded' }, 'client over the message rate: warned');
    session.notice('message_rate_exceeded', 'too many messages: slow down or be disconnected');
  } else if (verdict === RateVerdict.Kick) {
    ctx.metrics.error('message_rate_exceeded');
    ctx.log.warn({ code: 'message_rate_exceeded' }, 'client over the message rate: kicked');
    session.end('message_rate_exceeded', 'too many messages', 'kicked');
  }
}

/** Runs the onMessage middleware on a room message from the client; false drops it. */
export function allowReceive(
  hook: NonNullable<Middleware['receive']>,
  session: ServerSession,
  m: Membership,
  op: number,
  payload: Uint8Array,
): boolean {
  const { room, clientId } = m;
  const base = { sessionId: session.id, identity: session.identity, roomId: room.id, roomType: room.type };
  return hook({ ...base, clientId, op, size: payload.length, payload });
}

/** Runs the onSend middleware on a room message to the client; false drops it. */
export function allowSend(
  hook: NonNullable<Middleware['send']>,
  session: ServerSession,
  handle: number,
  reliable: boolean,
  op: number,
  payload: Uint8Array,
): boolean {
  const m = session.memberships.get(handle);
  const base = {
    kind: 'room' as const,
    sessionId: session.id,
    identity: session.identity,
    roomId: m?.room.id,
  };
  return hook({ ...base, clientId: m?.clientId, op, reliable, size: payload.length, payload });
}

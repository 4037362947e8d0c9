// Hands what a server session receives to its listeners: session-level messages to handlers, room messages to memberships.
import { NetloomError } from '../codec/errors.js';
import { type Message, MessageKind } from '../codec/frames.js';
import type { RoomBinding, SessionMessage } from './connection-types.js';
import { codeOf } from './handshake.js';

/** Runs each handler of a session-level message; one that throws is reported out of band, the rest still run. */
export function dispatchSessionMessage(
  handlers: Array<(message: SessionMessage) => void> | undefined,
  message: SessionMessage,
): void {
  if (!handlers) return;
  for (const fn of [...handlers]) {
    try {
      fn(message);
    } catch (err) {
      // a throwing handler must not break the session; report it out of band
      setTimeout(() => {
        throw err;
      }, 0);
    }
  }
}

/**
 * Hands a room-scoped message to its membership. When the membership is over (join refused, or
 * left), `forget` runs first, so the binding is gone before its listeners hear of it, and the
 * answer is `ended`; `unexpected` for a kind no server sends.
 */
export function deliverRoomMessage(
  binding: RoomBinding,
  message: Extract<Message, { handle: number }>,
  reliable: boolean,
  forget: () => void,
): 'kept' | 'ended' | 'unexpected' {
  switch (message.kind) {
    case MessageKind.Room:
      binding.message(message.op, message.payload, reliable);
      return 'kept';
    case MessageKind.Presence:
      binding.presence(message.joins, message.leaves);
      return 'kept';
    case MessageKind.RoomState:
      binding.state(message.reset, message.changes);
      return 'kept';
    case MessageKind.Peer:
      binding.peer?.(message, reliable);
      return 'kept';
    case MessageKind.Joined:
      binding.joined(message);
      return 'kept';
    case MessageKind.JoinFailed:
      forget();
      binding.joinFailed(new NetloomError(codeOf(message.code), message.message));
      return 'ended';
    case MessageKind.Left:
      forget();
      binding.left(message.code, message.reason);
      return 'ended';
    default:
      return 'unexpected';
  }
}

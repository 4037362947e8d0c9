// Client side of server pushes: decodes Push messages with the shared notices protocol into typed client events.
import { NetloomError } from '../codec/errors.js';
import type { ServerMessages } from '../codec/protocol.js';

/** What the client needs of a notices protocol; every `defineProtocol(...)` result fits (its `server` side is used). */
export interface AnyNotices {
  readonly server: {
    decode(op: number, payload: Uint8Array): { name: string; value: unknown };
    has(name: string): boolean;
  };
}

/** Client event names the client emits itself; a notices protocol may not use them. */
export const CLIENT_EVENTS = ['notice', 'error'] as const;

/** One event per server message of the notices protocol `N`, typed. */
export type PushEvents<N> = [ServerMessages<N>] extends [never] ? Record<never, never> : ServerMessages<N>;

/** Throws `protocol_invalid` when a notices message name clashes with a client event name. */
export function assertNotices(notices: AnyNotices): void {
  if (typeof notices?.server?.decode !== 'function' || typeof notices.server.has !== 'function') {
    throw new NetloomError('protocol_invalid', 'notices must be a protocol made with defineProtocol');
  }
  for (const name of CLIENT_EVENTS) {
    if (notices.server.has(name)) {
      throw new NetloomError(
        'protocol_invalid',
        `notices message name '${name}' is reserved for client events`,
      );
    }
  }
}

/**
 * Decodes one push (checked decode: bad bytes never reach packcat) and hands it to `emit`. A push that
 * does not decode, or arrives when no notices protocol was given, is reported as an `error` event.
 */
export function receivePush(
  notices: AnyNotices | undefined,
  op: number,
  payload: Uint8Array,
  emit: (event: string, value: unknown) => void,
): void {
  if (!notices) {
    emit('error', new NetloomError('unknown_op', `push op ${op} received but no notices protocol was given`));
    return;
  }
  let decoded: { name: string; value: unknown };
  try {
    decoded = notices.server.decode(op, payload);
  } catch (err) {
    emit('error', err instanceof NetloomError ? err : new NetloomError('payload_invalid', String(err)));
    return;
  }
  emit(decoded.name, decoded.value);
}

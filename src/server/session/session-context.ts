// What a server session needs from the server around it (clock, metrics, joins, RPC, middleware, signaling) and the membership it carries.
import type { FrameLimits, Message, MessageKind } from '../../codec/frames.js';
import type { SessionCoreOptions } from '../../session/core.js';
import type { Clock } from '../../shared/clock.js';
import type { Logger, Metrics } from '../metrics.js';
import type { Middleware } from '../middleware.js';
import type { RoomClient } from '../rooms/define.js';
import type { MemberPort, RoomHost } from '../rooms/host.js';
import type { ClientLimits } from './limits.js';
import type { ServerSession } from './server-session.js';

/** A room membership carried by a session, named on the wire by a per-session handle. */
export interface Membership {
  room: RoomHost;
  clientId: string;
  /** The client object `admit` returned, when the room is in this process (see `RoomHost.receiveFrom`). */
  client?: RoomClient<unknown>;
}

/** Where a session's SIGNAL messages go (the signaling hub), and who hears that it ended. */
export interface SessionSignaling {
  /**
   * A SIGNAL message from the client to the server's peer (`peer` is ''); `payload` is unchecked JSON
   * text. SIGNALs to other members go to the peers of a shared room instead (see peer-messages.ts).
   */
  message(session: ServerSession, peer: string, payload: string): void;
  /** The session was dropped (its links lost) or ended: tear down whatever it set up. */
  reset(session: ServerSession): void;
}

/** What a session needs from the server around it. */
export interface SessionContext {
  clock: Clock;
  log: Logger;
  metrics: Metrics;
  frameLimits: FrameLimits;
  coreOptions: Partial<SessionCoreOptions>;
  /** Per-client message size and rate limits (default DEFAULT_CLIENT_LIMITS). */
  limits?: ClientLimits;
  /** Redeems a seat token and seats the client; resolves to the membership or throws NetloomError. */
  join(session: ServerSession, seat: string, port: MemberPort): Promise<Membership & { roomType: string }>;
  /** Called once when the session ended for good. */
  ended(session: ServerSession): void;
  /** Answers an RPC request (absent: every request is answered `endpoint_unknown`). */
  rpc?(session: ServerSession, message: Extract<Message, { kind: typeof MessageKind.RpcRequest }>): void;
  /** Middleware on room messages in and out; its hooks are null while none is installed. */
  middleware?: Middleware;
  /** Signaling (absent: every SIGNAL is answered with a `close` carrying `transport_unavailable`). */
  signaling?: SessionSignaling;
}

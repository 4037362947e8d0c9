// A session's end of one room membership (MemberPort with peer traffic): a small object with its methods on the prototype.
import {
  type Message,
  MessageKind,
  PeerPart,
  type PresenceMember,
  type StateChange,
} from '../../codec/frames.js';
import type { PeerPort } from '../rooms/peers/port.js';

/** What a port needs of its session. */
export interface PortSession {
  /** Sends a room message under `handle` (the send middleware may drop it). */
  sendRoomMessage(handle: number, reliable: boolean, op: number, payload: Uint8Array): void;
  /** Sends any session message, unless the session has ended. */
  sendIfLive(message: Message, reliable: boolean): void;
  /** The room ended the membership under `handle`. */
  membershipEnded(handle: number, code: string, reason: string): void;
  /** Smoothed round-trip time in ms (0 before the first measurement). */
  rttMs(): number;
}

/**
 * The room's way to reach one session's client under one handle. A class rather than an object of
 * closures: the per-member object holds two fields and the room's per-tick `send` reaches the session
 * through it with no closure in between.
 */
export class SessionPort implements PeerPort {
  constructor(
    private readonly session: PortSession,
    private readonly handle: number,
  ) {}

  send(reliable: boolean, op: number, payload: Uint8Array): void {
    this.session.sendRoomMessage(this.handle, reliable, op, payload);
  }

  ended(code: string, reason: string): void {
    this.session.membershipEnded(this.handle, code, reason);
  }

  presence(joins: PresenceMember[], leaves: string[]): void {
    this.session.sendIfLive({ kind: MessageKind.Presence, handle: this.handle, joins, leaves }, true);
  }

  state(reset: boolean, changes: StateChange[]): void {
    this.session.sendIfLive({ kind: MessageKind.RoomState, handle: this.handle, reset, changes }, true);
  }

  rtt(): number | undefined {
    const rtt = this.session.rttMs();
    return rtt > 0 ? rtt : undefined;
  }

  peerFrame(peer: string, frame: Uint8Array, reliable: boolean): void {
    const handle = this.handle;
    this.session.sendIfLive({ kind: MessageKind.Peer, handle, part: PeerPart.Frame, peer, frame }, reliable);
  }

  peerSetup(setup: string): void {
    const handle = this.handle;
    this.session.sendIfLive({ kind: MessageKind.Peer, handle, part: PeerPart.Setup, setup }, true);
  }

  peerRefused(peer: string, code: string, reason: string): void {
    const handle = this.handle;
    this.session.sendIfLive(
      { kind: MessageKind.Peer, handle, part: PeerPart.Refused, peer, code, reason },
      true,
    );
  }

  peerSignal(peer: string, payload: string): void {
    this.session.sendIfLive({ kind: MessageKind.Signal, peer, payload }, true);
  }
}

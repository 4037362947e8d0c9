// Test helper: a room member speaking raw frames over WebSocket, to send peer traffic no honest client would.
import {
  encodeFrame,
  FrameKind,
  type Message,
  MessageKind,
  PeerPart,
  WIRE_VERSION,
} from '../../src/codec/frames.js';
import { until } from '../helpers/netloom.js';
import { type RawPeer, rawPeer } from '../helpers/raw-ws.js';
import type { PeerServer } from './harness.js';

export interface RawMember {
  peer: RawPeer;
  clientId: string;
  /** Messages received in RELIABLE and UNRELIABLE frames. */
  messages(): Message[];
  /** Sends one message in a RELIABLE frame (numbered) or an UNRELIABLE one. */
  send(message: Message, reliable?: boolean): void;
  /** Sends a peer frame to `target` through the relay. */
  sendPeer(target: string, frame: Uint8Array, reliable?: boolean): void;
  /** Refusals the server reported: `target:code`. */
  refusals(): string[];
}

/** Seats a raw member in `roomId` under handle 1 and waits for JOINED. */
export async function rawMember(server: PeerServer, roomId: string): Promise<RawMember> {
  const ticket = await server.app.netloom.seats.reserve(roomId);
  const peer = await rawPeer(server.port);
  peer.send(
    encodeFrame({ kind: FrameKind.Hello, version: WIRE_VERSION, mode: 'new', handle: 1, seat: ticket.seat }),
  );
  const messages = (): Message[] =>
    peer.frames.flatMap((f) =>
      f.kind === FrameKind.Reliable || f.kind === FrameKind.Unreliable ? [f.message] : [],
    );
  await until(() => messages().some((m) => m.kind === MessageKind.Joined), 5_000, 'raw member joined');
  const joined = messages().find((m) => m.kind === MessageKind.Joined);
  let seq = 1;
  let useq = 1;
  const send = (message: Message, reliable = true) => {
    if (reliable) peer.send(encodeFrame({ kind: FrameKind.Reliable, seq: seq++, message }), 0);
    else peer.send(encodeFrame({ kind: FrameKind.Unreliable, seq: useq++ & 0xffff, message }), 1);
  };
  return {
    peer,
    clientId: joined && joined.kind === MessageKind.Joined ? joined.clientId : '',
    messages,
    send,
    sendPeer: (target, frame, reliable = true) =>
      send({ kind: MessageKind.Peer, handle: 1, part: PeerPart.Frame, peer: target, frame }, reliable),
    refusals: () =>
      messages().flatMap((m) =>
        m.kind === MessageKind.Peer && m.part === PeerPart.Refused ? [`${m.peer}:${m.code}`] : [],
      ),
  };
}

/** A peer frame carrying peer message `op` (RELIABLE with `seq`, or UNRELIABLE). */
export function peerDataFrame(op: number, payload: Uint8Array, seq: number, reliable = true): Uint8Array {
  const message = { kind: MessageKind.Room, handle: 0, op, payload } as const;
  return encodeFrame(
    reliable ? { kind: FrameKind.Reliable, seq, message } : { kind: FrameKind.Unreliable, seq, message },
  );
}

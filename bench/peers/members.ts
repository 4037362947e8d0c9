// Members of a benchmark peers room: Node clients with werift peer connections (counted bytes, reachable connections) and the path to each peer over time.
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';
import { Client, type Room, type WebSocketConstructor } from '../../src/client/index.js';
import { weriftPeerConnection } from '../../src/client/node-webrtc.js';
import { type PeersBenchProtocol, peersBenchProtocol } from './protocol.js';

export type BenchRoom = Room<PeersBenchProtocol>;

/** A werift peer connection as the benchmark sees it: enough to kill it. */
export interface TrackedPc {
  close(): unknown;
  connectionState: string;
}

export interface Member {
  client: Client;
  room: BenchRoom;
  /** Client id in the room (the peer id others know it by). */
  id: string;
  /** Every peer connection the member made (closed ones included). */
  pcs: TrackedPc[];
  /** Every datachannel made; `muted` ones drop what they are given, as a dead network would (no close, no error). */
  channels: Array<{ muted: boolean }>;
  /** Bytes handed to the member's datachannels' `send` (peer frames on direct links, pings and acks included). */
  direct: { bytes: number; sends: number };
  /** Current path to each peer (`peer-link` events; absent: relay). */
  paths: Map<string, 'direct' | 'relay'>;
  /** When `join` resolved (performance.now()). */
  joinedAt: number;
  /** First time each peer's link went direct. */
  firstDirect: Map<string, number>;
  /** First time every other member was on a direct link at once (null: not yet). */
  allDirectAt: number | null;
}

type Rtc = { made: TrackedPc[]; channels: Member['channels']; direct: Member['direct'] };

/** A werift RTCPeerConnection class that records its instances and counts what its datachannels send. */
function trackedPeerConnection(rtc: Rtc) {
  const Base = weriftPeerConnection();
  return class Tracked extends Base {
    constructor(configuration: ConstructorParameters<typeof Base>[0]) {
      super(configuration);
      rtc.made.push(this as unknown as TrackedPc);
    }

    override createDataChannel(...args: Parameters<InstanceType<typeof Base>['createDataChannel']>) {
      const channel = super.createDataChannel(...args);
      const send = channel.send.bind(channel) as (data: Uint8Array | string) => void;
      const state = { muted: false };
      rtc.channels.push(state);
      (channel as { send(data: Uint8Array | string): void }).send = (data) => {
        if (state.muted) return;
        rtc.direct.sends++;
        rtc.direct.bytes += typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength;
        send(data);
      };
      return channel;
    }
  };
}

function newMember(url: string): Omit<Member, 'room' | 'id' | 'joinedAt'> {
  const rtc: Rtc = { made: [], channels: [], direct: { bytes: 0, sends: 0 } };
  const client = new Client(url, {
    WebSocket: WebSocket as unknown as WebSocketConstructor,
    webrtc: { RTCPeerConnection: trackedPeerConnection(rtc) },
  });
  return {
    client,
    pcs: rtc.made,
    channels: rtc.channels,
    direct: rtc.direct,
    paths: new Map(),
    firstDirect: new Map(),
    allDirectAt: null,
  };
}

/** Follows the member's links; `size` is the room's member count once everyone joined. */
function watchLinks(member: Member, size: number): void {
  member.room.peers.on('peer-link', ({ id, path }) => {
    const now = performance.now();
    member.paths.set(id, path);
    if (path === 'direct' && !member.firstDirect.has(id)) member.firstDirect.set(id, now);
    if (member.allDirectAt === null && directCount(member) === size - 1) member.allDirectAt = now;
  });
}

export function directCount(member: Member): number {
  let n = 0;
  for (const path of member.paths.values()) if (path === 'direct') n++;
  return n;
}

/**
 * Joins `count` members into one new room of `type`: the first creates it, the others join it at once, in
 * parallel (as players joining a lobby). Returns the members in join order and when the first request went out.
 */
export async function joinRoom(
  url: string,
  type: string,
  count: number,
): Promise<{ members: Member[]; startedAt: number }> {
  const startedAt = performance.now();
  const first = newMember(url);
  const room = await first.client.create(type, {}, { protocol: peersBenchProtocol });
  const members: Member[] = [{ ...first, room, id: room.clientId, joinedAt: performance.now() }];
  watchLinks(members[0], count);
  const rest = await Promise.all(
    Array.from({ length: count - 1 }, async () => {
      const m = newMember(url);
      const joined = await m.client.joinById(room.id, {}, { protocol: peersBenchProtocol });
      const member: Member = { ...m, room: joined, id: joined.clientId, joinedAt: performance.now() };
      watchLinks(member, count);
      return member;
    }),
  );
  members.push(...rest);
  return { members, startedAt };
}

/** Resolves when `predicate` holds (polled every 5 ms); rejects after `timeoutMs`. */
export async function until(predicate: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const started = performance.now();
  while (!predicate()) {
    if (performance.now() - started > timeoutMs)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/**
 * Closes the members' clients, waits up to `graceMs` for their peer connections to close (a pair's teardown
 * gives datachannels 500 ms to flush first), then closes any still open; returns how many that was.
 */
export async function closeAll(members: Member[], graceMs = 3_000): Promise<number> {
  for (const m of members) m.client.close();
  const open = () => members.flatMap((m) => m.pcs.filter((pc) => pc.connectionState !== 'closed'));
  await until(() => open().length === 0, graceMs, 'peer connections to close').catch(() => {});
  const left = open();
  for (const pc of left) await pc.close();
  return left.length;
}

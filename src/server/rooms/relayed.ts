// relayedRoom(): the built-in room type for relayed matches — no server logic, data relayed between members in order.
import { NetloomError } from '../../codec/errors.js';
import {
  encodeRelayedHost,
  RELAYED_HOST_KEY,
  type RelayedHostRecord,
  type RelayedProtocol,
  relayedProtocol,
} from '../../codec/relayed-protocol.js';
import type { TimerHandle } from '../../shared/clock.js';
import type { Room, RoomClient, RoomDefinition } from './define.js';
import { electHost, type HostCandidate, type HostMode, rttSourceOf } from './host-election.js';

export { type HostMode, RELAYED_HOST_KEY, type RelayedHostRecord, type RelayedProtocol, relayedProtocol };

export interface RelayedRoomOptions {
  /** Most members at once, seated or reserved (default 16). */
  maxClients?: number;
  /** How long a member whose link dropped keeps its place (default 20,000 ms; 0 = none). */
  reconnectionMs?: number;
  /**
   * Largest `data` a member may relay, in bytes (default 16,384; at most 64,000 so that the relayed
   * frame fits any client). A member sending more is kicked. The session's `maxMessageBytes` applies first.
   */
  maxDataBytes?: number;
  /** A match that nobody has joined this long after creation ends (default 60,000 ms). */
  emptyTimeoutMs?: number;
  /** List matches in the rooms API and let joinOrCreate pick them (default false: joined by id only). */
  listed?: boolean;
  /**
   * How a new host is chosen when the host leaves, or drops and its reconnection window expires:
   * `earliest` (default), the earliest-joined remaining member; `rtt`, the remaining member with the
   * lowest measured round-trip time, ties broken by join order (members whose RTT is not known rank
   * last, so with no measurement it is join order too). The first member to join is always the first host.
   */
  host?: HostMode;
}

/** Per-match data: the timer that ends a match nobody joined, and the current host. */
export interface RelayedRoomData {
  emptyTimer: TimerHandle | null;
  /** The current host (also in `room.state` under `RELAYED_HOST_KEY`); null before the first join. */
  host: RelayedHostRecord | null;
  /** The epoch of the latest host; never goes back, even while there is no host. */
  hostEpoch: number;
}

type RelayedRoom = Room<RelayedProtocol, RelayedRoomData, undefined>;

const HARD_MAX_DATA_BYTES = 64_000;

/**
 * A relayed match (the realtime-multiplayer model of Nakama): no game logic on the server. Members
 * send `{ op, data, to? }`; the server relays `{ from, op, data }` to every other member, or to the
 * listed members (the sender too if it lists itself; unknown ids are skipped), on the channel it
 * came on, in the order it processed them. Presence (the member list on join, then `{ joins, leaves }`
 * diffs) is always on. The match ends when its last member leaves, and its id can never be joined
 * again (joins are refused with `match_ended`).
 *
 * One member is the host: the first to join, then, when the host leaves (or drops and its
 * reconnection window expires), the member chosen by `options.host`. A host that drops keeps the
 * role while its window runs. Every member gets the host, with an epoch that grows with each
 * change, through the room state key `RELAYED_HOST_KEY` (a late joiner gets it with the snapshot).
 *
 * @example
 * createServer({ rooms: { match: relayedRoom({ maxClients: 8 }) } });
 * // client: const match = await client.createMatch(); share match.id; await other.joinMatch(id);
 */
export function relayedRoom(
  options: RelayedRoomOptions = {},
): RoomDefinition<RelayedProtocol, RelayedRoomData, undefined> {
  const maxDataBytes = Math.min(options.maxDataBytes ?? 16_384, HARD_MAX_DATA_BYTES);
  const emptyTimeoutMs = options.emptyTimeoutMs ?? 60_000;
  const mode = options.host ?? 'earliest';
  if (mode !== 'earliest' && mode !== 'rtt') {
    throw new NetloomError('request_invalid', `relayedRoom host must be 'earliest' or 'rtt'`);
  }
  const clearTimer = (room: RelayedRoom) => {
    if (room.data.emptyTimer !== null) room.clock.clearTimeout(room.data.emptyTimer);
    room.data.emptyTimer = null;
  };
  return {
    protocol: relayedProtocol,
    maxClients: options.maxClients ?? 16,
    reconnectionMs: options.reconnectionMs ?? 20_000,
    presence: true,
    tombstone: true,
    data: () => ({ emptyTimer: null, host: null, hostEpoch: 0 }),
    async onCreate(room) {
      room.data.emptyTimer = room.clock.setTimeout(() => {
        room.data.emptyTimer = null;
        if (room.memberCount() === 0) room.dispose();
      }, emptyTimeoutMs);
      if (options.listed !== true) await room.setPrivate(true);
    },
    onJoin(room) {
      clearTimer(room);
      if (room.data.host === null) electNext(room, mode);
    },
    onLeave(room, client) {
      if (room.data.host?.clientId === client.id) electNext(room, mode);
    },
    messages: {
      data(room, client, message, meta) {
        if (message.data.length > maxDataBytes) {
          room.log.warn(
            { roomId: room.id, clientId: client.id, bytes: message.data.length },
            'relayed data over maxDataBytes',
          );
          room.kick(client, `relayed data over ${maxDataBytes} bytes`);
          return;
        }
        const out = { from: client.id, op: message.op, data: message.data };
        if (message.to.length === 0) {
          room.broadcast('data', out, { reliable: meta.reliable, except: client });
          return;
        }
        const only: RoomClient<undefined>[] = [];
        for (const id of new Set(message.to)) {
          const target = room.clients.get(id);
          if (target) only.push(target);
        }
        if (only.length > 0) room.broadcast('data', out, { reliable: meta.reliable, only });
      },
    },
    onDispose(room) {
      clearTimer(room);
    },
  };
}

/** Chooses the next host among the members left and publishes it (or clears it when nobody is left). */
function electNext(room: RelayedRoom, mode: HostMode): void {
  const rtt = mode === 'rtt' ? rttSourceOf(room) : null;
  const candidates: HostCandidate[] = [];
  for (const member of room.members) {
    const client = room.clients.get(member.clientId);
    if (!client) continue;
    candidates.push({
      clientId: client.id,
      connected: client.state === 'joined',
      rtt: rtt?.rttOf(client),
    });
  }
  const chosen = electHost(candidates, mode);
  const client = chosen === null ? undefined : room.clients.get(chosen);
  if (!client) {
    room.data.host = null;
    room.state.delete(RELAYED_HOST_KEY); // a later joiner's snapshot must not name a host who left
    return;
  }
  const host: RelayedHostRecord = {
    clientId: client.id,
    userId: client.userId,
    epoch: ++room.data.hostEpoch,
  };
  room.data.host = host;
  room.state.set(RELAYED_HOST_KEY, encodeRelayedHost(host));
  room.log.debug({ roomId: room.id, clientId: host.clientId, epoch: host.epoch, mode }, 'relayed match host');
}

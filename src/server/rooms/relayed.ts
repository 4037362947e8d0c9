// relayedRoom(): the built-in room type for relayed matches — no server logic, data relayed between members in order.
import { type RelayedProtocol, relayedProtocol } from '../../codec/relayed-protocol.js';
import type { TimerHandle } from '../../shared/clock.js';
import type { Room, RoomClient, RoomDefinition } from './define.js';

export { type RelayedProtocol, relayedProtocol };

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
}

/** Per-match data: the timer that ends a match nobody joined. */
export interface RelayedRoomData {
  emptyTimer: TimerHandle | null;
}

const HARD_MAX_DATA_BYTES = 64_000;

/**
 * A relayed match (the realtime-multiplayer model of Nakama): no game logic on the server. Members
 * send `{ op, data, to? }`; the server relays `{ from, op, data }` to every other member, or to the
 * listed members (the sender too if it lists itself; unknown ids are skipped), on the channel it
 * came on, in the order it processed them. Presence (the member list on join, then `{ joins, leaves }`
 * diffs) is always on. The match ends when its last member leaves, and its id can never be joined
 * again (joins are refused with `match_ended`).
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
  const clearTimer = (room: Room<RelayedProtocol, RelayedRoomData, undefined>) => {
    if (room.data.emptyTimer !== null) room.clock.clearTimeout(room.data.emptyTimer);
    room.data.emptyTimer = null;
  };
  return {
    protocol: relayedProtocol,
    maxClients: options.maxClients ?? 16,
    reconnectionMs: options.reconnectionMs ?? 20_000,
    presence: true,
    tombstone: true,
    data: () => ({ emptyTimer: null }),
    async onCreate(room) {
      room.data.emptyTimer = room.clock.setTimeout(() => {
        room.data.emptyTimer = null;
        if (room.memberCount() === 0) room.dispose();
      }, emptyTimeoutMs);
      if (options.listed !== true) await room.setPrivate(true);
    },
    onJoin(room) {
      clearTimer(room);
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

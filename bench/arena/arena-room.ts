// The arena workload as a netloom room definition, shared by the arena bench server and the cluster bench nodes.
import { defineRoom, type RoomClient } from '../../src/server/index.js';
import { arenaProtocol } from './protocol.js';
import { receiveInput, type SimPlayer, spawnPlayer, stepPlayer, TICK_HZ } from './workload.js';

/** A seated client; its player also sits in `client.data` for the input handler. */
interface Seat {
  client: RoomClient<SimPlayer | undefined>;
  player: SimPlayer;
}

interface ArenaData {
  /** Players in join order: the list sent every tick. */
  players: SimPlayer[];
  seats: Seat[];
}

export interface ArenaRoomOptions {
  /** Players per room (ARENA.md `P`). */
  P: number;
  /** `snapshot`: one message per room per tick with every ack; `per-client`: each client its own (see bench/arena/README.md). */
  state: 'snapshot' | 'per-client';
  autoDispose: boolean;
  /** Called with each room made (the arena server counts their ticks). */
  onCreate?: (room: { readonly tick: number }) => void;
}

const UNRELIABLE = { reliable: false };

/**
 * Each tick: step every player, then send state unreliably. `snapshot`: one `snapshot`
 * {tick, players: [{id, x, y, ack}]} by room.broadcast, encoded once, each client reading its own ack by
 * its player id. `per-client`: each client its own `state` {tick, ack, players}, one message object reused
 * with only `ack` changing (room.send encodes synchronously). Either way the players array is the room's
 * own SimPlayer list (the codec reads only the fields the schema names). A client may name its player id
 * in its join data (`{ player }`, see playerIdOf in netloom-client.ts); otherwise ids are counted up.
 */
export function arenaRoom(options: ArenaRoomOptions) {
  let nextId = 1;
  const snapshot = options.state === 'snapshot';
  return defineRoom<typeof arenaProtocol, ArenaData, SimPlayer | undefined>({
    protocol: arenaProtocol,
    tickRate: TICK_HZ,
    maxClients: options.P,
    autoDispose: options.autoDispose,
    data: () => ({ players: [], seats: [] }),
    onCreate(room) {
      options.onCreate?.(room);
    },
    onJoin(room, client) {
      const asked = (client.joinData as { player?: unknown } | undefined)?.player;
      const player = spawnPlayer(
        typeof asked === 'number' && Number.isInteger(asked) && asked > 0 ? asked : nextId++,
      );
      client.data = player;
      room.data.players.push(player);
      room.data.seats.push({ client, player });
    },
    messages: {
      input(_room, client, msg) {
        if (client.data) receiveInput(client.data, msg.seq, msg.dx, msg.dy);
      },
    },
    onTick(room) {
      const { players, seats } = room.data;
      for (let i = 0; i < players.length; i++) stepPlayer(players[i]);
      if (snapshot) {
        room.broadcast('snapshot', { tick: room.tick, players }, UNRELIABLE);
        return;
      }
      const message = { tick: room.tick, ack: 0, players };
      for (let i = 0; i < seats.length; i++) {
        const seat = seats[i];
        message.ack = seat.player.ack;
        room.send(seat.client, 'state', message, UNRELIABLE);
      }
    },
    onDrop(room, client) {
      room.allowReconnection(client, 0);
    },
    onLeave(room, client) {
      const player = client.data;
      if (!player) return;
      client.data = undefined;
      const { players, seats } = room.data;
      players.splice(players.indexOf(player), 1);
      seats.splice(
        seats.findIndex((s) => s.player === player),
        1,
      );
    },
  });
}

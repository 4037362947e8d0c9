// The arena benchmark's netloom protocol: inputs up; each tick either one state per client or one snapshot per room (float32 positions).
import { defineProtocol, p } from '../../src/codec/index.js';

export const arenaProtocol = defineProtocol({
  client: { input: p.object({ seq: p.varuint(), dx: p.float32(), dy: p.float32() }) },
  server: {
    state: p.object({
      tick: p.varuint(),
      ack: p.varuint(),
      players: p.list(p.object({ id: p.varuint(), x: p.float32(), y: p.float32() })),
    }),
    /** STATE=snapshot: one message per room per tick with every player's ack (each client reads its own by id). */
    snapshot: p.object({
      tick: p.varuint(),
      players: p.list(p.object({ id: p.varuint(), x: p.float32(), y: p.float32(), ack: p.varuint() })),
    }),
  },
});

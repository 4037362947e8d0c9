// The arena benchmark's netloom protocol: inputs up, one state per client per tick down (float32 positions).
import { defineProtocol, p } from '../../src/codec/index.js';

export const arenaProtocol = defineProtocol({
  client: { input: p.object({ seq: p.varuint(), dx: p.float32(), dy: p.float32() }) },
  server: {
    state: p.object({
      tick: p.varuint(),
      ack: p.varuint(),
      players: p.list(p.object({ id: p.varuint(), x: p.float32(), y: p.float32() })),
    }),
  },
});

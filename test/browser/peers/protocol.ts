// The protocol of the peer-assisted browser test: a numbered reliable stream and position updates between members.
import { defineProtocol, p } from '../../../src/codec/index.js';

export const meshProtocol = defineProtocol({
  client: { hello: p.object({}) },
  server: { note: p.object({ text: p.string() }) },
  peer: {
    seq: p.object({ n: p.varuint() }),
    pos: p.object({ x: p.float32(), y: p.float32() }),
  },
});

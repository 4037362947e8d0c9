// The arena demo's wire protocol, shared by the browser client and the server room.
import { defineProtocol, p } from '../../src/codec/index.js';

/** The arena is a WORLD × WORLD square; players spawn in its middle. */
export const WORLD = 1000;
/** Server ticks per second; clients also send their input at this rate. */
export const TICK_RATE = 30;
/** Longest accepted player name (in characters). */
export const MAX_NAME = 16;

export const protocol = defineProtocol({
  client: {
    /** Unreliable, 30 Hz: the direction the player wants to move in, each axis in [-1, 1]. */
    input: p.object({ seq: p.varuint(), dx: p.float32(), dy: p.float32() }),
    /** Reliable: a "ping" the player fires (space bar); `n` counts up from 1 per player. */
    mark: p.object({ n: p.varuint() }),
  },
  server: {
    /** Unreliable, every tick: every player's position, and the last input seq applied for the receiver. */
    state: p.object({
      tick: p.varuint(),
      ack: p.varuint(),
      players: p.list(p.object({ id: p.varuint(), x: p.float32(), y: p.float32() })),
    }),
    /** Reliable, on every join, drop, reconnect and leave: who is in the room; `you` is the receiver's id. */
    roster: p.object({
      you: p.varuint(),
      players: p.list(p.object({ id: p.varuint(), name: p.string(), online: p.boolean() })),
    }),
    /** Reliable: player `id` fired mark `n`; sent to everyone, the sender included. */
    marked: p.object({ id: p.varuint(), n: p.varuint() }),
  },
});

/** Returns the trimmed name when it is 1–16 printable characters, else null. */
export function validName(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  const name = value.trim();
  const length = [...name].length;
  if (length < 1 || length > MAX_NAME) return null;
  // Printable: no control, format, surrogate or unassigned code points.
  return /^[^\p{C}]+$/u.test(name) ? name : null;
}

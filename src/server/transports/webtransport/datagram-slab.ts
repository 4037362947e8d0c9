// Received QUIC datagrams as views of shared slabs: quiche writes each one straight in, nothing is copied.
import type { Connection } from './config.js';

/**
 * Slabs only move forward and datagrams are handed out as views of them: no copy, and no small on-heap
 * array that V8 must move off-heap at its first `subarray`. A slab stays alive while any datagram in it
 * does (as with Node's Buffer pool).
 */
const SLAB_BYTES = 16 * 1024;
let slab = new Uint8Array(SLAB_BYTES);
let slabOffset = 0;

/**
 * Takes every datagram quiche holds for `conn`: null when there is none, one view, or an array of views
 * in arrival order. `largest` must bound their size (the largest UDP payload received does): quiche drops
 * a datagram that does not fit the buffer it is given.
 */
export function takeDatagrams(conn: Connection, largest: number): Uint8Array | Uint8Array[] | null {
  let first: Uint8Array | null = null;
  let more: Uint8Array[] | null = null;
  for (;;) {
    const d = takeDatagram(conn, largest);
    if (d === null) break;
    if (first === null) first = d;
    else if (more === null) more = [first, d];
    else more.push(d);
  }
  return more ?? first;
}

/** Takes the next datagram quiche holds for `conn` (one native call), or null when there is none. */
export function takeDatagram(conn: Connection, largest: number): Uint8Array | null {
  if (slab.length - slabOffset < largest) {
    slab = new Uint8Array(Math.max(SLAB_BYTES, largest));
    slabOffset = 0;
  }
  const n = conn.dgramRecv(slab.subarray(slabOffset));
  if (n === null) return null;
  const d = slab.subarray(slabOffset, slabOffset + n);
  slabOffset += n;
  return d;
}

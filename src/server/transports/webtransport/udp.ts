// UDP plumbing shared by the QUIC endpoint and client: packet output from quiche, batched flushes, CID extraction.
import type { Socket } from 'node:dgram';
import type { Connection } from './config.js';

/** Length of the connection ids this library chooses (server source ids and client source ids). */
export const LOCAL_CID_LEN = 16;

const ARENA_BYTES = 64 * 1024;

/** Anything the output loop can flush. */
export interface Flushable {
  flush(): void;
}

/** Counters for one UDP socket. */
export interface UdpCounters {
  packetsIn: number;
  bytesIn: number;
  packetsOut: number;
  bytesOut: number;
  sendErrors: number;
}

/**
 * Writes quiche's outgoing packets to one socket. Packets are written into a shared arena that only moves
 * forward (a pending asynchronous send may still reference earlier bytes), so there is no per-packet
 * allocation. Flushes requested while handling input are coalesced into one `setImmediate` pass, so the
 * ACKs for a burst of received packets and several datagrams queued in one tick share packets.
 */
export class PacketOutput {
  readonly counters: UdpCounters = { packetsIn: 0, bytesIn: 0, packetsOut: 0, bytesOut: 0, sendErrors: 0 };
  readonly #socket: Socket;
  readonly #slot: number;
  #arena: Buffer = Buffer.allocUnsafe(ARENA_BYTES);
  #offset = 0;
  readonly #dirty = new Set<Flushable>();
  #immediate: NodeJS.Immediate | null = null;
  #closed = false;
  readonly #onSendError = (err: Error | null): void => {
    if (err) this.counters.sendErrors++;
  };

  constructor(socket: Socket, maxPacket: number) {
    this.#socket = socket;
    this.#slot = Math.max(1200, Math.min(maxPacket, 65527));
  }

  /** Asks for `c.flush()` after the current batch of socket events. */
  schedule(c: Flushable): void {
    if (this.#closed) return;
    this.#dirty.add(c);
    if (this.#immediate === null) this.#immediate = setImmediate(this.#run);
  }

  /** Sends every packet quiche has for `conn` now; returns how many. */
  sendFrom(conn: Connection, port: number, host: string): number {
    if (this.#closed) return 0;
    let n = 0;
    for (;;) {
      if (ARENA_BYTES - this.#offset < this.#slot) {
        this.#arena = Buffer.allocUnsafe(ARENA_BYTES);
        this.#offset = 0;
      }
      const start = this.#offset;
      const r = conn.send(this.#arena.subarray(start, start + this.#slot));
      if (r === null) break;
      const len = r[0];
      this.#offset += len;
      n++;
      this.counters.packetsOut++;
      this.counters.bytesOut += len;
      try {
        this.#socket.send(this.#arena, start, len, port, host, this.#onSendError);
      } catch {
        this.counters.sendErrors++;
      }
    }
    return n;
  }

  /** Runs pending flushes now (used before closing). */
  flushNow(): void {
    if (this.#immediate !== null) clearImmediate(this.#immediate);
    this.#run();
  }

  close(): void {
    this.flushNow();
    this.#closed = true;
  }

  readonly #run = (): void => {
    this.#immediate = null;
    for (const c of this.#dirty) {
      this.#dirty.delete(c);
      c.flush();
    }
  };
}

/**
 * The destination connection id of a short-header packet as a map key, or null when the packet cannot be one.
 * Long-header packets go through quiche's `Header.fromSlice` instead.
 */
export function shortHeaderDcidKey(packet: Uint8Array, cidLen: number): string | null {
  if (packet.length < 1 + cidLen + 1) return null;
  const first = packet[0]!;
  if ((first & 0x80) !== 0 || (first & 0x40) === 0) return null;
  return cidKey(packet, 1, 1 + cidLen);
}

/** A connection id as a compact string map key. */
export function cidKey(bytes: Uint8Array, start = 0, end = bytes.length): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset + start, end - start).toString('latin1');
}

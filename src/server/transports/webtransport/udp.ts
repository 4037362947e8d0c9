// UDP plumbing shared by the QUIC endpoint and client: packet output from quiche, batched flushes, CID extraction.
import { createSocket, type Socket, type SocketOptions } from 'node:dgram';
import { lookup as dnsLookup } from 'node:dns';
import { isIP } from 'node:net';
import type { Connection } from './config.js';

/** Length of the connection ids this library chooses (server source ids and client source ids). */
export const LOCAL_CID_LEN = 16;

const ARENA_BYTES = 64 * 1024;

/**
 * A UDP socket whose sends to an IP address skip `dns.lookup` (by default every `send` goes through it and a
 * `process.nextTick`); QUIC here only sends to addresses taken from received packets or checked by the caller.
 */
export function createUdpSocket(v6: boolean): Socket {
  return createSocket({ type: v6 ? 'udp6' : 'udp4', lookup: ipLookup });
}

const ipLookup: NonNullable<SocketOptions['lookup']> = (address, options, callback) => {
  const family = isIP(address);
  if (family !== 0) callback(null, address, family);
  else dnsLookup(address, options, callback);
};

/** Anything the output loop can flush. */
export interface Flushable {
  flush(): void;
  /** PacketOutput's bookkeeping: true while a flush of this one is queued. */
  flushQueued: boolean;
}

/** Counters for one UDP socket. */
export interface UdpCounters {
  packetsIn: number;
  bytesIn: number;
  packetsOut: number;
  bytesOut: number;
  /** Sends that threw (asynchronous failures are not reported: to QUIC they are lost packets). */
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
  /** The arena from `#offset` on, one packet long, for quiche to write the next packet into. */
  #slotView: Buffer | null = null;
  readonly #dirty: Flushable[] = [];
  #immediate: NodeJS.Immediate | null = null;
  #closed = false;

  constructor(socket: Socket, maxPacket: number) {
    this.#socket = socket;
    this.#slot = Math.max(1200, Math.min(maxPacket, 65527));
  }

  /** Asks for `c.flush()` after the current batch of socket events. */
  schedule(c: Flushable): void {
    if (this.#closed || c.flushQueued) return;
    c.flushQueued = true;
    this.#dirty.push(c);
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
        this.#slotView = null;
      }
      const start = this.#offset;
      // The view stays valid until a packet is written into it (the last call of each flush writes none).
      this.#slotView ??= this.#arena.subarray(start, start + this.#slot);
      const r = conn.send(this.#slotView);
      if (r === null) break;
      const len = r[0];
      this.#offset += len;
      this.#slotView = null;
      n++;
      this.counters.packetsOut++;
      this.counters.bytesOut += len;
      try {
        // No callback: with one, every packet costs a process.nextTick; a failed send is a lost packet to QUIC.
        this.#socket.send(this.#arena, start, len, port, host);
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
    const dirty = this.#dirty;
    // A flush may queue more (itself included, once it ran): they run in this pass too.
    for (let i = 0; i < dirty.length; i++) {
      const c = dirty[i]!;
      c.flushQueued = false;
      c.flush();
    }
    dirty.length = 0;
  };
}

/**
 * The destination connection id of a short-header packet as a map key (the same string `cidKey` gives),
 * or null when the packet cannot be one. Long-header packets go through quiche's `Header.fromSlice` instead.
 */
export function shortHeaderDcidKey(packet: Buffer, cidLen: number): string | null {
  if (packet.length < 1 + cidLen + 1) return null;
  const first = packet[0]!;
  if ((first & 0x80) !== 0 || (first & 0x40) === 0) return null;
  return packet.toString('latin1', 1, 1 + cidLen);
}

/** A connection id as a compact string map key. */
export function cidKey(bytes: Uint8Array, start = 0, end = bytes.length): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset + start, end - start).toString('latin1');
}

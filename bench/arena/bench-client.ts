// Load-generator side of the arena bench: the connection interface, wire-byte recording, raw ws clients.
import type { Socket } from 'node:net';
import WebSocket from 'ws';

/** Time allowed for one client's join. */
export const JOIN_TIMEOUT_MS = 15_000;

/** After this long the load generator starts no more joins (and reports whoever joined). */
export function joinPhaseMs(C: number): number {
  return 20_000 + C * 50;
}

/** One simulated player's connection, whatever the system under test. */
export interface BenchConn {
  /** Identifies the room the server put this client in (for the `rooms` field). */
  readonly roomId: string;
  sendInput(seq: number, dx: number, dy: number): void;
  isOpen(): boolean;
  close(): Promise<void>;
}

/** Called with this client's ack on every state update it receives. */
export type OnState = (ack: number) => void;

/** Opens one client of a system and joins it to room `room`. */
export type Connect = (i: number, room: number, onState: OnState) => Promise<BenchConn>;

/**
 * Every TCP socket under a client WebSocket, recorded when the WebSocket opens, so the bench can read
 * bytes on the wire (WebSocket framing included) from net.Socket bytesRead/bytesWritten.
 */
export const wireSockets: Socket[] = [];

/** A `ws` WebSocket that records its underlying socket; handed to netloom's Client as its WebSocket. */
export class RecordingWebSocket extends WebSocket {
  constructor(
    address: string | URL,
    protocols?: string | string[] | WebSocket.ClientOptions,
    options?: WebSocket.ClientOptions,
  ) {
    if (protocols !== undefined && typeof protocols !== 'string' && !Array.isArray(protocols)) {
      super(address, protocols);
    } else {
      super(address, protocols, options);
    }
    this.once('open', () => {
      const socket = (this as unknown as { _socket?: Socket })._socket;
      if (socket) wireSockets.push(socket);
    });
  }
}

export interface WireBytes {
  read: number;
  written: number;
}

/** A snapshot of per-socket counters; `bytesSince` sums what moved after it (new sockets count from 0). */
export function snapshotWire(): Map<Socket, WireBytes> {
  const snap = new Map<Socket, WireBytes>();
  for (const s of wireSockets) snap.set(s, { read: s.bytesRead, written: s.bytesWritten });
  return snap;
}

export function bytesSince(snap: Map<Socket, WireBytes>): WireBytes {
  let read = 0;
  let written = 0;
  for (const s of wireSockets) {
    const before = snap.get(s);
    read += s.bytesRead - (before?.read ?? 0);
    written += s.bytesWritten - (before?.written ?? 0);
  }
  return { read, written };
}

/** The raw baseline's client: join with {"join": room}, JSON inputs, JSON states. */
export function rawConnect(port: number, timeoutMs: number): Connect {
  return (_i, room, onState) =>
    new Promise<BenchConn>((resolve, reject) => {
      const ws = new RecordingWebSocket(`ws://127.0.0.1:${port}/`, { perMessageDeflate: false });
      let joined = false;
      const timer = setTimeout(() => {
        ws.terminate();
        reject(new Error('raw join timed out'));
      }, timeoutMs);
      const conn: BenchConn = {
        roomId: String(room),
        sendInput(seq, dx, dy) {
          if (ws.readyState === WebSocket.OPEN) ws.send(`{"seq":${seq},"dx":${dx},"dy":${dy}}`);
        },
        isOpen: () => ws.readyState === WebSocket.OPEN,
        close: () =>
          new Promise<void>((done) => {
            if (ws.readyState === WebSocket.CLOSED) return done();
            ws.once('close', () => done());
            ws.close();
          }),
      };
      ws.on('open', () => ws.send(`{"join":${room}}`));
      ws.on('message', (data) => {
        const msg = JSON.parse(data.toString()) as { joined?: number; ack?: number };
        if (!joined) {
          if (typeof msg.joined !== 'number') return;
          joined = true;
          clearTimeout(timer);
          resolve(conn);
          return;
        }
        if (typeof msg.ack === 'number') onState(msg.ack);
      });
      ws.on('error', (err) => {
        if (!joined) {
          clearTimeout(timer);
          reject(err);
        }
      });
    });
}

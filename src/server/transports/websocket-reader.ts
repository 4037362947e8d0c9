// Fast receive path of the server WebSocket link: whole, masked, unfragmented binary frames are read straight off the TCP socket; every other byte goes to ws's own Receiver.
import type { WebSocket } from 'ws';

/** The parts of ws's Receiver (a Writable stream) the reader checks before taking bytes itself. */
interface ReceiverInternals {
  _state: number;
  _bufferedBytes: number;
  _fragmented: number;
  _errored: boolean;
  _maxPayload: number;
  _writableState: { length: number };
  write(chunk: Uint8Array): boolean;
}

interface SocketInternals {
  _readableState?: { readingMore?: boolean };
  listeners(event: 'data'): ((...args: unknown[]) => void)[];
  removeListener(event: 'data', listener: (...args: unknown[]) => void): void;
  on(event: 'data', listener: (chunk: Buffer) => void): void;
  pause(): void;
}

interface WebSocketInternals {
  _socket?: SocketInternals;
  _receiver?: ReceiverInternals;
  _readyState?: number;
}

/** ws's Receiver state between frames (GET_INFO). */
const RECEIVER_IDLE = 0;
const OPEN = 1;
/** FIN set, no RSV bits, opcode 2 (binary): the first byte of the only frame the fast path takes. */
const FINAL_BINARY = 0x82;

/**
 * Takes over the socket's `data` events from ws: a chunk that holds whole frames, each final, binary,
 * masked and within ws's `maxPayload`, is unmasked in place and each message handed to `deliver` (as the
 * chunk and the message's range in it, valid during the call) without passing through ws's Receiver
 * stream. At the first byte that is anything else (a control frame, text, a fragment, a frame cut by
 * the chunk's end, bad framing) the rest of the chunk goes to ws's Receiver as ws would have sent it,
 * and later chunks too until that Receiver is idle between frames again, so ws still answers pings,
 * runs the close handshake and reports protocol errors.
 * Once the socket is not open (a close frame arrived, or either side closed) every byte goes to ws.
 * Messages the fast path reads after the link itself closed are dropped by the link, as ws's are.
 *
 * Why hand-written: the Receiver is a Writable stream per socket, and its machinery cost more than a
 * netloom frame's whole handling in the arena benchmark (see bench/arena/README.md). Returns false, and
 * changes nothing, when ws's internals are not as expected (ws keeps reading as usual).
 */
export function installFastReader(
  socket: WebSocket,
  deliver: (chunk: Buffer, start: number, end: number) => void,
): boolean {
  const ws = socket as unknown as WebSocketInternals;
  const tcp = ws._socket;
  const receiver = ws._receiver;
  if (!tcp || !receiver || typeof receiver.write !== 'function' || typeof tcp.listeners !== 'function')
    return false;
  if (
    typeof receiver._state !== 'number' ||
    typeof receiver._bufferedBytes !== 'number' ||
    typeof receiver._fragmented !== 'number' ||
    typeof receiver._maxPayload !== 'number' ||
    typeof receiver._writableState?.length !== 'number' ||
    typeof ws._readyState !== 'number'
  )
    return false;
  const listeners = tcp.listeners('data');
  if (listeners.length !== 1 || listeners[0].name !== 'socketOnData') return false;
  const wsOnData = listeners[0];
  const readable = tcp._readableState;
  const quietReadMore = readable !== undefined && typeof readable.readingMore === 'boolean';
  const maxPayload = receiver._maxPayload > 0 ? Math.min(receiver._maxPayload, 0xffff) : 0xffff;

  const receiverIdle = (): boolean =>
    receiver._state === RECEIVER_IDLE &&
    receiver._bufferedBytes === 0 &&
    receiver._fragmented === 0 &&
    receiver._writableState.length === 0 &&
    !receiver._errored;
  /**
   * True while ws's Receiver holds part of the stream (a frame cut by a chunk's end, a fragmented
   * message) or the socket is no longer open: then every byte goes to the Receiver. Checked after each
   * hand-over, so the steady state reads none of ws's objects.
   */
  let delegated = !receiverIdle();
  /** Hands bytes to ws's Receiver, pausing the socket when it pushes back (as ws's own listener does). */
  const toReceiver = (bytes: Buffer): void => {
    if (!receiver.write(bytes)) tcp.pause();
    delegated = !(receiverIdle() && ws._readyState === OPEN);
  };

  tcp.removeListener('data', wsOnData);
  tcp.on('data', (chunk: Buffer) => {
    // After each 'data' event a flowing stream queues a process.nextTick to read more unless this flag
    // is set. A socket's handle goes on reading by itself until the stream is paused (and resume() starts
    // it again), so that tick does nothing here, and it cost about 4 % of the arena server's CPU.
    if (quietReadMore) readable.readingMore = true;
    if (delegated) {
      toReceiver(chunk);
      return;
    }
    const end = chunk.length;
    let at = 0;
    while (at < end) {
      const left = end - at;
      const second = left >= 2 ? chunk[at + 1] : 0;
      // Final binary frame, masked, with a 7- or 16-bit length.
      if (chunk[at] !== FINAL_BINARY || (second & 0x80) === 0) break;
      let length = second & 0x7f;
      let maskAt = at + 2;
      if (length === 126) {
        if (left < 4) break;
        length = (chunk[at + 2] << 8) | chunk[at + 3];
        maskAt = at + 4;
      } else if (length === 127) break;
      const dataAt = maskAt + 4;
      const next = dataAt + length;
      if (length > maxPayload || next > end) break;
      for (let i = 0; i < length; i++) chunk[dataAt + i] ^= chunk[maskAt + (i & 3)];
      at = next;
      deliver(chunk, dataAt, next);
    }
    if (at < end) toReceiver(at === 0 ? chunk : chunk.subarray(at));
  });
  return true;
}

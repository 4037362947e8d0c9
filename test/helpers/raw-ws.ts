// A raw WebSocket peer for hostile-input tests: sends hand-made frames and reads the server's CLOSE.
import WebSocket from 'ws';
import { decodeFrame, type Frame } from '../../src/codec/frames.js';

export interface RawPeer {
  ws: WebSocket;
  frames: Frame[];
  /** Sends bytes as one WebSocket message with the reliable channel tag (or `tag`). */
  send(bytes: Uint8Array, tag?: number): void;
  /** Resolves with the CLOSE frame's code (or 'none') and the WebSocket close code once closed. */
  closed: Promise<{ closeFrameCode: string; wsCode: number }>;
}

export async function rawPeer(port: number, path = '/netloom/ws'): Promise<RawPeer> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}${path}`);
  const frames: Frame[] = [];
  ws.on('message', (data: Buffer) => {
    try {
      frames.push(decodeFrame(new Uint8Array(data.subarray(1))));
    } catch {
      // not a frame we can read; the assertions look at frames and the close
    }
  });
  const closed = new Promise<{ closeFrameCode: string; wsCode: number }>((resolve) => {
    ws.on('close', (wsCode) => {
      const close = frames.find((f) => f.kind === 0x08);
      resolve({ closeFrameCode: close && close.kind === 0x08 ? close.code : 'none', wsCode });
    });
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return {
    ws,
    frames,
    closed,
    send(bytes, tag = 0) {
      const out = new Uint8Array(bytes.length + 1);
      out[0] = tag;
      out.set(bytes, 1);
      ws.send(out);
    },
  };
}

// Load-generator adapter for netloom: one netloom Client (own session and WebSocket) per simulated player.
import { Client } from '../../src/client/index.js';
import { type BenchConn, type Connect, RecordingWebSocket } from './bench-client.js';
import { arenaProtocol } from './protocol.js';

/** Joins client i to the pre-made room `roomIds[room]` (see netloom-server.ts). */
export function netloomConnect(
  port: number,
  roomIds: string[],
  transport: string,
  timeoutMs: number,
): Connect {
  if (transport !== 'websocket') throw new Error(`transport ${transport} is not supported by the bench yet`);
  return async (_i, room, onState) => {
    const client = new Client(`http://127.0.0.1:${port}`, { WebSocket: RecordingWebSocket });
    let timer: NodeJS.Timeout | undefined;
    try {
      const joined = await Promise.race([
        client.joinById(roomIds[room], { room }, { protocol: arenaProtocol }),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error('netloom join timed out')), timeoutMs);
        }),
      ]);
      let open = true;
      joined.on('state', (msg) => onState(msg.ack));
      joined.on('leave', () => {
        open = false;
      });
      const conn: BenchConn = {
        roomId: joined.id,
        sendInput(seq, dx, dy) {
          if (open) joined.send('input', { seq, dx, dy }, { reliable: false });
        },
        isOpen: () => open,
        async close() {
          open = false;
          try {
            await joined.leave();
          } finally {
            client.close();
          }
        },
      };
      return conn;
    } catch (err) {
      client.close();
      throw err;
    } finally {
      clearTimeout(timer);
    }
  };
}

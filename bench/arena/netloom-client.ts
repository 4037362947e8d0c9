// Load-generator adapter for netloom: one netloom Client (own session, WebSocket, and werift peer for TRANSPORT=webrtc) per player.
import { Client, type ClientOptions } from '../../src/client/index.js';
import { weriftPeerConnection } from '../../src/client/node-webrtc.js';
import { connectQuic } from '../../src/server/transports/webtransport/client.js';
import { nodeWebTransportClass } from '../../src/server/transports/webtransport/node-client.js';
import { type BenchConn, type Connect, RecordingWebSocket } from './bench-client.js';
import { arenaProtocol } from './protocol.js';

/** Player id of client i: the server takes it from the join data, so a snapshot's acks can be matched by id. */
export function playerIdOf(i: number): number {
  return i + 1;
}

/** Joins client i to the pre-made room `roomIds[room]` (see netloom-server.ts). */
export function netloomConnect(
  port: number,
  roomIds: string[],
  transport: string,
  timeoutMs: number,
): Connect {
  if (transport !== 'websocket' && transport !== 'webrtc' && transport !== 'webtransport')
    throw new Error(`transport ${transport} is not supported by the bench yet`);
  const WebTransport = nodeWebTransportClass({
    connect: (host, quicPort, { serverCertificateHashes }) =>
      connectQuic({
        host,
        port: quicPort,
        serverCertificateHashes: serverCertificateHashes?.map((h) => h.value),
      }),
  });
  const options: ClientOptions =
    transport === 'webrtc'
      ? {
          WebSocket: RecordingWebSocket,
          transports: ['webrtc', 'websocket'],
          webrtc: { RTCPeerConnection: weriftPeerConnection() },
        }
      : transport === 'webtransport'
        ? {
            WebSocket: RecordingWebSocket,
            transports: ['webtransport', 'websocket'],
            webtransport: { WebTransport },
          }
        : { WebSocket: RecordingWebSocket, transports: ['websocket'] };
  return async (i, room, onState) => {
    const client = new Client(`http://127.0.0.1:${port}`, options);
    let timer: NodeJS.Timeout | undefined;
    try {
      const joined = await Promise.race([
        client.joinById(roomIds[room], { room, player: playerIdOf(i) }, { protocol: arenaProtocol }),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error('netloom join timed out')), timeoutMs);
        }),
      ]);
      if (transport !== 'websocket' && joined.transport !== transport) {
        // The measured window must run over the datachannels: wait for the upgrade.
        clearTimeout(timer);
        await new Promise<void>((resolve, reject) => {
          const off = joined.on('transport', ({ transport: now }) => {
            if (now === transport) {
              off();
              resolve();
            }
          });
          timer = setTimeout(() => reject(new Error(`netloom upgrade to ${transport} timed out`)), timeoutMs);
        });
      }
      let open = true;
      joined.on('state', (msg) => onState(msg.ack));
      const id = playerIdOf(i);
      joined.on('snapshot', (msg) => {
        const players = msg.players;
        for (let k = 0; k < players.length; k++) {
          if (players[k].id === id) {
            onState(players[k].ack);
            return;
          }
        }
      });
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

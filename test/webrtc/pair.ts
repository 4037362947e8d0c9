// Test helper: a werift client peer and a werift server peer connected on loopback, as a LinkPair.
import { weriftPeerConnection } from '../../src/client/node-webrtc.js';
import {
  type ClientPeer,
  type ClientPeerOptions,
  createClientPeer,
} from '../../src/client/transports/webrtc.js';
import type { Link } from '../../src/link/link.js';
import {
  createServerPeer,
  openServerPeerCount,
  type ServerPeer,
  type WebRtcServerOptions,
} from '../../src/server/transports/webrtc/index.js';
import { until } from '../helpers/netloom.js';
import type { LinkPair } from '../link/conformance.js';

export interface WebRtcPair extends LinkPair {
  clientPeer: ClientPeer;
  serverPeer: ServerPeer;
  /** Milliseconds from creating the peers to both links open. */
  setupMs: number;
}

/** Connects a client peer to a server peer by calling each other's methods directly (no signaling server). */
export async function createWebRtcPair(
  serverOptions: WebRtcServerOptions = {},
  clientOptions: ClientPeerOptions = {},
): Promise<WebRtcPair> {
  const started = performance.now();
  const serverPeer = createServerPeer(serverOptions);
  const clientPeer = createClientPeer({ RTCPeerConnection: weriftPeerConnection(), ...clientOptions });
  clientPeer.onCandidate = (candidate) => {
    serverPeer.addCandidate(candidate).catch(() => {});
  };
  let client: Link;
  let server: Link;
  try {
    const offer = await clientPeer.offer();
    const answer = await serverPeer.answer(offer);
    await clientPeer.setAnswer(answer);
    [client, server] = await Promise.all([clientPeer.link, serverPeer.link]);
  } catch (err) {
    clientPeer.close();
    serverPeer.close();
    throw err;
  }
  const setupMs = performance.now() - started;
  return {
    client,
    server,
    clientPeer,
    serverPeer,
    setupMs,
    async cleanup() {
      clientPeer.close();
      serverPeer.close();
      await until(() => openServerPeerCount() === 0, 5_000, 'server peers to close');
    },
  };
}

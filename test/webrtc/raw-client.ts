// Test helper: a raw werift client (no netloom link) for sending what a well-behaved client never would.
import { type RTCDataChannel, RTCPeerConnection } from 'werift';
import type { ServerPeer } from '../../src/server/transports/webrtc/index.js';

export interface RawClient {
  pc: RTCPeerConnection;
  reliable: RTCDataChannel;
  unreliable: RTCDataChannel;
  close(): Promise<void>;
}

/** A werift peer with the two pre-negotiated channels, without STUN (host candidates on loopback only). */
export function rawPeerConnection(): {
  pc: RTCPeerConnection;
  reliable: RTCDataChannel;
  unreliable: RTCDataChannel;
} {
  const pc = new RTCPeerConnection({
    iceServers: [],
    iceUseIpv6: false,
    iceAdditionalHostAddresses: ['127.0.0.1'],
  });
  const reliable = pc.createDataChannel('reliable', { negotiated: true, id: 0, ordered: true });
  const unreliable = pc.createDataChannel('unreliable', {
    negotiated: true,
    id: 1,
    ordered: false,
    maxRetransmits: 0,
  });
  for (const transport of pc.iceTransports) transport.connection.stunServer = undefined;
  return { pc, reliable, unreliable };
}

/** Creates a local offer (host candidates included) from a raw peer connection. */
export async function rawOffer(pc: RTCPeerConnection): Promise<string> {
  await pc.setLocalDescription(await pc.createOffer());
  const sdp = pc.localDescription?.sdp;
  if (!sdp) throw new Error('no offer');
  return sdp;
}

/** Connects a raw client to `server` and waits until both raw channels are open. */
export async function connectRawClient(server: ServerPeer): Promise<RawClient> {
  const { pc, reliable, unreliable } = rawPeerConnection();
  const answer = await server.answer(await rawOffer(pc));
  await pc.setRemoteDescription({ type: 'answer', sdp: answer });
  await Promise.all(
    [reliable, unreliable].map(
      (channel) =>
        new Promise<void>((resolve) => {
          if (channel.readyState === 'open') resolve();
          else channel.onopen = () => resolve();
        }),
    ),
  );
  return { pc, reliable, unreliable, close: () => pc.close() };
}

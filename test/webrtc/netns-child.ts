// Child process for netns.test.ts, run inside a network namespace: connects netloom peers, or runs raw werift.
import { RTCPeerConnection } from 'werift';
import { weriftPeerConnection } from '../../src/client/node-webrtc.js';
import { createClientPeer } from '../../src/client/transports/webrtc.js';
import { createServerPeer, openServerPeerCount } from '../../src/server/transports/webrtc/index.js';

const mode = process.argv[2];
setTimeout(() => {
  console.log(JSON.stringify({ ok: false, error: 'child timed out' }));
  process.exit(2);
}, 20_000).unref();

function candidateAddresses(sdp: string): string[] {
  return sdp
    .split(/\r?\n/)
    .filter((line) => line.startsWith('a=candidate:'))
    .map((line) => line.split(' ')[4]);
}

async function netloomPeers(): Promise<void> {
  const started = performance.now();
  const server = createServerPeer();
  const client = createClientPeer({ RTCPeerConnection: weriftPeerConnection() });
  client.onCandidate = (candidate) => {
    server.addCandidate(candidate).catch(() => {});
  };
  const offer = await client.offer();
  const answer = await server.answer(offer);
  await client.setAnswer(answer);
  const [clientLink, serverLink] = await Promise.all([client.link, server.link]);
  const setupMs = performance.now() - started;
  const got = new Promise<string[]>((resolve) => {
    const seen: string[] = [];
    serverLink.onframe = (frame, channel) => {
      seen.push(`${channel}:${frame[0]}`);
      if (seen.includes('reliable:1') && seen.some((s) => s.startsWith('unreliable'))) resolve(seen);
    };
  });
  clientLink.send('reliable', new Uint8Array([1]));
  const timer = setInterval(() => clientLink.send('unreliable', new Uint8Array([2])), 20);
  const frames = await got;
  clearInterval(timer);
  clientLink.close();
  while (openServerPeerCount() > 0) await new Promise((resolve) => setTimeout(resolve, 10));
  console.log(
    JSON.stringify({
      ok: true,
      setupMs,
      frames,
      offerCandidates: candidateAddresses(offer),
      answerCandidates: candidateAddresses(answer),
    }),
  );
}

/** werift as it comes (no ICE-lite, no STUN override): the trap the netloom peers avoid. */
async function weriftDefaults(): Promise<void> {
  const pc = new RTCPeerConnection();
  pc.createDataChannel('probe');
  console.log(JSON.stringify({ started: true }));
  await pc.setLocalDescription(await pc.createOffer());
  console.log(JSON.stringify({ gathered: true }));
  await pc.close();
}

try {
  if (mode === 'netloom') await netloomPeers();
  else if (mode === 'werift-defaults') await weriftDefaults();
  else throw new Error(`unknown mode ${mode}`);
  process.exit(0);
} catch (err) {
  console.log(JSON.stringify({ ok: false, error: String(err) }));
  process.exit(1);
}

// Server of the peer-assisted browser test, run inside the test's network namespace: a peers room, relayed matches, the page.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { createServer, defineRoom, relayedRoom } from '../../../src/server/index.js';
import { meshProtocol } from './protocol.js';

const here = dirname(fileURLToPath(import.meta.url));
const host = process.env.HOST ?? '127.0.0.1';

const bundle = await build({
  entryPoints: [join(here, 'page.ts')],
  bundle: true,
  platform: 'browser',
  format: 'esm',
  target: 'es2022',
  write: false,
  logLevel: 'silent',
});
const js = bundle.outputFiles[0]?.text ?? '';

const mesh = defineRoom({
  protocol: meshProtocol,
  maxClients: 8,
  reconnectionMs: 5_000,
  peers: { maxMesh: 8, ratePerSecond: 0 },
});
const app = await createServer({
  rooms: { mesh, match: relayedRoom() },
  // The pages talk to the server over WebSocket only; only member-to-member links use WebRTC.
  webrtc: { enabled: false },
  joinRatePerIp: false,
  session: { limits: { messagesPerSecond: 0 } },
});
app.get('/', (_request, reply) =>
  reply
    .type('text/html; charset=utf-8')
    .send('<!doctype html><html><body><script type="module" src="/page.js"></script></body></html>'),
);
app.get('/page.js', (_request, reply) => reply.type('text/javascript; charset=utf-8').send(js));
app.get('/favicon.ico', (_request, reply) => reply.code(204).send());
await app.listen({ host, port: 0 });
const address = app.server.address();
process.stdout.write(`READY ${typeof address === 'object' && address ? address.port : 0}\n`);
const stop = () => {
  app.close().finally(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);

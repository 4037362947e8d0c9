// Serves the arena demo: bundles the browser client with esbuild and runs a netloom server with the Arena room.
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { createServer, type Driver, memoryDriver, type NetloomOptions } from '../../src/server/index.js';
import { Arena } from './room.js';

const here = dirname(fileURLToPath(import.meta.url));

export interface DemoOptions {
  /** TCP port; 0 picks a free one. Default 3000. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Fastify/pino logger option. Default false. */
  logger?: boolean | object;
  /** Session tuning passed to netloom (heartbeat, idle timeout, buffer bound); tests shorten the idle timeout. */
  session?: NetloomOptions['session'];
  /** Offer WebTransport on a UDP port (default true; the port is any free one unless WT_PORT is set). */
  webtransport?: boolean;
  /** UDP port of WebTransport (default WT_PORT, else any free one); give each node of a cluster its own. */
  webtransportPort?: number;
  /** Control-plane driver (default `memoryDriver()`); `redisDriver()` makes this server one node of a cluster. */
  driver?: Driver;
  /** Seat-token secret, the same on every node of a cluster (default: random per process). */
  seatSecret?: string;
  /** This node's id in a cluster (default random). */
  nodeId?: string;
  /** Cluster options (public URL, heartbeat timing), used with a clustered driver. */
  cluster?: NetloomOptions['cluster'];
  /** Rate of joins per client IP (default netloom's); `false` for load tests from one address. */
  joinRatePerIp?: NetloomOptions['joinRatePerIp'];
}

export interface Demo {
  /** Where to point a browser, e.g. http://127.0.0.1:3000/ */
  url: string;
  /** The netloom server (a listening Fastify app). */
  server: Awaited<ReturnType<typeof createServer>>;
  /** Stops the server and ends every session. */
  close(): Promise<void>;
}

/** The bundled browser client, held in memory: one ESM file and its source map. */
export interface ClientBundle {
  js: string;
  map: string;
}

/** Bundles the browser client with esbuild: one ESM file, no Node built-ins allowed. */
export async function bundleClient(): Promise<ClientBundle> {
  const result = await build({
    entryPoints: [join(here, 'client', 'main.ts')],
    outfile: join(here, 'public', 'bundle.js'),
    bundle: true,
    platform: 'browser',
    format: 'esm',
    target: 'es2022',
    sourcemap: 'linked',
    write: false,
    logLevel: 'silent',
  });
  const js = result.outputFiles.find((f) => f.path.endsWith('.js'));
  const map = result.outputFiles.find((f) => f.path.endsWith('.js.map'));
  if (!js || !map) throw new Error('esbuild produced no bundle');
  return { js: js.text, map: map.text };
}

/** Builds the client, starts the server and listens; resolves once it accepts connections. */
export async function startDemo(options: DemoOptions = {}): Promise<Demo> {
  const [bundle, html] = await Promise.all([
    bundleClient(),
    readFile(join(here, 'public', 'index.html'), 'utf8'),
  ]);
  const host = options.host ?? '127.0.0.1';
  const server = await createServer({
    rooms: { arena: Arena },
    driver: options.driver ?? memoryDriver(),
    webtransport: {
      enabled: options.webtransport ?? true,
      host,
      port: options.webtransportPort ?? Number(process.env.WT_PORT ?? 0),
    },
    logger: options.logger ?? false,
    ...(options.session ? { session: options.session } : {}),
    ...(options.seatSecret !== undefined ? { seatSecret: options.seatSecret } : {}),
    ...(options.nodeId !== undefined ? { nodeId: options.nodeId } : {}),
    ...(options.cluster ? { cluster: options.cluster } : {}),
    ...(options.joinRatePerIp !== undefined ? { joinRatePerIp: options.joinRatePerIp } : {}),
  });
  server.get('/', (_request, reply) => reply.type('text/html; charset=utf-8').send(html));
  server.get('/bundle.js', (_request, reply) =>
    reply.type('text/javascript; charset=utf-8').header('cache-control', 'no-store').send(bundle.js),
  );
  server.get('/favicon.ico', (_request, reply) => reply.code(204).send());
  server.get('/bundle.js.map', (_request, reply) => reply.type('application/json').send(bundle.map));
  await server.listen({ port: options.port ?? 3000, host });
  const address = server.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : options.port;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${shownHost}:${port}/`,
    server,
    close: async () => {
      await server.close();
    },
  };
}

async function main(): Promise<void> {
  const port = Number(process.env.PORT ?? 3000);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error(`PORT=${process.env.PORT} is not a port`);
  const demo = await startDemo({ port, host: process.env.HOST ?? '127.0.0.1' });
  console.log(`netloom arena demo: open ${demo.url} in a few browser tabs (add ?name=you to pick a name)`);
  const stop = (): void => {
    demo.close().then(
      () => process.exit(0),
      (err: unknown) => {
        console.error(err);
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}

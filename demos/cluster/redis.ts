// Runs a throwaway redis-server (loopback, no persistence) as a child process for the cluster demo and benchmarks.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface RedisServer {
  port: number;
  /** `redis://127.0.0.1:<port>`. */
  url: string;
  pid: number;
  /** SIGTERM by its pid (SIGKILL after 3 s), then removes its temp dir. */
  stop(): Promise<void>;
}

/** A TCP port free on loopback a moment ago. */
export function freeLoopbackPort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen({ port: 0, host: '127.0.0.1' }, () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => done(port));
    });
  });
}

/** Starts redis-server on `port` (default: a free one) and resolves once it accepts connections. */
export async function startRedisServer(port?: number): Promise<RedisServer> {
  const chosen = port || (await freeLoopbackPort());
  const dir = await mkdtemp(join(tmpdir(), 'netloom-cluster-redis-'));
  const args = ['--port', String(chosen), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'];
  const child = spawn('redis-server', [...args, '--dir', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  const stop = async (): Promise<void> => {
    await stopChild(child, exited);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await new Promise<void>((ready, fail) => {
      let output = '';
      const onData = (chunk: Buffer): void => {
        output += chunk.toString('utf8');
        if (output.includes('Ready to accept connections')) ready();
      };
      child.stdout?.on('data', onData);
      child.stderr?.on('data', onData);
      child.once('error', (err) =>
        fail(new Error(`cannot run redis-server (${err.message}); is it installed?`)),
      );
      void exited.then(() => fail(new Error(`redis-server on port ${chosen} exited:\n${output.trim()}`)));
    });
  } catch (err) {
    await stop();
    throw err;
  }
  child.stdout?.resume();
  child.stderr?.resume();
  return { port: chosen, url: `redis://127.0.0.1:${chosen}`, pid: child.pid ?? 0, stop };
}

async function stopChild(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 3_000);
  await exited;
  clearTimeout(timer);
}

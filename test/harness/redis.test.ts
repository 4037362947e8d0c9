// The redis test helper starts a real redis-server that answers PING, and stop() really frees its port.
import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { startRedis } from '../helpers/redis.js';

/** Sends one raw RESP inline command and resolves with the first reply line. */
function command(port: number, line: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1' });
    let reply = '';
    socket.setEncoding('utf8');
    socket.once('error', reject);
    socket.once('connect', () => socket.write(`${line}\r\n`));
    socket.on('data', (chunk: string) => {
      reply += chunk;
      const end = reply.indexOf('\r\n');
      if (end >= 0) {
        socket.destroy();
        resolve(reply.slice(0, end));
      }
    });
  });
}

/** Resolves with the error code of a TCP connect that is expected to fail. */
function connectError(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      reject(new Error(`port ${port} still accepts connections`));
    });
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
  });
}

describe('startRedis', () => {
  it('runs a redis-server that answers PING and is gone after stop()', async () => {
    const redis = await startRedis();
    try {
      expect(redis.url).toBe(`redis://127.0.0.1:${redis.port}`);
      expect(await command(redis.port, 'PING')).toBe('+PONG');
      expect(await command(redis.port, 'SET k v')).toBe('+OK');
      expect(await command(redis.port, 'GET k')).toBe('$1');
    } finally {
      await redis.stop();
    }
    expect(await connectError(redis.port)).toBe('ECONNREFUSED');
  });

  it('runs independent servers side by side', async () => {
    const [a, b] = await Promise.all([startRedis(), startRedis()]);
    try {
      expect(a.port).not.toBe(b.port);
      await command(a.port, 'SET only-a 1');
      expect(await command(b.port, 'EXISTS only-a')).toBe(':0');
      expect(await command(a.port, 'EXISTS only-a')).toBe(':1');
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  });

  it('fails clearly when the binary does not exist', async () => {
    await expect(startRedis({ binary: 'redis-server-that-does-not-exist' })).rejects.toThrow(/could not run/);
  });
});

// Runs the Driver conformance suite against redisDriver() on a real redis-server, plus cross-client races and an unreachable Redis.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NetloomError } from '../../src/codec/errors.js';
import type { Driver } from '../../src/server/drivers/driver.js';
import { redisDriver } from '../../src/server/drivers/redis.js';
import { freePort } from '../helpers/ports.js';
import { type RedisInstance, startRedis } from '../helpers/redis.js';
import { describeDriverConformance } from './conformance.js';

let redis: RedisInstance | null = null;

beforeAll(async () => {
  redis = await startRedis();
});

afterAll(async () => {
  await redis?.stop();
  redis = null;
});

const url = (): string => {
  if (!redis) throw new Error('redis-server not started');
  return redis.url;
};

/** Each driver gets its own prefix, so tests never see each other's rooms. */
describeDriverConformance('redisDriver', () => redisDriver({ url: url(), prefix: `t:${randomUUID()}:` }));

describe('redisDriver across clients', () => {
  it('50 concurrent reserveSeat calls through 3 driver instances on 16 seats: exactly 16 ok', async () => {
    const prefix = `t:${randomUUID()}:`;
    const drivers: Driver[] = await Promise.all([1, 2, 3].map(() => redisDriver({ url: url(), prefix })));
    try {
      const T0 = 1_000_000;
      expect(
        await drivers[0].createRoom({ id: 'r', type: 'arena', nodeId: 'n1', maxClients: 16, createdAt: T0 }),
      ).toBe('ok');
      const results = await Promise.all(
        Array.from({ length: 50 }, (_, i) => drivers[i % 3].reserveSeat('r', `s${i}`, T0 + 1_000, T0)),
      );
      expect(results.filter((x) => x === 'ok')).toHaveLength(16);
      expect(results.filter((x) => x === 'full')).toHaveLength(34);
      expect(await drivers[2].getRoom('r', T0)).toMatchObject({ reserved: 16, clients: 0 });
    } finally {
      await Promise.all(drivers.map((d) => d.close()));
    }
  });

  it('an unreachable Redis fails fast with driver_unavailable, no hang', async () => {
    const port = await freePort();
    const started = Date.now();
    const err = await redisDriver({ url: `redis://127.0.0.1:${port}`, connectTimeoutMs: 1_000 }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(NetloomError);
    expect((err as NetloomError).code).toBe('driver_unavailable');
    expect((err as NetloomError).message).toMatch(/cannot connect to Redis/);
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});

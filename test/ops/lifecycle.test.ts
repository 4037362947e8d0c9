// Lifecycle unit tests on a ManualClock: hook order, errors, idempotent shutdown, the bound with a hanging hook.
import { describe, expect, it } from 'vitest';
import { Lifecycle, type ShutdownSteps } from '../../src/server/lifecycle.js';
import { silentLogger } from '../../src/server/metrics.js';
import type { NetloomServerApi } from '../../src/server/options.js';
import { ManualClock } from '../../src/shared/clock.js';

function setup(dispose: () => Promise<void> = async () => {}) {
  const clock = new ManualClock();
  const events: string[] = [];
  const steps: ShutdownSteps = {
    drain: () => events.push('drain'),
    closeSessions: (reason) => {
      events.push(`close:${reason}`);
      return 2;
    },
    disposeRooms: async () => {
      events.push('dispose');
      await dispose();
      events.push('disposed');
    },
  };
  const server = {} as NetloomServerApi;
  const lifecycle = new Lifecycle({
    clock,
    log: silentLogger,
    server: () => server,
    steps,
    timeoutMs: 1_000,
  });
  return { clock, events, lifecycle, server };
}

const flush = () => new Promise((r) => setTimeout(r, 0));

describe('Lifecycle', () => {
  it('runs bootstrap hooks in order with the server API, and a throwing one rejects the start', async () => {
    const { lifecycle, server, events } = setup();
    lifecycle.add({ bootstrap: (s) => void events.push(s === server ? 'b1' : 'wrong') });
    lifecycle.api().bootstrap(async () => {
      events.push('b2');
    });
    await lifecycle.bootstrap();
    expect(events).toEqual(['b1', 'b2']);
    lifecycle.api().bootstrap(() => {
      throw new Error('database unreachable');
    });
    await expect(lifecycle.bootstrap()).rejects.toThrow('database unreachable');
  });

  it('logs a throwing onStarted hook and runs the rest; a removed hook does not run', async () => {
    const { lifecycle, events } = setup();
    lifecycle.add({
      onStarted: () => {
        throw new Error('boom');
      },
    });
    const remove = lifecycle.api().onStarted(() => void events.push('removed'));
    lifecycle.api().onStarted(() => void events.push('s2'));
    remove();
    await lifecycle.started();
    expect(events).toEqual(['s2']);
    expect(lifecycle.state).toBe('running');
  });

  it('shuts down in order: drain, onShutdown hooks, close sessions, dispose rooms', async () => {
    const { lifecycle, events } = setup();
    lifecycle.api().onShutdown(async () => {
      events.push(`hook:${lifecycle.shuttingDown}`);
    });
    lifecycle.api().onShutdown(() => {
      throw new Error('hook failed');
    });
    const report = await lifecycle.shutdown({ reason: 'maintenance' });
    expect(events).toEqual(['drain', 'hook:true', 'close:maintenance', 'dispose', 'disposed']);
    expect(report).toEqual({ timedOut: false, hookErrors: 1, sessionsClosed: 2 });
    expect(lifecycle.state).toBe('stopped');
    // a second call is the same run
    expect(await lifecycle.shutdown()).toBe(report);
    expect(events.filter((e) => e === 'drain')).toHaveLength(1);
  });

  it('ends within the bound when an onShutdown hook hangs: sessions are still closed and rooms disposed', async () => {
    const { lifecycle, events, clock } = setup();
    lifecycle.api().onShutdown(() => new Promise<void>(() => {}));
    let report: Awaited<ReturnType<Lifecycle['shutdown']>> | null = null;
    void lifecycle.shutdown({ timeoutMs: 500 }).then((r) => {
      report = r;
    });
    await flush();
    expect(report).toBeNull();
    expect(events).toEqual(['drain']);
    clock.advance(499);
    await flush();
    expect(report).toBeNull();
    clock.advance(1);
    await flush();
    expect(report).toEqual({ timedOut: true, hookErrors: 0, sessionsClosed: 2 });
    expect(events).toEqual(['drain', 'close:server is shutting down', 'dispose', 'disposed']);
  });

  it('ends within the bound when a room never finishes disposing', async () => {
    const { lifecycle, events, clock } = setup(() => new Promise<void>(() => {}));
    let report: Awaited<ReturnType<Lifecycle['shutdown']>> | null = null;
    void lifecycle.shutdown().then((r) => {
      report = r;
    });
    await flush();
    expect(events).toEqual(['drain', 'close:server is shutting down', 'dispose']);
    clock.advance(1_000);
    await flush();
    expect(report).toMatchObject({ timedOut: true });
  });

  it('refuses a hook that is not a function', () => {
    const { lifecycle } = setup();
    expect(() => lifecycle.add({ onShutdown: 'later' as unknown as () => void })).toThrow(TypeError);
  });
});

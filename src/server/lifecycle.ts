// Server lifecycle: the bootstrap, onStarted and onShutdown hooks, and a graceful shutdown that ends within a bound.
import type { Clock } from '../shared/clock.js';
import type { Logger } from './metrics.js';
import type { NetloomServerApi } from './options.js';

/** A lifecycle hook; it gets the server's in-process API (`app.netloom`). */
export type LifecycleHook = (server: NetloomServerApi) => void | Promise<void>;

/** Hooks given in `NetloomOptions.hooks` (or added later through `app.netloom.hooks`). */
export interface LifecycleHooks {
  /** Before the server listens (on Fastify's `ready`). Async; throwing aborts the start (`listen` rejects). */
  bootstrap?: LifecycleHook;
  /** After the server listens. A throwing hook is logged; the server keeps running. */
  onStarted?: LifecycleHook;
  /**
   * When shutdown begins, after new joins stopped and before clients are told and disconnected:
   * the place for last messages and saving state. Bounded by the shutdown timeout.
   */
  onShutdown?: LifecycleHook;
}

/** Adds lifecycle hooks after the server was made; each call returns a function that removes the hook. */
export interface LifecycleHooksApi {
  bootstrap(fn: LifecycleHook): () => void;
  onStarted(fn: LifecycleHook): () => void;
  onShutdown(fn: LifecycleHook): () => void;
}

export interface ShutdownOptions {
  /** Bound on the whole shutdown, hooks and room disposal included (default: the `shutdownTimeoutMs` option, 10,000 ms). */
  timeoutMs?: number;
  /** Told to clients in the `server_shutdown` notice (default 'server is shutting down'). */
  reason?: string;
}

/** How a shutdown went. */
export interface ShutdownReport {
  /** True when the bound ran out (a hook or a room's onDispose had not finished). */
  timedOut: boolean;
  /** onShutdown hooks that threw. */
  hookErrors: number;
  /** Sessions told and closed. */
  sessionsClosed: number;
}

/** The steps of a shutdown, provided by the plugin that owns sessions and rooms. */
export interface ShutdownSteps {
  /** Stop new joins: links, JOINs and HTTP join routes are refused with `server_shutdown`. */
  drain(): void;
  /** Send every session a `server_shutdown` notice, then end it with CLOSE `server_shutdown`; returns how many. */
  closeSessions(reason: string): number;
  /** Dispose every room; resolves once each ran its onDispose. */
  disposeRooms(): Promise<void>;
}

export interface LifecycleDeps {
  clock: Clock;
  log: Logger;
  /** The API handed to hooks (a function, because the API object is made after the lifecycle). */
  server(): NetloomServerApi;
  steps: ShutdownSteps;
  /** Default bound of a shutdown (ms). */
  timeoutMs: number;
}

type Phase = keyof LifecycleHooks;
export type LifecycleState = 'starting' | 'running' | 'shutting_down' | 'stopped';

/** Runs the hooks and the shutdown sequence. One per netloom plugin instance. */
export class Lifecycle {
  private readonly hooks: Record<Phase, LifecycleHook[]> = { bootstrap: [], onStarted: [], onShutdown: [] };
  private current: LifecycleState = 'starting';
  private shutdownRun: Promise<ShutdownReport> | null = null;

  constructor(private readonly deps: LifecycleDeps) {}

  get state(): LifecycleState {
    return this.current;
  }

  /** True from the moment shutdown began: new joins are refused. */
  get shuttingDown(): boolean {
    return this.current === 'shutting_down' || this.current === 'stopped';
  }

  add(hooks: LifecycleHooks | undefined): void {
    if (!hooks) return;
    for (const phase of ['bootstrap', 'onStarted', 'onShutdown'] as const) {
      const fn = hooks[phase];
      if (fn !== undefined) this.on(phase, fn);
    }
  }

  on(phase: Phase, fn: LifecycleHook): () => void {
    if (typeof fn !== 'function') throw new TypeError(`hooks.${phase} must be a function`);
    this.hooks[phase].push(fn);
    return () => {
      const list = this.hooks[phase];
      const at = list.indexOf(fn);
      if (at >= 0) list.splice(at, 1);
    };
  }

  /** The `app.netloom.hooks` object. */
  api(): LifecycleHooksApi {
    return {
      bootstrap: (fn) => this.on('bootstrap', fn),
      onStarted: (fn) => this.on('onStarted', fn),
      onShutdown: (fn) => this.on('onShutdown', fn),
    };
  }

  /** Runs bootstrap hooks in order; the first that throws aborts the start (its error propagates). */
  async bootstrap(): Promise<void> {
    for (const fn of [...this.hooks.bootstrap]) await fn(this.deps.server());
  }

  /** Runs onStarted hooks in order; errors are logged. */
  async started(): Promise<void> {
    if (this.current === 'starting') this.current = 'running';
    for (const fn of [...this.hooks.onStarted]) {
      try {
        await fn(this.deps.server());
      } catch (err) {
        this.deps.log.error({ err, hook: 'onStarted' }, 'netloom onStarted hook threw');
      }
    }
  }

  /**
   * Graceful shutdown: stop new joins, run onShutdown hooks, tell every session and close it
   * (`server_shutdown`), dispose rooms (their onDispose runs). Ends within `timeoutMs` even if a
   * hook or an onDispose hangs: past the bound, sessions are closed and rooms disposed anyway and
   * the report says `timedOut`. Calling it again returns the same run.
   */
  shutdown(options: ShutdownOptions = {}): Promise<ShutdownReport> {
    if (!this.shutdownRun) this.shutdownRun = this.run(options);
    return this.shutdownRun;
  }

  private async run(options: ShutdownOptions): Promise<ShutdownReport> {
    const { clock, log, steps } = this.deps;
    const timeoutMs = options.timeoutMs ?? this.deps.timeoutMs;
    const reason = options.reason ?? 'server is shutting down';
    this.current = 'shutting_down';
    log.info({ timeoutMs }, 'netloom shutting down');
    let timedOut = false;
    let timer: unknown = null;
    const deadline = new Promise<'timeout'>((resolve) => {
      timer = clock.setTimeout(() => resolve('timeout'), Math.max(0, timeoutMs));
    });
    const withinBound = async (work: Promise<unknown>): Promise<void> => {
      if (timedOut) return;
      if ((await Promise.race([work.then(() => 'done' as const), deadline])) === 'timeout') timedOut = true;
    };

    let hookErrors = 0;
    let sessionsClosed = 0;
    try {
      steps.drain();
      const server = this.deps.server();
      const hooks = this.hooks.onShutdown.map(async (fn) => {
        try {
          await fn(server);
        } catch (err) {
          hookErrors++;
          log.error({ err, hook: 'onShutdown' }, 'netloom onShutdown hook threw');
        }
      });
      await withinBound(Promise.all(hooks));
      if (timedOut) log.warn({ timeoutMs }, 'netloom onShutdown hooks did not finish in time');
      sessionsClosed = steps.closeSessions(reason);
      await withinBound(steps.disposeRooms());
      if (timedOut) log.warn({ timeoutMs }, 'netloom shutdown bound reached; continuing without waiting');
    } catch (err) {
      log.error({ err }, 'netloom shutdown step failed');
    } finally {
      clock.clearTimeout(timer);
      this.current = 'stopped';
    }
    log.info({ timedOut, hookErrors, sessionsClosed }, 'netloom shut down');
    return { timedOut, hookErrors, sessionsClosed };
  }
}

/**
 * Installs SIGTERM/SIGINT handlers that shut the server down gracefully and then exit the process
 * (exit code 0, or 1 when the shutdown failed). A second signal exits at once. Returns the uninstaller.
 */
export function handleSignals(
  signals: readonly NodeJS.Signals[],
  shutdown: () => Promise<unknown>,
  log: Logger,
): () => void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      log.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    stopping = true;
    log.info({ signal }, 'signal received: shutting down');
    shutdown().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  for (const signal of signals) process.on(signal, onSignal);
  return () => {
    for (const signal of signals) process.off(signal, onSignal);
  };
}

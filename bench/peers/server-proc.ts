// Runs bench/peers/server.ts as a forked child (pinned to CPU 0 when possible): its port, its metrics over IPC, its CPU from /proc.
import { type ChildProcess, fork, spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type ProcCpu, processCpu } from '../arena/proc.js';
import type { ServerCommand, ServerReply } from './protocol.js';

const HERE = dirname(fileURLToPath(import.meta.url));

/** Pins `pid` (all its threads) to `cpu`; false when taskset is missing or the machine has one core. */
export function pin(pid: number, cpu: number): boolean {
  if (availableParallelism() < 2) return false;
  return spawnSync('taskset', ['-a', '-p', '-c', String(cpu), String(pid)], { stdio: 'ignore' }).status === 0;
}

export class ServerProc {
  private nextId = 1;
  private readonly waiting = new Map<number, (metrics: Record<string, number>) => void>();
  readonly exited: Promise<void>;

  private constructor(
    private readonly child: ChildProcess,
    readonly port: number,
    readonly pinned: boolean,
  ) {
    child.on('message', (raw) => {
      const reply = raw as ServerReply;
      if (reply.event === 'metrics') {
        this.waiting.get(reply.id)?.(reply.metrics);
        this.waiting.delete(reply.id);
      }
    });
    this.exited = new Promise((done) => child.once('exit', () => done()));
  }

  /** Forks the server and resolves once it listens. */
  static async start(cpu: number | null): Promise<ServerProc> {
    const child = fork(resolve(HERE, 'server.ts'), [], {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const port = await new Promise<number>((done, fail) => {
      const timer = setTimeout(() => fail(new Error('bench server did not start within 20 s')), 20_000);
      child.once('exit', (code) => fail(new Error(`bench server exited (${code})`)));
      child.on('message', (raw) => {
        const reply = raw as ServerReply;
        if (reply.event !== 'ready') return;
        clearTimeout(timer);
        done(reply.port);
      });
    });
    const pinned = cpu !== null && child.pid !== undefined && pin(child.pid, cpu);
    return new ServerProc(child, port, pinned);
  }

  get pid(): number {
    return this.child.pid ?? 0;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** The server's `app.netloom.metrics()`. */
  metrics(): Promise<Record<string, number>> {
    const id = this.nextId++;
    return new Promise((done, fail) => {
      const timer = setTimeout(() => fail(new Error('bench server did not answer metrics')), 10_000);
      this.waiting.set(id, (metrics) => {
        clearTimeout(timer);
        done(metrics);
      });
      this.send({ cmd: 'metrics', id });
    });
  }

  /** User and kernel CPU seconds of the server process so far. */
  cpu(): ProcCpu {
    return processCpu(this.pid);
  }

  /** Asks the server to close, SIGKILL after `graceMs`; resolves once it exited. */
  async stop(graceMs = 5_000): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.send({ cmd: 'stop' });
    const timer = setTimeout(() => {
      if (this.child.exitCode === null && this.child.pid !== undefined)
        process.kill(this.child.pid, 'SIGKILL');
    }, graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  private send(command: ServerCommand): void {
    if (this.child.connected) this.child.send(command);
  }
}

// Test helper: a private network namespace with a veth pair in 198.51.100.0/24 (both ends inside), for peer-to-peer tests.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Why peer-to-peer tests cannot run here, or null when they can (root and `ip` from iproute2). */
export async function netnsUnavailable(): Promise<string | null> {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) {
    return 'needs root: creating a network namespace (ip netns add) requires it';
  }
  try {
    await run('ip', ['-V']);
  } catch {
    return 'needs `ip` from iproute2 (apt-get install -y iproute2)';
  }
  return null;
}

export interface Netns {
  /** The namespace's name (`ip netns exec <name> ...`). */
  name: string;
  /** The address servers inside listen on and browsers inside reach (198.51.100.10). */
  address: string;
  /** An executable that runs Chromium inside the namespace, for Playwright's `executablePath`. */
  chromium: string;
  /** Starts `command` inside the namespace; the caller stops it (see `stopProcess`). */
  spawn(command: string, args: string[], env?: NodeJS.ProcessEnv): ChildProcess;
  /** Stops what it started, deletes the namespace (and with it the veth pair) and its temp files. */
  destroy(): Promise<void>;
}

/**
 * Makes namespace `netloom-<pid>-<n>` holding a veth pair whose two ends are both inside it
 * (198.51.100.10/24 and 198.51.100.11/24), `lo` up and a default route through the second end.
 * Chromium gathers host candidates only with a non-loopback interface and a default route
 * (FIELD-NOTES, werift section); with both ends inside, no packet can leave the namespace.
 */
let made = 0;
export async function createNetns(chromiumPath = '/usr/bin/chromium'): Promise<Netns> {
  const name = `netloom-${process.pid}-${made++}`;
  const a = `nla${process.pid % 10_000}${made}`;
  const b = `nlb${process.pid % 10_000}${made}`;
  const dir = await mkdtemp(join(tmpdir(), 'netloom-netns-'));
  const children = new Set<ChildProcess>();
  await run('ip', ['netns', 'add', name]);
  const inside = (...args: string[]) => run('ip', ['netns', 'exec', name, 'ip', ...args]);
  try {
    await inside('link', 'add', a, 'type', 'veth', 'peer', 'name', b);
    await inside('addr', 'add', '198.51.100.10/24', 'dev', a);
    await inside('addr', 'add', '198.51.100.11/24', 'dev', b);
    await inside('link', 'set', 'lo', 'up');
    await inside('link', 'set', a, 'up');
    await inside('link', 'set', b, 'up');
    await inside('route', 'add', 'default', 'via', '198.51.100.11', 'dev', a);
  } catch (err) {
    await run('ip', ['netns', 'delete', name]).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  const chromium = join(dir, 'chromium-in-netns');
  await writeFile(chromium, `#!/bin/sh\nexec ip netns exec ${name} ${chromiumPath} "$@"\n`);
  await chmod(chromium, 0o755);
  return {
    name,
    address: '198.51.100.10',
    chromium,
    spawn(command, args, env) {
      const child = spawn('ip', ['netns', 'exec', name, command, ...args], {
        env: { ...process.env, ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      children.add(child);
      child.once('exit', () => children.delete(child));
      return child;
    },
    async destroy() {
      await Promise.all([...children].map((child) => stopProcess(child)));
      await run('ip', ['netns', 'delete', name]).catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the process exited. */
export async function stopProcess(child: ChildProcess, graceMs = 3_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

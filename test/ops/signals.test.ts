// handleSignals: a real child process gets SIGTERM, shuts down gracefully (clients told, rooms disposed) and exits 0.
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import type { Client } from '../../src/client/index.js';
import { echoProtocol } from '../helpers/echo-room.js';
import { nodeClient, until } from '../helpers/netloom.js';

const fixture = fileURLToPath(new URL('./fixtures/signal-server.ts', import.meta.url));
let child: ChildProcess | null = null;
let client: Client | null = null;

afterEach(() => {
  client?.close();
  if (child && child.exitCode === null) child.kill('SIGKILL');
});

describe('handleSignals', () => {
  it('shuts down on SIGTERM: onShutdown runs, the client hears server_shutdown, rooms dispose, exit code 0', async () => {
    const proc = spawn(process.execPath, ['--import', 'tsx', fixture], { stdio: ['ignore', 'pipe', 'pipe'] });
    child = proc;
    let out = '';
    proc.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
    });
    proc.stderr?.on('data', (d: Buffer) => {
      out += d.toString();
    });
    const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
    await until(() => /port:\d+/.test(out), 15_000, 'the child server');
    const port = Number(/port:(\d+)/.exec(out)?.[1]);

    client = nodeClient(`http://127.0.0.1:${port}`);
    const room = await client.joinOrCreate('echo', {}, { protocol: echoProtocol });
    let leave = '';
    room.on('leave', (l) => {
      leave = l.code;
    });

    proc.kill('SIGTERM');
    expect(await exited).toBe(0);
    await until(() => leave !== '', 5_000, 'leave');
    expect(leave).toBe('server_shutdown');
    expect(out).toContain('hook:onShutdown');
    expect(out).toContain('exit:0:disposed=1');
  });
});

// The STUN proof: in a network namespace with a default route, netloom's peers send nothing outside it.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * Namespace A holds the peers: loopback, plus one end of a veth pair with 198.51.100.10/24 and a default
 * route via 198.51.100.1. Namespace B holds the other end (198.51.100.1) and nothing else, so whatever A
 * sends to any address outside itself (a STUN server, a DNS server, anything) leaves through the veth
 * interface and is counted by the kernel in its tx_packets, and goes no further than B. IPv6 is off in
 * both, so the kernel itself sends nothing (no router solicitations). Traffic between the peers stays on
 * A's loopback (198.51.100.10 is a local address), so it is not counted there.
 */
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
const tag = `nl${process.pid}`;
const NS_A = `${tag}a`;
const NS_B = `${tag}b`;
const VETH_A = `${tag}va`;
const VETH_B = `${tag}vb`;
const CHILD = fileURLToPath(new URL('./netns-child.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

function ip(...args: string[]): string {
  return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function inA(...command: string[]): string {
  return ip('netns', 'exec', NS_A, ...command);
}

function txPackets(): number {
  return Number(inA('cat', `/sys/class/net/${VETH_A}/statistics/tx_packets`).trim());
}

/** UDP datagrams sent by anything in namespace A (loopback included), from /proc/net/snmp. */
function udpOutDatagrams(): number {
  const lines = inA('cat', '/proc/net/snmp')
    .split('\n')
    .filter((line) => line.startsWith('Udp:'));
  const names = lines[0].split(/\s+/);
  const values = lines[1].split(/\s+/);
  return Number(values[names.indexOf('OutDatagrams')]);
}

function startChild(mode: string): {
  child: ChildProcess;
  output: Promise<{ code: number | null; lines: string[] }>;
} {
  const child = spawn('ip', ['netns', 'exec', NS_A, process.execPath, '--import', 'tsx', CHILD, mode], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const output = new Promise<{ code: number | null; lines: string[] }>((resolve) => {
    child.on('exit', (code) => {
      if (code !== 0 && code !== null) console.error(`netns child (${mode}) stderr:\n${stderr}`);
      resolve({ code, lines: stdout.split('\n').filter(Boolean) });
    });
  });
  return { child, output };
}

function removeNamespaces(): void {
  for (const ns of [NS_A, NS_B]) {
    try {
      ip('netns', 'del', ns);
    } catch {
      // not created
    }
  }
}

const children: ChildProcess[] = [];

/** Kills a child this test started, unless it has already ended. */
function stop(child: ChildProcess): void {
  if (child.exitCode !== null || child.signalCode !== null) return;
  try {
    child.kill('SIGKILL');
  } catch {
    // already gone
  }
}

if (!isRoot) {
  console.warn(
    'test/webrtc/netns.test.ts: SKIPPED, not root. Creating network namespaces needs root; CI runs as root, where it runs.',
  );
}

describe.skipIf(!isRoot)(
  'WebRTC peers in a network namespace with a default route (root only: skipped otherwise)',
  () => {
    beforeAll(() => {
      if (!existsSync('/usr/sbin/ip') && !existsSync('/sbin/ip') && !existsSync('/usr/bin/ip'))
        throw new Error('this test needs iproute2 (`apt-get install -y iproute2`)');
      removeNamespaces();
      ip('netns', 'add', NS_A);
      ip('netns', 'add', NS_B);
      ip('link', 'add', VETH_A, 'netns', NS_A, 'type', 'veth', 'peer', 'name', VETH_B, 'netns', NS_B);
      for (const ns of [NS_A, NS_B]) {
        ip(
          'netns',
          'exec',
          ns,
          'sysctl',
          '-qw',
          'net.ipv6.conf.all.disable_ipv6=1',
          'net.ipv6.conf.default.disable_ipv6=1',
        );
        ip('-n', ns, 'link', 'set', 'lo', 'up');
      }
      ip('-n', NS_A, 'addr', 'add', '198.51.100.10/24', 'dev', VETH_A);
      ip('-n', NS_B, 'addr', 'add', '198.51.100.1/24', 'dev', VETH_B);
      ip('-n', NS_A, 'link', 'set', VETH_A, 'up');
      ip('-n', NS_B, 'link', 'set', VETH_B, 'up');
      ip('-n', NS_A, 'route', 'add', 'default', 'via', '198.51.100.1', 'dev', VETH_A);
    });

    afterAll(() => {
      for (const child of children) stop(child);
      removeNamespaces();
      const left = ip('netns', 'list');
      expect(left).not.toContain(NS_A);
      expect(left).not.toContain(NS_B);
    });

    it('has a default route out of the namespace', () => {
      expect(ip('-n', NS_A, 'route', 'show', 'default')).toContain('via 198.51.100.1');
    });

    it('connects a server peer and a client peer without sending a packet outside the namespace', async () => {
      const txBefore = txPackets();
      const udpBefore = udpOutDatagrams();
      const { child, output } = startChild('netloom');
      children.push(child);
      const { code, lines } = await output;
      expect(code).toBe(0);
      const result = JSON.parse(lines[lines.length - 1]) as {
        ok: boolean;
        setupMs: number;
        frames: string[];
        answerCandidates: string[];
        offerCandidates: string[];
      };
      expect(result.ok).toBe(true);
      expect(result.frames).toContain('reliable:1');
      expect(result.frames).toContain('unreliable:2');
      // The server gathered the namespace's interface address (so a default route was there to tempt it).
      expect(result.answerCandidates).toContain('198.51.100.10');
      expect(result.answerCandidates.every((a) => a === '198.51.100.10' || a === '127.0.0.1')).toBe(true);
      // Traffic happened in the namespace (ICE, DTLS, SCTP over loopback) ...
      expect(udpOutDatagrams()).toBeGreaterThan(udpBefore + 10);
      // ... and not one packet left it: no STUN query, no DNS lookup, nothing to any outside address.
      expect(txPackets()).toBe(txBefore);
      console.log(
        `netns: netloom peers connected in ${result.setupMs.toFixed(0)} ms with no outside traffic`,
      );
    });

    it('would have seen werift with its defaults go outside (the counter observes real packets)', async () => {
      const txBefore = txPackets();
      const { child, output } = startChild('werift-defaults');
      children.push(child);
      const deadline = Date.now() + 15_000;
      while (txPackets() === txBefore && Date.now() < deadline && child.exitCode === null) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      const txAfter = txPackets();
      stop(child);
      await output;
      expect(txAfter).toBeGreaterThan(txBefore);
    });
  },
);

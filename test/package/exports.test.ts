// The published shape: `npm run build` emits dist/, and the subpath exports load with their public names.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

describe('package exports', () => {
  it('builds and loads netloom/server, netloom/client, netloom/codec and netloom/signaling', () => {
    execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], {
      stdio: 'pipe',
    });
    const script = `
      const server = await import('netloom/server');
      const client = await import('netloom/client');
      const codec = await import('netloom/codec');
      const signaling = await import('netloom/signaling');
      const nodeWebRtc = await import('netloom/client/node-webrtc');
      console.log(JSON.stringify({
        server: ['createServer', 'defineRoom', 'memoryDriver', 'netloom'].filter((k) => typeof server[k] === 'function'),
        client: ['Client', 'Room', 'conditionLink'].filter((k) => typeof client[k] === 'function'),
        codec: ['defineProtocol', 'decodeFrame'].filter((k) => typeof codec[k] === 'function').concat(typeof codec.p?.object === 'function' ? ['p'] : []),
        signaling: typeof signaling.DEFAULT_MAX_SDP_BYTES,
        nodeWebRtc: typeof nodeWebRtc.weriftPeerConnection,
      }));`;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(JSON.parse(out)).toEqual({
      server: ['createServer', 'defineRoom', 'memoryDriver', 'netloom'],
      client: ['Client', 'Room', 'conditionLink'],
      codec: ['defineProtocol', 'decodeFrame', 'p'],
      signaling: 'number',
      nodeWebRtc: 'function',
    });
  }, 120_000);
});

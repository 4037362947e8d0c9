// The published shape: `npm run build` emits dist/, and the four subpath exports load with their public names.
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
      console.log(JSON.stringify({
        server: ['createServer', 'defineRoom', 'memoryDriver', 'netloom'].filter((k) => typeof server[k] === 'function'),
        client: ['Client', 'Room', 'conditionLink'].filter((k) => typeof client[k] === 'function'),
        codec: ['defineProtocol', 'decodeFrame'].filter((k) => typeof codec[k] === 'function').concat(typeof codec.p?.object === 'function' ? ['p'] : []),
        signaling: typeof signaling.DEFAULT_MAX_SDP_BYTES,
      }));`;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(JSON.parse(out)).toEqual({
      server: ['createServer', 'defineRoom', 'memoryDriver', 'netloom'],
      client: ['Client', 'Room', 'conditionLink'],
      codec: ['defineProtocol', 'decodeFrame', 'p'],
      signaling: 'number',
    });
  }, 120_000);
});

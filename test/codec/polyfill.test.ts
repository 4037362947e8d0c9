// netloom/codec loads on Node 20 without the user installing a Float16Array polyfill.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));

describe('Float16Array polyfill', () => {
  it('lets a fresh Node process import the codec entry and use float16 schemas', async () => {
    const script = `
      const before = typeof globalThis.Float16Array;
      const { p, build, defineProtocol } = await import('./src/codec/index.ts');
      const proto = defineProtocol({ client: { h: p.object({ v: p.float16() }) }, server: {} });
      const { op, payload } = proto.client.encode('h', { v: 1.5 });
      const out = proto.client.decode(op, payload).value.v;
      const raw = build(p.float16()).unpack(build(p.float16()).pack(-2.25));
      console.log(JSON.stringify({ before, after: typeof globalThis.Float16Array, out, raw }));
    `;
    const stdout = await new Promise<string>((resolve, reject) => {
      execFile(
        process.execPath,
        ['--import', 'tsx', '--input-type=module', '-e', script],
        { cwd: root, timeout: 60_000 },
        (err, out, errOut) => (err ? reject(new Error(`${err.message}\n${errOut}`)) : resolve(out)),
      );
    });
    const result = JSON.parse(stdout.trim().split('\n').pop() ?? '{}');
    const nodeMajor = Number(process.versions.node.split('.')[0]);
    if (nodeMajor < 24) expect(result.before).toBe('undefined');
    expect(result).toMatchObject({ after: 'function', out: 1.5, raw: -2.25 });
  });
});

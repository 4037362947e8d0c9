// The browser client bundles for the browser with no Node built-ins and no Node-only packages.
import { builtinModules } from 'node:module';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';

async function bundle(entryPoints: string[]) {
  const nodeImports: string[] = [];
  const result = await build({
    entryPoints,
    bundle: true,
    write: false,
    platform: 'browser',
    format: 'esm',
    outdir: 'out',
    metafile: true,
    logLevel: 'silent',
    plugins: [
      {
        name: 'refuse-node',
        setup(b) {
          const builtins = new Set(builtinModules);
          b.onResolve({ filter: /.*/ }, (args) => {
            const bare = args.path.replace(/^node:/, '').split('/')[0];
            if (args.path.startsWith('node:') || builtins.has(bare) || bare === 'ws') {
              nodeImports.push(`${args.importer} -> ${args.path}`);
              return { path: args.path, external: true };
            }
            return undefined;
          });
        },
      },
    ],
  });
  return { result, nodeImports };
}

describe('netloom/client bundle', () => {
  it('bundles for platform browser with no Node built-in imports', async () => {
    const { result, nodeImports } = await bundle(['src/client/index.ts', 'src/codec/index.ts']);
    expect(result.errors).toEqual([]);
    expect(nodeImports).toEqual([]);
    const inputs = Object.keys(result.metafile.inputs);
    expect(inputs.some((i) => i.includes('src/server/'))).toBe(false);
    const js = result.outputFiles.map((f) => f.text).join('\n');
    expect(js).not.toMatch(/\brequire\(/);
    expect(js).not.toMatch(/\bBuffer\./);
  });

  it('the detector does see Node imports (checked on the server entry)', async () => {
    const { nodeImports } = await bundle(['src/server/index.ts']);
    expect(nodeImports.some((i) => i.endsWith('src/server/seats.ts -> node:crypto'))).toBe(true);
  });
});

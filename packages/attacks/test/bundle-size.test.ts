/**
 * Tree-shaking: an app that imports only `fgsm` and `fromLayersModel` must not carry every attack
 * nor a copy of tfjs-core's gradient registrations. The app is bundled with esbuild as a browser
 * app would be (minified, ESM, tfjs packages external: they are the app's own dependencies and are
 * not advx code), gzipped, and the advx code must stay under 20 KB — from the sources and, once
 * built, from dist/ through the published exports maps (the case users get).
 */
import { build, type Metafile } from 'esbuild';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const distBuilt = existsSync(join(root, 'dist', 'fgsm.js')) && existsSync(join(root, '..', 'core', 'dist', 'register-gradients.node.js'));
const LIMIT_GZIP_BYTES = 20 * 1024;
/** A bundle that imports tfjs-core's own gradient registrations (minified: no space after `import`). */
const IMPORTS_TFJS_GRADIENTS = /import\s*"@tensorflow\/tfjs-core\/dist\/register_all_gradients(\.js)?"/;

const APP = `
import { fgsm } from '@advx/attacks';
import { fromLayersModel } from '@advx/core';
export const app = { fgsm, fromLayersModel };
`;

/** How many gradient configs (`gradFunc`) a bundle holds: tfjs-core's registrations have over 100. */
function gradientConfigs(code: string): number {
  return code.match(/gradFunc/g)?.length ?? 0;
}

async function bundleApp(conditions: string[], platform: 'browser' | 'node' = 'browser'): Promise<{ code: string; gzip: number; inputs: string[] }> {
  const out = await build({
    stdin: { contents: APP, resolveDir: root, loader: 'ts' },
    bundle: true,
    write: false,
    minify: true,
    platform,
    format: 'esm',
    conditions,
    external: ['@tensorflow/*'],
    metafile: true,
    logLevel: 'silent',
  });
  const code = out.outputFiles[0]?.text ?? '';
  const meta: Metafile = out.metafile;
  const inputs = Object.entries(Object.values(meta.outputs)[0]?.inputs ?? {})
    .filter(([, v]) => v.bytesInOutput > 0)
    .map(([k]) => k);
  return { code, gzip: gzipSync(code).length, inputs };
}

function checkApp({ code, gzip, inputs }: Awaited<ReturnType<typeof bundleApp>>, label: string): void {
  process.stdout.write(`fgsm + fromLayersModel (${label}): ${(code.length / 1024).toFixed(1)} KB minified, ${(gzip / 1024).toFixed(1)} KB gzipped\n`);
  expect(gzip).toBeLessThan(LIMIT_GZIP_BYTES);
  // Only fgsm's own module among the attack files (helpers under internal/ are fgsm's engine).
  const attackFiles = inputs.filter((f) => /attacks[\\/](src|dist)[\\/][^\\/]+\.(ts|js)$/.test(f)).map((f) => f.replace(/^.*[\\/]/, ''));
  expect(attackFiles).toEqual([label === 'sources' ? 'fgsm.ts' : 'fgsm.js']);
  // tfjs-core's gradient registrations are imported from tfjs-core (external here), not copied.
  expect(code).toMatch(IMPORTS_TFJS_GRADIENTS);
  expect(gradientConfigs(code)).toBeLessThan(5);
  // The app still has everything it asked for: the attack's name and the adapter's softmax check.
  expect(code).toContain('"fgsm"');
}

describe('tree-shaking: fgsm + fromLayersModel', () => {
  it('from the sources: under 20 KB gzipped of advx code, one attack, no gradient copy', async () => {
    checkApp(await bundleApp(['@advx/source']), 'sources');
  });

  it.skipIf(!distBuilt)('from dist/ through the exports maps (skipped before `npm run build`)', async () => {
    checkApp(await bundleApp([]), 'dist');
  });

  it.skipIf(!distBuilt)("bundled for Node, dist/ keeps its copy of the gradient registrations (Node cannot load tfjs-core's)", async () => {
    const { code } = await bundleApp([], 'node');
    expect(code).not.toMatch(IMPORTS_TFJS_GRADIENTS);
    expect(gradientConfigs(code)).toBeGreaterThan(100);
  });

  it.skipIf(!distBuilt)('every attack together is over the limit (so the limit tells the two apart)', async () => {
    const out = await build({
      stdin: { contents: "export * from '@advx/attacks';", resolveDir: root, loader: 'ts' },
      bundle: true,
      write: false,
      minify: true,
      platform: 'browser',
      format: 'esm',
      external: ['@tensorflow/*'],
      logLevel: 'silent',
    });
    const gzip = gzipSync(out.outputFiles[0]?.text ?? '').length;
    expect(gzip).toBeGreaterThan(LIMIT_GZIP_BYTES);
  });
});

/**
 * Browser builds of apps that use each advx package: esbuild (`platform: 'browser'`, which fails on
 * any Node built-in) on the sources and, once built, on dist/ through the exports maps; and one Vite
 * production build of an app that uses every package meant for browsers. `@advx/models-zoo` reads
 * its files through `#platform` (node:fs in Node, fetch and Web Crypto in browsers); `@advx/eval`'s
 * browser entry is `@advx/eval` (evaluate, autoAttack, reports), the command line and file store are
 * `@advx/eval/node`.
 */
import { build as esbuild } from 'esbuild';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build as viteBuild, type Rollup } from 'vite';
import { describe, expect, it } from 'vitest';

const packages = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const BROWSER_PACKAGES = ['core', 'attacks', 'defenses', 'detectors', 'eval', 'backend-wasm', 'backend-webgpu', 'models-zoo'] as const;
const distBuilt = BROWSER_PACKAGES.every((p) => existsSync(join(packages, p, 'dist', 'index.js')));

/** One app per package: uses every export, so that nothing is tree-shaken away unseen. */
function appFor(pkg: string): string {
  return `import * as m from '@advx/${pkg}';\nexport const used = Object.values(m);\n`;
}

const EVERY_PACKAGE_APP = `
import * as tf from '@tensorflow/tfjs-core';
import { fromFunction } from '@advx/core';
import { fgsm } from '@advx/attacks';
import { bitDepth } from '@advx/defenses';
import { renderHeatmapPng } from '@advx/detectors';
import { evaluate, renderMarkdown } from '@advx/eval';
import { useWasm } from '@advx/backend-wasm';
import { useWebGPU } from '@advx/backend-webgpu';
import { loadDataset, loadModel } from '@advx/models-zoo';
(globalThis as Record<string, unknown>).advxApp = { tf, fromFunction, fgsm, bitDepth, renderHeatmapPng, evaluate, renderMarkdown, useWasm, useWebGPU, loadDataset, loadModel };
`;

async function bundleForBrowser(contents: string, conditions: string[]) {
  const out = await esbuild({
    stdin: { contents, resolveDir: join(packages, 'eval'), loader: 'ts' },
    bundle: true,
    write: false,
    platform: 'browser',
    format: 'esm',
    conditions,
    // tfjs is the app's own dependency (and bundles for browsers itself); only advx code is checked.
    external: ['@tensorflow/*'],
    logLevel: 'silent',
  });
  return out.outputFiles[0]?.text ?? '';
}

/** Node's built-ins, as import specifiers a browser bundle must not contain. */
const NODE_BUILTIN =
  /\b(?:from|import|require)\s*\(?\s*["'](?:node:)?(?:fs|fs\/promises|path|os|module|crypto|zlib|stream|util|url|child_process|worker_threads)["']/;

describe('browser bundles (esbuild) of an app using each package', () => {
  for (const pkg of BROWSER_PACKAGES) {
    it(`@advx/${pkg} from the sources`, async () => {
      const code = await bundleForBrowser(appFor(pkg), ['@advx/source']);
      expect(code.length).toBeGreaterThan(1000);
      expect(code).not.toMatch(NODE_BUILTIN);
    });
    it.skipIf(!distBuilt)(`@advx/${pkg} from dist/ (skipped before \`npm run build\`)`, async () => {
      const code = await bundleForBrowser(appFor(pkg), []);
      expect(code.length).toBeGreaterThan(1000);
      expect(code).not.toMatch(NODE_BUILTIN);
    });
  }

  it('the check can fail: @advx/eval/node is Node-only and does not bundle for browsers', async () => {
    for (const entry of ['@advx/eval/node']) {
      const error = await bundleForBrowser(`import * as m from '${entry}'; export const used = Object.values(m);`, ['@advx/source']).then(
        () => null,
        (e: unknown) => e,
      );
      const messages = ((error as { errors?: { text: string }[] } | null)?.errors ?? []).map((e) => e.text);
      expect(messages.some((m) => /Could not resolve "(node:)?(fs|path|crypto|module|os|url|zlib)/.test(m))).toBe(true);
    }
  });

  it.skipIf(!distBuilt)('@advx/backend-wasm: the browser build has no Node code, the Node build does (the node condition of #platform)', async () => {
    const browser = await bundleForBrowser(appFor('backend-wasm'), []);
    expect(browser).toContain('this is the browser build of @advx/backend-wasm');
    expect(browser).not.toContain('advx-tfjs-wasm-');
    const node = await esbuild({
      stdin: { contents: appFor('backend-wasm'), resolveDir: join(packages, 'eval'), loader: 'ts' },
      bundle: true,
      write: false,
      platform: 'node',
      format: 'esm',
      external: ['@tensorflow/*'],
      logLevel: 'silent',
    });
    const nodeCode = node.outputFiles[0]?.text ?? '';
    expect(nodeCode).toContain('advx-tfjs-wasm-');
    expect(nodeCode).not.toContain('this is the browser build of @advx/backend-wasm');
  });
});

describe('@advx/models-zoo: the #platform seam', () => {
  for (const [from, conditions] of [
    ['sources', ['@advx/source']],
    ['dist/', []],
  ] as const) {
    it.skipIf(from === 'dist/' && !distBuilt)(`the browser bundle from ${from} fetches and uses Web Crypto, the Node one reads files`, async () => {
      const browser = await bundleForBrowser(appFor('models-zoo'), [...conditions]);
      expect(browser).toContain('crypto.subtle.digest');
      expect(browser).toContain('DecompressionStream');
      expect(browser).not.toContain('createHash');
      const node = await esbuild({
        stdin: { contents: appFor('models-zoo'), resolveDir: join(packages, 'eval'), loader: 'ts' },
        bundle: true,
        write: false,
        platform: 'node',
        format: 'esm',
        conditions: [...conditions],
        external: ['@tensorflow/*'],
        logLevel: 'silent',
      });
      const nodeCode = node.outputFiles[0]?.text ?? '';
      expect(nodeCode).toContain('createHash');
      expect(nodeCode).not.toContain('crypto.subtle.digest');
    });
  }
});

describe('Vite production build of an app using every browser package', () => {
  it.skipIf(!distBuilt)('builds from dist/ through the exports maps, with no Node built-in left', async () => {
    // Inside the workspace, so that the app resolves the workspace's packages as an installed app would.
    const cache = join(packages, '..', 'node_modules', '.cache');
    mkdirSync(cache, { recursive: true });
    const root = mkdtempSync(join(cache, 'advx-vite-app-'));
    try {
      writeFileSync(join(root, 'main.ts'), EVERY_PACKAGE_APP);
      writeFileSync(join(root, 'index.html'), '<!doctype html><script type="module" src="./main.ts"></script>\n');
      const warnings: string[] = [];
      const result = await viteBuild({
        root,
        configFile: false,
        logLevel: 'silent',
        build: {
          write: false,
          minify: false,
          rollupOptions: {
            input: join(root, 'index.html'),
            external: [/^@tensorflow\//],
            onwarn: (w) => {
              warnings.push(w.message);
            },
          },
        },
        customLogger: {
          info: () => undefined,
          warn: (msg) => warnings.push(msg),
          warnOnce: (msg) => warnings.push(msg),
          error: (msg) => warnings.push(msg),
          clearScreen: () => undefined,
          hasErrorLogged: () => false,
          hasWarned: false,
        },
      });
      const outputs = (Array.isArray(result) ? result : [result]) as Rollup.RollupOutput[];
      const chunks = outputs.flatMap((o) => o.output).filter((c): c is Rollup.OutputChunk => c.type === 'chunk');
      const code = chunks.map((c) => c.code).join('\n');
      expect(code).toContain('renderHeatmapPng');
      // Vite resolved backend-wasm's #platform import to the browser stand-in, and fast-png was bundled.
      expect(code).toContain('this is the browser build of @advx/backend-wasm');
      expect(code).not.toContain('advx-tfjs-wasm-');
      expect(code).toMatch(/IHDR/);
      // models-zoo's #platform resolved to its browser side (fetch, Web Crypto).
      expect(code).toContain('crypto.subtle.digest');
      expect(code).not.toMatch(NODE_BUILTIN);
      // Rollup turns an unresolved import into a warning under onwarn, and Vite stubs a Node built-in a
      // browser module imports (with a warning) instead of failing: none allowed.
      expect(warnings.filter((w) => /resolve|externalized|__vite-browser-external/i.test(w))).toEqual([]);
      expect(code).not.toContain('__vite-browser-external');
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

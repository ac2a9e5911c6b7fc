/**
 * Headless Chromium (Debian's /usr/bin/chromium through playwright-core): the page runs the input
 * gradient and one PGD step of a small seeded conv net on wasm and on webgpu (SwiftShader, the only
 * adapter headless Chromium offers here), and both agree with this Node process's cpu backend; without
 * --enable-unsafe-webgpu, useWebGPU fails with BACKEND_UNAVAILABLE and says which flag is missing.
 */
import * as tf from '@tensorflow/tfjs-core';
import { build } from 'esbuild';
import { createServer, type Server } from 'node:http';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { PageResult } from './browser/page.js';
import { gradientAndPgdStep, type Computed } from './browser/net.js';

const CHROMIUM = process.env.ADVX_CHROMIUM ?? '/usr/bin/chromium';
const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../../..');
const wasmDir = path.join(root, 'node_modules/@tensorflow/tfjs-backend-wasm/dist');

let server: Server;
let origin = '';
let bundle = '';

beforeAll(async () => {
  const out = await build({
    entryPoints: [path.join(here, 'browser/page.ts')],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    conditions: ['@advx/source'],
    logLevel: 'silent',
  });
  bundle = out.outputFiles[0]!.text;
  const html = '<!doctype html><meta charset="utf-8"><title>advx webgpu</title><script type="module" src="/page.js"></script>';
  server = createServer((req, res) => {
    // Cross-origin isolation, as wasm threads need it in a real deployment.
    res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
    res.setHeader('Cross-Origin-Embedder-Policy', 'require-corp');
    const url = req.url ?? '/';
    if (url === '/') res.writeHead(200, { 'content-type': 'text/html' }).end(html);
    else if (url === '/page.js') res.writeHead(200, { 'content-type': 'text/javascript' }).end(bundle);
    else if (url.startsWith('/wasm/') && existsSync(path.join(wasmDir, path.basename(url)))) {
      res.writeHead(200, { 'content-type': 'application/wasm' }).end(readFileSync(path.join(wasmDir, path.basename(url))));
    } else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  origin = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`;
});
afterAll(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
});

/** The same computation in this process, on the cpu backend. */
async function onCpu(): Promise<Computed> {
  const previous = tf.getBackend();
  await tf.setBackend('cpu');
  const computed = await gradientAndPgdStep();
  await tf.setBackend(previous);
  return computed;
}

const maxAbs = (a: number[], b: number[]) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - (b[i] as number))), 0);
const maxOf = (a: number[]) => a.reduce((m, v) => Math.max(m, Math.abs(v)), 0);

const FLAGS = [
  '--headless=new',
  '--no-sandbox',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

describe.skipIf(!existsSync(CHROMIUM))('in headless Chromium', () => {
  it('without --enable-unsafe-webgpu there is no adapter: BACKEND_UNAVAILABLE naming the flag', { timeout: 120_000 }, async () => {
    const browser = await chromium.launchPersistentContext(mkdtempSync(path.join(os.tmpdir(), 'advx-chromium-')), {
      executablePath: CHROMIUM,
      headless: true,
      args: FLAGS,
    });
    try {
      const page = await browser.newPage();
      await page.goto(origin);
      await page.waitForFunction(() => typeof window.advxWebGPUError === 'function');
      const error = await page.evaluate(() => window.advxWebGPUError());
      expect(error).toMatchObject({ name: 'AdvxError', code: 'BACKEND_UNAVAILABLE' });
      expect(error?.message).toMatch(/no WebGPU adapter.*--enable-unsafe-webgpu/);
    } finally {
      await browser.close();
    }
  });

  it('wasm and webgpu in the page give the gradient and PGD step of Node’s cpu backend', { timeout: 180_000 }, async () => {
    const reference = await onCpu();
    const profile = mkdtempSync(path.join(os.tmpdir(), 'advx-chromium-'));
    const browser = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: [...FLAGS, '--enable-unsafe-webgpu'],
    });
    let results: PageResult[];
    try {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(origin);
      await page.waitForFunction(() => typeof window.advxRun === 'function');
      expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
      results = await page.evaluate(() => window.advxRun());
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
    }
    expect(results.map((r) => r.backend)).toEqual(['wasm', 'webgpu']);
    expect(results[1]!.adapter).not.toBe('');
    expect(maxOf(reference.gradient)).toBeGreaterThan(1e-3);
    for (const r of results) {
      expect(r.leaked).toBe(0);
      expect(maxAbs(r.gradient, reference.gradient)).toBeLessThanOrEqual(1e-4 * maxOf(reference.gradient));
      // x + 0.05·sign(∇) projected and clipped: identical but where a gradient entry is ~0.
      const differ = r.adversarial.filter((v, i) => Math.abs(v - (reference.adversarial[i] as number)) > 1e-5).length;
      expect(differ / r.adversarial.length).toBeLessThan(1e-2);
      expect(r.success).toEqual(reference.success);
    }
  });
});

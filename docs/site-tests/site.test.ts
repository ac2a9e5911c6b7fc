/**
 * The built docs site (docs/.vitepress/dist, from `npm run docs`): every internal link and asset of
 * every page resolves, and in headless Chromium (Debian's, through playwright-core) the playground
 * loads, flips a picked digit's prediction, stops a run, and evaluates a zoo model given as files with
 * the CLI's report. Screenshots go to test-artifacts/docs/.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { chromium, selectors, type BrowserContext, type Page } from 'playwright-core';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const dist = path.join(root, 'docs', '.vitepress', 'dist');
const artifacts = path.join(root, 'test-artifacts', 'docs');
const CHROMIUM = process.env.ADVX_CHROMIUM ?? '/usr/bin/chromium';
const TYPES: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.css': 'text/css', '.json': 'application/json', '.wasm': 'application/wasm', '.png': 'image/png', '.svg': 'image/svg+xml', '.gz': 'application/gzip' };

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = path.join(dir, name);
    return statSync(p).isDirectory() ? walk(p) : [p];
  });
}

/** The file a site URL path names, as a static host serves it (`/x` → x.html, `/x/` → x/index.html). */
function fileOf(urlPath: string): string | undefined {
  const clean = decodeURIComponent(urlPath.split(/[?#]/)[0] as string);
  const candidates = clean.endsWith('/') ? [`${clean}index.html`] : [clean, `${clean}.html`];
  return candidates.map((c) => path.join(dist, c)).find((f) => f.startsWith(dist) && existsSync(f) && statSync(f).isFile());
}

describe.skipIf(!existsSync(dist))('the built docs site', () => {
  it('every internal link and asset of every page resolves', () => {
    const pages = walk(dist).filter((f) => f.endsWith('.html'));
    expect(pages.length).toBeGreaterThan(50);
    const missing: string[] = [];
    for (const page of pages) {
      const html = readFileSync(page, 'utf8');
      for (const m of html.matchAll(/(?:href|src)="(\/[^"]*)"/g)) {
        const target = m[1] as string;
        if (target.startsWith('//')) continue;
        if (!fileOf(target)) missing.push(`${path.relative(dist, page)} → ${target}`);
      }
    }
    expect(missing).toEqual([]);
    for (const required of ['playground.html', 'which-attack.html', 'gallery/index.html', 'guides/evaluate-your-model.html', 'api/index.html', 'wasm/tfjs-backend-wasm-simd.wasm', 'zoo/models/mnist-cnn/card.json']) {
      expect(existsSync(path.join(dist, required)), required).toBe(true);
    }
  });

  describe.skipIf(!existsSync(CHROMIUM))('the playground in headless Chromium', () => {
    let server: Server;
    let origin = '';
    let browser: BrowserContext;
    let page: Page;

    beforeAll(async () => {
      mkdirSync(artifacts, { recursive: true });
      selectors.setTestIdAttribute('data-test');
      server = createServer((req, res) => {
        const file = fileOf(new URL(req.url ?? '/', 'http://x').pathname);
        if (!file) {
          res.writeHead(404).end();
          return;
        }
        // Cross-origin isolation, as the site is meant to be served (wasm threads need it).
        res.writeHead(200, { 'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream', 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' });
        res.end(readFileSync(file));
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      browser = await chromium.launchPersistentContext(mkdtempSync(path.join(os.tmpdir(), 'advx-chromium-')), {
        executablePath: CHROMIUM,
        headless: true,
        viewport: { width: 1200, height: 1000 },
        args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      });
      page = await browser.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
      await page.goto(`${origin}/playground.html`);
      try {
        await page.getByTestId('backend').filter({ hasText: 'WebAssembly' }).waitFor({ timeout: 90_000 });
      } catch (err) {
        throw new Error(`the playground did not start: backend "${await page.getByTestId('backend').textContent()}", errors: ${errors.join(' | ')}`, { cause: err });
      }
    });

    afterAll(async () => {
      await browser?.close();
      if (server?.listening) await new Promise((resolve) => server.close(resolve));
    });

    it('loads on WebAssembly (no WebGPU adapter here), cross-origin isolated, and says nothing leaves the page', async () => {
      expect(await page.getByTestId('backend').textContent()).toMatch(/WebAssembly \(SIMD on, \d threads?/);
      expect(await page.evaluate(() => self.crossOriginIsolated)).toBe(true);
      expect(await page.textContent('.privacy')).toContain('no image or model leaves your computer');
    });

    it('an attack on a picked digit flips the prediction, and the page shows it', async () => {
      await page.getByTestId('pick').click();
      await page.getByText(/^label \d$/).waitFor();
      await page.getByTestId('attack').selectOption('pgd');
      await page.getByTestId('epsilon').fill('0.3');
      await page.getByTestId('run').click();
      await page.getByTestId('outcome').filter({ hasText: /flipped|did not/ }).waitFor({ timeout: 120_000 });
      const before = Number(await page.getByTestId('before').textContent());
      const after = Number(await page.getByTestId('after').textContent());
      const label = Number((await page.getByText(/^label \d$/).textContent())?.slice(6));
      expect(before).toBe(label);
      expect(after).not.toBe(before);
      expect(await page.getByTestId('outcome').textContent()).toBe('the prediction flipped');
      expect(await page.getByTestId('status').textContent()).toMatch(/Linf of the change 0\.(2\d\d|300)/);
      await page.screenshot({ path: path.join(artifacts, 'playground-attack.png'), fullPage: true });
    });

    it('the stop button stops a run', async () => {
      await page.getByTestId('attack').selectOption('square');
      await page.getByTestId('epsilon').fill('0.05');
      await page.getByTestId('run').click();
      await page.getByTestId('stop').click();
      await page.getByTestId('status').filter({ hasText: 'stopped' }).waitFor({ timeout: 60_000 });
      expect(await page.getByTestId('run').isEnabled()).toBe(true);
    });

    it('evaluates a zoo model given as files and renders the report', async () => {
      // The zoo's mnist-mlp as a user would give it (model.json + weights), and 8 MNIST digits as PNGs named <label>_<i>.png.
      const dir = mkdtempSync(path.join(os.tmpdir(), 'advx-own-model-'));
      const zooDir = path.join(root, 'packages', 'models-zoo', 'models', 'mnist-mlp');
      const modelFiles = readdirSync(zooDir).filter((f) => f === 'model.json' || f.endsWith('.bin')).map((f) => path.join(zooDir, f));
      const images: string[] = [];
      const digits = await loadDigits(8);
      digits.forEach(({ pixels, label }, i) => {
        const png = new PNG({ width: 28, height: 28 });
        for (let p = 0; p < 784; p++) png.data.set([pixels[p] as number, pixels[p] as number, pixels[p] as number, 255], 4 * p);
        const file = path.join(dir, `${label}_${i}.png`);
        writeFileSync(file, PNG.sync.write(png));
        images.push(file);
      });
      await page.getByTestId('files-plain').setInputFiles([...modelFiles, ...images]);
      await page.getByTestId('report').waitFor({ timeout: 150_000 });
      expect(await page.getByTestId('eval-status').textContent()).toMatch(/^clean accuracy \d+ % on 8 images; robust accuracy /);
      const report = page.frameLocator('[data-test="report"]');
      await report.locator('svg#robustness-plot').waitFor();
      expect(await report.locator('table').count()).toBeGreaterThan(0);
      expect(await report.locator('.example img').count()).toBeGreaterThan(0);
      await page.screenshot({ path: path.join(artifacts, 'playground-own-model.png'), fullPage: true });
      await page.getByTestId('report').screenshot({ path: path.join(artifacts, 'playground-own-model-report.png') });
    });

    it('works offline once loaded: the service worker serves the page, its worker, wasm and the zoo', async () => {
      // The page says so once the service worker has stored what it and its worker loaded.
      try {
        await page.getByTestId('offline').filter({ hasText: /^ · works offline now \(\d+ files/ }).waitFor({ timeout: 120_000 });
      } catch (err) {
        throw new Error(`the page did not say it works offline: "${await page.getByTestId('offline').textContent({ timeout: 1000 }).catch(() => '(no offline line)')}"`, { cause: err });
      }
      // Offline for real: the server goes away (Playwright's offline emulation does not cover service
      // workers, microsoft/playwright#2311), and the page's own requests are cut too.
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await browser.setOffline(true);
      try {
        await page.reload();
        try {
          await page.getByTestId('backend').filter({ hasText: 'WebAssembly' }).waitFor({ timeout: 90_000 });
        } catch (err) {
          const cached = await page.evaluate(async () => (await (await caches.open('advx-site-v1')).keys()).map((r) => r.url));
          throw new Error(`offline: backend "${await page.getByTestId('backend').textContent()}"; cached: ${cached.join(' ')}`, { cause: err });
        }
        await page.getByText(/^label \d$/).waitFor({ timeout: 30_000 });
        await page.getByTestId('attack').selectOption('fgsm');
        await page.getByTestId('run').click();
        await page.getByTestId('outcome').filter({ hasText: /flipped|did not/ }).waitFor({ timeout: 60_000 });
        await page.getByTestId('offline').filter({ hasText: /works offline now/ }).waitFor({ timeout: 30_000 });
      } finally {
        await browser.setOffline(false);
      }
    });
  });
});

/** The first `n` digits of the zoo's MNIST evaluation set, as bytes with their labels (IDX files). */
async function loadDigits(n: number): Promise<{ pixels: Uint8Array; label: number }[]> {
  const { gunzipSync } = await import('node:zlib');
  const data = path.join(root, 'packages', 'models-zoo', 'data');
  const images = gunzipSync(readFileSync(path.join(data, 'mnist-t10k-1000-images-idx3-ubyte.gz')));
  const labels = gunzipSync(readFileSync(path.join(data, 'mnist-t10k-1000-labels-idx1-ubyte.gz')));
  return Array.from({ length: n }, (_, i) => ({ pixels: images.subarray(16 + 784 * i, 16 + 784 * (i + 1)), label: labels[8 + i] as number }));
}

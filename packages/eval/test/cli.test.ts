/**
 * End to end: the `advx` command on the zoo's mnist-cnn (wasm, a few dozen shipped MNIST images), its
 * reports checked in headless Chromium, errors, interrupt + resume, shards + merge.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { useWasm } from '@advx/backend-wasm';

import { runCli, type CliIo } from '../src/node/run-cli.js';
import type { EvaluationResult } from '../src/types.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'advx-eval-cli-'));
const artifacts = path.resolve(__dirname, '../../../test-artifacts');
const CHROMIUM = process.env.ADVX_CHROMIUM ?? '/usr/bin/chromium';
const SMALL = ['--n', '24', '--batch-size', '12', '--attacks', 'fgsm,pgd:steps=10:relStepSize=0.1', '--eps', '0.1,0.3', '--examples', '2'];

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function cli(args: string[], onStderr?: (text: string) => void): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const controller = new AbortController();
  const io: CliIo = {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: {
      write: (s: string) => {
        stderr += s;
        if (onStderr?.(s)) controller.abort();
      },
    },
    signal: controller.signal,
  };
  const code = await runCli(args, io);
  return { code, stdout, stderr };
}

const read = (dir: string) => JSON.parse(readFileSync(path.join(dir, 'results.json'), 'utf8')) as EvaluationResult;
const timeless = (r: EvaluationResult) => ({ ...r, attacks: r.attacks.map((a) => ({ ...a, timeMs: 0 })) });

let single: EvaluationResult;
const outSingle = path.join(tmp, 'single');

beforeAll(async () => {
  await useWasm();
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('advx eval on mnist-cnn (wasm)', () => {
  it('writes results.json, report.md, report.html and PNGs; no masking warning fires', { timeout: 300_000 }, async () => {
    const run = await cli(['eval', ...SMALL, '--out', outSingle]);
    expect(run.stderr).not.toMatch(/error/);
    expect(run.code).toBe(0);
    single = read(outSingle);
    expect(single.schema).toBe('advx-eval/1');
    expect(single.n).toBe(24);
    expect(single.config.model.id).toBe('mnist-cnn');
    expect(single.cleanAccuracy).toBeGreaterThan(0.9);
    const [fgsm, pgd] = single.attacks;
    // PGD-10 (step ε/10) is at least as strong as FGSM; at Linf ε = 0.3 the undefended CNN is broken (Madry et al.: ≈0 %).
    single.config.epsilons.forEach((_, e) => expect(pgd!.perEpsilon[e]!.robustAccuracy).toBeLessThanOrEqual(fgsm!.perEpsilon[e]!.robustAccuracy));
    expect(pgd!.perEpsilon[1]!.robustAccuracy).toBeLessThanOrEqual(0.05);
    expect(single.warnings).toEqual([]);
    expect(run.stdout).toMatch(/no gradient-masking diagnostic fired/);
    expect(run.stdout).toMatch(/pgd\(steps=10,relStepSize=0.1\)/);
    expect(readFileSync(path.join(outSingle, 'report.md'), 'utf8')).toMatch(/\| ensemble \(worst case per sample\) \|/);
    const pngs = readdirSync(path.join(outSingle, 'images'));
    expect(pngs.length).toBe(single.examples.length * 3);
    // --examples 2: the first two successes of each attack at each ε (the per-sample records say how many there are).
    const successes = (a: number, e: number) => single.samples.filter((smp) => smp.attacks[a]!.success[e] === true).length;
    const expected = single.attacks.flatMap((_, a) => single.config.epsilons.map((__, e) => Math.min(2, successes(a, e))));
    expect(expected.every((k) => k === 2)).toBe(true);
    expect(single.examples.map((x) => `${x.attack}@${x.epsilon}`)).toEqual(
      single.attacks.flatMap((a) => single.config.epsilons.flatMap((eps) => [`${a.label}@${eps}`, `${a.label}@${eps}`])),
    );
    expect(existsSync(path.join(outSingle, 'state.json'))).toBe(false);
  });

  it('the HTML report renders in headless Chromium with the plot and the image grid', { timeout: 120_000, skip: !existsSync(CHROMIUM) }, async () => {
    const profile = mkdtempSync(path.join(os.tmpdir(), 'advx-chromium-'));
    // A fresh profile folder: playwright passes it to Chromium as --user-data-dir.
    const browser = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1200, height: 900 },
      args: [
        '--headless=new',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    try {
      const page = await browser.newPage();
      const requests: string[] = [];
      page.on('request', (r) => requests.push(r.url()));
      await page.goto(`file://${path.join(outSingle, 'report.html')}`);
      const facts = await page.evaluate(() => {
        const svg = document.querySelector('svg#robustness-plot') as SVGSVGElement | null;
        const box = svg?.getBoundingClientRect();
        const images = Array.from(document.querySelectorAll('.example img')) as HTMLImageElement[];
        const groups = Array.from(document.querySelectorAll('section.example-group'), (g) => ({
          epsilon: g.getAttribute('data-epsilon'),
          figures: g.querySelectorAll('figure.example').length,
          height: g.getBoundingClientRect().height,
        }));
        const markers = Array.from(document.querySelectorAll('svg#robustness-plot .marker'), (mk) => mk.getAttribute('data-shape'));
        return {
          series: Array.from(document.querySelectorAll('svg#robustness-plot path.series'), (p) => p.getAttribute('data-attack')),
          pathLengths: Array.from(document.querySelectorAll('svg#robustness-plot path.series'), (p) => (p as SVGPathElement).getTotalLength()),
          svgWidth: box?.width ?? 0,
          images: images.length,
          decoded: images.filter((i) => i.complete && i.naturalWidth === 28 && i.naturalHeight === 28).length,
          rows: document.querySelectorAll('table.summary tbody tr').length,
          noWarnings: document.querySelector('.no-warnings') !== null,
          groups,
          markers,
        };
      });
      expect(facts.series).toEqual(['fgsm', 'pgd(steps=10,relStepSize=0.1)', 'ensemble']);
      facts.pathLengths.forEach((l) => expect(l).toBeGreaterThan(100));
      expect(facts.svgWidth).toBe(720);
      expect(facts.images).toBe(single.examples.length * 3);
      expect(facts.decoded).toBe(single.examples.length * 3);
      // One group per ε, each with both attacks' examples, laid out (non-zero height).
      expect(facts.groups.map((g) => [g.epsilon, g.figures])).toEqual([
        ['0.1', 4],
        ['0.3', 4],
      ]);
      facts.groups.forEach((g) => expect(g.height).toBeGreaterThan(100));
      // Markers: per ε one for each attack and the ensemble, one more per legend entry; three shapes.
      expect(facts.markers).toHaveLength(3 * 2 + 3);
      expect(new Set(facts.markers)).toEqual(new Set(['circle', 'square', 'cross']));
      expect(facts.rows).toBe(3);
      expect(facts.noWarnings).toBe(true);
      // Self-contained: nothing but the page itself (and its data URLs) is loaded.
      expect(requests.filter((u) => !u.startsWith('data:') && !u.startsWith('file://'))).toEqual([]);
      mkdirSync(artifacts, { recursive: true });
      await page.screenshot({ path: path.join(artifacts, 'eval-report.png'), fullPage: true });
    } finally {
      await browser.close();
      rmSync(profile, { recursive: true, force: true });
    }
  });

  it('an interrupted run exits 130, keeps its state, and --resume gives the uninterrupted result', { timeout: 300_000 }, async () => {
    const out = path.join(tmp, 'resumed');
    const interrupted = await cli(['eval', ...SMALL, '--out', out], (s) => s.includes('chunk 2/2'));
    expect(interrupted.code).toBe(130);
    expect(interrupted.stderr).toMatch(/advx: interrupted: .*1 of 2 chunks done.*rerun with --resume/);
    const state = JSON.parse(readFileSync(path.join(out, 'state.json'), 'utf8')) as { chunks: Record<string, unknown> };
    expect(Object.keys(state.chunks)).toEqual(['0']);
    const resumed = await cli(['eval', ...SMALL, '--out', out, '--resume']);
    expect(resumed.code).toBe(0);
    expect(timeless(read(out))).toEqual(timeless(single));
  });

  it('shards 1/2 and 2/2 merged with advx merge equal the single run', { timeout: 300_000 }, async () => {
    for (const k of [1, 2]) expect((await cli(['eval', ...SMALL, '--shard', `${k}/2`, '--out', path.join(tmp, `shard${k}`)])).code).toBe(0);
    expect(read(path.join(tmp, 'shard2')).range).toEqual([12, 24]);
    const merged = await cli(['merge', path.join(tmp, 'shard1', 'results.json'), path.join(tmp, 'shard2', 'results.json'), '--out', path.join(tmp, 'merged')]);
    expect(merged.code).toBe(0);
    expect(timeless(read(path.join(tmp, 'merged')))).toEqual(timeless(single));
    const missing = await cli(['merge', path.join(tmp, 'shard1', 'results.json'), '--out', path.join(tmp, 'merged2')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/shard 2\/2 missing/);
  });
});

describe('advx list', () => {
  it('prints the registered attacks with their metadata', async () => {
    const run = await cli(['list']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^ {2}pgd +fixed-epsilon +white-box +norms linf\/l2\/l1 +goals untargeted\/targeted$/m);
    expect(run.stdout).toMatch(/deepfool +minimization/);
    expect(run.stdout).toMatch(
      /^ {2}universal-perturbation +fixed-epsilon +white-box +norms linf\/l2 +goals untargeted {2}dataset-level \(one perturbation fitted on all samples\)$/m,
    );
    const json = await cli(['list', '--json']);
    const parsed = JSON.parse(json.stdout) as { attacks: { name: string }[] };
    expect(parsed.attacks.map((a) => a.name)).toContain('apgd-t');
  });
  it('--options lists each option from its declaration; --options NAME lists one attack', async () => {
    const all = await cli(['list', '--options']);
    expect(all.code).toBe(0);
    expect(all.stdout).toMatch(/^ {6}steps +gradient steps per restart \(integer in \[1, ∞\); default 40\)$/m);
    expect(all.stdout).toMatch(/^ {6}norm +perturbation norm \('linf' \| 'l2' \| 'l1'; default 'linf'\)$/m);
    const one = await cli(['list', '--options', 'pgd', '--json']);
    const parsed = JSON.parse(one.stdout) as { attacks: { name: string; options: { name: string; type: string; default: string }[] }[] };
    expect(parsed.attacks.map((a) => a.name)).toEqual(['pgd']);
    expect(parsed).toMatchObject({ defenses: [], detectors: [] });
    expect(parsed.attacks[0]?.options.find((o) => o.name === 'loss')).toEqual({
      name: 'loss',
      type: "'ce' | 'margin'",
      default: "'ce'",
      doc: expect.any(String),
      cli: true,
    });
    const unknown = await cli(['list', '--options', 'pgdd']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/\[UNKNOWN_NAME\] No attack named 'pgdd'/);
  });
});

describe('errors print one line and exit non-zero', () => {
  const oneLine = (run: Run, code: number, pattern: RegExp) => {
    expect(run.code).toBe(code);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toMatch(pattern);
    expect(run.stderr).not.toMatch(/\n\s+at /);
  };

  it('unknown attack, unknown attack option, bad ε, unreadable model, unknown flag, webgpu', { timeout: 120_000 }, async () => {
    oneLine(
      await cli(['eval', '--attacks', 'fgsm,nope', '--out', path.join(tmp, 'e1')]),
      1,
      /^advx: error: \[UNKNOWN_NAME\] No attack named 'nope' is registered/,
    );
    oneLine(await cli(['eval', '--attacks', 'pgd:stepz=3', '--n', '4', '--backend', 'cpu', '--out', path.join(tmp, 'e2')]), 1, /unknown option 'stepz'/);
    // Values are read by their declared type: a word for a number, a number for a name.
    oneLine(
      await cli(['eval', '--attacks', 'pgd:steps=many', '--out', path.join(tmp, 'e2')]),
      1,
      /\[INVALID_OPTION\] pgd: steps must be an integer in \[1, ∞\), got "many"\./,
    );
    oneLine(
      await cli(['eval', '--attacks', 'pgd:loss=1', '--out', path.join(tmp, 'e2')]),
      1,
      /\[INVALID_OPTION\] pgd: loss must be 'ce' or 'margin', got "1"\./,
    );
    // An attack of another norm names the flag that runs it.
    oneLine(
      await cli(['eval', '--attacks', 'universal-patch', '--out', path.join(tmp, 'e2')]),
      1,
      /\[UNSUPPORTED_NORM\] universal-patch is defined for l0, not 'linf': run it with --norm l0 \(and --eps in that norm\)/,
    );
    oneLine(await cli(['eval', '--eps', '0.1,abc', '--out', path.join(tmp, 'e3')]), 1, /\[INVALID_EPSILON\] --eps: 'abc' is not a number > 0/);
    oneLine(await cli(['eval', '--eps', '-0.1', '--out', path.join(tmp, 'e3')]), 1, /INVALID_EPSILON/);
    oneLine(
      await cli(['eval', '--model', path.join(tmp, 'missing', 'model.json'), '--backend', 'cpu', '--out', path.join(tmp, 'e4')]),
      1,
      /\[INVALID_MODEL\] cannot read the model .*model\.json/,
    );
    oneLine(await cli(['eval', '--model', 'resnet-50', '--out', path.join(tmp, 'e4')]), 1, /\[UNKNOWN_NAME\] --model 'resnet-50' is neither a zoo model/);
    oneLine(await cli(['eval', '--frobnicate']), 2, /^advx: error: unknown option '--frobnicate'/);
    // No Vulkan driver for Dawn: useWebGPU's error, naming the driver to install, on one line.
    const icd = process.env.VK_ICD_FILENAMES;
    process.env.VK_ICD_FILENAMES = path.join(tmp, 'no-driver', 'icd.json');
    try {
      oneLine(await cli(['eval', '--backend', 'webgpu', '--out', path.join(tmp, 'e5')]), 1, /\[BACKEND_UNAVAILABLE\] .*lavapipe/);
    } finally {
      if (icd === undefined) delete process.env.VK_ICD_FILENAMES;
      else process.env.VK_ICD_FILENAMES = icd;
    }
    const verbose = await cli(['eval', '--eps', 'x', '--verbose']);
    expect(verbose.code).toBe(1);
    expect(verbose.stderr).toMatch(/\n\s+at /);
    await useWasm();
  });

  it('a model whose input shape does not match the data', { timeout: 120_000 }, async () => {
    const dir = path.join(tmp, 'flat-model');
    mkdirSync(dir, { recursive: true });
    const flat = tfl.sequential({ layers: [tfl.layers.dense({ inputShape: [10], units: 3 })] });
    await flat.save(
      tf.io.withSaveHandler(async (artifacts) => {
        writeFileSync(
          path.join(dir, 'model.json'),
          JSON.stringify({ modelTopology: artifacts.modelTopology, weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs }] }),
        );
        writeFileSync(path.join(dir, 'weights.bin'), new Uint8Array(artifacts.weightData as ArrayBuffer));
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
      }),
    );
    flat.dispose();
    oneLine(
      await cli(['eval', '--model', path.join(dir, 'model.json'), '--n', '4', '--out', path.join(tmp, 'e6')]),
      1,
      /\[INVALID_SHAPE\] --data mnist: its samples have shape \[28, 28, 1\] but the model takes \[10\]; give data of the model's input shape/,
    );
  });
});

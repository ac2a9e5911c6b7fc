import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import * as tf from '@tensorflow/tfjs-core';
import { PNG } from 'pngjs';
import { afterAll, describe, expect, it } from 'vitest';

import '@advx/attacks/register-all';
import { deepfool, pgd } from '@advx/attacks';
import { fromFunction, Rng } from '@advx/core';
import { selfLabeledData } from '@advx/core/testing';

import { evaluate } from '../evaluate.js';
import { renderMarkdown } from '../render-markdown.js';
import { fileStateStore } from './file-state-store.js';
import { renderHtml } from './render-html.js';
import { writeReport } from './write-report.js';

const rng = new Rng(8);
const w = tf.tensor2d(Array.from({ length: 36 * 3 }, () => rng.normal()), [36, 3]);
const model = fromFunction((x) => tf.matMul(tf.reshape(x, [-1, 36]), w) as tf.Tensor2D, { inputShape: [6, 6, 1], numClasses: 3, bounds: [0, 1], output: 'logits' });
const data = selfLabeledData(model, 2, 6);
const dir = mkdtempSync(path.join(os.tmpdir(), 'advx-report-'));
afterAll(() => {
  tf.dispose([w, data.x, data.labels]);
  rmSync(dir, { recursive: true, force: true });
});

describe('reports', () => {
  it('Markdown, HTML and PNGs carry the numbers of the result', async () => {
    const result = await evaluate({ model, data, attacks: [pgd({ steps: 10 }), deepfool({ norm: 'linf' })], epsilons: [0.05, 0.5], norm: 'linf', examples: 1, diagnostics: false });
    const md = renderMarkdown(result);
    const df = result.attacks[1]!;
    expect(md).toContain(`| pgd(steps=10) | ${(100 * result.attacks[0]!.perEpsilon[0]!.robustAccuracy).toFixed(1)} % |`);
    expect(md).toContain(`| deepfool | ${Number(df.empiricalRobustness!.toPrecision(3))} |`);
    const html = renderHtml(result, { classNames: ['zero', 'one', 'two'] });
    // One path per attack plus the ensemble; DeepFool's is a step curve through its minimal perturbations.
    expect(html.match(/<path class="series"/g)).toHaveLength(3);
    const dfPath = /data-attack="deepfool" d="([^"]+)"/.exec(html)![1]!;
    expect(dfPath.split(/[ML]/).filter(Boolean).length).toBeGreaterThanOrEqual(2 * df.curve!.filter((p) => p.epsilon <= 0.5).length - 1);
    // Self-contained: no scripts, stylesheets or remote sources.
    expect(html).not.toMatch(/<(script|link)\b|(src|href)="(?!data:)/);

    const files = await writeReport(result, dir);
    expect(JSON.parse(readFileSync(files.json, 'utf8'))).toEqual(JSON.parse(JSON.stringify(result)));
    expect(files.images).toHaveLength(result.examples.length * 3);
    const example = result.examples[0]!;
    const original = PNG.sync.read(readFileSync(files.images[0]!));
    const adversarial = PNG.sync.read(readFileSync(files.images[2]!));
    expect([original.width, original.height]).toEqual([6, 6]);
    for (let i = 0; i < 36; i++) {
      expect(original.data[4 * i]).toBe(Math.round(255 * example.original[i]!));
      expect(adversarial.data[4 * i]).toBe(Math.max(0, Math.min(255, Math.round(255 * example.adversarial[i]!))));
    }
    // The perturbation image is grey (128) where nothing changed and reaches 0 or 255 at the largest change.
    const perturbation = PNG.sync.read(readFileSync(files.images[1]!));
    const greys = Array.from({ length: 36 }, (_, i) => perturbation.data[4 * i]!);
    expect(Math.min(...greys) === 0 || Math.max(...greys) === 255).toBe(true);
  });

  it('fileStateStore round-trips a state and reports a corrupt file clearly', async () => {
    const store = fileStateStore(path.join(dir, 'sub', 'state.json'));
    expect(await store.load()).toBeUndefined();
    const state = { schema: 'advx-eval/1' as const, fingerprint: 'abc', chunks: {} };
    await store.save(state);
    expect(await store.load()).toEqual(state);
    await store.remove();
    expect(await store.load()).toBeUndefined();
    const broken = path.join(dir, 'broken.json');
    (await import('node:fs')).writeFileSync(broken, '{');
    await expect(fileStateStore(broken).load()).rejects.toThrow(/\[INVALID_OPTION\] the state file .* is not valid JSON/);
  });
});

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

import { clopperPearson } from '../clopper-pearson.js';
import { evaluate } from '../evaluate.js';
import { renderMarkdown } from '../render-markdown.js';
import { fileStateStore } from './file-state-store.js';
import { renderHtml } from '../render-html.js';
import { writeReport } from './write-report.js';

const rng = new Rng(8);
const w = tf.tensor2d(
  Array.from({ length: 36 * 3 }, () => rng.normal()),
  [36, 3],
);
const model = fromFunction((x) => tf.matMul(tf.reshape(x, [-1, 36]), w) as tf.Tensor2D, {
  inputShape: [6, 6, 1],
  numClasses: 3,
  bounds: [0, 1],
  output: 'logits',
});
const data = selfLabeledData(model, 2, 6);
const dir = mkdtempSync(path.join(os.tmpdir(), 'advx-report-'));
afterAll(() => {
  tf.dispose([w, data.x, data.labels]);
  rmSync(dir, { recursive: true, force: true });
});

describe('reports', () => {
  it('Markdown, HTML and PNGs carry the numbers of the result', async () => {
    const result = await evaluate({
      model,
      data,
      attacks: [pgd({ steps: 10 }), deepfool({ norm: 'linf' })],
      epsilons: [0.05, 0.5],
      norm: 'linf',
      examples: 1,
      diagnostics: false,
    });
    const md = renderMarkdown(result);
    const df = result.attacks[1]!;
    const p0 = result.attacks[0]!.perEpsilon[0]!;
    const [lo, hi] = p0.robustInterval.map((v) => (100 * v).toFixed(1));
    expect(md).toContain(`| pgd(steps=10) | ${(100 * p0.robustAccuracy).toFixed(1)} % [${lo}–${hi} %] |`);
    expect(md).toContain('Clopper–Pearson');
    // Intervals come from the counts, for every point (attacks, ensemble, the minimization curve) and the clean accuracy.
    expect(p0.robustInterval).toEqual(clopperPearson(Math.round(p0.robustAccuracy * result.n), result.n));
    expect(result.cleanInterval).toEqual(clopperPearson(Math.round(result.cleanAccuracy * result.n), result.n));
    expect(result.intervals).toEqual({ method: 'clopper-pearson', confidence: 0.95 });
    for (const point of [...result.ensemble, ...(df.curve ?? [])])
      expect(point.interval).toEqual(clopperPearson(Math.round(point.robustAccuracy * result.n), result.n));
    expect(md).toContain(`| deepfool | ${Number(df.empiricalRobustness!.toPrecision(3))} |`);
    const html = renderHtml(result, { classNames: ['zero', 'one', 'two'] });
    // One path per attack plus the ensemble; DeepFool's is a step curve through its minimal perturbations.
    expect(html.match(/<path class="series"/g)).toHaveLength(3);
    // An error bar per plotted point: 2 epsilons × (2 attacks + the ensemble).
    expect(html.match(/<g class="ci"/g)).toHaveLength(6);
    const dfPath = /data-attack="deepfool"[^>]* d="([^"]+)"/.exec(html)![1]!;
    expect(dfPath.split(/[ML]/).filter(Boolean).length).toBeGreaterThanOrEqual(2 * df.curve!.filter((p) => p.epsilon <= 0.5).length - 1);
    // Self-contained: no scripts, stylesheets or remote sources.
    expect(html).not.toMatch(/<(script|link)\b|(src|href)="(?!data:)/);

    // Examples at every ε: PGD keeps its first success at each ε (as many as the per-sample records
    // say succeeded, at most 1), DeepFool its minimal adversarial; the reports show one group per ε.
    const pgdSuccesses = result.config.epsilons.map((_, e) => result.samples.filter((s) => s.attacks[0]!.success[e] === true).length);
    expect(pgdSuccesses.every((k) => k > 0)).toBe(true);
    expect(result.examples.map((e) => [e.attack, e.epsilon])).toEqual([
      ['pgd(steps=10)', 0.05],
      ['pgd(steps=10)', 0.5],
      ['deepfool', null],
    ]);
    const firstSuccess = result.config.epsilons.map((_, e) => result.samples.find((s) => s.attacks[0]!.success[e] === true)!.index);
    expect(result.examples.slice(0, 2).map((e) => e.index)).toEqual(firstSuccess);
    const groups = [...html.matchAll(/<section class="example-group" data-epsilon="([^"]+)">([\s\S]*?)<\/section>/g)];
    expect(groups.map((g) => g[1])).toEqual(['0.05', '0.5', 'minimal']);
    for (const [, eps, body] of groups) {
      const figures = [...body!.matchAll(/<figure class="example" data-index="\d+" data-epsilon="([^"]+)"/g)].map((f) => f[1]);
      expect(figures).toEqual([eps]);
    }
    expect(md).toMatch(/## Examples\n[\s\S]*### ε=0\.05\n[\s\S]*### ε=0\.5\n[\s\S]*### minimal/);

    // Every series has its own colour, dash pattern and marker shape.
    const styles = [
      ...html.matchAll(
        /<path class="series" data-attack="[^"]+" data-marker="([^"]+)" (?:data-same-as="[^"]+" )?d="[^"]+" fill="none" stroke="([^"]+)" stroke-width="2" (stroke-dasharray="[^"]+")?/g,
      ),
    ].map((p) => p.slice(1).join('|'));
    expect(styles).toHaveLength(3);
    expect(new Set(styles.map((st) => st.split('|')[0])).size).toBe(3);
    expect(new Set(styles.map((st) => st.split('|')[1])).size).toBe(3);
    expect(new Set(styles.map((st) => st.split('|')[2])).size).toBe(3);
    // One marker per ε and series, plus one in each legend entry.
    expect(html.match(/class="marker"/g)).toHaveLength(3 * result.config.epsilons.length + 3);
    // Two attacks on exactly the same line: both stay visible (nested markers, other dashes) and the legend says so.
    const twin = { ...result.attacks[0]!, label: 'pgd twin' };
    const coincident = renderHtml({ ...result, attacks: [result.attacks[0]!, twin], ensemble: result.attacks[0]!.perEpsilon });
    expect(coincident).toContain('data-attack="pgd twin" data-marker="square" data-same-as="pgd(steps=10)"');
    expect(coincident).toContain('data-attack="ensemble" data-marker="cross" data-same-as="pgd(steps=10)"');
    expect(coincident).toContain('pgd twin (= pgd(steps=10), drawn on the same line)</text>');
    expect(html).not.toContain('data-same-as');

    const files = await writeReport(result, dir);
    expect(JSON.parse(readFileSync(files.json, 'utf8'))).toEqual(JSON.parse(JSON.stringify(result)));
    expect(files.images).toHaveLength(result.examples.length * 3);
    expect(files.images.map((f) => path.basename(f)).slice(0, 3)).toEqual([
      'pgd-steps-10-eps0.05-' + String(firstSuccess[0]) + '-original.png',
      'pgd-steps-10-eps0.05-' + String(firstSuccess[0]) + '-perturbation.png',
      'pgd-steps-10-eps0.05-' + String(firstSuccess[0]) + '-adversarial.png',
    ]);
    // report.md links exactly the PNGs writeReport wrote.
    const links = [...readFileSync(files.markdown, 'utf8').matchAll(/!\[[a-z]+\]\((images\/[^)]+)\)/g)].map((l) => path.join(dir, l[1]!));
    expect(links.sort()).toEqual([...files.images].sort());
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

  it('a pass budget is named in both reports', async () => {
    const result = await evaluate({ model, data, attacks: [pgd({ steps: 10 })], epsilons: [0.05], diagnostics: false, maxPasses: 6 });
    const line = 'white-box budget 6 passes (forward + backward) per sample and ε';
    expect(renderMarkdown(result)).toContain(line);
    expect(renderHtml(result)).toContain(line);
    // PGD took at most 3 gradients per sample.
    expect(result.attacks[0]!.passes!.backward).toBeLessThanOrEqual(3 * result.n);
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

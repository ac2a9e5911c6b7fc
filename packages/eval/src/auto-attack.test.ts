import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';

import '@advx/attacks/register-all';
import { fromFunction, getAttack, isAdvxError, Rng } from '@advx/core';
import { selfLabeledData } from '@advx/core/testing';

import { autoAttack } from './auto-attack.js';
import { evaluate } from './evaluate.js';
import { renderMarkdown } from './render-markdown.js';

describe('autoAttack', () => {
  it("standard: the published sequence APGD-CE → APGD-T → FAB-T → Square with the paper's settings, sequential", () => {
    const preset = autoAttack();
    expect(preset.mode).toBe('sequential');
    expect(preset.norm).toBe('linf');
    expect(preset.attacks).toEqual([
      { name: 'apgd-ce', options: { steps: 100, restarts: 1 }, label: 'APGD-CE' },
      { name: 'apgd-t', options: { steps: 100, numTargets: 9 }, label: 'APGD-T' },
      { name: 'fab-t', options: { steps: 100, numTargets: 9 }, label: 'FAB-T' },
      { name: 'square', options: { maxQueries: 5000, pInit: 0.8 }, label: 'Square' },
    ]);
    expect(preset.omitted).toEqual([]);
    expect(preset.ensemble).toEqual({ name: 'AutoAttack', version: 'standard', omitted: [] });
    expect(autoAttack({ norm: 'l2', steps: 20 }).attacks[1]!.options).toEqual({ steps: 20, numTargets: 9 });
  });

  it('plus: APGD-CE and APGD-DLR (5 restarts), FAB (5 restarts), Square, APGD-T, FAB-T, as the reference code', () => {
    const preset = autoAttack({ version: 'plus' });
    expect(preset.attacks.map((a) => [a.label, a.options])).toEqual([
      ['APGD-CE', { steps: 100, restarts: 5 }],
      ['APGD-DLR', { steps: 100, restarts: 5 }],
      ['FAB', { steps: 100, restarts: 5 }],
      ['Square', { maxQueries: 5000, pInit: 0.8 }],
      ['APGD-T', { steps: 100, numTargets: 9 }],
      ['FAB-T', { steps: 100, numTargets: 9 }],
    ]);
    expect(preset.ensemble.version).toBe('plus');
  });

  it('rejects other norms and versions', () => {
    const codeOf = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return isAdvxError(e, 'INVALID_OPTION') ? e.message : 'other error';
      }
      return 'no error';
    };
    expect(codeOf(() => autoAttack({ norm: 'l1' as 'l2' }))).toMatch(/norm must be 'linf' or 'l2'/);
    expect(codeOf(() => autoAttack({ version: 'randomized' as 'rand' }))).toMatch(/version must be 'standard', 'plus' or 'rand'/);
  });

  it('rand: APGD-CE then APGD-DLR, 1 restart each, gradients averaged over 20 passes (eot_iter = 20), as the reference code', async () => {
    const preset = autoAttack({ version: 'rand' });
    expect(preset.mode).toBe('sequential');
    expect(preset.attacks).toEqual([
      { name: 'apgd-ce', options: { steps: 100, restarts: 1, eotSteps: 20 }, label: 'APGD-CE' },
      { name: 'apgd-dlr', options: { steps: 100, restarts: 1, eotSteps: 20 }, label: 'APGD-DLR' },
    ]);
    expect(preset.omitted).toEqual([]);
    expect(preset.ensemble).toEqual({ name: 'AutoAttack', version: 'rand', omitted: [] });
    expect(autoAttack({ version: 'rand', norm: 'l2', steps: 30 }).attacks.map((a) => a.options)).toEqual([
      { steps: 30, restarts: 1, eotSteps: 20 },
      { steps: 30, restarts: 1, eotSteps: 20 },
    ]);
    // The registered attacks take these options as they are.
    for (const spec of preset.attacks) expect(getAttack(spec.name)(spec.options).options).toMatchObject(spec.options ?? {});

    // In evaluate on a model with Gaussian input noise (seeded): APGD-DLR only sees what APGD-CE left.
    const rng = new Rng(4);
    const w = tf.tensor2d(
      Array.from({ length: 16 * 5 }, () => rng.normal()),
      [16, 5],
    );
    const clean = fromFunction((x) => tf.matMul(tf.reshape(x, [-1, 16]), w) as tf.Tensor2D, {
      inputShape: [16],
      numClasses: 5,
      bounds: [0, 1],
      output: 'logits',
    });
    const noiseRng = new Rng(9);
    const noisy = fromFunction(
      (x) =>
        tf.tidy(
          () =>
            tf.matMul(
              tf.add(
                tf.reshape(x, [-1, 16]),
                tf.tensor2d(
                  Float32Array.from({ length: x.size }, () => 0.02 * noiseRng.normal()),
                  [x.shape[0] as number, 16],
                ),
              ),
              w,
            ) as tf.Tensor2D,
        ),
      { inputShape: [16], numClasses: 5, bounds: [0, 1], output: 'logits' },
    );
    const data = selfLabeledData(clean, 4, 12);
    const before = tf.memory().numTensors;
    const r = await evaluate({ model: noisy, data, epsilons: [0.02, 0.05], ...autoAttack({ version: 'rand', steps: 5 }), diagnostics: false });
    expect(tf.memory().numTensors).toBe(before);
    expect(r.attacks.map((a) => a.label)).toEqual(['APGD-CE', 'APGD-DLR']);
    r.config.epsilons.forEach((_, e) => {
      const [ce, dlr] = r.attacks.map((a) => a.perEpsilon[e]!);
      expect(dlr!.robustAccuracy).toBeLessThanOrEqual(ce!.robustAccuracy);
      expect(dlr!.attacked).toBe(Math.round(ce!.robustAccuracy * 12));
      expect(r.ensemble[e]!.robustAccuracy).toBe(dlr!.robustAccuracy);
    });
    expect(r.ensemble[1]!.robustAccuracy).toBeLessThan(1);
    expect(r.config.ensemble).toEqual({ name: 'AutoAttack', version: 'rand', omitted: [] });
    expect(renderMarkdown(r)).toContain('AutoAttack (rand version), sequential attacks');
    tf.dispose([w, data.x, data.labels]);
  });

  it('runs in evaluate: each later attack only sees what the earlier ones left, and the last row is the ensemble', async () => {
    const rng = new Rng(3);
    const w = tf.tensor2d(
      Array.from({ length: 64 * 5 }, () => rng.normal()),
      [64, 5],
    );
    const model = fromFunction((x) => tf.matMul(tf.reshape(x, [-1, 64]), w) as tf.Tensor2D, {
      inputShape: [8, 8, 1],
      numClasses: 5,
      bounds: [0, 1],
      output: 'logits',
    });
    const data = selfLabeledData(model, 4, 12);
    const before = tf.memory().numTensors;
    const r = await evaluate({ model, data, epsilons: [0.02, 0.05], ...autoAttack({ steps: 10, numTargets: 3, queries: 100 }), diagnostics: false });
    expect(tf.memory().numTensors).toBe(before);
    expect(r.attacks.map((a) => a.label)).toEqual(['APGD-CE', 'APGD-T', 'FAB-T', 'Square']);
    r.config.epsilons.forEach((_, e) => {
      const steps = r.attacks.map((a) => a.perEpsilon[e]!);
      // Cumulative robust accuracy never rises along the sequence; each attack ran on exactly the survivors.
      for (let k = 1; k < steps.length; k++) {
        expect(steps[k]!.robustAccuracy).toBeLessThanOrEqual(steps[k - 1]!.robustAccuracy);
        expect(steps[k]!.attacked).toBe(Math.round(steps[k - 1]!.robustAccuracy * 12));
      }
      expect(r.ensemble[e]!.robustAccuracy).toBe(steps.at(-1)!.robustAccuracy);
    });
    // The version is recorded and the reports say it.
    expect(r.config.ensemble).toEqual({ name: 'AutoAttack', version: 'standard', omitted: [] });
    expect(renderMarkdown(r)).toContain('AutoAttack (standard version), sequential attacks');
    tf.dispose([w, data.x, data.labels]);
  });
});

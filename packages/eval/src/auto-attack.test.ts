import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';

import '@advx/attacks/register-all';
import { fromFunction, isAdvxError, Rng } from '@advx/core';
import { selfLabeledData } from '@advx/core/testing';

import { autoAttack } from './auto-attack.js';
import { evaluate } from './evaluate.js';

describe('autoAttack', () => {
  it('is the published sequence APGD-CE → APGD-T → Square (paper settings), sequential, FAB-T omitted', () => {
    const preset = autoAttack();
    expect(preset.mode).toBe('sequential');
    expect(preset.norm).toBe('linf');
    expect(preset.attacks).toEqual([
      { name: 'apgd-ce', options: { steps: 100, restarts: 1 }, label: 'APGD-CE' },
      { name: 'apgd-t', options: { steps: 100, numTargets: 9 }, label: 'APGD-T' },
      { name: 'square', options: { maxQueries: 5000, pInit: 0.8 }, label: 'Square' },
    ]);
    expect(preset.omitted).toEqual(['fab-t: FAB-T is not implemented in advx']);
    expect(autoAttack({ norm: 'l2', steps: 20 }).attacks[1]!.options).toEqual({ steps: 20, numTargets: 9 });
    let caught: unknown;
    try {
      autoAttack({ norm: 'l1' as 'l2' });
    } catch (e) {
      caught = e;
    }
    expect(isAdvxError(caught, 'INVALID_OPTION')).toBe(true);
  });

  it('runs in evaluate: each later attack only sees what the earlier ones left, and the last row is the ensemble', async () => {
    const rng = new Rng(3);
    const w = tf.tensor2d(Array.from({ length: 64 * 5 }, () => rng.normal()), [64, 5]);
    const model = fromFunction((x) => tf.matMul(tf.reshape(x, [-1, 64]), w) as tf.Tensor2D, { inputShape: [8, 8, 1], numClasses: 5, bounds: [0, 1], output: 'logits' });
    const data = selfLabeledData(model, 4, 12);
    const before = tf.memory().numTensors;
    const r = await evaluate({ model, data, epsilons: [0.02, 0.05], ...autoAttack({ steps: 10, numTargets: 3, queries: 100 }), diagnostics: false });
    expect(tf.memory().numTensors).toBe(before);
    expect(r.attacks.map((a) => a.label)).toEqual(['APGD-CE', 'APGD-T', 'Square']);
    r.config.epsilons.forEach((_, e) => {
      const [ce, t, sq] = r.attacks.map((a) => a.perEpsilon[e]!);
      // Cumulative robust accuracy never rises along the sequence; each attack ran on exactly the survivors.
      expect(t!.robustAccuracy).toBeLessThanOrEqual(ce!.robustAccuracy);
      expect(sq!.robustAccuracy).toBeLessThanOrEqual(t!.robustAccuracy);
      expect(t!.attacked).toBe(Math.round(ce!.robustAccuracy * 12));
      expect(sq!.attacked).toBe(Math.round(t!.robustAccuracy * 12));
      expect(r.ensemble[e]!.robustAccuracy).toBe(sq!.robustAccuracy);
    });
    tf.dispose([w, data.x, data.labels]);
  });
});

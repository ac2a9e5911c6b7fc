/**
 * The docs guides' code (docs/examples/*.ts, included into the guides with VitePress snippets) runs
 * here, on real zoo models, with its figures checked against invariants and references.
 */
import * as tf from '@tensorflow/tfjs-core';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { useWasm } from '@advx/backend-wasm';

import { attackBatch } from './attack-batch.js';
import { pickBackend } from './browser-backends.js';
import { defendModel, trainRobustly } from './defend.js';
import { detectAdversarials } from './detect.js';
import { evaluateZooModel } from './evaluate-model.js';
import { explainPredictions } from './explain.js';

describe('docs guide code', () => {
  let before = 0;
  // The fastest backend (like the paper-figure tests): wasm with @advx/backend-wasm's kernels.
  beforeAll(async () => {
    await useWasm();
  });
  // Every guide releases what it creates.
  beforeEach(() => {
    before = tf.memory().numTensors;
  });
  afterEach(() => {
    expect(tf.memory().numTensors).toBe(before);
  });

  it('evaluate-model: a monotone robustness curve and a report naming both attacks', async () => {
    const { result, report } = await evaluateZooModel(32);
    expect(result.cleanAccuracy).toBeGreaterThanOrEqual(0.9);
    for (const attack of result.attacks) {
      const [at01, at03] = attack.perEpsilon.map((p) => p.robustAccuracy);
      expect(at01).toBeLessThanOrEqual(result.cleanAccuracy);
      expect(at03).toBeLessThanOrEqual(at01 as number);
    }
    expect(report).toContain('fgsm');
    expect(report).toContain('pgd');
  });

  it('attack-batch: PGD stays in the Linf ball; Square keeps to its query budget', async () => {
    const s = await attackBatch(8);
    expect(s.pgdLinf).toBeLessThanOrEqual(0.2 + 1e-6);
    expect(s.pgdSuccess[1]).toBeGreaterThanOrEqual(s.pgdSuccess[0] as number);
    // Budget 200 per epsilon, plus the base's clean and final checks (square.ts TSDoc: 1 + ε·(maxQueries + 1)).
    for (const q of s.squareQueries) expect(q).toBeLessThanOrEqual(1 + 201);
    expect(s.squareSuccess).toBeGreaterThanOrEqual(0);
  });

  it('defend: BPDA breaks 4-bit depth reduction; smoothing certifies or abstains', async () => {
    const d = await defendModel(16);
    expect(d.bpdaSuccess).toBeGreaterThanOrEqual(0.5);
    d.classes.forEach((c, i) => {
      if (c >= 0) {
        expect(c).toBe(d.labels[i]);
        expect(d.radii[i]).toBeGreaterThan(0);
      }
    });
  });

  it('defend: adversarial training reports clean and robust validation accuracy per epoch; the loss falls', async () => {
    const history = await trainRobustly();
    expect(history.map((h) => h.epoch)).toEqual([0, 1, 2]);
    for (const h of history) {
      expect(h.robustAccuracy).toBeLessThanOrEqual(h.cleanAccuracy as number);
      expect(h.cleanAccuracy).toBeGreaterThan(0.1);
    }
    expect((history[2] as { loss: number }).loss).toBeLessThan((history[0] as { loss: number }).loss);
  });

  it('detect: feature squeezing flags more FGSM adversarials than clean images', async () => {
    const d = await detectAdversarials();
    expect(d.flaggedAdversarial).toBeGreaterThan(d.flaggedClean);
    expect(d.occlusionScores).toHaveLength(4);
  });

  it('explain: map shapes and a PNG', async () => {
    const e = await explainPredictions();
    expect(e.shapes.saliency).toEqual([2, 28, 28]);
    expect(e.shapes.occlusion).toEqual([2, 12, 12]);
    expect(Array.from(e.png.subarray(0, 4))).toEqual([0x89, 0x50, 0x4e, 0x47]);
  });

  it('browser-backends: falls back to wasm where there is no WebGPU adapter', async () => {
    expect(await pickBackend(false)).toBe('wasm');
  });
});

import { describe, expect, it } from 'vitest';

import { getDefense, listDefenses } from '@advx/core';

import {
  adversarialTraining,
  bitDepth,
  defensiveDistillation,
  gaussianNoise,
  jpegCompression,
  medianSmoothing,
  reverseSigmoid,
  roundOutput,
  smooth,
  topOne,
  withBoundedLeakyReLU,
} from './index.js';
import './register-all.js';

describe('@advx/defenses/register-all', () => {
  it('registers every defense factory under its name, with paper and caveat', () => {
    const names = listDefenses().map((m) => m.name);
    expect(names).toEqual(
      expect.arrayContaining([
        'adversarial-training',
        'bit-depth',
        'bounded-leaky-relu',
        'defensive-distillation',
        'gaussian-noise',
        'jpeg-compression',
        'median-smoothing',
        'randomized-smoothing',
        'reverse-sigmoid',
        'round-output',
        'top-one',
      ]),
    );
    expect(getDefense('bit-depth')).toBe(bitDepth);
    expect(getDefense('median-smoothing')).toBe(medianSmoothing);
    expect(getDefense('randomized-smoothing')).toBe(smooth);
    expect(getDefense('adversarial-training')).toBe(adversarialTraining);
    expect(getDefense('defensive-distillation')).toBe(defensiveDistillation);
    expect(getDefense('gaussian-noise')).toBe(gaussianNoise);
    expect(getDefense('bounded-leaky-relu')).toBe(withBoundedLeakyReLU);
    expect(getDefense('round-output')).toBe(roundOutput);
    expect(getDefense('top-one')).toBe(topOne);
    expect(getDefense('reverse-sigmoid')).toBe(reverseSigmoid);
    expect(getDefense('jpeg-compression')).toBe(jpegCompression);
    for (const meta of listDefenses()) {
      expect(meta.paper, meta.name).toMatch(/https:\/\//);
      expect(meta.caveat, meta.name).toMatch(/bypass/);
    }
  });
});

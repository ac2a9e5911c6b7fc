import type * as tf from '@tensorflow/tfjs-core';

import { AdvxError, type Model, type NormName } from '@advx/core';

import { binarizationTest } from '../binarization-test.js';
import type { AttackInput, MaskingWarning, SelfTestRecord } from '../types.js';
import { resolveAttacks } from './resolve-attacks.js';

/** The pass rate below which an attack's self-test is reported as failed (the and the paper's 95 %). */
export const SELF_TEST_THRESHOLD = 0.95;

/** What {@link selfTests} needs. */
export interface SelfTestsInput {
  readonly model: Model;
  /** The penultimate layer of the model, when it has one to give; else the logits are the features. */
  readonly features?: (x: tf.Tensor) => tf.Tensor2D;
  /** The first samples of the data. */
  readonly data: { readonly x: tf.Tensor; readonly labels: tf.Tensor1D };
  /** The grid's attacks (specs or instances), as given to `evaluate`. */
  readonly attacks: readonly AttackInput[];
  /** The ε of every test (the largest of the grid). */
  readonly epsilon: number;
  readonly norm: NormName;
  readonly seed: number;
  readonly signal?: AbortSignal;
  /** Called after each attack's test. */
  readonly onAttack?: (label: string, passRate: number, valid: number) => void;
}

/**
 * Runs {@link binarizationTest} for every attack of a grid at one ε and gives the record that
 * results.json and the reports hold, with a `SELF_TEST_FAILED` warning per attack below
 * {@link SELF_TEST_THRESHOLD}.
 *
 * @throws AdvxError `UNSUPPORTED_NORM` for norms the test does not cover (l1, l0).
 * @internal
 */
export async function selfTests(input: SelfTestsInput): Promise<{ record: SelfTestRecord; warnings: MaskingWarning[] }> {
  if (input.norm !== 'linf' && input.norm !== 'l2') {
    throw new AdvxError('UNSUPPORTED_NORM', `--self-test: the binarization test covers linf and l2, not ${input.norm}; drop --self-test for this norm.`);
  }
  const norm = input.norm;
  const attacks = resolveAttacks(input.attacks, norm);
  const record: SelfTestRecord = {
    method: 'binarization',
    epsilon: input.epsilon,
    samples: input.data.x.shape[0] as number,
    features: input.features ? 'penultimate' : 'logits',
    threshold: SELF_TEST_THRESHOLD,
    attacks: [],
  };
  const entries: SelfTestRecord['attacks'][number][] = [];
  const warnings: MaskingWarning[] = [];
  for (const { attack, info } of attacks) {
    const r = await binarizationTest({
      model: input.model,
      data: input.data,
      attack,
      epsilon: input.epsilon,
      norm,
      seed: input.seed,
      ...(input.features ? { features: input.features, inner: 99 } : {}),
      ...(input.signal ? { signal: input.signal } : {}),
    });
    const { pass, fail, indeterminate, valid } = r.counts;
    entries.push({ label: info.label, pass, fail, indeterminate, passRate: r.passRate, interval: [r.interval[0], r.interval[1]] });
    input.onAttack?.(info.label, r.passRate, valid);
    if (valid > 0 && r.passRate < SELF_TEST_THRESHOLD) {
      warnings.push({
        code: 'SELF_TEST_FAILED',
        message:
          `${info.label} found the known adversarial in only ${pass} of ${valid} binarization tests (Zimmermann et al. 2022) at ε ${Number(input.epsilon.toPrecision(4))}: ` +
          'it misses adversarials that exist, so its robust accuracy overstates robustness; use a stronger setting (more steps, restarts) or another attack.',
        evidence: { attack: info.label, passRate: Number(r.passRate.toFixed(4)), pass, valid, epsilon: input.epsilon, features: record.features },
      });
    }
  }
  return { record: { ...record, attacks: entries }, warnings };
}

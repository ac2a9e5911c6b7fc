/**
 * Overlapping runs (issue #17): every registered attack, run twice at once with `Promise.all` (two
 * seeds, two batch sizes) next to a PGD run on another model, gives exactly its sequential results and
 * leaks nothing (`checkConcurrentRuns` of `@advx/core/testing`). Before the base stopped holding an
 * engine scope across awaits, the overlapped runs threw tfjs `TypeError`s or freed each other's tensors.
 */
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';

import { listAttacks, type Attack, type Goal } from '@advx/core';
import { assertConformance, checkConcurrentRuns, type AttackFixture } from '@advx/core/testing';

import { pgd } from '../src/index.js';
import '../src/register-all.js';

import { cases, caseTensors } from './conformance-cases.js';
import { seededMlp } from './fixtures.js';

const other = seededMlp(5);
const otherX = tf.tidy(() => tf.mul(tf.add(tf.sin(tf.reshape(tf.range(0, 6 * 16), [6, 16])), 1), 0.5));
const otherLabels = tf.tidy(() => tf.cast(tf.argMax(other.logits(otherX), 1), 'int32') as tf.Tensor1D);

afterAll(() => tf.dispose([...caseTensors(), otherX, otherLabels]));

describe('concurrent runs on one engine', () => {
  it('has one case per registered attack', () => {
    expect(Object.keys(cases).sort()).toEqual(listAttacks().map((m) => m.name));
  });
  for (const name of Object.keys(cases).sort()) {
    it(`${name} overlapped with itself and with pgd gives its sequential results`, async () => {
      const [attack, fixture] = (cases[name] as () => [Attack, AttackFixture])();
      const targetedOnly = !attack.meta.goals.includes('untargeted');
      const goal: Goal = targetedOnly && fixture.targets ? { targets: fixture.targets, labels: fixture.labels } : { labels: fixture.labels };
      const epsilons = [...fixture.epsilons];
      try {
        const report = await checkConcurrentRuns([
          { label: `${name} (seed 0)`, attack, model: fixture.model, x: fixture.x, goal, options: { epsilons, seed: 0 } },
          { label: `${name} (seed 1, batchSize 1)`, attack, model: fixture.model, x: fixture.x, goal, options: { epsilons, seed: 1, batchSize: 1 } },
          {
            label: 'pgd on another model',
            attack: pgd({ steps: 8, relStepSize: 0.2 }),
            model: other,
            x: otherX,
            goal: { labels: otherLabels },
            options: { epsilons: [0.05, 0.2], seed: 3, batchSize: 2 },
          },
        ]);
        assertConformance(report);
        expect(report.checks.map((c) => c.status)).toEqual(['passed', 'passed', 'passed', 'passed', 'passed']);
      } finally {
        fixture.targets?.dispose();
      }
    });
  }
});

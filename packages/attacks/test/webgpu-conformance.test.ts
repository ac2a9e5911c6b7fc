/**
 * The attack conformance suite of `@advx/core/testing` for every attack registered by
 * `register-all`, on tiny seeded models with few steps: the WebGPU run (`npm run test:webgpu`)
 * checks every method in one process (Dawn starts once) instead of re-running each method's full
 * test file, most of which take minutes on lavapipe. On the other backends the per-method tests
 * run the same suites on larger fixtures, so this file runs only on `webgpu` (set
 * `ADVX_CONFORMANCE_ANY_BACKEND=1` to run it elsewhere).
 */
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';

import { listAttacks, type Attack } from '@advx/core';
import { assertConformance, checkAttack, type AttackFixture } from '@advx/core/testing';

import '../src/register-all.js';

import { cases, caseTensors } from './conformance-cases.js';

const enabled = tf.getBackend() === 'webgpu' || process.env.ADVX_CONFORMANCE_ANY_BACKEND === '1';

afterAll(() => tf.dispose(caseTensors()));

describe.skipIf(!enabled)(`attack conformance on ${tf.getBackend()} (every registered attack, tiny fixtures)`, () => {
  it('has one case per registered attack', () => {
    expect(Object.keys(cases).sort()).toEqual(listAttacks().map((m) => m.name));
  });
  for (const name of Object.keys(cases).sort()) {
    it(name, async () => {
      const [attack, fixture] = (cases[name] as () => [Attack, AttackFixture])();
      try {
        assertConformance(await checkAttack(attack, fixture));
      } finally {
        if (fixture.targets) fixture.targets.dispose();
      }
    });
  }
});

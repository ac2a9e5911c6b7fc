/**
 * crossBackendSuite on two cpu backends: `cpu` and `cpu-twin` (a second MathBackendCPU with the cpu
 * kernels). Identical kernels must agree exactly; a twin whose `Sign` flushes small values to 0 (the
 * kind of bug tfjs-backend-wasm 4.22's Sign has) or whose model differs must fail, naming both figures.
 */
import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { AdvxError, type Model } from '../src/index.js';
import { crossBackendSuite, mlpModel, selfLabeledData, type CrossBackendFixture } from '../src/testing/index.js';

import { gradientSign, minimalLinear, randomSearch } from './reference-attacks.js';

const TWIN = 'cpu-twin';
// Both backends here are cpu: the fixtures are made on cpu too, also in the webgpu run (ADVX_BACKEND=webgpu),
// where moving a webgpu tensor to cpu reads it synchronously, which Dawn in Node cannot.
const initial = tf.getBackend();
await tf.setBackend('cpu');
const model = mlpModel({ seed: 3, inputs: 16, hidden: 12, classes: 4 });
const data = selfLabeledData(model, 5, 24);

/** `Sign` that returns 0 for |v| < threshold, as a broken backend kernel would. */
function flushingSign(threshold: number): tf.KernelConfig {
  return {
    kernelName: 'Sign',
    backendName: TWIN,
    kernelFunc: ({ inputs, backend }) => {
      const t = inputs.x as tf.TensorInfo;
      const cpu = backend as MathBackendCPU;
      const v = cpu.readSync(t.dataId) as Float32Array;
      const out = Float32Array.from(v, (a) => (Math.abs(a) < threshold ? 0 : Math.sign(a)));
      return { dataId: cpu.write(out, t.shape, 'float32'), shape: t.shape, dtype: 'float32' };
    },
  };
}

const sign = tf.getKernel('Sign', 'cpu') as tf.KernelConfig;
const original = tf.getBackend();

beforeAll(() => {
  tf.registerBackend(TWIN, () => new MathBackendCPU());
  for (const k of tf.getKernelsForBackend('cpu')) tf.registerKernel({ ...k, backendName: TWIN });
});

afterAll(async () => {
  tf.dispose([data.x, data.labels]);
  tf.removeBackend(TWIN);
  for (const k of tf.getKernelsForBackend(TWIN)) tf.unregisterKernel(k.kernelName, TWIN);
  await tf.setBackend(initial);
});

function fixture(extra: Partial<CrossBackendFixture> = {}): CrossBackendFixture {
  return {
    cases: [
      { attack: gradientSign(), epsilons: [0.05, 0.15] },
      { attack: randomSearch({ steps: 6 }), epsilons: [0.2] },
    ],
    model,
    x: data.x,
    labels: data.labels,
    backends: ['cpu', TWIN],
    ...extra,
  };
}

describe('crossBackendSuite', () => {
  it('passes with identical kernels, with equal figures, and leaves memory and the backend as they were', async () => {
    const before = tf.memory().numTensors;
    const report = await crossBackendSuite(fixture());
    expect(tf.memory().numTensors).toBe(before);
    expect(tf.getBackend()).toBe(original);
    expect(report.failures).toEqual([]);
    const [cpu, twin] = report.figures['test-gradient-sign'] ?? [];
    expect(cpu?.backend).toBe('cpu');
    expect(twin?.robustAccuracy).toEqual(cpu?.robustAccuracy);
    expect(twin?.meanDistance).toEqual(cpu?.meanDistance);
    // The attack does something on this sample, so agreement is not trivial.
    expect(cpu?.robustAccuracy[1]).toBeLessThan(1);
    expect(cpu?.robustAccuracy[1]).toBeLessThan(cpu?.robustAccuracy[0] as number);
  });

  it('fails an attack whose backend has a Sign that flushes small values, with both robust accuracies', async () => {
    tf.unregisterKernel('Sign', TWIN);
    tf.registerKernel(flushingSign(0.05));
    try {
      const before = tf.memory().numTensors;
      const report = await crossBackendSuite(
        fixture({
          cases: [
            { attack: gradientSign(), epsilons: [0.05, 0.15] },
            { attack: minimalLinear(), epsilons: [0.5] },
          ],
        }),
      );
      expect(tf.memory().numTensors).toBe(before);
      expect(report.failures.map((f) => f.name)).toEqual(['test-gradient-sign']);
      const msg = report.failures[0]?.message ?? '';
      const [cpu, twin] = report.figures['test-gradient-sign'] ?? [];
      const pct = (v: number | undefined) => `${(100 * (v ?? NaN)).toFixed(1)} %`;
      const e = cpu?.robustAccuracy[0] !== twin?.robustAccuracy[0] ? 0 : 1;
      expect(msg).toContain(
        `test-gradient-sign: cpu ${pct(cpu?.robustAccuracy[e])} vs ${TWIN} ${pct(twin?.robustAccuracy[e])} robust accuracy at ε ${[0.05, 0.15][e]}`,
      );
      expect(msg).toMatch(/success differs on \d+\/24 samples .*tolerance 0\/24/);
      // The attack without a Sign (minimal-linear) agrees: only the affected method is named.
      expect(report.figures['test-minimal-linear']?.[1]?.success).toEqual(report.figures['test-minimal-linear']?.[0]?.success);
    } finally {
      tf.unregisterKernel('Sign', TWIN);
      tf.registerKernel({ ...sign, backendName: TWIN });
    }
  });

  it('a per-case tolerance admits that many differing samples, and a backend-dependent model fails', async () => {
    const shifted: Model = {
      ...model,
      logits: (x) => tf.tidy(() => tf.add(model.logits(x), tf.getBackend() === TWIN ? tf.tensor1d([0, 0.6, 0, 0]) : 0)) as tf.Tensor2D,
    };
    const strict = await crossBackendSuite(fixture({ cases: [{ attack: gradientSign(), epsilons: [0.15] }], model: shifted }));
    expect(strict.passed).toBe(false);
    const differ = (strict.failures[0]?.message.match(/success differs on (\d+)\//) ?? [])[1];
    expect(Number(differ)).toBeGreaterThan(0);
    const loose = await crossBackendSuite(
      fixture({ cases: [{ attack: gradientSign(), epsilons: [0.15], tolerance: 24, reason: 'test' }], model: shifted, distanceTolerance: 1 }),
    );
    expect(loose.passed).toBe(true);
  });

  it('builds the model on each backend with a factory and disposes it', async () => {
    const built: string[] = [];
    let disposed = 0;
    const report = await crossBackendSuite(
      fixture({
        cases: [{ attack: gradientSign(), epsilons: [0.1] }],
        model: async (backend) => {
          built.push(`${backend}:${tf.getBackend()}`);
          return { model, dispose: () => void disposed++ };
        },
      }),
    );
    expect(report.passed).toBe(true);
    expect(built).toEqual(['cpu:cpu', `${TWIN}:${TWIN}`]);
    expect(disposed).toBe(2);
  });

  it('rejects bad fixtures before any work with AdvxError, leaking nothing', async () => {
    const cases = [{ attack: gradientSign(), epsilons: [0.1] }];
    const bad: [Partial<CrossBackendFixture>, string, RegExp][] = [
      [{ backends: ['cpu'] }, 'INVALID_OPTION', /at least two different backend names/],
      [{ backends: ['cpu', 'cpu'] }, 'INVALID_OPTION', /at least two different/],
      [{ backends: ['cpu', 'no-such-backend'] }, 'BACKEND_UNAVAILABLE', /no-such-backend not registered.*useWasm/],
      [{ cases: [] }, 'INVALID_OPTION', /at least one/],
      [{ cases: [...cases, ...cases] }, 'INVALID_OPTION', /appears twice/],
      [{ cases: [{ attack: gradientSign(), epsilons: [-1] }] }, 'INVALID_EPSILON', /finite epsilons ≥ 0/],
      [{ cases: [{ attack: gradientSign(), epsilons: [0.1], tolerance: 0.5 }] }, 'INVALID_OPTION', /whole number of samples/],
      [{ cases, tolerance: -1 }, 'INVALID_OPTION', /tolerance must be a whole number/],
      [{ cases, distanceTolerance: Number.NaN }, 'INVALID_OPTION', /distanceTolerance/],
      [{ cases, labels: tf.zeros([3], 'int32') as tf.Tensor1D }, 'BATCH_MISMATCH', /labels a tensor \[n\]/],
      [{ cases, model: {} as Model }, 'INVALID_MODEL', /advx Model/],
    ];
    for (const [extra, code, message] of bad) {
      const before = tf.memory().numTensors - (extra.labels ? 1 : 0);
      const run = crossBackendSuite(fixture({ cases, ...extra }));
      await expect(run).rejects.toBeInstanceOf(AdvxError);
      await expect(run).rejects.toMatchObject({ code, message: expect.stringMatching(message) });
      extra.labels?.dispose();
      expect(tf.memory().numTensors).toBe(before);
      expect(tf.getBackend()).toBe(original);
    }
  });
});

import * as tf from '@tensorflow/tfjs-core';

import type { LabeledData } from '../defense.js';
import type { Detector, Inspector } from '../detector.js';
import { rocAuc } from '../metrics/roc-auc.js';
import type { AnyModel, Model } from '../model.js';
import { ensure, Suite, type ConformanceReport } from './report.js';
import { expectAdvxError } from './util.js';

/**
 * The data a detector is checked on.
 *
 * @public
 */
export interface DetectorFixture {
  /** The protected model. */
  readonly model: AnyModel;
  /** Clean inputs (also used for `fit`). */
  readonly clean: tf.Tensor;
  /** Adversarial (or otherwise suspicious) inputs. */
  readonly adversarial: tf.Tensor;
  /** Seed (default 0). */
  readonly seed?: number;
  /** Minimum ROC-AUC of clean vs adversarial scores (default 0.75). */
  readonly minAuc?: number;
  /** Checks to skip, each with the reason. */
  readonly skip?: Partial<Record<'not-fitted' | 'scores' | 'deterministic' | 'no-leak' | 'separates', string>>;
}

/**
 * The detector conformance suite: `score` refuses to run before `fit` when fitting is needed,
 * returns one finite score per sample, is deterministic under a seed, leaks no tensor, and
 * separates clean from adversarial inputs (ROC-AUC).
 *
 * @example
 * ```ts
 * import { assertConformance, checkDetector } from '@advx/core/testing';
 * import { bitDepth } from '@advx/defenses';
 * import { featureSqueezing } from '@advx/detectors';
 *
 * const make = () => featureSqueezing({ squeezers: [bitDepth({ bits: 1 })] });
 * assertConformance(await checkDetector(make, { model, clean, adversarial }));
 * ```
 * @public
 */
export async function checkDetector(make: () => Detector, fixture: DetectorFixture): Promise<ConformanceReport> {
  const { model, clean, adversarial } = fixture;
  const seed = fixture.seed ?? 0;
  const detector = make();
  const suite = new Suite(detector?.name ?? 'detector', fixture.skip as Record<string, string> | undefined);

  await suite.check('not-fitted', async () => {
    if (!detector.needsFit) return 'needs no fit';
    ensure(typeof detector.fit === 'function', 'needsFit is true but there is no fit()');
    await expectAdvxError('score() before fit()', 'NOT_FITTED', () => make().score(model, clean, { seed }));
  });
  if (detector.needsFit && detector.fit) await detector.fit(model, clean, { seed });

  let cleanScores: Float32Array | undefined;
  let advScores: Float32Array | undefined;
  await suite.check('scores', async () => {
    cleanScores = await detector.score(model, clean, { seed });
    advScores = await detector.score(model, adversarial, { seed });
    for (const [name, s, t] of [
      ['clean', cleanScores, clean],
      ['adversarial', advScores, adversarial],
    ] as const) {
      ensure(s instanceof Float32Array && s.length === t.shape[0], `${name} scores: expected a Float32Array of ${t.shape[0]}, got ${s?.length}`);
      const bad = Array.from(s).findIndex((v) => !Number.isFinite(v));
      ensure(bad < 0, `${name} score ${bad} is ${s[bad]}`);
    }
  });
  await suite.check('deterministic', async () => {
    const again = await detector.score(model, clean, { seed });
    ensure(cleanScores !== undefined && again.join() === cleanScores.join(), 'two score() calls with the same seed differ');
  });
  await suite.check('no-leak', async () => {
    const before = tf.memory().numTensors;
    await detector.score(model, adversarial, { seed });
    const after = tf.memory().numTensors;
    ensure(after === before, `score() changed tf.memory().numTensors from ${before} to ${after}`);
  });
  await suite.check('separates', () => {
    ensure(cleanScores !== undefined && advScores !== undefined, 'no scores');
    const auc = rocAuc(cleanScores, advScores);
    const min = fixture.minAuc ?? 0.75;
    ensure(auc >= min, `ROC-AUC ${auc.toFixed(3)} of clean vs adversarial is below ${min}`);
    return `ROC-AUC ${auc.toFixed(3)}`;
  });
  return suite.report();
}

/**
 * The data an inspector is checked on.
 *
 * @public
 */
export interface InspectorFixture {
  /** The model trained on the (poisoned) data. */
  readonly model: Model;
  /** The training data. */
  readonly data: LabeledData;
  /** Indices known to be poisoned. */
  readonly poisoned: ArrayLike<number>;
  /** Seed (default 0). */
  readonly seed?: number;
  /** Minimum recall of poisoned samples among the flagged ones (default: not checked). */
  readonly minRecall?: number;
  /** Checks to skip, each with the reason. */
  readonly skip?: Partial<Record<'scores' | 'flagged' | 'deterministic' | 'no-leak' | 'recall', string>>;
}

/**
 * The dataset-inspector conformance suite: one finite score per sample, flagged indices valid,
 * unique and ordered by decreasing score, deterministic, leak-free, and (optionally) a minimum recall
 * of the known poisoned samples.
 *
 * @example
 * ```ts
 * assertConformance(await checkInspector(spectralSignatures(), { model, data, poisoned, minRecall: 0.8 }));
 * ```
 * @public
 */
export async function checkInspector(inspector: Inspector, fixture: InspectorFixture): Promise<ConformanceReport> {
  const { model, data } = fixture;
  const seed = fixture.seed ?? 0;
  const n = data.x.shape[0];
  const suite = new Suite(inspector?.name ?? 'inspector', fixture.skip as Record<string, string> | undefined);
  let result: Awaited<ReturnType<Inspector['inspect']>> | undefined;
  await suite.check('scores', async () => {
    result = await inspector.inspect(model, data, { seed });
    ensure(result.scores instanceof Float32Array && result.scores.length === n, `expected ${n} scores, got ${result.scores?.length}`);
    const bad = Array.from(result.scores).findIndex((v) => !Number.isFinite(v));
    ensure(bad < 0, `score ${bad} is ${result.scores[bad]}`);
  });
  await suite.check('flagged', () => {
    ensure(result !== undefined, 'inspect() failed');
    const { flagged, scores } = result;
    ensure(flagged instanceof Int32Array, 'flagged must be an Int32Array');
    ensure(new Set(flagged).size === flagged.length, 'flagged contains duplicate indices');
    flagged.forEach((i, k) => {
      ensure(i >= 0 && i < n, `flagged[${k}] = ${i} is not a sample index`);
      if (k > 0) ensure((scores[flagged[k - 1] as number] as number) >= (scores[i] as number), 'flagged is not ordered by decreasing score');
    });
  });
  await suite.check('deterministic', async () => {
    const again = await inspector.inspect(model, data, { seed });
    ensure(result !== undefined && again.flagged.join() === result.flagged.join(), 'two inspect() calls with the same seed flag different samples');
  });
  await suite.check('no-leak', async () => {
    const before = tf.memory().numTensors;
    await inspector.inspect(model, data, { seed });
    ensure(tf.memory().numTensors === before, `inspect() changed tf.memory().numTensors from ${before} to ${tf.memory().numTensors}`);
  });
  await suite.check('recall', () => {
    ensure(result !== undefined, 'inspect() failed');
    const poisoned = new Set(Array.from(fixture.poisoned));
    const hits = Array.from(result.flagged).filter((i) => poisoned.has(i)).length;
    const recall = poisoned.size ? hits / poisoned.size : 1;
    if (fixture.minRecall !== undefined) ensure(recall >= fixture.minRecall, `recall ${recall.toFixed(3)} of poisoned samples is below ${fixture.minRecall}`);
    return `recall ${recall.toFixed(3)}, ${result.flagged.length} flagged`;
  });
  return suite.report();
}

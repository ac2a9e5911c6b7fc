/**
 * The small conv net and inputs of the browser test, built the same way in Node and in the page:
 * conv 3×3×1→4 (valid) → relu → dense 576→10, weights and inputs from `new Rng(seed)` of @advx/core,
 * and what is compared: the input gradient of the summed cross-entropy and one PGD step.
 */
import * as tf from '@tensorflow/tfjs-core';
import { crossEntropy, fromFunction, Rng, type Model } from '@advx/core';
import { pgd } from '@advx/attacks';

/** Batch size of the test inputs. */
export const BATCH = 4;

/** The net (weights kept until `dispose`) and seeded 14×14 inputs with labels 0..3. */
export function makeNet(seed: number): { model: Model; x: tf.Tensor4D; labels: tf.Tensor1D; dispose(): void } {
  const rng = new Rng(seed);
  const normals = (k: number, s: number) => Array.from({ length: k }, () => rng.normal() * s);
  const filter = tf.tensor4d(normals(3 * 3 * 4, 0.5), [3, 3, 1, 4]);
  const dense = tf.tensor2d(normals(12 * 12 * 4 * 10, 0.05), [12 * 12 * 4, 10]);
  const x = tf.tensor4d(
    Array.from({ length: BATCH * 14 * 14 }, () => rng.uniform()),
    [BATCH, 14, 14, 1],
  );
  const labels = tf.tensor1d([0, 1, 2, 3], 'int32');
  const model = fromFunction((v) => tf.matMul(tf.reshape(tf.relu(tf.conv2d(v as tf.Tensor4D, filter, 1, 'valid')), [-1, 12 * 12 * 4]), dense) as tf.Tensor2D, {
    inputShape: [14, 14, 1],
    numClasses: 10,
    bounds: [0, 1],
    output: 'logits',
  });
  return { model, x, labels, dispose: () => tf.dispose([filter, dense, x, labels]) };
}

/** What is compared across backends, read back as plain arrays. */
export interface Computed {
  gradient: number[];
  adversarial: number[];
  success: boolean[];
}

/** The input gradient and one Linf PGD step (ε = 0.1, step 0.05, no random start) on the active backend. */
export async function gradientAndPgdStep(): Promise<Computed> {
  const net = makeNet(1);
  const g = tf.grad((v: tf.Tensor) => tf.sum(crossEntropy(net.model.logits(v), net.labels)))(net.x);
  const gradient = Array.from(await g.data());
  g.dispose();
  const r = await pgd({ steps: 1, stepSize: 0.05, randomStart: false }).run(net.model, net.x, { labels: net.labels }, { epsilons: [0.1] });
  const adversarial = Array.from(await r.clipped[0]!.data());
  const success = [...r.success[0]!];
  r.dispose();
  net.dispose();
  return { gradient, adversarial, success };
}

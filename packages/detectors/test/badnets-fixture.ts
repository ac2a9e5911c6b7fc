/**
 * The BadNets-poisoned MNIST MLP of test/fixtures/badnets-mlp (trained by
 * scripts/train-poisoned.mjs) and the poisoned training data it was trained on.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { fromLayersModel, type Model } from '@advx/core';
import { loadDataset } from '@advx/models-zoo';

import { badNets } from '../src/index.js';

const dir = join(import.meta.dirname, 'fixtures', 'badnets-mlp');

/** The model card written by the training script. */
export interface BadNetsCard {
  readonly data: { readonly poisoning: { readonly sourceClass: number; readonly targetClass: number; readonly fraction: number; readonly seed: number } };
  readonly metrics: { readonly cleanAccuracy: number; readonly triggerSuccess: number };
  readonly files: readonly { readonly path: string; readonly sha256: string }[];
}

export const card = JSON.parse(readFileSync(join(dir, 'card.json'), 'utf8')) as BadNetsCard;

/** Loads the model after checking every file's sha256 against the card. */
export async function loadPoisonedModel(): Promise<{ layers: tfl.LayersModel; model: Model }> {
  const bytes = new Map<string, Buffer>();
  for (const f of card.files) {
    const b = readFileSync(join(dir, f.path));
    const sum = createHash('sha256').update(b).digest('hex');
    if (sum !== f.sha256) throw new Error(`${f.path}: sha256 ${sum} differs from the card's ${f.sha256}`);
    bytes.set(f.path, b);
  }
  const json = JSON.parse((bytes.get('model.json') as Buffer).toString('utf8')) as {
    modelTopology: object;
    weightsManifest: { weights: tf.io.WeightsManifestEntry[] }[];
  };
  const w = bytes.get('weights.bin') as Buffer;
  const layers = await tfl.loadLayersModel(
    tf.io.fromMemory({
      modelTopology: json.modelTopology,
      weightSpecs: json.weightsManifest.flatMap((g) => g.weights),
      weightData: w.buffer.slice(w.byteOffset, w.byteOffset + w.byteLength),
    }),
  );
  return { layers, model: fromLayersModel(layers, { bounds: [0, 1] }) };
}

/**
 * The first `count` samples of the poisoned MNIST training set (poisoned exactly as for training:
 * badNets on all 60,000 images with the card's options) and which of them are poisoned.
 */
export async function poisonedTrainingData(count: number): Promise<{ x: tf.Tensor4D; y: tf.Tensor1D; poisoned: number[] }> {
  const train = await loadDataset('mnist', { split: 'train', source: 'full' });
  // The card's poisoning record also describes the trigger in words ('method', 'trigger', 'count'):
  // pass only badNets' options, which reject unknown keys.
  const { sourceClass, targetClass, fraction, seed } = card.data.poisoning;
  const all = await badNets({ x: train.x, y: train.y }, { sourceClass, targetClass, fraction, seed });
  tf.dispose([train.x, train.y]);
  const x = tf.slice(all.x, 0, count) as tf.Tensor4D;
  const y = tf.slice(all.y, 0, count) as tf.Tensor1D;
  tf.dispose([all.x, all.y]);
  return { x, y, poisoned: Array.from(all.poisoned).filter((i) => i < count) };
}

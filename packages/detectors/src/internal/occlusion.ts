import * as tf from '@tensorflow/tfjs-core';

import { AdvxError, checkInteger, checkNumber, type Model } from '@advx/core';

/** Patch geometry of an occlusion sweep over `[H, W, (C)]` inputs. */
export interface OcclusionGeometry {
  readonly size: number;
  readonly stride: number;
  readonly fill: number;
  readonly rows: number;
  readonly cols: number;
}

/** Validates the patch options against the model's image shape. */
export function occlusionGeometry(what: string, model: Model, size: number, stride: number, fill: number | undefined): OcclusionGeometry {
  const shape = model.inputShape;
  if (shape.length !== 2 && shape.length !== 3) {
    throw new AdvxError(
      'UNSUPPORTED_MODEL',
      `${what}: the model input must be an image [H, W] or [H, W, C], got [${shape.join(', ')}]. Occlusion needs a spatial input.`,
    );
  }
  const [h, w] = [shape[0] as number, shape[1] as number];
  checkInteger(`${what}: size`, size, 1, Math.min(h, w));
  checkInteger(`${what}: stride`, stride, 1);
  const f = checkNumber(`${what}: fill`, fill ?? model.bounds[0], model.bounds[0], model.bounds[1]);
  return { size, stride, fill: f, rows: Math.floor((h - size) / stride) + 1, cols: Math.floor((w - size) / stride) + 1 };
}

/** The `[P, H, W, 1…]` masks of every patch position, row-major. */
function masks(model: Model, g: OcclusionGeometry): tf.Tensor {
  const [h, w] = [model.inputShape[0] as number, model.inputShape[1] as number];
  const p = g.rows * g.cols;
  const m = new Float32Array(p * h * w);
  for (let r = 0; r < g.rows; r++) {
    for (let c = 0; c < g.cols; c++) {
      const base = (r * g.cols + c) * h * w;
      for (let i = r * g.stride; i < r * g.stride + g.size; i++) {
        for (let j = c * g.stride; j < c * g.stride + g.size; j++) m[base + i * w + j] = 1;
      }
    }
  }
  return tf.tensor(m, model.inputShape.length === 3 ? [p, h, w, 1] : [p, h, w]);
}

/**
 * Softmax probabilities (or logits) of every occluded copy: `[n · P · C]` in (sample, position, class)
 * order, plus those of the clean inputs `[n · C]`. Each forward pass holds up to `batchSize`
 * occluded copies of one or more samples.
 */
export async function occludedOutputs(
  model: Model,
  x: tf.Tensor,
  g: OcclusionGeometry,
  batchSize: number,
  output: 'probabilities' | 'logits',
): Promise<{ clean: Float32Array; occluded: Float32Array; positions: number }> {
  const n = x.shape[0] as number;
  const p = g.rows * g.cols;
  const c = model.numClasses;
  const head = (z: tf.Tensor2D) => (output === 'probabilities' ? tf.softmax(z) : z);
  const cleanT = tf.tidy(() => head(model.logits(x)));
  const clean = Float32Array.from(await cleanT.data());
  cleanT.dispose();
  const occluded = new Float32Array(n * p * c);
  const m = masks(model, g);
  try {
    const total = n * p;
    for (let start = 0; start < total; start += batchSize) {
      const count = Math.min(batchSize, total - start);
      const out = tf.tidy(() => {
        const sampleIdx = Int32Array.from({ length: count }, (_, k) => Math.floor((start + k) / p));
        const posIdx = Int32Array.from({ length: count }, (_, k) => (start + k) % p);
        const xs = tf.gather(x, tf.tensor1d(sampleIdx, 'int32'));
        const ms = tf.gather(m, tf.tensor1d(posIdx, 'int32'));
        const covered = tf.add(tf.mul(xs, tf.sub(1, ms)), tf.mul(ms, g.fill));
        return head(model.logits(covered));
      });
      occluded.set(await out.data(), start * c);
      out.dispose();
    }
  } finally {
    m.dispose();
  }
  return { clean, occluded, positions: p };
}

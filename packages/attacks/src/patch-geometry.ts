/**
 * Patch geometry shared by the patch attacks: pasting a patch at positions ({@link applyPatch}),
 * sticker masks and random placements (image shapes are core's `imageShapeOf`).
 *
 * @packageDocumentation
 */
import * as tf from '@tensorflow/tfjs-core';

import { AdvxError, type Rng } from '@advx/core';
import type { ImageShape } from '@advx/core/plugin';

/**
 * Top-left corner `[row, col]` of a patch inside an image.
 *
 * @public
 */
export type PatchPosition = readonly [number, number];

/**
 * Pastes `patch` (`[h, w, C]`, or one per sample `[n, h, w, C]`) into the image batch `x`
 * (`[n, H, W, C]`) with its top-left corner at `positions[i]` for sample `i`:
 * `x' = (1 − m) ⊙ x + m ⊙ p`, where `m` is the patch's mask and `p` the patch padded to the image.
 * Differentiable w.r.t. `x` and `patch` (the padding's gradient is a slice).
 *
 * Patches that stick out of the image are an error; overlapping patches of several calls simply
 * paint over each other.
 *
 * @param x - images `[n, H, W, C]`.
 * @param patch - `[h, w, C]` (the same patch for every sample) or `[n, h, w, C]`.
 * @param positions - one top-left corner `[row, col]` per sample, integers with
 *   `0 ≤ row ≤ H − h`, `0 ≤ col ≤ W − w`.
 * @returns the patched images `[n, H, W, C]`; the caller disposes them.
 * @throws AdvxError `INVALID_SHAPE` for mismatched shapes or positions outside the image.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { applyPatch } from '@advx/attacks';
 *
 * const x = tf.zeros([2, 28, 28, 1]) as tf.Tensor4D;
 * const patch = tf.ones([5, 5, 1]) as tf.Tensor3D;
 * const patched = applyPatch(x, patch, [[0, 0], [20, 10]]); // a white square per image
 * ```
 * @public
 */
export function applyPatch(x: tf.Tensor4D, patch: tf.Tensor3D | tf.Tensor4D, positions: readonly PatchPosition[]): tf.Tensor4D {
  if (!(x instanceof tf.Tensor) || x.rank !== 4) {
    throw new AdvxError('INVALID_SHAPE', 'applyPatch: x must be an image batch [n, H, W, C].');
  }
  if (!(patch instanceof tf.Tensor) || (patch.rank !== 3 && patch.rank !== 4)) {
    throw new AdvxError('INVALID_SHAPE', 'applyPatch: patch must be [h, w, C] or one patch per sample [n, h, w, C].');
  }
  const [n, H, W, C] = x.shape;
  const [h, w, pc] = patch.rank === 3 ? patch.shape : patch.shape.slice(1);
  if (patch.rank === 4 && patch.shape[0] !== n) {
    throw new AdvxError('INVALID_SHAPE', `applyPatch: ${patch.shape[0]} patches for ${n} images; pass one per image or a single [h, w, C] patch.`);
  }
  if (pc !== C || (h as number) > H || (w as number) > W) {
    throw new AdvxError('INVALID_SHAPE', `applyPatch: a patch [${h}, ${w}, ${pc}] does not fit images [${H}, ${W}, ${C}].`);
  }
  if (!Array.isArray(positions) || positions.length !== n) {
    throw new AdvxError(
      'INVALID_SHAPE',
      `applyPatch: ${n} images need ${n} positions [row, col], got ${Array.isArray(positions) ? positions.length : String(positions)}.`,
    );
  }
  positions.forEach((p, i) => {
    const ok = Array.isArray(p) && p.length === 2 && Number.isInteger(p[0]) && Number.isInteger(p[1]);
    if (!ok || p[0] < 0 || p[1] < 0 || p[0] + (h as number) > H || p[1] + (w as number) > W) {
      throw new AdvxError(
        'INVALID_SHAPE',
        `applyPatch: positions[${i}] = ${JSON.stringify(p)} puts the ${h}×${w} patch outside the ${H}×${W} image; rows must lie in [0, ${H - (h as number)}], columns in [0, ${W - (w as number)}].`,
      );
    }
  });
  return pastePatch(x, patch, positions);
}

/** {@link applyPatch} without validation. */
export function pastePatch(x: tf.Tensor4D, patch: tf.Tensor, positions: readonly PatchPosition[]): tf.Tensor4D {
  return tf.tidy(() => {
    const [, H, W] = x.shape;
    const [h, w, c] = patch.rank === 3 ? patch.shape : patch.shape.slice(1);
    const ones = tf.ones([h as number, w as number, c as number]);
    const padded: tf.Tensor[] = [];
    const masks: tf.Tensor[] = [];
    positions.forEach(([r, col], i) => {
      const pad: Array<[number, number]> = [
        [r, H - (h as number) - r],
        [col, W - (w as number) - col],
        [0, 0],
      ];
      const p = patch.rank === 3 ? patch : tf.squeeze(tf.slice(patch, [i, 0, 0, 0], [1, -1, -1, -1]), [0]);
      padded.push(tf.pad(p, pad));
      masks.push(tf.pad(ones, pad));
    });
    const m = tf.stack(masks);
    return tf.add(tf.mul(x, tf.sub(1, m)), tf.stack(padded)) as tf.Tensor4D;
  });
}

/** A top-left corner drawn uniformly among those where an `h × w` patch fits in an `H × W` image. */
export function drawPosition(rng: Rng, s: ImageShape, h: number, w: number): PatchPosition {
  return [rng.int(s.height - h + 1), rng.int(s.width - w + 1)];
}

/** Mask `[1, H, W, C]` that is 1 inside the `side × side` squares at `corners`. */
export function stickerMask(s: ImageShape, side: number, corners: readonly PatchPosition[]): tf.Tensor4D {
  return tf.tidy(() => {
    const ones = tf.ones([side, side, s.channels]);
    const masks = corners.map(([r, c]) =>
      tf.pad(ones, [
        [r, s.height - side - r],
        [c, s.width - side - c],
        [0, 0],
      ]),
    );
    return tf.expandDims(masks.length === 1 ? (masks[0] as tf.Tensor) : tf.minimum(tf.addN(masks), 1), 0) as tf.Tensor4D;
  });
}

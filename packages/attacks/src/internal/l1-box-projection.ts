/**
 * The exact Euclidean projection onto the intersection of an L1 ball and a box, used by APGD for
 * `norm: 'l1'` (Croce & Hein 2021, "Mind the box: l1-APGD for sparse adversarial attacks on image
 * classifiers", ICML 2021, https://arxiv.org/abs/2103.01208, §3 and their Algorithm 2).
 *
 * Not part of the public API: the attack files are its only callers.
 *
 * @internal
 * @packageDocumentation
 */
import * as tf from '@tensorflow/tfjs-core';

/**
 * The perturbation `δ` closest to `v` (in L2) among those with `‖δ‖₁ ≤ eps` and
 * `lo ≤ x + δ ≤ hi`, per row of the batch `[n, ...]` (`x` inside the box, same shape as `v`).
 *
 * The problem is separable up to one multiplier λ ≥ 0 of the L1 constraint (KKT):
 * `δᵢ = sign(vᵢ)·min(max(|vᵢ| − λ, 0), uᵢ)`, with `uᵢ` the room the box leaves in the direction of
 * `vᵢ` (`hi − xᵢ` for `vᵢ > 0`, `xᵢ − lo` otherwise). λ = 0 when `h(0) ≤ eps`, where
 * `h(λ) = Σᵢ min(max(|vᵢ| − λ, 0), uᵢ)` (the box-clipped `v` is then inside the ball and is the
 * answer), else the root of `h(λ) = eps`. `h` is non-increasing and piecewise linear with the `2d`
 * breakpoints `|vᵢ|` (coordinate i starts moving, slope −1 more) and `max(|vᵢ| − uᵢ, 0)`
 * (it reaches its bound, slope +1); as in Algorithm 2 of the paper, the breakpoints are sorted,
 * `h` at every breakpoint follows from a cumulative sum of slope × segment length, and λ is
 * interpolated exactly on the segment where `h` crosses `eps` (found by counting breakpoints with
 * `h ≤ eps`, instead of the reference code's bisection over the sorted list). O(d log d) per row,
 * batched tfjs ops only (`tf.topk` as the sort), so it runs on every backend.
 *
 * This is not "project onto the L1 ball, then clip to the box": that point is generally not the
 * closest one and, when coordinates are clipped, spends less than the whole budget `eps`.
 *
 * The caller owns the returned tensor; intermediates are released.
 *
 * @param x - Centre of the ball, inside `[lo, hi]`, shape `[n, ...]`.
 * @param v - The perturbation to project, same shape as `x`.
 * @param eps - Radius of the L1 ball, ≥ 0.
 * @param lo - Lower bound of the box.
 * @param hi - Upper bound of the box (> lo).
 * @internal
 */
export function projectL1Box(x: tf.Tensor, v: tf.Tensor, eps: number, lo: number, hi: number): tf.Tensor {
  return tf.tidy(() => {
    const n = v.shape[0] as number;
    const vf = tf.reshape(tf.cast(v, 'float32'), [n, -1]) as tf.Tensor2D;
    const xf = tf.reshape(tf.cast(x, 'float32'), [n, -1]) as tf.Tensor2D;
    const d = vf.shape[1];
    const a = tf.abs(vf);
    const room = tf.relu(tf.where(tf.greaterEqual(vf, 0), tf.sub(hi, xf), tf.sub(xf, lo)));
    // Breakpoints: |vᵢ| (+1 to the slope count below it) and max(|vᵢ| − uᵢ, 0) (−1), plus a final 0.
    const starts = tf.relu(tf.sub(a, room));
    const points = tf.concat([a, starts, tf.zeros([n, 1])], 1);
    const sorted = tf.topk(points, 2 * d + 1, true);
    const t = sorted.values;
    const kind = sorted.indices;
    const increments = tf.where(tf.less(kind, d), tf.onesLike(t), tf.where(tf.less(kind, 2 * d), tf.neg(tf.onesLike(t)), tf.zerosLike(t)));
    // active[j] = number of moving coordinates on the segment [t_{j+1}, t_j].
    const active = tf.cumsum(increments, 1);
    const lengths = tf.sub(t, tf.concat([tf.slice(t, [0, 1], [n, 2 * d]), tf.zeros([n, 1])], 1));
    // hAt[j] = h(t_j): zero at the largest breakpoint, growing by active·length on each segment.
    const hAt = tf.concat([tf.zeros([n, 1]), tf.slice(tf.cumsum(tf.mul(active, lengths), 1), [0, 0], [n, 2 * d])], 1);
    const e = tf.scalar(eps, 'float32');
    // h is non-increasing in λ, so hAt is non-decreasing in j: the crossing segment starts at the
    // last breakpoint with h ≤ eps (ties have zero length, so it is the last of its tie group).
    const last = tf.sub(tf.sum(tf.cast(tf.lessEqual(hAt, e), 'int32'), 1, true), 1);
    const at = tf.cast(tf.equal(tf.reshape(tf.range(0, 2 * d + 1, 1, 'int32'), [1, -1]), last), 'float32');
    const pick = (m: tf.Tensor) => tf.sum(tf.mul(m, at), 1, true);
    const lambda = tf.sub(pick(t), tf.div(tf.sub(e, pick(hAt)), tf.maximum(pick(active), 1)));
    const inside = tf.lessEqual(tf.sum(tf.minimum(a, room), 1, true), e);
    const theta = tf.where(inside, tf.zerosLike(lambda), tf.relu(lambda));
    const delta = tf.mul(tf.sign(vf), tf.minimum(tf.relu(tf.sub(a, theta)), room));
    return tf.reshape(delta, v.shape);
  });
}

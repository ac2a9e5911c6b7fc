import * as tf from '@tensorflow/tfjs-core';

import {
  AdvxError,
  checkInteger,
  option,
  resolveOptions,
  Rng,
  validateGoal,
  validateInput,
  type Goal,
  type Model,
  type OptionsInput,
  type OptionsResolved,
} from '@advx/core';
import { imageShapeOf, type ImageShape } from '@advx/core/plugin';

import { requireWhiteBox } from './internal/function-options.js';

/** `[min, max]` with finite ends, `min ≤ max` and `min > 0` (`strict`) or `min ≥ 0`. */
function rangeOption(defaultValue: readonly [number, number], doc: string, strict: boolean) {
  return option.custom<readonly [number, number]>(defaultValue, doc, {
    type: `[min, max] with ${strict ? '0 <' : '0 ≤'} min ≤ max`,
    json: true,
    accepts: (v) =>
      Array.isArray(v) &&
      v.length === 2 &&
      v.every((e) => typeof e === 'number' && Number.isFinite(e)) &&
      (strict ? (v[0] as number) > 0 : (v[0] as number) >= 0) &&
      (v[0] as number) <= (v[1] as number),
  });
}

const TRANSFORM_OPTIONS = {
  rotation: option.number(0, 'rotation about the image centre, uniform in [−rotation, rotation] degrees', { min: 0, max: 180 }),
  scale: rangeOption([1, 1], 'isotropic scale about the centre, uniform in [min, max]', true),
  translation: option.number(0, 'shift per axis, uniform in [−translation, translation] pixels', { min: 0 }),
  brightness: option.number(0, "additive brightness, uniform in [−brightness, brightness] times the bounds' width", { min: 0 }),
  contrast: rangeOption([1, 1], "contrast factor around each image's mean, uniform in [min, max]", false),
  noise: option.number(0, "standard deviation of additive Gaussian noise, as a fraction of the bounds' width", { min: 0 }),
  blur: option.number(0, 'Gaussian blur with σ uniform in [0, blur] pixels (σ < 0.1 means no blur)', { min: 0 }),
};

/**
 * A distribution of image transformations (Athalye et al.'s EOT distribution `T`). Every parameter
 * of a drawn transformation is independent and uniform in the given range (Gaussian for noise);
 * leaving a field out disables that transformation. The fields, with their defaults and accepted
 * values (those of its option schema):
 *
 * - `rotation`: about the image centre, uniform in `[−rotation, rotation]` degrees (default 0, at most 180).
 * - `scale`: isotropic scale about the centre, uniform in `[min, max]` (default `[1, 1]`), `0 < min ≤ max`.
 * - `translation`: shift per axis, uniform in `[−translation, translation]` pixels (default 0).
 * - `brightness`: additive brightness, uniform in `[−brightness, brightness]` times the bounds' width (default 0).
 * - `contrast`: contrast factor around each image's mean, uniform in `[min, max]` (default `[1, 1]`), `0 ≤ min ≤ max`.
 * - `noise`: standard deviation of additive Gaussian noise, as a fraction of the bounds' width (default 0).
 * - `blur`: Gaussian blur with σ uniform in `[0, blur]` pixels (default 0; σ < 0.1 means no blur).
 *
 * @public
 */
export type TransformDistribution = OptionsInput<typeof TRANSFORM_OPTIONS>;

/**
 * One drawn transformation: `x ↦ clip(c·(B·W·x − μ) + μ + b + ε)`, with `W` the warp (rotation,
 * scale, translation; bilinear, pixels from outside the image take the lower bound), `B` a
 * Gaussian blur, `μ` the image's mean, `c` the contrast, `b` the brightness and `ε` the noise.
 *
 * @public
 */
export interface TransformParams {
  /** Rotation in degrees (counter-clockwise). */
  readonly rotation: number;
  /** Isotropic scale. */
  readonly scale: number;
  /** Shift `[rows, cols]` in pixels. */
  readonly translation: readonly [number, number];
  /** Blur σ in pixels (0: none). */
  readonly blur: number;
  /** Contrast factor. */
  readonly contrast: number;
  /** Additive brightness in input units. */
  readonly brightness: number;
  /** Gaussian noise std in input units (0: none). */
  readonly noise: number;
  /** Seed of the noise pattern (one fixed pattern per transformation, shared by the batch). */
  readonly noiseSeed: number;
}

/** Whether `params` is a non-empty array of well-formed {@link TransformParams}. */
function isParamsList(params: unknown): params is readonly TransformParams[] {
  const ok = (p: TransformParams) =>
    [p.rotation, p.scale, p.blur, p.contrast, p.brightness, p.noise, p.noiseSeed, ...(Array.isArray(p.translation) ? p.translation : [NaN, NaN])].every(
      (v) => typeof v === 'number' && Number.isFinite(v),
    ) &&
    p.scale > 0 &&
    p.blur >= 0 &&
    p.noise >= 0 &&
    Array.isArray(p.translation) &&
    p.translation.length === 2;
  return Array.isArray(params) && params.length > 0 && params.every((p) => p !== null && typeof p === 'object' && ok(p as TransformParams));
}

const PARAMS_TYPE = 'a non-empty array of TransformParams (from sampleTransforms) with finite values, scale > 0, blur ≥ 0 and noise ≥ 0';

const EOT_OPTIONS = {
  transforms: option.optional<TransformDistribution>('the distribution to draw from', 'transformations must be given', {
    type: 'a TransformDistribution such as { rotation: 15, translation: 2 }',
    accepts: (v) => v !== null && typeof v === 'object' && !Array.isArray(v),
  }),
  samples: option.integer(10, 'transformations drawn', { min: 1 }),
  seed: option.number(0, 'seed of the draws'),
  transformations: option.optional<readonly TransformParams[]>(
    'explicit transformations instead of drawing them (e.g. from sampleTransforms)',
    'drawn from transforms',
    { type: PARAMS_TYPE, accepts: isParamsList },
  ),
};

/** Largest `H·W` for which a transformation's dense sampling matrix is built (64×64 pixels). */
const MAX_PIXELS = 4096;

/** The image shape of `inputShape` (`UNSUPPORTED_MODEL` unless `[H, W, C]` or `[H, W]` of at most 64×64 pixels). */
function geometryOf(inputShape: readonly number[], who: string): ImageShape {
  const g = imageShapeOf(inputShape, who);
  if (g.height * g.width > MAX_PIXELS) {
    throw new AdvxError(
      'UNSUPPORTED_MODEL',
      `${who} builds a dense ${g.height * g.width}² sampling matrix per transformation; images of ${g.height}×${g.width} exceed the supported ${MAX_PIXELS} pixels (64×64). Downscale the inputs first.`,
    );
  }
  return g;
}

/**
 * Draws `count` transformations from a distribution with a seeded generator (same seed, same draws).
 *
 * @param distribution - the ranges; see {@link TransformDistribution}.
 * @param count - number of transformations, an integer ≥ 1.
 * @param options - `seed` (default 0) and `bounds` of the inputs (default `[0, 1]`; brightness and noise scale with their width).
 * @throws AdvxError `INVALID_OPTION` for an unknown transformation or a bad range.
 *
 * @example
 * ```ts
 * const params = sampleTransforms({ rotation: 15, translation: 2 }, 8, { seed: 1 });
 * params[0].rotation; // in [−15, 15]
 * ```
 * @public
 */
export function sampleTransforms(
  distribution: TransformDistribution,
  count: number,
  options: { seed?: number; bounds?: readonly [number, number] } = {},
): TransformParams[] {
  // resolveOptions reads a missing object as "all defaults"; a distribution must be given.
  if (distribution === undefined) throw new AdvxError('INVALID_OPTION', 'transforms must be an object such as { rotation: 15, translation: 2 }.');
  const d: OptionsResolved<typeof TRANSFORM_OPTIONS> = resolveOptions('transforms', TRANSFORM_OPTIONS, distribution);
  checkInteger('sampleTransforms: count', count, 1);
  const { seed } = resolveOptions('sampleTransforms', { seed: EOT_OPTIONS.seed }, { seed: options.seed ?? undefined });
  const [lo, hi] = options.bounds ?? [0, 1];
  const width = hi - lo;
  const rng = new Rng(seed);
  const between = (a: number, b: number) => a + (b - a) * rng.uniform();
  return Array.from({ length: count }, () => ({
    rotation: between(-d.rotation, d.rotation),
    scale: between(d.scale[0], d.scale[1]),
    translation: [between(-d.translation, d.translation), between(-d.translation, d.translation)] as const,
    blur: between(0, d.blur),
    contrast: between(d.contrast[0], d.contrast[1]),
    brightness: between(-d.brightness, d.brightness) * width,
    noise: d.noise * width,
    noiseSeed: rng.nextUint32(),
  }));
}

/** Sparse rows of the bilinear warp: output pixel → [(source pixel, weight)]. */
function warpRows(g: ImageShape, p: TransformParams): Array<Array<[number, number]>> {
  const { height: H, width: W } = g;
  const cy = (H - 1) / 2;
  const cx = (W - 1) / 2;
  const a = (-p.rotation * Math.PI) / 180;
  const cos = Math.cos(a) / p.scale;
  const sin = Math.sin(a) / p.scale;
  const rows: Array<Array<[number, number]>> = [];
  for (let i = 0; i < H; i++) {
    for (let j = 0; j < W; j++) {
      // Inverse map: undo the shift, then the rotation and scale about the centre.
      const y = i - cy - p.translation[0];
      const x = j - cx - p.translation[1];
      const sy = cos * y - sin * x + cy;
      const sx = sin * y + cos * x + cx;
      const y0 = Math.floor(sy);
      const x0 = Math.floor(sx);
      const fy = sy - y0;
      const fx = sx - x0;
      const entries: Array<[number, number]> = [];
      for (const [dy, dx, wgt] of [
        [0, 0, (1 - fy) * (1 - fx)],
        [0, 1, (1 - fy) * fx],
        [1, 0, fy * (1 - fx)],
        [1, 1, fy * fx],
      ] as const) {
        const r = y0 + dy;
        const c = x0 + dx;
        if (wgt > 1e-9 && r >= 0 && r < H && c >= 0 && c < W) entries.push([r * W + c, wgt]);
      }
      rows.push(entries);
    }
  }
  return rows;
}

/** Normalised 1-D Gaussian taps for σ (radius ⌈3σ⌉). */
function gaussianTaps(sigma: number): number[] {
  const radius = Math.ceil(3 * sigma);
  const taps = Array.from({ length: 2 * radius + 1 }, (_, k) => Math.exp(-((k - radius) ** 2) / (2 * sigma * sigma)));
  const sum = taps.reduce((s, v) => s + v, 0);
  return taps.map((v) => v / sum);
}

/** Dense `[HW, HW]` matrix of blur ∘ warp (row-major, output pixel × source pixel). */
function samplingMatrix(g: ImageShape, p: TransformParams): Float32Array {
  const n = g.height * g.width;
  const warp = warpRows(g, p);
  const m = new Float32Array(n * n);
  if (p.blur < 0.1) {
    warp.forEach((entries, out) => entries.forEach(([src, wgt]) => (m[out * n + src] = (m[out * n + src] as number) + wgt)));
    return m;
  }
  const taps = gaussianTaps(p.blur);
  const radius = (taps.length - 1) / 2;
  for (let i = 0; i < g.height; i++) {
    for (let j = 0; j < g.width; j++) {
      const out = i * g.width + j;
      for (let di = -radius; di <= radius; di++) {
        const r = i + di;
        if (r < 0 || r >= g.height) continue;
        for (let dj = -radius; dj <= radius; dj++) {
          const c = j + dj;
          if (c < 0 || c >= g.width) continue;
          const k = (taps[di + radius] as number) * (taps[dj + radius] as number);
          for (const [src, wgt] of warp[r * g.width + c] as Array<[number, number]>) m[out * n + src] = (m[out * n + src] as number) + k * wgt;
        }
      }
    }
  }
  return m;
}

/** The tensors of one transformation, built once. */
interface BuiltTransform {
  readonly matrix: tf.Tensor2D;
  readonly noise: tf.Tensor | undefined;
  readonly params: TransformParams;
}

function build(g: ImageShape, p: TransformParams): BuiltTransform {
  const n = g.height * g.width;
  const matrix = tf.tensor2d(samplingMatrix(g, p), [n, n]);
  let noise: tf.Tensor | undefined;
  if (p.noise > 0) {
    const rng = new Rng(p.noiseSeed);
    noise = tf.tensor(
      Float32Array.from({ length: n * g.channels }, () => p.noise * rng.normal()),
      [1, g.height, g.width, g.channels],
    );
  }
  return { matrix, noise, params: p };
}

/** Applies a built transformation to a batch `[n, ...inputShape]`; differentiable in `x`. */
function applyBuilt(x: tf.Tensor, g: ImageShape, t: BuiltTransform, bounds: readonly [number, number]): tf.Tensor {
  return tf.tidy(() => {
    const [lo, hi] = bounds;
    const n = x.shape[0] as number;
    const hw = g.height * g.width;
    const cols = tf.reshape(tf.transpose(tf.reshape(tf.sub(x, lo), [n, hw, g.channels]), [1, 0, 2]), [hw, n * g.channels]);
    const warped = tf.add(
      tf.reshape(tf.transpose(tf.reshape(tf.matMul(t.matrix, cols), [hw, n, g.channels]), [1, 0, 2]), [n, g.height, g.width, g.channels]),
      lo,
    );
    let y: tf.Tensor = warped;
    if (t.params.contrast !== 1) {
      const mean = tf.mean(warped, [1, 2, 3], true);
      y = tf.add(tf.mul(tf.sub(warped, mean), t.params.contrast), mean);
    }
    if (t.params.brightness !== 0) y = tf.add(y, t.params.brightness);
    if (t.noise) y = tf.add(y, t.noise);
    return tf.reshape(tf.clipByValue(y, lo, hi), x.shape);
  });
}

function checkParams(params: unknown): readonly TransformParams[] {
  if (!isParamsList(params)) throw new AdvxError('INVALID_OPTION', `transformations must be ${PARAMS_TYPE}.`);
  return params;
}

/**
 * Applies one transformation to a batch of images (`[n, ...model.inputShape]`, inside `bounds`);
 * differentiable w.r.t. `x`. The caller disposes the result.
 *
 * @param x - images `[n, H, W, C]` (or `[n, H, W]`), at most 64×64 pixels.
 * @param params - a transformation, e.g. from {@link sampleTransforms}.
 * @param bounds - the input range (default `[0, 1]`); pixels from outside the image take the lower bound, results are clipped to it.
 * @throws AdvxError `INVALID_SHAPE` for a non-image batch, `UNSUPPORTED_MODEL` for images over 64×64, `INVALID_OPTION` for bad parameters.
 *
 * @example
 * ```ts
 * const turned = transformImages(x, { rotation: 90, scale: 1, translation: [0, 0], blur: 0, contrast: 1, brightness: 0, noise: 0, noiseSeed: 0 });
 * ```
 * @public
 */
export function transformImages(x: tf.Tensor, params: TransformParams, bounds: readonly [number, number] = [0, 1]): tf.Tensor {
  if (!(x instanceof tf.Tensor) || (x.rank !== 4 && x.rank !== 3)) {
    throw new AdvxError('INVALID_SHAPE', 'transformImages: x must be a batch of images [n, H, W, C] or [n, H, W].');
  }
  const g = geometryOf(x.shape.slice(1), 'transformImages');
  const [p] = checkParams([params]);
  const t = build(g, p as TransformParams);
  try {
    return applyBuilt(x, g, t, bounds);
  } finally {
    tf.dispose([t.matrix, ...(t.noise ? [t.noise] : [])]);
  }
}

/**
 * Options of {@link eot} and {@link evaluateUnderTransforms}: `transforms` (a
 * {@link TransformDistribution}) or explicit `transformations`, exactly one of them; `samples`
 * (default 10) and `seed` (default 0) of the draws. The accepted values and defaults are those of
 * its option schema.
 *
 * @public
 */
export type EotOptions = OptionsInput<typeof EOT_OPTIONS>;

/**
 * A model averaged over transformations. Holds tensors: call `dispose()` when done.
 *
 * @public
 */
export interface EotModel extends Model {
  /** The transformations averaged over. */
  readonly transformations: readonly TransformParams[];
  /** Releases the sampling matrices and noise patterns. */
  dispose(): void;
}

function resolveTransformations(model: Model, options: EotOptions, who: string): readonly TransformParams[] {
  const o = resolveOptions(who, EOT_OPTIONS, options, (r) => {
    if (r.transformations !== null && r.transforms !== null)
      throw new AdvxError('INVALID_OPTION', `${who}: give either transforms (a distribution) or transformations (explicit), not both.`);
    if (r.transformations === null && r.transforms === null)
      throw new AdvxError('INVALID_OPTION', `${who}: transforms (a TransformDistribution) is required, e.g. { rotation: 15, translation: 2 }.`);
  });
  if (o.transformations !== null) return o.transformations;
  return sampleTransforms(o.transforms as TransformDistribution, o.samples, { seed: o.seed, bounds: model.bounds });
}

/**
 * Expectation over Transformation (EOT): wraps a model so that its logits are the average over a
 * sample of random transformations of the input, `z̄(x) = (1/K) Σₖ z(tₖ(x))`. Any gradient attack
 * run on the wrapped model optimises an adversarial example that survives the transformations;
 * evaluate it with {@link evaluateUnderTransforms} under fresh draws.
 *
 * Paper: Anish Athalye, Logan Engstrom, Andrew Ilyas, Kevin Kwok (2018), "Synthesizing Robust
 * Adversarial Examples", {@link https://arxiv.org/abs/1707.07397}.
 *
 * Threat model: white-box (gradients through the transformations); the attacker knows the
 * distribution of transformations but not which one will be applied.
 *
 * Transformations (all differentiable tfjs ops, see {@link TransformDistribution}): rotation,
 * scale and translation (bilinear warps), Gaussian blur, contrast, brightness and Gaussian noise,
 * composed as in {@link TransformParams}. Each is a dense `HW × HW` sampling matrix applied by one
 * matrix product, so images are limited to 64×64 pixels.
 *
 * Choices, documented: the `samples` transformations are drawn once from the seeded generator and
 * kept fixed (a sample-average approximation of the expectation, so the wrapped model is
 * deterministic and every attack's seeding, batching and early stop behave as on any model); raise
 * `samples` for a closer approximation. Logits are averaged, so the cross-entropy the attacks ascend
 * on `z̄` is a lower bound of Athalye et al.'s expected cross-entropy (it is convex in the logits).
 *
 * Options (defaults): `transforms` (required), `samples` (10), `seed` (0), or explicit `transformations`.
 *
 * @throws AdvxError `INVALID_MODEL` / `UNSUPPORTED_MODEL` (query model, non-image or over-64×64 inputs), `INVALID_OPTION`.
 *
 * @example
 * ```ts
 * import { eot, evaluateUnderTransforms, pgd } from '@advx/attacks';
 *
 * const transforms = { rotation: 20, translation: 3, blur: 1 };
 * const robust = eot(model, { transforms, samples: 10, seed: 0 });
 * const r = await pgd({ steps: 40 }).run(robust, x, { labels }, { epsilons: [0.3] });
 * const fresh = await evaluateUnderTransforms(model, r.clipped[0], { labels }, { transforms, samples: 20, seed: 99 });
 * fresh.successRate; // fraction of (image, transformation) pairs still misclassified
 * r.dispose();
 * robust.dispose();
 * ```
 * @public
 */
export function eot(model: Model, options: EotOptions): EotModel {
  const m = requireWhiteBox(model, 'eot');
  const g = geometryOf(m.inputShape, 'eot');
  const transformations = resolveTransformations(m, options, 'eot');
  const built = transformations.map((p) => {
    const b = build(g, p);
    tf.keep(b.matrix);
    if (b.noise) tf.keep(b.noise);
    return b;
  });
  const k = built.length;
  return {
    kind: 'model',
    inputShape: m.inputShape,
    numClasses: m.numClasses,
    bounds: m.bounds,
    outputKind: m.outputKind,
    transformations,
    logits: (x: tf.Tensor) =>
      tf.tidy(() => {
        const n = x.shape[0] as number;
        const all = tf.concat(
          built.map((t) => applyBuilt(x, g, t, m.bounds)),
          0,
        );
        const z = m.logits(all);
        return tf.mean(tf.reshape(z, [k, n, m.numClasses]), 0) as tf.Tensor2D;
      }),
    dispose: () => {
      for (const t of built) tf.dispose([t.matrix, ...(t.noise ? [t.noise] : [])]);
      built.length = 0;
    },
  };
}

/**
 * The result of {@link evaluateUnderTransforms}.
 *
 * @public
 */
export interface TransformEvaluation {
  /** Fraction of (image, transformation) pairs that satisfy the goal. */
  readonly successRate: number;
  /** Per image: the fraction of its transformations that satisfy the goal. */
  readonly perSample: Float32Array;
}

/**
 * How adversarial a batch stays under random transformations: classifies every image under each
 * of `samples` freshly drawn transformations (use another seed than the attack's) and counts the
 * pairs that satisfy the goal (misclassified for `{ labels }`, classified as the target for
 * `{ targets }`).
 *
 * @param model - the plain (not EOT-wrapped) model.
 * @param x - images `[n, ...model.inputShape]` inside the bounds, e.g. an attack's `clipped[e]`.
 * @param goal - `{ labels }` or `{ targets }`.
 * @param options - `transforms` (required) or `transformations`, `samples` (default 10), `seed` (default 0).
 * @throws AdvxError for a bad model, input, goal or option, before any work.
 *
 * @example
 * ```ts
 * const { successRate } = await evaluateUnderTransforms(model, adv, { labels }, { transforms: { rotation: 20 }, samples: 20, seed: 7 });
 * ```
 * @public
 */
export async function evaluateUnderTransforms(model: Model, x: tf.Tensor, goal: Goal, options: EotOptions): Promise<TransformEvaluation> {
  const m = requireWhiteBox(model, 'evaluateUnderTransforms');
  const g = geometryOf(m.inputShape, 'evaluateUnderTransforms');
  const transformations = resolveTransformations(m, options, 'evaluateUnderTransforms');
  await validateInput(m, x);
  const n = x.shape[0] as number;
  const { classes, targeted } = await validateGoal(goal, n, m.numClasses);
  const hits = new Float32Array(n);
  for (const p of transformations) {
    const t = build(g, p);
    const pred = tf.tidy(() => tf.argMax(m.logits(applyBuilt(x, g, t, m.bounds)), 1));
    tf.dispose([t.matrix, ...(t.noise ? [t.noise] : [])]);
    const values = await pred.data();
    pred.dispose();
    for (let i = 0; i < n; i++) {
      const ok = targeted ? values[i] === classes[i] : values[i] !== classes[i];
      if (ok) hits[i] = (hits[i] as number) + 1 / transformations.length;
    }
  }
  return { successRate: hits.reduce((s, v) => s + v, 0) / n, perSample: hits };
}

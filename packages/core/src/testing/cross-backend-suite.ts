import * as tf from '@tensorflow/tfjs-core';

import { toQueryModel } from '../adapters/index.js';
import type { Attack } from '../attack.js';
import { AdvxError } from '../errors.js';
import type { Goal } from '../goals.js';
import { randomTargets } from '../goals.js';
import type { AnyModel, Model } from '../model.js';
import { getNorm } from '../norms/index.js';
import { ensure, Suite, type ConformanceReport } from './report.js';
import { predictClasses } from './util.js';

/**
 * A model built on one backend, with what frees it.
 *
 * @public
 */
export interface BackendModel {
  /** The model; its weights should live on the backend it was built for. */
  readonly model: Model;
  /** Frees the model's tensors (e.g. `layers.dispose()` of a tfjs-layers model). */
  dispose(): void;
}

/**
 * Builds the model once per backend, after that backend became active, so that its weights live
 * there. Needed for backends whose tensors cannot be read synchronously (webgpu in Node): tfjs moves
 * a tensor to another backend with a synchronous read.
 *
 * @public
 */
export type BackendModelFactory = (backend: string) => Promise<BackendModel>;

/**
 * One attack of {@link crossBackendSuite}, with its epsilons.
 *
 * @public
 */
export interface CrossBackendCase {
  /** The configured attack (small budgets keep the suite fast). */
  readonly attack: Attack;
  /** Epsilons in the attack's norm, ascending. */
  readonly epsilons: readonly number[];
  /** Samples per epsilon whose success may differ between backends (default: the fixture's `tolerance`). */
  readonly tolerance?: number;
  /** Why this case has its own tolerance (printed with a failure). */
  readonly reason?: string;
}

/**
 * What {@link crossBackendSuite} checks, and on what.
 *
 * @public
 */
export interface CrossBackendFixture {
  /** The attacks, one check each. */
  readonly cases: readonly CrossBackendCase[];
  /**
   * The white-box model, or a factory that builds it on each backend. A plain model's tensors are
   * moved between backends by tfjs on demand, which needs synchronous reads (cpu and wasm have them,
   * webgpu in Node does not): use a factory when a backend such as webgpu is in the list. Score-based
   * attacks get `toQueryModel(model, { output: 'scores' })`, decision-based ones `{ output: 'label' }`.
   */
  readonly model: Model | BackendModelFactory;
  /** The fixed sample, inside the model's bounds. It is copied onto each backend. */
  readonly x: tf.Tensor;
  /** Its true labels. */
  readonly labels: tf.Tensor1D;
  /** Registered backend names, at least two; the first is the reference. */
  readonly backends: readonly string[];
  /** Seed of every run (default 0), the same on every backend. */
  readonly seed?: number;
  /**
   * Default number of samples per epsilon whose success may differ from the reference backend
   * (default 0: exact agreement of every per-sample outcome).
   */
  readonly tolerance?: number;
  /**
   * Relative tolerance of the mean perturbation distance per epsilon (default 0.05): after the
   * success flags agree, a larger gap means that the attack moved the inputs differently.
   */
  readonly distanceTolerance?: number;
}

/**
 * The figures of one attack on one backend.
 *
 * @public
 */
export interface CrossBackendFigures {
  /** The backend. */
  readonly backend: string;
  /** Per epsilon: share of samples whose clipped adversarial is still classified as its label. */
  readonly robustAccuracy: readonly number[];
  /** Per epsilon: the result's success flags. */
  readonly success: readonly (readonly boolean[])[];
  /** Per epsilon: mean distance of the clipped adversarials from the inputs in the attack's norm. */
  readonly meanDistance: readonly number[];
  /** Wall-clock seconds of the attack's run on this backend. */
  readonly seconds: number;
}

/**
 * The report of {@link crossBackendSuite}: one check per attack (named after it) plus the figures
 * measured on every backend.
 *
 * @public
 */
export interface CrossBackendReport extends ConformanceReport {
  /** Per attack name: its figures on each backend, in the order of `backends`. */
  readonly figures: Readonly<Record<string, readonly CrossBackendFigures[]>>;
}

const WHERE = 'crossBackendSuite';

function checkCount(name: string, value: unknown): void {
  if (value !== undefined && !(typeof value === 'number' && Number.isInteger(value) && value >= 0)) {
    throw new AdvxError('INVALID_OPTION', `${WHERE}: ${name} must be a whole number of samples ≥ 0, got ${String(value)}.`);
  }
}

function validate(fixture: CrossBackendFixture): void {
  if (fixture === null || typeof fixture !== 'object') {
    throw new AdvxError('INVALID_OPTION', `${WHERE}: pass a fixture { cases, model, x, labels, backends }.`);
  }
  const { backends, cases, x, labels } = fixture;
  if (!Array.isArray(backends) || backends.length < 2 || new Set(backends).size !== backends.length) {
    throw new AdvxError('INVALID_OPTION', `${WHERE}: backends must list at least two different backend names, got ${JSON.stringify(backends)}.`);
  }
  const registered = Object.keys(tf.engine().registryFactory);
  const missing = backends.filter((b) => !registered.includes(b));
  if (missing.length > 0) {
    throw new AdvxError(
      'BACKEND_UNAVAILABLE',
      `${WHERE}: backend(s) ${missing.join(', ')} not registered (registered: ${registered.join(', ')}). Import or set them up first (e.g. useWasm() of @advx/backend-wasm).`,
      { missing, registered },
    );
  }
  if (!Array.isArray(cases) || cases.length === 0) {
    throw new AdvxError('INVALID_OPTION', `${WHERE}: cases must list at least one { attack, epsilons }.`);
  }
  const names = new Set<string>();
  for (const c of cases) {
    const name = c?.attack?.meta?.name;
    if (typeof name !== 'string' || typeof c.attack.run !== 'function') {
      throw new AdvxError('INVALID_OPTION', `${WHERE}: every case needs an advx Attack (with meta and run), got ${String(c?.attack)}.`);
    }
    if (names.has(name)) throw new AdvxError('INVALID_OPTION', `${WHERE}: attack '${name}' appears twice in cases; give each attack one case.`);
    names.add(name);
    if (!Array.isArray(c.epsilons) || c.epsilons.length === 0 || c.epsilons.some((e: number) => !(Number.isFinite(e) && e >= 0))) {
      throw new AdvxError('INVALID_EPSILON', `${WHERE}: case '${name}' needs finite epsilons ≥ 0, got ${JSON.stringify(c.epsilons)}.`);
    }
    checkCount(`the tolerance of case '${name}'`, c.tolerance);
  }
  checkCount('tolerance', fixture.tolerance);
  const dt = fixture.distanceTolerance;
  if (dt !== undefined && !(Number.isFinite(dt) && dt >= 0)) {
    throw new AdvxError('INVALID_OPTION', `${WHERE}: distanceTolerance must be a finite relative tolerance ≥ 0, got ${String(dt)}.`);
  }
  if (!(x instanceof tf.Tensor) || !(labels instanceof tf.Tensor) || labels.rank !== 1 || labels.shape[0] !== x.shape[0]) {
    throw new AdvxError(
      'BATCH_MISMATCH',
      `${WHERE}: x must be a tensor [n, ...] and labels a tensor [n], got shapes [${String((x as tf.Tensor | undefined)?.shape)}] and [${String((labels as tf.Tensor | undefined)?.shape)}].`,
    );
  }
  if (typeof fixture.model !== 'function' && fixture.model?.kind !== 'model') {
    throw new AdvxError('INVALID_MODEL', `${WHERE}: model must be an advx Model (kind 'model') or a factory (backend) => Promise<{ model, dispose }>.`);
  }
}

function modelFor(model: Model, attack: Attack): AnyModel {
  if (attack.meta.threat === 'score') return toQueryModel(model, { output: 'scores' });
  if (attack.meta.threat === 'decision') return toQueryModel(model, { output: 'label' });
  return model;
}

function pct(v: number): string {
  return `${(100 * v).toFixed(1)} %`;
}

async function runCase(c: CrossBackendCase, backend: string, model: Model, x: tf.Tensor, labels: tf.Tensor1D, seed: number): Promise<CrossBackendFigures> {
  const { attack } = c;
  const targeted = !attack.meta.goals.includes('untargeted');
  const targets = targeted ? await randomTargets(labels, model.numClasses, seed) : undefined;
  const goal: Goal = targets ? { targets, labels } : { labels };
  const normName = (attack.options as { norm?: string }).norm ?? attack.meta.norms[0] ?? 'linf';
  const norm = getNorm(normName);
  try {
    const start = performance.now();
    const result = await attack.run(modelFor(model, attack), x, goal, { epsilons: [...c.epsilons], seed });
    const seconds = (performance.now() - start) / 1000;
    try {
      const y = await labels.data();
      const robustAccuracy: number[] = [];
      const meanDistance: number[] = [];
      for (const clipped of result.clipped) {
        const pred = await predictClasses(model, clipped);
        robustAccuracy.push(pred.filter((p, i) => p === y[i]).length / pred.length);
        const d = tf.tidy(() => tf.mean(norm.distance(clipped, x)));
        meanDistance.push((await d.data())[0] as number);
        d.dispose();
      }
      return { backend, robustAccuracy, success: result.success.map((s) => [...s]), meanDistance, seconds };
    } finally {
      result.dispose();
    }
  } finally {
    targets?.dispose();
  }
}

function compare(c: CrossBackendCase, ref: CrossBackendFigures, other: CrossBackendFigures, fixture: CrossBackendFixture): string[] {
  const name = c.attack.meta.name;
  const n = ref.success[0]?.length ?? 0;
  const tolerance = c.tolerance ?? fixture.tolerance ?? 0;
  const distTol = fixture.distanceTolerance ?? 0.05;
  const why = c.reason ? `; ${c.reason}` : '';
  const problems: string[] = [];
  c.epsilons.forEach((eps, e) => {
    const a = ref.success[e] ?? [];
    const b = other.success[e] ?? [];
    const differ = a.reduce((k, s, i) => k + (s !== b[i] ? 1 : 0), 0);
    const ra = ref.robustAccuracy[e] as number;
    const rb = other.robustAccuracy[e] as number;
    if (differ > tolerance) {
      const which = a.flatMap((s, i) => (s !== b[i] ? [i] : [])).slice(0, 8);
      problems.push(
        `${name}: ${ref.backend} ${pct(ra)} vs ${other.backend} ${pct(rb)} robust accuracy at ε ${eps} ` +
          `(success differs on ${differ}/${n} samples [${which.join(', ')}${differ > which.length ? ', …' : ''}], tolerance ${tolerance}/${n}${why})`,
      );
      return;
    }
    const da = ref.meanDistance[e] as number;
    const db = other.meanDistance[e] as number;
    if (Math.abs(da - db) > distTol * Math.max(da, db) + 1e-6 * Math.max(1, eps)) {
      problems.push(
        `${name}: ${ref.backend} ${da.toPrecision(4)} vs ${other.backend} ${db.toPrecision(4)} mean perturbation distance at ε ${eps} ` +
          `(relative tolerance ${distTol}; robust accuracy ${pct(ra)} vs ${pct(rb)})`,
      );
    }
  });
  return problems;
}

/**
 * The cross-backend conformance suite: runs every attack of `fixture.cases` with the same seed on
 * each backend of `fixture.backends` (switching with `tf.setBackend` in one process) on the same
 * sample, and checks that each backend's per-sample success flags agree with the first backend's
 * at every epsilon, up to `tolerance` samples, and that the mean perturbation distances agree within
 * `distanceTolerance`. Results depend on the backend only through floating-point rounding, so a
 * figure that differs points at a wrong kernel (or at randomness that bypasses the seed). A failure
 * names the attack, both robust accuracies, the epsilon and the tolerance, e.g.
 * `fgsm: cpu 12.5 % vs wasm 43.8 % robust accuracy at ε 0.3 (success differs on 10/32 samples …, tolerance 0/32)`.
 *
 * Tolerance: the default 0 asks for exact agreement of every per-sample outcome. Give a case a
 * `tolerance` of 1 (with a `reason`) when its adversarials end on the decision boundary by design
 * (minimization attacks stop just past it, where a rounding difference in the logits can flip the
 * predicted class).
 *
 * The active backend is restored at the end; `tf.memory().numTensors` is unchanged once the suite
 * returns (the caller keeps owning `x`, `labels` and a plain `model`).
 *
 * @throws AdvxError before any work: `INVALID_OPTION` (fewer than two backends, no cases, a bad
 *   tolerance), `BACKEND_UNAVAILABLE` (a backend is not registered), `INVALID_EPSILON`,
 *   `BATCH_MISMATCH`, `INVALID_MODEL`.
 * @example
 * ```ts
 * import { crossBackendSuite, assertConformance } from '@advx/core/testing';
 * await useWasm(); await tf.setBackend('cpu');
 * assertConformance(await crossBackendSuite({
 *   cases: [{ attack: fgsm(), epsilons: [0.1] }], model, x, labels, backends: ['cpu', 'wasm'],
 * }));
 * ```
 * @public
 */
export async function crossBackendSuite(fixture: CrossBackendFixture): Promise<CrossBackendReport> {
  validate(fixture);
  const { backends, cases } = fixture;
  const seed = fixture.seed ?? 0;
  const original = tf.getBackend();
  const xValues = await fixture.x.data();
  const xShape = [...fixture.x.shape];
  const labelValues = Int32Array.from(await fixture.labels.data());
  const runs = new Map<string, (CrossBackendFigures | string)[]>(cases.map((c) => [c.attack.meta.name, []]));
  try {
    for (const backend of backends) {
      if (!(await tf.setBackend(backend))) {
        for (const c of cases) runs.get(c.attack.meta.name)?.push(`backend ${backend} could not be initialised (tf.setBackend returned false)`);
        continue;
      }
      const built = typeof fixture.model === 'function' ? await fixture.model(backend) : { model: fixture.model, dispose: () => undefined };
      const x = tf.tensor(xValues, xShape, fixture.x.dtype);
      const labels = tf.tensor1d(labelValues, 'int32');
      try {
        for (const c of cases) {
          let figures: CrossBackendFigures | string;
          try {
            figures = await runCase(c, backend, built.model, x, labels, seed);
          } catch (e) {
            figures = `threw on ${backend}: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`;
          }
          runs.get(c.attack.meta.name)?.push(figures);
        }
      } finally {
        tf.dispose([x, labels]);
        built.dispose();
      }
    }
  } finally {
    await tf.setBackend(original);
  }
  const suite = new Suite(`cross-backend ${backends.join(' / ')}`);
  const figures: Record<string, CrossBackendFigures[]> = {};
  for (const c of cases) {
    const name = c.attack.meta.name;
    const list = runs.get(name) ?? [];
    figures[name] = list.filter((f): f is CrossBackendFigures => typeof f !== 'string');
    await suite.check(name, () => {
      const errors = list.filter((f): f is string => typeof f === 'string');
      ensure(errors.length === 0, `${name}: ${errors.join('; ')}`);
      const [ref, ...others] = list as CrossBackendFigures[];
      const problems = others.flatMap((o) => compare(c, ref as CrossBackendFigures, o, fixture));
      ensure(problems.length === 0, problems.join('\n    '));
      const r = ref as CrossBackendFigures;
      const times = (list as CrossBackendFigures[]).map((f) => `${f.backend} ${f.seconds.toFixed(1)} s`).join(', ');
      return `robust accuracy ${c.epsilons.map((eps, e) => `ε ${eps}: ${pct(r.robustAccuracy[e] as number)}`).join(', ')} on ${backends.join(', ')} (${times})`;
    });
  }
  return Object.freeze({ ...suite.report(), figures });
}

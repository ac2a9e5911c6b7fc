/**
 * Validation of evaluation records read from files (results of `advx merge`, state of `--resume`):
 * every string and number is checked against the schema before it is used, so that a damaged or
 * crafted file gives a typed error naming the file and the field, never a crash, a script in the HTML
 * report or a file name outside the output folder.
 *
 * @internal
 * @packageDocumentation
 */
import { AdvxError } from '@advx/core';

import { RESULT_SCHEMA, type ChunkRecord, type EvaluationConfig, type EvaluationResult, type EvaluationState } from '../types.js';

const WARNING_CODES: ReadonlySet<string> = new Set([
  'PROBABILITY_OUTPUT',
  'ZERO_GRADIENTS',
  'RANDOMIZED_MODEL',
  'BLACK_BOX_BEATS_WHITE_BOX',
  'SELF_TEST_FAILED',
  'UNBOUNDED_NOT_ZERO',
  'ACCURACY_INCREASES_WITH_EPSILON',
  'ACCURACY_INCREASES_WITH_STEPS',
  'STEPS_CANNOT_REACH_EPSILON',
]);
const NORMS: ReadonlySet<string> = new Set(['linf', 'l2', 'l1', 'l0']);
const MAX_TEXT = 10_000;

function shown(v: unknown): string {
  if (v === undefined) return 'nothing';
  const text =
    typeof v === 'string'
      ? JSON.stringify(v)
      : Array.isArray(v)
        ? `an array of ${v.length}`
        : v === null
          ? 'null'
          : typeof v === 'object'
            ? 'an object'
            : String(v);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** A reader of one file: each check names the file and the field it failed on. */
class Fields {
  constructor(private readonly source: string) {}

  fail(field: string, what: string, v: unknown): never {
    throw new AdvxError(
      'INVALID_OPTION',
      `${this.source}: field ${field} must be ${what}, got ${shown(v)}. The file is damaged or was not written by this version of advx.`,
      {
        file: this.source,
        field,
      },
    );
  }

  object(v: unknown, field: string): Record<string, unknown> {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) this.fail(field, 'an object', v);
    return v as Record<string, unknown>;
  }

  array(v: unknown, field: string, length?: number): unknown[] {
    if (!Array.isArray(v)) this.fail(field, length === undefined ? 'an array' : `an array of ${length}`, v);
    if (length !== undefined && v.length !== length) this.fail(field, `an array of ${length}`, v);
    return v;
  }

  number(v: unknown, field: string, min = -Infinity, max = Infinity): number {
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) {
      this.fail(field, `a finite number${min > -Infinity ? ` ≥ ${min}` : ''}${max < Infinity ? ` ≤ ${max}` : ''}`, v);
    }
    return v;
  }

  integer(v: unknown, field: string, min: number, below = Infinity): number {
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v >= below) {
      this.fail(field, `an integer ≥ ${min}${below < Infinity ? ` and < ${below}` : ''}`, v);
    }
    return v;
  }

  string(v: unknown, field: string): string {
    if (typeof v !== 'string' || v.length > MAX_TEXT) this.fail(field, `a string of at most ${MAX_TEXT} characters`, v);
    return v;
  }

  oneOf(v: unknown, field: string, values: ReadonlySet<string>): string {
    if (typeof v !== 'string' || !values.has(v)) this.fail(field, `one of ${[...values].join(', ')}`, v);
    return v;
  }

  optional<T>(v: unknown, check: (v: unknown) => T): void {
    if (v !== undefined) check(v);
  }
}

function checkConfig(f: Fields, v: unknown): EvaluationConfig {
  const c = f.object(v, 'config');
  f.array(c.attacks, 'config.attacks').forEach((a, i) => {
    const o = f.object(a, `config.attacks[${i}]`);
    f.string(o.label, `config.attacks[${i}].label`);
    f.string(o.name, `config.attacks[${i}].name`);
    f.oneOf(o.kind, `config.attacks[${i}].kind`, new Set(['fixed-epsilon', 'minimization']));
    f.oneOf(o.threat, `config.attacks[${i}].threat`, new Set(['white-box', 'score', 'decision', 'transfer']));
    f.object(o.options, `config.attacks[${i}].options`);
    f.optional(o.paper, (p) => f.string(p, `config.attacks[${i}].paper`));
    f.optional(o.scope, (p) => f.oneOf(p, `config.attacks[${i}].scope`, new Set(['dataset'])));
  });
  if ((c.attacks as unknown[]).length === 0) f.fail('config.attacks', 'a non-empty array', c.attacks);
  const eps = f.array(c.epsilons, 'config.epsilons');
  if (eps.length === 0) f.fail('config.epsilons', 'a non-empty array', eps);
  eps.forEach((e, i) => f.number(e, `config.epsilons[${i}]`, Number.MIN_VALUE));
  f.oneOf(c.norm, 'config.norm', NORMS);
  f.number(c.seed, 'config.seed');
  f.integer(c.batchSize, 'config.batchSize', 1);
  f.oneOf(c.mode, 'config.mode', new Set(['independent', 'sequential']));
  f.integer(c.datasetSize, 'config.datasetSize', 0);
  f.integer(c.examples, 'config.examples', 0);
  f.optional(c.maxPasses, (v) => f.integer(v, 'config.maxPasses', 1));
  const m = f.object(c.model, 'config.model');
  f.array(m.inputShape, 'config.model.inputShape').forEach((d, i) => f.integer(d, `config.model.inputShape[${i}]`, 1));
  f.integer(m.numClasses, 'config.model.numClasses', 1);
  const b = f.array(m.bounds, 'config.model.bounds', 2);
  const lo = f.number(b[0], 'config.model.bounds[0]');
  f.number(b[1], 'config.model.bounds[1]', lo + Number.MIN_VALUE);
  f.optional(m.id, (id) => f.string(id, 'config.model.id'));
  f.optional(c.dataset, (d) => f.string(d, 'config.dataset'));
  f.optional(c.data, (d) => f.object(d, 'config.data'));
  f.optional(c.ensemble, (e) => {
    const o = f.object(e, 'config.ensemble');
    f.string(o.name, 'config.ensemble.name');
    f.string(o.version, 'config.ensemble.version');
    f.array(o.omitted, 'config.ensemble.omitted').forEach((s, i) => f.string(s, `config.ensemble.omitted[${i}]`));
  });
  if (c.diagnostics !== null) {
    const d = f.object(c.diagnostics, 'config.diagnostics');
    for (const [k, val] of Object.entries(d))
      if (typeof val !== 'number' && typeof val !== 'boolean') f.fail(`config.diagnostics.${k}`, 'a number or true/false', val);
  }
  return c as unknown as EvaluationConfig;
}

function checkSamples(f: Fields, v: unknown, field: string, config: EvaluationConfig): void {
  const classes = config.model.numClasses;
  const e = config.epsilons.length;
  f.array(v, field).forEach((s, i) => {
    const at = `${field}[${i}]`;
    const o = f.object(s, at);
    f.integer(o.index, `${at}.index`, 0, config.datasetSize);
    f.integer(o.label, `${at}.label`, 0, classes);
    f.integer(o.prediction, `${at}.prediction`, 0, classes);
    f.number(o.inputNorm, `${at}.inputNorm`, 0);
    f.array(o.attacks, `${at}.attacks`, config.attacks.length).forEach((a, k) => {
      const r = f.object(a, `${at}.attacks[${k}]`);
      f.array(r.success, `${at}.attacks[${k}].success`, e).forEach((x, j) => {
        if (x !== null && typeof x !== 'boolean') f.fail(`${at}.attacks[${k}].success[${j}]`, 'true, false or null', x);
      });
      f.array(r.perturbation, `${at}.attacks[${k}].perturbation`, e).forEach((x, j) => {
        if (x !== null) f.number(x, `${at}.attacks[${k}].perturbation[${j}]`, 0);
      });
      if (r.distance !== null) f.number(r.distance, `${at}.attacks[${k}].distance`, 0);
      f.integer(r.queries, `${at}.attacks[${k}].queries`, 0);
    });
  });
}

function checkExamples(f: Fields, v: unknown, field: string, config: EvaluationConfig): void {
  const classes = config.model.numClasses;
  const shape = config.model.inputShape;
  const size = shape.reduce((p, d) => p * d, 1);
  const labels = new Set(config.attacks.map((a) => a.label));
  f.array(v, field).forEach((x, i) => {
    const at = `${field}[${i}]`;
    const o = f.object(x, at);
    f.oneOf(o.attack, `${at}.attack`, labels);
    if (o.epsilon !== null) f.oneOf(String(f.number(o.epsilon, `${at}.epsilon`)), `${at}.epsilon`, new Set(config.epsilons.map(String)));
    f.integer(o.index, `${at}.index`, 0, config.datasetSize);
    f.integer(o.label, `${at}.label`, 0, classes);
    f.integer(o.cleanPrediction, `${at}.cleanPrediction`, 0, classes);
    f.integer(o.adversarialPrediction, `${at}.adversarialPrediction`, 0, classes);
    f.number(o.cleanConfidence, `${at}.cleanConfidence`, 0, 1);
    f.number(o.adversarialConfidence, `${at}.adversarialConfidence`, 0, 1);
    f.number(o.perturbation, `${at}.perturbation`, 0);
    const s = f.array(o.shape, `${at}.shape`, shape.length);
    s.forEach((d, j) => {
      if (d !== shape[j]) f.fail(`${at}.shape[${j}]`, `${shape[j]} (the model's input shape)`, d);
    });
    f.array(o.original, `${at}.original`, size).forEach((p, j) => f.number(p, `${at}.original[${j}]`));
    f.array(o.adversarial, `${at}.adversarial`, size).forEach((p, j) => f.number(p, `${at}.adversarial[${j}]`));
  });
}

/** A pass count: `{ forward, backward }`, integers ≥ 0. */
function checkPasses(f: Fields, value: unknown, field: string): void {
  const p = f.object(value, field);
  f.integer(p.forward, `${field}.forward`, 0);
  f.integer(p.backward, `${field}.backward`, 0);
}

/**
 * Checks a parsed `results.json` against the schema; throws `AdvxError` `INVALID_OPTION` naming
 * `source` and the first field that is wrong.
 *
 * @internal
 */
export function checkResultRecord(value: unknown, source: string): EvaluationResult {
  const f = new Fields(source);
  const r = f.object(value, '(top level)');
  if (r.schema !== RESULT_SCHEMA) f.fail('schema', `"${RESULT_SCHEMA}"`, r.schema);
  const config = checkConfig(f, r.config);
  if (r.shard !== null) {
    const s = f.object(r.shard, 'shard');
    const count = f.integer(s.count, 'shard.count', 1);
    f.integer(s.index, 'shard.index', 0, count);
  }
  const range = f.array(r.range, 'range', 2);
  const lo = f.integer(range[0], 'range[0]', 0, config.datasetSize + 1);
  const hi = f.integer(range[1], 'range[1]', lo, config.datasetSize + 1);
  f.array(r.attacks, 'attacks', config.attacks.length).forEach((a, i) => {
    const o = f.object(a, `attacks[${i}]`);
    f.number(o.timeMs, `attacks[${i}].timeMs`, 0);
    f.optional(o.passes, (p) => checkPasses(f, p, `attacks[${i}].passes`));
  });
  f.array(r.warnings, 'warnings').forEach((w, i) => {
    const o = f.object(w, `warnings[${i}]`);
    f.oneOf(o.code, `warnings[${i}].code`, WARNING_CODES);
    f.string(o.message, `warnings[${i}].message`);
    for (const [k, val] of Object.entries(f.object(o.evidence, `warnings[${i}].evidence`))) {
      if (typeof val === 'string') f.string(val, `warnings[${i}].evidence.${k}`);
      else if (val !== null && typeof val !== 'boolean') f.number(val, `warnings[${i}].evidence.${k}`);
    }
  });
  f.optional(r.selfTest, (t) => {
    const o = f.object(t, 'selfTest');
    f.oneOf(o.method, 'selfTest.method', new Set(['binarization']));
    f.number(o.epsilon, 'selfTest.epsilon', Number.MIN_VALUE);
    f.integer(o.samples, 'selfTest.samples', 0);
    f.oneOf(o.features, 'selfTest.features', new Set(['penultimate', 'logits']));
    f.number(o.threshold, 'selfTest.threshold', 0, 1);
    f.array(o.attacks, 'selfTest.attacks').forEach((a, i) => {
      const e = f.object(a, `selfTest.attacks[${i}]`);
      f.string(e.label, `selfTest.attacks[${i}].label`);
      for (const k of ['pass', 'fail', 'indeterminate'] as const) f.integer(e[k], `selfTest.attacks[${i}].${k}`, 0);
      f.number(e.passRate, `selfTest.attacks[${i}].passRate`, 0, 1);
      f.array(e.interval, `selfTest.attacks[${i}].interval`, 2).forEach((v, j) => f.number(v, `selfTest.attacks[${i}].interval[${j}]`, 0, 1));
    });
  });
  checkExamples(f, r.examples, 'examples', config);
  checkSamples(f, r.samples, 'samples', config);
  const seen = new Set<number>();
  (r.samples as { index: number }[]).forEach((s, i) => {
    if (s.index < lo || s.index >= hi) f.fail(`samples[${i}].index`, `inside the result's range [${lo}, ${hi})`, s.index);
    if (seen.has(s.index)) f.fail(`samples[${i}].index`, 'unique (each sample once)', s.index);
    seen.add(s.index);
  });
  if (seen.size !== hi - lo) f.fail('samples', `an array of ${hi - lo} (one per sample of the range)`, r.samples);
  return value as EvaluationResult;
}

/**
 * Checks the structure of a parsed state file (schema, fingerprint, chunk records of the right
 * types); the records' sizes are checked against the evaluation by {@link checkStateChunks}.
 *
 * @internal
 */
export function checkStateRecord(value: unknown, source: string): EvaluationState {
  const f = new Fields(source);
  const s = f.object(value, '(top level)');
  if (s.schema !== RESULT_SCHEMA) f.fail('schema', `"${RESULT_SCHEMA}"`, s.schema);
  f.string(s.fingerprint, 'fingerprint');
  for (const [key, chunk] of Object.entries(f.object(s.chunks, 'chunks'))) {
    if (!/^(0|[1-9][0-9]{0,8})$/.test(key)) f.fail(`chunks.${key.slice(0, 40)}`, 'named by a chunk number', key);
    const c = f.object(chunk, `chunks.${key}`);
    f.array(c.samples, `chunks.${key}.samples`);
    f.array(c.timeMs, `chunks.${key}.timeMs`).forEach((t, i) => f.number(t, `chunks.${key}.timeMs[${i}]`, 0));
    f.array(c.examples, `chunks.${key}.examples`);
  }
  return value as EvaluationState;
}

/**
 * Checks the chunk records of a state that matched the evaluation's fingerprint against its
 * configuration: chunk numbers, one record per sample of the chunk, every field of every record.
 *
 * @internal
 */
export function checkStateChunks(chunks: Readonly<Record<string, ChunkRecord>>, config: EvaluationConfig, source: string): void {
  const f = new Fields(source);
  const chunkCount = Math.ceil(config.datasetSize / config.batchSize);
  for (const [key, chunk] of Object.entries(f.object(chunks, 'chunks'))) {
    const c = Number(key);
    if (!Number.isSafeInteger(c) || c < 0 || c >= chunkCount) f.fail(`chunks.${key.slice(0, 40)}`, `named by a chunk number below ${chunkCount}`, key);
    const rec = f.object(chunk, `chunks.${key}`);
    checkSamples(f, rec.samples, `chunks.${key}.samples`, config);
    checkExamples(f, rec.examples, `chunks.${key}.examples`, config);
    f.array(rec.timeMs, `chunks.${key}.timeMs`, config.attacks.length).forEach((t, i) => f.number(t, `chunks.${key}.timeMs[${i}]`, 0));
    f.optional(rec.passes, (p) =>
      f.array(p, `chunks.${key}.passes`, config.attacks.length).forEach((v, i) => v !== null && checkPasses(f, v, `chunks.${key}.passes[${i}]`)),
    );
    const start = c * config.batchSize;
    const size = Math.min(config.batchSize, config.datasetSize - start);
    const samples = (chunk as ChunkRecord).samples;
    if (samples.length !== size) f.fail(`chunks.${key}.samples`, `an array of ${size} (one per sample of the chunk)`, samples);
    samples.forEach((s, i) => {
      if (s.index !== start + i) f.fail(`chunks.${key}.samples[${i}].index`, `${start + i}`, s.index);
    });
  }
}

import { AdvxError } from '@advx/core';

import { checkResultRecord } from './internal/check-records.js';
import { buildResult, sumPasses } from './internal/summarize.js';
import { RESULT_SCHEMA, type EvaluationResult, type MaskingWarning } from './types.js';

/** Warnings measured by probing the model, or by the self-test (the others are recomputed from the merged samples). */
const PROBE_CODES: ReadonlySet<MaskingWarning['code']> = new Set([
  'PROBABILITY_OUTPUT',
  'ZERO_GRADIENTS',
  'RANDOMIZED_MODEL',
  'UNBOUNDED_NOT_ZERO',
  'SELF_TEST_FAILED',
]);

/**
 * Combines the results of the shards of one evaluation (`evaluate({ ..., shard: { index, count } })`
 * for every `index` in `0 … count − 1`) into the result a single run gives: the samples are joined,
 * every aggregate and grid diagnostic is recomputed from them, attack times are summed and the
 * examples re-picked. The model-probe warnings are those of the first shard (every shard probes the
 * same first samples of the dataset).
 *
 * @param results - one result per shard, in any order.
 * @returns the merged result (`shard: null`).
 * @throws AdvxError `INVALID_OPTION` when the results come from different evaluations, a shard is
 * missing or repeated, or a result is not an advx evaluation result (the message names the first
 * field that does not match the schema).
 *
 * @example
 * ```ts
 * const shards = await Promise.all([0, 1].map((index) => evaluate({ ...options, shard: { index, count: 2 } })));
 * const result = mergeResults(shards); // equal to evaluate(options), except the times
 * ```
 * @public
 */
export function mergeResults(results: readonly EvaluationResult[]): EvaluationResult {
  if (!Array.isArray(results) || results.length === 0) {
    throw new AdvxError('INVALID_OPTION', 'mergeResults needs a non-empty list of evaluation results (one per shard).');
  }
  results.forEach((r, i) => {
    if (r === null || typeof r !== 'object' || r.schema !== RESULT_SCHEMA || !Array.isArray(r.samples)) {
      throw new AdvxError(
        'INVALID_OPTION',
        `results[${i}] is not an ${RESULT_SCHEMA} evaluation result (schema ${String((r as { schema?: unknown } | null)?.schema)}).`,
      );
    }
    // Results may come from files: every field is checked before use.
    checkResultRecord(r, `results[${i}]`);
  });
  const first = results[0] as EvaluationResult;
  const config = JSON.stringify(first.config);
  results.forEach((r, i) => {
    if (JSON.stringify(r.config) !== config) {
      throw new AdvxError(
        'INVALID_OPTION',
        `results[${i}] comes from a different evaluation than results[0] (model, data size, attacks, epsilons, seed, batch size or mode differ).`,
      );
    }
  });
  const count = first.shard?.count ?? 1;
  const seen = new Set<number>();
  for (const r of results) {
    const index = r.shard?.index ?? 0;
    if ((r.shard?.count ?? 1) !== count) throw new AdvxError('INVALID_OPTION', `the results mix shard counts ${count} and ${r.shard?.count ?? 1}.`);
    if (seen.has(index)) throw new AdvxError('INVALID_OPTION', `shard ${index + 1}/${count} is given twice.`);
    seen.add(index);
  }
  const missing = Array.from({ length: count }, (_, i) => i).filter((i) => !seen.has(i));
  if (missing.length) {
    throw new AdvxError(
      'INVALID_OPTION',
      `shard${missing.length > 1 ? 's' : ''} ${missing.map((i) => `${i + 1}/${count}`).join(', ')} missing: merge the results of every shard.`,
    );
  }
  const a = first.config.attacks.length;
  // The self-test runs on the first samples of the data, in one shard (the first that has it).
  const selfTest = results.find((r) => r.selfTest !== undefined)?.selfTest;
  const merged = buildResult({
    config: first.config,
    shard: null,
    range: [0, first.config.datasetSize],
    samples: results.flatMap((r) => r.samples),
    timeMs: Array.from({ length: a }, (_, i) => results.reduce((s, r) => s + (r.attacks[i]?.timeMs ?? 0), 0)),
    passes: Array.from({ length: a }, (_, i) => sumPasses(results.map((r) => r.attacks[i]?.passes))),
    examples: results.flatMap((r) => r.examples),
    probeWarnings: results.flatMap((r) =>
      r.warnings.filter((w: MaskingWarning) => PROBE_CODES.has(w.code) && (w.code === 'SELF_TEST_FAILED' ? r.selfTest === selfTest : r === first)),
    ),
  });
  return selfTest !== undefined ? { ...merged, selfTest } : merged;
}

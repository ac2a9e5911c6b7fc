import type { EvaluationResult } from '../types.js';

const list = (v: unknown): string => (Array.isArray(v) ? `[${v.map(String).join(', ')}]` : String(v));

/**
 * One sentence on how the command line read and fed the model (`config.model.input`, written by
 * `advx eval`): format, input shape and dtype, bounds, normalization, output node, class names and
 * the inspection on one sample. `undefined` when the result has no such record. Every value is
 * printed with `String` (a hand-edited results.json may hold anything; the HTML report
 * escapes the sentence).
 *
 * @param result - an evaluation result.
 * @returns the sentence, or `undefined`.
 *
 * @example
 * ```ts
 * describeModelInput(result); // "Model: graph model, input [2, 2, 1] float32 in [0, 1], ..."
 * ```
 */
export function describeModelInput(result: EvaluationResult): string | undefined {
  const input = result.config.model.input as Record<string, unknown> | undefined;
  if (input === undefined || input === null || typeof input !== 'object') return undefined;
  const normalize = input.normalize as { mean?: unknown; std?: unknown } | null | undefined;
  const norm =
    normalize !== null && typeof normalize === 'object' ? `, normalized inside the model as (x - ${list(normalize.mean)}) / ${list(normalize.std)}` : '';
  const node = typeof input.outputNode === 'string' ? ` of node '${input.outputNode}'` : '';
  const names = Array.isArray(input.classNames) ? ` (${input.classNames.map(String).join(', ')}) from ${String(input.classNamesFrom)}` : '';
  const inspection = input.inspection as { gradient?: unknown; gradientProblem?: unknown } | undefined;
  const inspected =
    inspection !== undefined && inspection !== null && typeof inspection === 'object'
      ? `; inspected on one sample: forward ok, input gradient ${String(inspection.gradient)}${typeof inspection.gradientProblem === 'string' ? ` (${inspection.gradientProblem})` : ''}`
      : '';
  const bounds = list(input.bounds);
  return `Model: ${String(input.format)} model, input ${list(input.inputShape)} ${String(input.inputDtype)} in ${bounds}${norm}, output: ${String(input.output)}${node}; ${String(input.numClasses)} classes${names}${inspected}.`;
}

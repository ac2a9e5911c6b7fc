import type { Tensor } from '@tensorflow/tfjs-core';

import { AdvxError, type Model } from '@advx/core';

import { inspectModel, type ModelInspection } from './inspect-model.js';
import type { UserModelDescription } from './types.js';

/**
 * The one-line summary `advx eval` prints to stderr after {@link inspectModel}.
 *
 * @param d - the model's description.
 * @param i - the inspection.
 * @returns e.g. `model: graph [128, 128, 3] float32, bounds [0, 1], 2 classes (fake, real), logits; forward ok, gradient ok (|g| 0.31)`.
 *
 * @example
 * ```ts
 * stderr.write(`[advx] ${inspectionSummary(user.description, report)}\n`);
 * ```
 * @public
 */
export function inspectionSummary(d: UserModelDescription, i: ModelInspection): string {
  const names = d.classNames === null ? '' : ` (${d.classNames.slice(0, 6).join(', ')}${d.classNames.length > 6 ? ', ...' : ''})`;
  const norm = d.normalize === null ? '' : `, normalized (x - ${String(d.normalize.mean)}) / ${String(d.normalize.std)}`;
  const node = d.outputNode === null ? '' : ` of node '${d.outputNode}'`;
  const grad = i.gradient === 'ok' ? `gradient ok (|g| ${i.gradientNorm.toPrecision(3)})` : `gradient ${i.gradient}`;
  return `model: ${d.format} [${i.inputShape.join(', ')}] ${i.inputDtype}, bounds [${d.bounds.join(', ')}]${norm}, ${i.numClasses} classes${names}, ${i.outputKind}${node}; forward ok, ${grad}`;
}

/**
 * Inspects the model on the first sample of the data (see {@link inspectModel}) and refuses
 * white-box attacks when no input gradient reaches the input.
 *
 * @param model - the advx model.
 * @param description - its description (class names, dtype).
 * @param sample - one input `[1, ...inputShape]`; the caller disposes it.
 * @param whiteBox - the requested attacks that need gradients.
 * @returns the inspection.
 * @throws AdvxError `UNSUPPORTED_MODEL` with the inspection's one-line reason when gradients are
 * unavailable and `whiteBox` is not empty; the errors of {@link inspectModel}.
 *
 * @example
 * ```ts
 * const report = await inspectBeforeAttacks(user.model, user.description, first.x, ['pgd']);
 * ```
 * @public
 */
export async function inspectBeforeAttacks(
  model: Model,
  description: UserModelDescription,
  sample: Tensor,
  whiteBox: readonly string[],
): Promise<ModelInspection> {
  const report = await inspectModel(model, sample, {
    ...(description.classNames !== null ? { classNames: description.classNames } : {}),
    inputDtype: description.inputDtype,
  });
  if (report.gradient === 'unavailable' && whiteBox.length > 0) {
    throw new AdvxError('UNSUPPORTED_MODEL', `${report.gradientProblem ?? 'no input gradient'} (white-box attacks requested: ${whiteBox.join(', ')}).`);
  }
  return report;
}

import { AdvxError, listAttacks } from '@advx/core';

import type { AttackSpec, EnsembleMode } from './types.js';

/**
 * Options of {@link autoAttack}.
 *
 * @public
 */
export interface AutoAttackOptions {
  /** Threat model's norm: `'linf'` (default) or `'l2'`, as in the paper. */
  readonly norm?: 'linf' | 'l2';
  /** Iterations of APGD-CE and APGD-T (default 100, the paper's standard version). */
  readonly steps?: number;
  /** Target classes of APGD-T (default 9, the paper's standard version). */
  readonly numTargets?: number;
  /** Query budget per sample of Square (default 5000, the paper's standard version). */
  readonly queries?: number;
}

/**
 * The attacks and mode that {@link evaluate} runs for an AutoAttack evaluation.
 *
 * @public
 */
export interface AutoAttackPreset {
  /** The attacks, in the published order, that are registered. */
  readonly attacks: readonly AttackSpec[];
  /** Always `'sequential'`: each attack runs only on the samples still robust. */
  readonly mode: EnsembleMode;
  /** The norm. */
  readonly norm: 'linf' | 'l2';
  /** Attacks of the published ensemble that are not available and were left out, with the reason. */
  readonly omitted: readonly string[];
}

/**
 * An AutoAttack-style ensemble (Croce & Hein 2020, "Reliable evaluation of adversarial robustness
 * with an ensemble of diverse parameter-free attacks", ICML, https://arxiv.org/abs/2003.01690):
 * the attacks run in sequence, each only on the samples that are still correctly classified, in the
 * published order — APGD-CE, APGD-T (targeted DLR loss, 9 targets), then the black-box Square
 * attack (5,000 queries, p_init 0.8) when one named `square` is registered (FAB-T is not in advx and is always omitted). Spread
 * the preset into {@link evaluate}'s options. Register the attacks first (`@advx/attacks/register-all`).
 *
 * Threat model: white-box (APGD) plus score-based (Square), in `linf` or `l2`.
 *
 * @param options - `norm` (`'linf'`), `steps` (100), `numTargets` (9), `queries` (5000).
 * @throws AdvxError `INVALID_OPTION` for another norm; `UNKNOWN_NAME` when APGD is not registered.
 *
 * @example
 * ```ts
 * import '@advx/attacks/register-all';
 * import { autoAttack, evaluate } from '@advx/eval';
 *
 * const preset = autoAttack({ norm: 'linf' });
 * const result = await evaluate({ model, data: { x, labels }, epsilons: [0.3], ...preset });
 * console.log(preset.omitted, result.attacks.map((a) => [a.label, a.perEpsilon[0]?.robustAccuracy]));
 * ```
 * @public
 */
export function autoAttack(options: AutoAttackOptions = {}): AutoAttackPreset {
  const norm = options.norm ?? 'linf';
  if (norm !== 'linf' && norm !== 'l2') {
    throw new AdvxError('INVALID_OPTION', `autoAttack: norm must be 'linf' or 'l2' (the norms of the published ensemble), got ${String(norm)}.`);
  }
  const steps = options.steps ?? 100;
  const numTargets = options.numTargets ?? 9;
  const queries = options.queries ?? 5000;
  const registered = new Set(listAttacks().map((m) => m.name));
  for (const name of ['apgd-ce', 'apgd-t']) {
    if (!registered.has(name)) {
      throw new AdvxError('UNKNOWN_NAME', `autoAttack needs the attack '${name}': import '@advx/attacks/register-all' first.`, { name });
    }
  }
  const attacks: AttackSpec[] = [
    { name: 'apgd-ce', options: { steps, restarts: 1 }, label: 'APGD-CE' },
    { name: 'apgd-t', options: { steps, numTargets }, label: 'APGD-T' },
  ];
  const omitted = ['fab-t: FAB-T is not implemented in advx'];
  // The paper's standard version: 5,000 queries, p_init = 0.8.
  if (registered.has('square')) attacks.push({ name: 'square', options: { maxQueries: queries, pInit: 0.8 }, label: 'Square' });
  else omitted.push('square: no attack named square is registered');
  return { attacks, mode: 'sequential', norm, omitted };
}

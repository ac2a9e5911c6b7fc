import { AdvxError, listAttacks } from '@advx/core';

import type { AttackSpec, EnsembleInfo, EnsembleMode } from './types.js';

/**
 * The versions of AutoAttack (Croce & Hein 2020; the reference code's `version`): `'standard'`, the
 * published ensemble (APGD-CE, APGD-T, FAB-T, Square); `'plus'`, the stronger and slower one
 * (APGD-CE and APGD-DLR with 5 restarts, FAB with 5 restarts, Square, APGD-T, FAB-T); and `'rand'`,
 * for randomized defenses (APGD-CE and APGD-DLR, 1 restart each, every gradient averaged over 20
 * passes of the model: expectation over transformation, `eotSteps: 20`).
 *
 * @public
 */
export type AutoAttackVersion = 'standard' | 'plus' | 'rand';

/**
 * Options of {@link autoAttack}.
 *
 * @public
 */
export interface AutoAttackOptions {
  /** Which version of the ensemble (default `'standard'`): `'standard'`, `'plus'` or `'rand'` (randomized models). */
  readonly version?: AutoAttackVersion;
  /** Threat model's norm: `'linf'` (default) or `'l2'`, as in the paper. */
  readonly norm?: 'linf' | 'l2';
  /** Iterations of APGD and FAB (default 100, the paper's). */
  readonly steps?: number;
  /** Target classes of APGD-T and FAB-T (default 9, the paper's). */
  readonly numTargets?: number;
  /** Query budget per sample of Square (default 5000, the paper's). */
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
  /** What {@link evaluate} records in the result's configuration and the reports show: AutoAttack, the version, what was left out. */
  readonly ensemble: EnsembleInfo;
}

/**
 * An AutoAttack ensemble (Croce & Hein 2020, "Reliable evaluation of adversarial robustness with an
 * ensemble of diverse parameter-free attacks", ICML, https://arxiv.org/abs/2003.01690): the attacks run
 * in sequence, each only on the samples that are still correctly classified, in the published order of
 * the chosen {@link AutoAttackVersion}:
 *
 * - `'standard'`: APGD-CE (1 restart), APGD-T (targeted DLR, 9 targets), FAB-T (9 targets), Square
 *   (5,000 queries, p_init 0.8);
 * - `'plus'`: APGD-CE and APGD-DLR (5 restarts each), FAB (5 restarts), Square (5,000 queries), APGD-T
 *   and FAB-T (9 targets each);
 * - `'rand'`, for models that are random at test time (noise, random transforms, dropout): APGD-CE
 *   and APGD-DLR, 1 restart each, with `eotSteps: 20` (the reference's `eot_iter = 20`: each gradient
 *   is the mean over 20 forward/backward passes; the loss that steers the step size and the
 *   adversarial check come from the last pass, as there). The success of a randomized model's
 *   prediction is itself random: report robust accuracy over several seeds.
 *
 * An attack of the version that is not registered is left out and named in `omitted` (and in the
 * reports). Spread the preset into {@link evaluate}'s options; it records the version in the result's
 * `config.ensemble`. Register the attacks first (`@advx/attacks/register-all`).
 *
 * Threat model: white-box (APGD, FAB) plus score-based (Square), in `linf` or `l2`; `'rand'` is
 * white-box only.
 *
 * @param options - `version` (`'standard'`), `norm` (`'linf'`), `steps` (100), `numTargets` (9), `queries` (5000);
 *   `numTargets` and `queries` do not apply to `'rand'`.
 * @throws AdvxError `INVALID_OPTION` for another norm or version; `UNKNOWN_NAME` when APGD-CE or APGD-T
 *   (for `'rand'`: APGD-CE or APGD-DLR) is not registered.
 *
 * @example
 * ```ts
 * import '@advx/attacks/register-all';
 * import { autoAttack, evaluate } from '@advx/eval';
 *
 * const preset = autoAttack({ norm: 'linf' });
 * const result = await evaluate({ model, data: { x, labels }, epsilons: [0.3], ...preset });
 * console.log(result.config.ensemble, result.attacks.map((a) => [a.label, a.perEpsilon[0]?.robustAccuracy]));
 *
 * // A model with randomness in its forward pass (noise, random transforms): the 'rand' version.
 * const rand = await evaluate({ model: noisyModel, data: { x, labels }, epsilons: [0.3], ...autoAttack({ version: 'rand' }) });
 * ```
 * @public
 */
export function autoAttack(options: AutoAttackOptions = {}): AutoAttackPreset {
  const version = options.version ?? 'standard';
  if (version !== 'standard' && version !== 'plus' && version !== 'rand') {
    throw new AdvxError('INVALID_OPTION', `autoAttack: version must be 'standard', 'plus' or 'rand', got ${String(version)}.`);
  }
  const norm = options.norm ?? 'linf';
  if (norm !== 'linf' && norm !== 'l2') {
    throw new AdvxError('INVALID_OPTION', `autoAttack: norm must be 'linf' or 'l2' (the norms of the published ensemble), got ${String(norm)}.`);
  }
  const steps = options.steps ?? 100;
  const numTargets = options.numTargets ?? 9;
  const queries = options.queries ?? 5000;
  const registered = new Set(listAttacks().map((m) => m.name));
  // 'rand' is APGD-CE and APGD-DLR only; the other versions need at least APGD-CE and APGD-T.
  for (const name of version === 'rand' ? ['apgd-ce', 'apgd-dlr'] : ['apgd-ce', 'apgd-t']) {
    if (!registered.has(name)) {
      throw new AdvxError('UNKNOWN_NAME', `autoAttack needs the attack '${name}': import '@advx/attacks/register-all' first.`, { name });
    }
  }
  // The reference code's settings per version (autoattack.py, set_version).
  const square: AttackSpec = { name: 'square', options: { maxQueries: queries, pInit: 0.8 }, label: 'Square' };
  const apgdT: AttackSpec = { name: 'apgd-t', options: { steps, numTargets }, label: 'APGD-T' };
  const fabT: AttackSpec = { name: 'fab-t', options: { steps, numTargets }, label: 'FAB-T' };
  const versions: Record<AutoAttackVersion, AttackSpec[]> = {
    standard: [{ name: 'apgd-ce', options: { steps, restarts: 1 }, label: 'APGD-CE' }, apgdT, fabT, square],
    plus: [
      { name: 'apgd-ce', options: { steps, restarts: 5 }, label: 'APGD-CE' },
      { name: 'apgd-dlr', options: { steps, restarts: 5 }, label: 'APGD-DLR' },
      { name: 'fab', options: { steps, restarts: 5 }, label: 'FAB' },
      square,
      apgdT,
      fabT,
    ],
    // set_version('rand'): attacks_to_run = ['apgd-ce', 'apgd-dlr'], apgd.n_restarts = 1, apgd.eot_iter = 20.
    rand: [
      { name: 'apgd-ce', options: { steps, restarts: 1, eotSteps: 20 }, label: 'APGD-CE' },
      { name: 'apgd-dlr', options: { steps, restarts: 1, eotSteps: 20 }, label: 'APGD-DLR' },
    ],
  };
  const wanted = versions[version];
  const attacks = wanted.filter((a) => registered.has(a.name));
  const omitted = wanted.filter((a) => !registered.has(a.name)).map((a) => `${a.name}: no attack named ${a.name} is registered`);
  return { attacks, mode: 'sequential', norm, omitted, ensemble: { name: 'AutoAttack', version, omitted } };
}

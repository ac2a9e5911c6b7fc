/**
 * Type-level tests of `@advx/eval`'s public contracts, as a user imports them (`@advx/eval`): what
 * `evaluate` takes and returns, and that an `autoAttack` preset spreads into `evaluate`'s options.
 *
 * Checked by `tsc -p tsconfig.json` (`npm run typecheck`); vitest does not run `*.test-d.ts` files (its
 * `include` is `*.test.ts`), so this adds no test time. A `// @ts-expect-error` line that stops being an
 * error fails the typecheck (TS2578).
 */
import type * as tf from '@tensorflow/tfjs-core';
import { expectTypeOf } from 'vitest';

import { fgsm, pgd } from '@advx/attacks';
import type { Model, NormName, QueryModel } from '@advx/core';
import {
  autoAttack,
  evaluate,
  type AttackInput,
  type AutoAttackPreset,
  type EnsembleInfo,
  type EnsembleMode,
  type EvaluateOptions,
  type EvaluationConfig,
  type EvaluationResult,
  type SelfTestRecord,
} from '@advx/eval';

declare const model: Model;
declare const queryModel: QueryModel;
declare const x: tf.Tensor;
declare const labels: tf.Tensor1D;

// ---- evaluate's options -------------------------------------------------------------------------

expectTypeOf(evaluate).parameter(0).toEqualTypeOf<EvaluateOptions>();
expectTypeOf(evaluate).returns.toEqualTypeOf<Promise<EvaluationResult>>();
expectTypeOf<EvaluateOptions['model']>().toEqualTypeOf<Model>();
expectTypeOf<EvaluateOptions['norm']>().toEqualTypeOf<NormName | undefined>();
expectTypeOf<EvaluateOptions['mode']>().toEqualTypeOf<EnsembleMode | undefined>();
expectTypeOf<EnsembleMode>().toEqualTypeOf<'independent' | 'sequential'>();

const data = { x, labels };
evaluate({ model, data, attacks: [fgsm(), pgd({ steps: 40 })], epsilons: [0.1, 0.3] });
evaluate({ model, data, attacks: [{ name: 'pgd', options: { steps: 10 }, label: 'PGD-10' }], epsilons: [0.3], mode: 'sequential', seed: 1 });
// Attacks are configured Attack objects or { name, options?, label? } specs.
expectTypeOf(pgd()).toMatchTypeOf<AttackInput>();
expectTypeOf<{ name: 'pgd' }>().toMatchTypeOf<AttackInput>();
// @ts-expect-error evaluate needs a white-box Model, not a QueryModel
evaluate({ model: queryModel, data, attacks: [fgsm()], epsilons: [0.1] });
// @ts-expect-error epsilons are required
evaluate({ model, data, attacks: [fgsm()] });
// @ts-expect-error an uncalled factory is not an attack (AttackSpec's `meta?: never` rejects it)
evaluate({ model, data, attacks: [fgsm], epsilons: [0.1] });
// @ts-expect-error unknown option
evaluate({ model, data, attacks: [fgsm()], epsilons: [0.1], epsilon: 0.1 });
// @ts-expect-error the ensemble mode is 'independent' or 'sequential'
evaluate({ model, data, attacks: [fgsm()], epsilons: [0.1], mode: 'parallel' });

// ---- autoAttack: the preset spreads into evaluate -----------------------------------------------

const preset = autoAttack({ version: 'plus', norm: 'l2', steps: 10 });
expectTypeOf(preset).toEqualTypeOf<AutoAttackPreset>();
expectTypeOf(preset.attacks).toMatchTypeOf<readonly AttackInput[]>();
expectTypeOf(preset.mode).toEqualTypeOf<EnsembleMode>();
expectTypeOf(preset.norm).toEqualTypeOf<'linf' | 'l2'>();
expectTypeOf(preset.ensemble).toEqualTypeOf<EnsembleInfo>();
expectTypeOf(preset.omitted).toEqualTypeOf<readonly string[]>();
evaluate({ model, data, epsilons: [8 / 255], ...autoAttack() });
evaluate({ model, data, epsilons: [0.5], ...preset, seed: 3 });
autoAttack();
// @ts-expect-error AutoAttack is defined for linf and l2
autoAttack({ norm: 'l1' });
autoAttack({ version: 'rand' });
// @ts-expect-error the versions are 'standard', 'plus' and 'rand'
autoAttack({ version: 'randomized' });

// ---- EvaluationResult ---------------------------------------------------------------------------

declare const result: EvaluationResult;
expectTypeOf(result.config).toEqualTypeOf<EvaluationConfig>();
expectTypeOf(result.config.ensemble).toEqualTypeOf<EnsembleInfo | undefined>();
expectTypeOf(result.config.norm).toEqualTypeOf<NormName>();
expectTypeOf(result.config.epsilons).toEqualTypeOf<readonly number[]>();
expectTypeOf(result.config.mode).toEqualTypeOf<EnsembleMode>();
expectTypeOf(result.selfTest).toEqualTypeOf<SelfTestRecord | undefined>();
expectTypeOf(result.cleanAccuracy).toEqualTypeOf<number>();
expectTypeOf(result.cleanInterval).toEqualTypeOf<readonly [number, number]>();
expectTypeOf(result.n).toEqualTypeOf<number>();
expectTypeOf(result.ensemble[0]?.robustAccuracy).toEqualTypeOf<number | undefined>();
expectTypeOf(result.attacks[0]?.perEpsilon[0]?.epsilon).toEqualTypeOf<number | undefined>();
// @ts-expect-error selfTest is optional: narrow it first
void result.selfTest.epsilon;
// @ts-expect-error the result is readonly
result.cleanAccuracy = 1;
// @ts-expect-error its arrays are readonly
result.attacks.push(result.attacks[0]!);
// @ts-expect-error the configuration is readonly
result.config.ensemble = undefined;

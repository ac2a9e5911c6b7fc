/**
 * Type-level tests of `@advx/core`'s public contracts, as a user imports them (`@advx/core`).
 *
 * Checked by `tsc -p tsconfig.json` (`npm run typecheck`, part of `npm test`): `expectTypeOf` calls fail to
 * compile when a type drifts, and each `// @ts-expect-error` line fails the typecheck if it stops being an
 * error. The file is named `*.test-d.ts`, which vitest's `include` (`*.test.ts`) does not match: nothing
 * here runs, so it adds no test time. Values are `declare`d; no tensor is created.
 */
import type * as tf from '@tensorflow/tfjs-core';
import { expectTypeOf } from 'vitest';

import {
  defineAttack,
  defineFactory,
  option,
  resolveOptions,
  type AnyModel,
  type Attack,
  type AttackContext,
  type AttackFactory,
  type AttackResult,
  type FactoryOptions,
  type Bounds,
  type Goal,
  type Model,
  type NormName,
  type OptionSchema,
  type OptionsInput,
  type OptionsResolved,
  type QueryModel,
  type RunOptions,
} from '@advx/core';

// ---- NormName -----------------------------------------------------------------------------------

expectTypeOf<NormName>().toEqualTypeOf<'linf' | 'l2' | 'l1' | 'l0'>();
// @ts-expect-error 'l3' is not a norm
export const badNorm: NormName = 'l3';

// ---- defineAttack: the options type flows into ctx.options and into the factory ------------------

/** What the schema below must give, written out by hand. */
interface DemoOptions {
  readonly norm?: 'linf' | 'l2';
  readonly earlyStop?: boolean;
  readonly steps?: number;
  readonly stepSize?: number;
  readonly loss?: 'ce' | 'margin';
}

const demo = defineAttack({
  meta: { name: 'demo', kind: 'fixed-epsilon', norms: ['linf', 'l2'], threat: 'white-box', goals: ['untargeted', 'targeted'], randomized: false },
  options: {
    steps: option.integer(10, 'steps', { min: 1 }),
    stepSize: option.number(0.01, 'step size', { min: 0, above: true }),
    loss: option.oneOf(['ce', 'margin'], 'ce', 'loss'),
  },
  check(options) {
    // Resolved options: every key present, norm and earlyStop from the base.
    expectTypeOf(options).toEqualTypeOf<Required<DemoOptions>>();
    expectTypeOf(options.steps).toEqualTypeOf<number>();
  },
  perturb(ctx) {
    expectTypeOf(ctx).toEqualTypeOf<AttackContext<Required<DemoOptions>>>();
    expectTypeOf(ctx.options.steps).toEqualTypeOf<number>();
    expectTypeOf(ctx.options.norm).toEqualTypeOf<'linf' | 'l2'>();
    expectTypeOf(ctx.options.earlyStop).toEqualTypeOf<boolean>();
    // ctx.options is readonly.
    // @ts-expect-error options cannot be reassigned
    ctx.options.steps = 3;
    // @ts-expect-error no such option
    void ctx.options.stepz;
    expectTypeOf(ctx.x).toEqualTypeOf<tf.Tensor>();
    expectTypeOf(ctx.n).toEqualTypeOf<number>();
    expectTypeOf(ctx.bounds).toEqualTypeOf<Bounds>();
    expectTypeOf(ctx.goal.targeted).toEqualTypeOf<boolean>();
    expectTypeOf(ctx.goal.classes).toEqualTypeOf<tf.Tensor1D>();
    expectTypeOf(ctx.active).toEqualTypeOf<tf.Tensor1D>();
    expectTypeOf(ctx.model).toEqualTypeOf<AnyModel>();
    expectTypeOf(ctx.whiteBox).returns.toEqualTypeOf<Model>();
    expectTypeOf(ctx.gradient).returns.toHaveProperty('grad').toEqualTypeOf<tf.Tensor>();
    expectTypeOf(ctx.gradient).returns.toHaveProperty('value').toEqualTypeOf<tf.Tensor1D>();
    expectTypeOf(ctx.gradient).returns.toHaveProperty('logits').toEqualTypeOf<tf.Tensor2D>();
    expectTypeOf(ctx.checkpoint).returns.toEqualTypeOf<Promise<void>>();
    return ctx.x;
  },
});

expectTypeOf(demo).toEqualTypeOf<AttackFactory<DemoOptions>>();
// The factory takes a Partial of the options (or nothing) and returns an Attack with resolved options.
expectTypeOf(demo).parameter(0).toEqualTypeOf<Partial<DemoOptions> | undefined>();
expectTypeOf(demo).returns.toEqualTypeOf<Attack<Required<DemoOptions>>>();
expectTypeOf(demo({ steps: 5 }).options.steps).toEqualTypeOf<number>();
expectTypeOf(demo.defaults).toEqualTypeOf<Readonly<Required<DemoOptions>>>();
demo();
demo({});
demo({ norm: 'l2', earlyStop: false });
// @ts-expect-error unknown option (excess property)
demo({ stepz: 5 });
// @ts-expect-error wrong option type
demo({ steps: '5' });
// @ts-expect-error a norm the options type does not allow
demo({ norm: 'l1' });

expectTypeOf<FactoryOptions<typeof demo>>().toEqualTypeOf<DemoOptions>();
expectTypeOf(demo.schema).toEqualTypeOf<OptionSchema>();
demo({ loss: 'margin' });
// @ts-expect-error a value the oneOf does not list
demo({ loss: 'dlr' });

defineAttack({
  meta: { name: 'demo2', kind: 'minimization', norms: ['l2'], threat: 'white-box', goals: ['untargeted'], randomized: false },
  // @ts-expect-error options are specs built with option, not plain defaults
  options: { steps: 10 },
  perturb: (ctx) => ctx.x,
});

defineAttack({
  // @ts-expect-error 'huge' is not an AttackKind
  meta: { name: 'demo3', kind: 'huge', norms: ['l2'], threat: 'white-box', goals: ['untargeted'], randomized: false },
  options: {},
  perturb: (ctx) => ctx.x,
});

defineAttack({
  meta: { name: 'demo4', kind: 'minimization', norms: ['l2'], threat: 'white-box', goals: ['untargeted'], randomized: false },
  options: {},
  // @ts-expect-error perturb returns a tensor (or a promise of one)
  perturb: () => 1,
});

// ---- option schemas outside attacks: required options, inputs and resolved values ---------------

const squeezeSchema = {
  bits: option.integer(undefined, 'bit depth', { min: 1, max: 8 }),
  median: option.boolean(false, 'also median-filter'),
  mode: option.oneOf(['fast', 'exact'], 'fast', 'mode'),
};
expectTypeOf<OptionsInput<typeof squeezeSchema>>().toEqualTypeOf<{ readonly bits: number; readonly median?: boolean; readonly mode?: 'fast' | 'exact' }>();
expectTypeOf<OptionsResolved<typeof squeezeSchema>>().toEqualTypeOf<{ readonly bits: number; readonly median: boolean; readonly mode: 'fast' | 'exact' }>();
expectTypeOf(resolveOptions('squeeze', squeezeSchema, { bits: 4 })).toEqualTypeOf<OptionsResolved<typeof squeezeSchema>>();
// @ts-expect-error the default must be one of the values
option.oneOf(['fast', 'exact'], 'slow', 'mode');

// ---- Attack.run and AttackResult ----------------------------------------------------------------

declare const attack: Attack;
declare const model: Model;
declare const queryModel: QueryModel;
declare const x: tf.Tensor;
declare const labels: tf.Tensor1D;

expectTypeOf(attack.run).parameter(0).toEqualTypeOf<AnyModel>();
expectTypeOf(attack.run).parameter(2).toEqualTypeOf<Goal>();
expectTypeOf(attack.run).parameter(3).toEqualTypeOf<RunOptions | undefined>();
expectTypeOf(attack.run).returns.toEqualTypeOf<Promise<AttackResult>>();
attack.run(model, x, { labels });
attack.run(queryModel, x, { targets: labels, labels }, { epsilons: [0.1], seed: 1, batchSize: 8, quantize: 8 });
// @ts-expect-error a goal needs labels or targets
attack.run(model, x, {});
// @ts-expect-error quantize is 8 or absent
attack.run(model, x, { labels }, { quantize: 16 });
// @ts-expect-error epsilons are numbers
attack.run(model, x, { labels }, { epsilons: ['0.1'] });

declare const result: AttackResult;
expectTypeOf(result.epsilons).toEqualTypeOf<readonly number[]>();
expectTypeOf(result.raw).toEqualTypeOf<tf.Tensor>();
expectTypeOf(result.clipped).toEqualTypeOf<readonly tf.Tensor[]>();
expectTypeOf(result.success).toEqualTypeOf<readonly (readonly boolean[])[]>();
expectTypeOf(result.distances).toEqualTypeOf<Float32Array>();
expectTypeOf(result.queries).toEqualTypeOf<Int32Array | undefined>();
expectTypeOf(result.passes).toEqualTypeOf<{ readonly forward: number; readonly backward: number } | undefined>();
expectTypeOf(result.quantization?.survived).toEqualTypeOf<readonly number[] | undefined>();
expectTypeOf(result.dispose).toEqualTypeOf<() => void>();
// Readonly fields and arrays.
// @ts-expect-error raw is readonly
result.raw = x;
// @ts-expect-error epsilons is a readonly array
result.epsilons.push(1);
// @ts-expect-error success rows are readonly
result.success[0]?.fill(true);
// @ts-expect-error clipped is a readonly array
result.clipped[0] = x;

// ---- Model / QueryModel, discriminated by kind --------------------------------------------------

expectTypeOf<AnyModel>().toEqualTypeOf<Model | QueryModel>();
expectTypeOf<Model['kind']>().toEqualTypeOf<'model'>();
expectTypeOf<QueryModel['kind']>().toEqualTypeOf<'query'>();
expectTypeOf<Model['bounds']>().toEqualTypeOf<readonly [number, number]>();

declare const any: AnyModel;
if (any.kind === 'model') {
  expectTypeOf(any).toEqualTypeOf<Model>();
  expectTypeOf(any.logits).returns.toEqualTypeOf<tf.Tensor2D>();
} else {
  expectTypeOf(any).toEqualTypeOf<QueryModel>();
  expectTypeOf(any.query).returns.toEqualTypeOf<Promise<tf.Tensor2D>>();
  expectTypeOf(any.output).toEqualTypeOf<'scores' | 'label'>();
  expectTypeOf(any.queries).toEqualTypeOf<number>();
}
// @ts-expect-error only white-box models have logits
any.logits(x);
// @ts-expect-error the query count is readonly
queryModel.queries = 0;
// @ts-expect-error a Model is not a QueryModel
export const q: QueryModel = model;

// ---- defineFactory: a factory of a defense or detector, its options from a schema ---------------

const squeezer = defineFactory('squeezer', squeezeSchema, (o) => o.bits * 2);
expectTypeOf(squeezer({ bits: 3 })).toEqualTypeOf<number>();
expectTypeOf(squeezer.schema).toEqualTypeOf<OptionSchema>();
expectTypeOf<FactoryOptions<typeof squeezer>>().toEqualTypeOf<OptionsInput<typeof squeezeSchema>>();
// @ts-expect-error bits is required
squeezer();
// @ts-expect-error bits is required
squeezer({ median: true });
const optional = defineFactory('optional', { median: option.boolean(false, 'median') }, (o) => o.median);
expectTypeOf(optional()).toEqualTypeOf<boolean>();
// @ts-expect-error unknown option
optional({ medain: true });

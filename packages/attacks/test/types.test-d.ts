/**
 * Type-level tests of `@advx/attacks`' factories, as a user imports them (`@advx/attacks`): each factory
 * is an `AttackFactory` of its options type, takes a `Partial` of it, rejects unknown keys and values at
 * compile time, and returns an `Attack` whose `options` are resolved (`Required`).
 *
 * Checked by `tsc -p tsconfig.json` (`npm run typecheck`); vitest does not run `*.test-d.ts` files (its
 * `include` is `*.test.ts`), so this adds no test time. A `// @ts-expect-error` line that stops being an
 * error fails the typecheck (TS2578).
 */
import { expectTypeOf } from 'vitest';

import type { Attack, AttackFactory, NormName } from '@advx/core';
import {
  apgd,
  carliniWagnerL2,
  ddn,
  deepfool,
  fgsm,
  fmn,
  pgd,
  square,
  type CarliniWagnerL2Options,
  type DdnOptions,
  type FgsmOptions,
  type FmnOptions,
  type PgdOptions,
} from '@advx/attacks';

expectTypeOf(pgd).toEqualTypeOf<AttackFactory<PgdOptions>>();
expectTypeOf(fgsm).toEqualTypeOf<AttackFactory<FgsmOptions>>();
expectTypeOf(fmn).toEqualTypeOf<AttackFactory<FmnOptions>>();
expectTypeOf(ddn).toEqualTypeOf<AttackFactory<DdnOptions>>();
expectTypeOf(carliniWagnerL2).toEqualTypeOf<AttackFactory<CarliniWagnerL2Options>>();

// Factories take a Partial of their options, or nothing.
expectTypeOf(pgd).parameter(0).toEqualTypeOf<Partial<PgdOptions> | undefined>();
expectTypeOf(ddn).parameter(0).toEqualTypeOf<Partial<DdnOptions> | undefined>();
expectTypeOf(pgd()).toEqualTypeOf<Attack<Required<PgdOptions>>>();
expectTypeOf(pgd({ steps: 1 }).options.steps).toEqualTypeOf<number>();
expectTypeOf(pgd.defaults.randomStart).toEqualTypeOf<boolean>();
expectTypeOf(pgd.meta.kind).toEqualTypeOf<'fixed-epsilon' | 'minimization'>();

pgd({ steps: 1 });
pgd({ steps: 40, norm: 'l2', randomStart: false, restarts: 2 });
// @ts-expect-error unknown option
pgd({ stepz: 1 });
// @ts-expect-error steps is a number
pgd({ steps: '1' });
// @ts-expect-error PGD's options type allows linf, l2, l1
pgd({ norm: 'l0' });
// @ts-expect-error FGSM's options type allows linf, l2, l1
fgsm({ norm: 'l0' });
// @ts-expect-error not a norm at all
apgd({ norm: 'l3' });

// FMN is defined for every norm, l0 included.
fmn({ norm: 'l0' });
fmn({ norm: 'linf', steps: 10 });
expectTypeOf<NonNullable<FmnOptions['norm']>>().toEqualTypeOf<NormName>();
// @ts-expect-error unknown option
fmn({ epsilon: 0.3 });

// Every options type narrows `norm` to the attack's own norms (from `meta.norms`): a norm an attack is
// not defined for does not compile (and is rejected at run time with `UNSUPPORTED_NORM`).
expectTypeOf<NonNullable<DdnOptions['norm']>>().toEqualTypeOf<'l2'>();
expectTypeOf<NonNullable<CarliniWagnerL2Options['norm']>>().toEqualTypeOf<'l2'>();
// @ts-expect-error DDN is defined for l2 only
ddn({ norm: 'linf' });
ddn({ steps: 100, gamma: 0.05 });
// @ts-expect-error unknown option
ddn({ stepz: 100 });
carliniWagnerL2({ steps: 200 });
deepfool();
square();
// @ts-expect-error options must be an object
square(5000);

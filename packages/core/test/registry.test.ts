import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';

import {
  AdvxError,
  createRegistry,
  defineAttack,
  option,
  getAttack,
  getDefense,
  getDetector,
  listAttacks,
  listDefenses,
  listDetectors,
  registerAttack,
  registerDefense,
  registerDetector,
  type DefenseMeta,
  type DetectorMeta,
} from '../src/index.js';
import { linearModel } from '../src/testing/index.js';

function caught(fn: () => unknown): AdvxError {
  let e: unknown;
  try {
    fn();
  } catch (err) {
    e = err;
  }
  expect(e).toBeInstanceOf(AdvxError);
  return e as AdvxError;
}

/** A tiny fixed-epsilon attack: moves every input by `direction · epsilon` (then clipped to the bounds). */
function shiftAttack(name: string) {
  return defineAttack({
    meta: { name, kind: 'fixed-epsilon', norms: ['linf'], threat: 'white-box', goals: ['untargeted'], randomized: false },
    options: { earlyStop: option.boolean(false, 'earlyStop'), direction: option.number(1, 'direction') },
    perturb: (ctx) => tf.add(ctx.x, ctx.options.direction * ctx.epsilon),
  });
}

const INVALID_NAMES = ['Bad', 'bad_name', '-leading', '', 'has space', 'ünïcode'];

describe('attack registry', () => {
  it('registerAttack / getAttack / listAttacks round-trip a defineAttack factory', async () => {
    const a = shiftAttack('reg-test-shift-b');
    const b = shiftAttack('reg-test-shift-a');
    registerAttack(a.meta, a);
    registerAttack(b.meta, b);
    expect(getAttack('reg-test-shift-b')).toBe(a);
    expect(getAttack('reg-test-shift-a')).toBe(b);
    const names = listAttacks().map((m) => m.name);
    expect(names).toEqual([...names].sort((x, y) => x.localeCompare(y)));
    expect(names.indexOf('reg-test-shift-a')).toBeLessThan(names.indexOf('reg-test-shift-b'));
    expect(listAttacks().find((m) => m.name === 'reg-test-shift-a')).toEqual(b.meta);

    // The registered factory is the working attack: x + ε (untargeted; z0 = x0 − x1, z1 = x1 − x0).
    const model = linearModel({
      weights: [
        [1, -1],
        [-1, 1],
      ],
    });
    const x = tf.tensor2d([[0.25, 0.5]]);
    const labels = tf.tensor1d([1], 'int32');
    const before = tf.memory().numTensors;
    const r = await getAttack('reg-test-shift-b')({ direction: -1 }).run(model, x, { labels }, { epsilons: [0.125] });
    expect(Array.from(await r.clipped[0]!.data())).toEqual([0.125, 0.375]);
    r.dispose();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, labels]);
  });

  it('UNKNOWN_NAME lists the registered names', () => {
    const a = shiftAttack('reg-test-listed');
    registerAttack(a.meta, a);
    const e = caught(() => getAttack('reg-test-missing'));
    expect(e.code).toBe('UNKNOWN_NAME');
    expect(e.message).toContain("'reg-test-missing'");
    expect(e.message).toContain('reg-test-listed');
    expect(e.details?.['known']).toEqual(listAttacks().map((m) => m.name));
  });

  it('DUPLICATE_NAME for a different factory; the same factory may be registered again', () => {
    const first = shiftAttack('reg-test-dup');
    const second = shiftAttack('reg-test-dup');
    registerAttack(first.meta, first);
    expect(() => registerAttack(first.meta, first)).not.toThrow();
    const e = caught(() => registerAttack(second.meta, second));
    expect(e.code).toBe('DUPLICATE_NAME');
    expect(getAttack('reg-test-dup')).toBe(first);
    expect(listAttacks().filter((m) => m.name === 'reg-test-dup')).toHaveLength(1);
  });

  it('rejects non-kebab-case names with INVALID_OPTION', () => {
    for (const name of INVALID_NAMES) {
      const f = shiftAttack(name);
      expect(caught(() => registerAttack(f.meta, f)).code).toBe('INVALID_OPTION');
    }
    expect(listAttacks().map((m) => m.name)).not.toContain('Bad');
  });
});

describe('defense registry', () => {
  it('registerDefense / getDefense / listDefenses, UNKNOWN_NAME, DUPLICATE_NAME, invalid names', () => {
    const make = () => ({ scale: 0.5 });
    const other = () => ({ scale: 2 });
    const meta: DefenseMeta = { name: 'reg-test-def', kind: 'preprocessor', paper: 'none' };
    registerDefense(meta, make);
    registerDefense(meta, make);
    registerDefense({ name: 'reg-test-def-0', kind: 'trainer' }, other);
    expect(getDefense('reg-test-def')).toBe(make);
    expect((getDefense('reg-test-def')() as { scale: number }).scale).toBe(0.5);
    const listed = listDefenses().filter((m) => m.name.startsWith('reg-test-def'));
    expect(listed).toEqual([meta, { name: 'reg-test-def-0', kind: 'trainer' }]);
    const unknown = caught(() => getDefense('reg-test-nope'));
    expect(unknown.code).toBe('UNKNOWN_NAME');
    expect(unknown.message).toContain('reg-test-def, reg-test-def-0');
    expect(caught(() => registerDefense(meta, other)).code).toBe('DUPLICATE_NAME');
    for (const name of INVALID_NAMES) {
      expect(caught(() => registerDefense({ name, kind: 'layer' }, make)).code).toBe('INVALID_OPTION');
    }
  });

  it('stored metadata is a frozen copy', () => {
    const meta = { name: 'reg-test-frozen', kind: 'preprocessor' as const };
    registerDefense(meta, () => 1);
    meta.name = 'changed';
    const stored = listDefenses().find((m) => m.name === 'reg-test-frozen');
    expect(stored).toEqual({ name: 'reg-test-frozen', kind: 'preprocessor' });
    expect(Object.isFrozen(stored)).toBe(true);
  });
});

describe('detector registry', () => {
  it('registerDetector / getDetector / listDetectors, UNKNOWN_NAME, DUPLICATE_NAME, invalid names', () => {
    const make = () => 'detector';
    const meta: DetectorMeta = { name: 'reg-test-det', kind: 'input' };
    registerDetector(meta, make);
    registerDetector(meta, make);
    registerDetector({ name: 'reg-test-ins', kind: 'dataset' }, () => 'inspector');
    expect(getDetector('reg-test-det')).toBe(make);
    expect(getDetector('reg-test-ins')()).toBe('inspector');
    expect(listDetectors().filter((m) => m.name.startsWith('reg-test-'))).toEqual([meta, { name: 'reg-test-ins', kind: 'dataset' }]);
    const unknown = caught(() => getDetector('reg-test-zzz'));
    expect(unknown.code).toBe('UNKNOWN_NAME');
    expect(unknown.message).toContain('reg-test-det, reg-test-ins');
    expect(caught(() => registerDetector(meta, () => 'other')).code).toBe('DUPLICATE_NAME');
    for (const name of INVALID_NAMES) {
      expect(caught(() => registerDetector({ name, kind: 'input' }, make)).code).toBe('INVALID_OPTION');
    }
  });
});

describe('createRegistry', () => {
  it('two registries of the same kind share entries; other kinds do not', () => {
    type Meta = { readonly name: string; readonly size: number };
    const r1 = createRegistry<Meta, () => number>('reg-test-kind');
    const r2 = createRegistry<Meta, () => number>('reg-test-kind');
    const elsewhere = createRegistry<Meta, () => number>('reg-test-other-kind');
    const f = () => 42;
    r1.register({ name: 'shared', size: 3 }, f);
    expect(r2.has('shared')).toBe(true);
    expect(r2.get('shared').factory).toBe(f);
    expect(r2.get('shared').factory()).toBe(42);
    expect(r2.get('shared').meta).toEqual({ name: 'shared', size: 3 });
    expect(r2.list()).toEqual([{ name: 'shared', size: 3 }]);
    expect(elsewhere.has('shared')).toBe(false);
    expect(caught(() => r2.register({ name: 'shared', size: 3 }, () => 42)).code).toBe('DUPLICATE_NAME');
    // With nothing registered, UNKNOWN_NAME says so.
    const e = caught(() => elsewhere.get('shared'));
    expect(e.code).toBe('UNKNOWN_NAME');
    expect(e.message).toContain('None is registered');
    // The built-in kinds are shared the same way.
    const defenses = createRegistry<DefenseMeta, () => unknown>('defense');
    const g = () => 'via-create';
    defenses.register({ name: 'reg-test-via-create', kind: 'layer' }, g);
    expect(getDefense('reg-test-via-create')).toBe(g);
    const attacks = createRegistry<{ name: string }, unknown>('attack');
    const a = shiftAttack('reg-test-via-attack');
    registerAttack(a.meta, a);
    expect(attacks.get('reg-test-via-attack').factory).toBe(a);
  });
});

import { describe, expect, it } from 'vitest';

import { defineFactory, describeOptions, isAdvxError, option, optionTable, parseOptionStrings, resolveOptions, schemaDefaults } from '../src/index.js';

const schema = {
  steps: option.integer(40, 'gradient steps', { min: 1 }),
  stepSize: option.number(0.1, 'step size', { min: 0, max: 1, above: true }),
  decay: option.number(1, 'momentum decay', { min: 0 }),
  randomStart: option.boolean(true, 'random start'),
  loss: option.oneOf(['ce', 'margin'], 'ce', 'loss to ascend'),
  positions: option.custom<number[][]>([], 'sticker positions', {
    type: 'an array of [row, col] pairs',
    accepts: (v) => Array.isArray(v) && v.every((p) => Array.isArray(p) && p.length === 2),
    json: true,
  }),
  transform: option.custom<(v: number) => number>((v) => v, 'a function', { type: 'a function', accepts: (v) => typeof v === 'function' }),
};

function message(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (isAdvxError(e) && e.code === 'INVALID_OPTION') return e.message.replace('[INVALID_OPTION] ', '');
    throw e;
  }
  throw new Error('no error');
}

describe('option schema', () => {
  it('fills defaults and keeps given values', () => {
    const o = resolveOptions('demo', schema, { steps: 3, loss: 'margin' });
    expect(o).toMatchObject({ steps: 3, stepSize: 0.1, decay: 1, randomStart: true, loss: 'margin', positions: [] });
    expect(Object.isFrozen(o)).toBe(true);
    // undefined means "use the default", as a spread of partial options gives it.
    expect(resolveOptions('demo', schema, { steps: undefined }).steps).toBe(40);
  });

  it('rejects each bad value with the method, the option, the accepted values and what was given', () => {
    expect(message(() => resolveOptions('demo', schema, { steps: 0 }))).toBe('demo: steps must be an integer in [1, ∞), got 0.');
    expect(message(() => resolveOptions('demo', schema, { steps: 2.5 }))).toBe('demo: steps must be an integer in [1, ∞), got 2.5.');
    expect(message(() => resolveOptions('demo', schema, { stepSize: 0 }))).toBe('demo: stepSize must be a finite number in (0, 1], got 0.');
    expect(resolveOptions('demo', schema, { stepSize: 1 }).stepSize).toBe(1);
    expect(message(() => resolveOptions('demo', schema, { decay: Number.NaN }))).toBe('demo: decay must be a finite number in [0, ∞), got NaN.');
    expect(message(() => resolveOptions('demo', schema, { randomStart: 'yes' }))).toBe('demo: randomStart must be true or false, got "yes".');
    expect(message(() => resolveOptions('demo', schema, { loss: 'dlr' }))).toBe("demo: loss must be 'ce' or 'margin', got \"dlr\".");
    expect(message(() => resolveOptions('demo', schema, { positions: [[1]] }))).toBe('demo: positions must be an array of [row, col] pairs, got [[1]].');
    expect(message(() => resolveOptions('demo', schema, { transform: 3 }))).toBe('demo: transform must be a function, got 3.');
  });

  it('rejects unknown options, non-objects and missing required options', () => {
    expect(message(() => resolveOptions('demo', schema, { stepz: 1 }))).toMatch(/^demo: unknown option 'stepz'\. Known options: steps, stepSize, decay/);
    expect(message(() => resolveOptions('demo', schema, 3))).toBe('demo: options must be an object, got number.');
    expect(message(() => resolveOptions('demo', schema, [1]))).toBe('demo: options must be an object, got an array.');
    expect(message(() => resolveOptions('demo', schema, null))).toBe('demo: options must be an object, got null.');
    const required = { sigma: option.number(undefined, 'noise standard deviation', { min: 0, above: true }) };
    expect(message(() => resolveOptions('noise', required, {}))).toBe("noise: option 'sigma' is required (noise standard deviation; number in (0, ∞)).");
    expect(resolveOptions('noise', required, { sigma: 0.25 }).sigma).toBe(0.25);
    expect(schemaDefaults(required)).toEqual({});
  });

  it('runs the cross-option check after the values are checked', () => {
    const check = (o: { steps: number; decay: number }): void => {
      if (o.decay > o.steps) throw new Error(`decay ${o.decay} > steps ${o.steps}`);
    };
    expect(() => resolveOptions('demo', schema, { steps: 2, decay: 3 }, check)).toThrow('decay 3 > steps 2');
    // A bad value is reported by its own check first.
    expect(message(() => resolveOptions('demo', schema, { steps: -1, decay: 3 }, check))).toMatch(/steps must be/);
  });

  it('parses command-line strings by the option type; values are checked by resolveOptions', () => {
    const parsed = parseOptionStrings('demo', schema, ['steps=40', 'stepSize=8/255', 'randomStart=false', 'loss=margin', 'positions=[[1,2]]']);
    expect({ ...parsed }).toEqual({ steps: 40, stepSize: 8 / 255, randomStart: false, loss: 'margin', positions: [[1, 2]] });
    expect(resolveOptions('demo', schema, parsed).stepSize).toBeCloseTo(0.0313725, 6);
    // A number option given a word stays a string, and resolveOptions names it.
    expect(message(() => resolveOptions('demo', schema, parseOptionStrings('demo', schema, ['steps=many'])))).toBe(
      'demo: steps must be an integer in [1, ∞), got "many".',
    );
    expect(message(() => parseOptionStrings('demo', schema, ['stepz=1']))).toMatch(/unknown option 'stepz'/);
    expect(message(() => parseOptionStrings('demo', schema, ['__proto__=1']))).toMatch(/unknown option '__proto__'/);
    expect(message(() => parseOptionStrings('demo', schema, ['steps']))).toBe("demo: 'steps' is not key=value (e.g. demo:steps=40).");
    expect(message(() => parseOptionStrings('demo', schema, ['transform=x']))).toBe(
      "demo: option 'transform' (a function) cannot be given on a command line; set it from code.",
    );
  });

  it('describes every option for docs and the CLI, in declaration order', () => {
    const rows = describeOptions(schema);
    expect(rows.map((r) => r.name)).toEqual(['steps', 'stepSize', 'decay', 'randomStart', 'loss', 'positions', 'transform']);
    expect(rows[0]).toEqual({ name: 'steps', type: 'integer in [1, ∞)', default: '40', doc: 'gradient steps', cli: true });
    expect(rows[4]).toMatchObject({ type: "'ce' | 'margin'", default: "'ce'" });
    expect(rows[6]).toMatchObject({ default: 'a function', cli: false });
    const table = optionTable(schema).split('\n');
    expect(table[0]).toBe('| option | values | default | |');
    expect(table[6]).toBe("| `loss` | 'ce' \\| 'margin' | 'ce' | loss to ascend |");
  });

  it('defineFactory resolves the options before its builder runs', () => {
    let built = 0;
    const noise = defineFactory(
      'gaussianNoise',
      { sigma: option.number(undefined, 'standard deviation', { min: 0, above: true }), clip: option.boolean(true, 'clip') },
      (o) => {
        built++;
        return o;
      },
    );
    expect(noise({ sigma: 0.5 })).toEqual({ sigma: 0.5, clip: true });
    expect(message(() => noise({ sigma: -1 } as never))).toBe('gaussianNoise: sigma must be a finite number in (0, ∞), got -1.');
    expect(message(() => (noise as (o?: unknown) => unknown)())).toMatch(/^gaussianNoise: option 'sigma' is required/);
    expect(built).toBe(1);
    expect(noise.defaults).toEqual({ clip: true });
    expect(Object.keys(noise.schema)).toEqual(['sigma', 'clip']);
  });

  it('option.optional: absent resolves to null and says what absence means in the docs; a given value is checked', () => {
    const schema = {
      fill: option.optional<number>('value under the occluder', 'the low bound', {
        type: 'a finite number',
        accepts: (v) => typeof v === 'number' && Number.isFinite(v),
      }),
    };
    expect(resolveOptions('occlusion', schema, {}).fill).toBeNull();
    expect(resolveOptions('occlusion', schema, { fill: null }).fill).toBeNull();
    expect(resolveOptions('occlusion', schema, { fill: 0.5 }).fill).toBe(0.5);
    expect(message(() => resolveOptions('occlusion', schema, { fill: 'x' }))).toBe('occlusion: fill must be a finite number, got "x".');
    expect(describeOptions(schema)[0]).toMatchObject({ doc: 'value under the occluder (none: the low bound)', default: 'null' });
  });
});

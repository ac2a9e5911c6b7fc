import { AdvxError } from './errors.js';

/**
 * One declared option: its default, a one-line doc, how a value is checked and how a command-line
 * string is read. Built with {@link option}; a method declares each option once, in an
 * {@link OptionSchema}, and its type, defaults, validation, docs table and CLI parsing come from it.
 *
 * @public
 */
export interface OptionSpec<T> {
  /** The default value; `undefined` for a required option. */
  readonly default: T | undefined;
  /** Whether the option has no default and must be given. */
  readonly required: boolean;
  /** One line: what the option does (no default, no range: those come from the spec). */
  readonly doc: string;
  /** The accepted values in words, e.g. `integer in [1, ∞)` or `'ce' | 'margin'`. */
  readonly type: string;
  /** Whether a command line can give it (`name:key=value`); false for functions, tensors and objects. */
  readonly cli: boolean;
  /**
   * Returns the reason `value` is not accepted (completing "must be …, got …"), or `undefined`
   * when it is.
   */
  reject(value: unknown): string | undefined;
  /** Reads a command-line string (`key=value`'s value); the result is then checked as any value. */
  parse(raw: string): unknown;
}

/**
 * The type-level mark of an {@link OptionSpec}'s `required` (what makes an option required in
 * {@link OptionsInput}).
 *
 * @public
 */
export interface RequiredFlag<R extends boolean> {
  /** Whether the option has no default and must be given. */
  readonly required: R;
}

/**
 * Declared options, by name.
 *
 * @public
 */
export type OptionSchema = { readonly [key: string]: OptionSpec<unknown> };

/**
 * The value type of one option spec.
 *
 * @public
 */
export type OptionValue<S> = S extends OptionSpec<infer T> ? T : never;

/**
 * `T` with its intersections flattened into one object type (for readable option types).
 *
 * @public
 */
export type Simplify<T> = { [K in keyof T]: T[K] } & {};

/** The keys of a schema's required options. */
export type RequiredKeys<S extends OptionSchema> = { [K in keyof S]: S[K] extends RequiredFlag<true> ? K : never }[keyof S];

/**
 * What a user passes for a schema: every option optional, except the required ones.
 *
 * @public
 */
export type OptionsInput<S extends OptionSchema> = Simplify<
  { readonly [K in Exclude<keyof S, RequiredKeys<S>>]?: OptionValue<S[K]> } & { readonly [K in RequiredKeys<S>]: OptionValue<S[K]> }
>;

/**
 * The resolved options of a schema: every option present, defaults filled in.
 *
 * @public
 */
export type OptionsResolved<S extends OptionSchema> = Simplify<{ readonly [K in keyof S]: OptionValue<S[K]> }>;

/**
 * The range of a numeric option ({@link option}'s `integer` and `number`).
 *
 * @public
 */
export interface NumberRange {
  /** Smallest accepted value (default −∞). */
  readonly min?: number;
  /** Largest accepted value (default ∞). */
  readonly max?: number;
  /** Exclude `min` itself. */
  readonly above?: boolean;
  /** Exclude `max` itself. */
  readonly below?: boolean;
}

function rangeText({ min = -Infinity, max = Infinity, above = false, below = false }: NumberRange): string {
  const lo = min === -Infinity ? '(−∞' : `${above ? '(' : '['}${min}`;
  const hi = max === Infinity ? '∞)' : `${max}${below ? ')' : ']'}`;
  return `${lo}, ${hi}`;
}

function inRange(v: number, { min = -Infinity, max = Infinity, above = false, below = false }: NumberRange): boolean {
  return (above ? v > min : v >= min) && (below ? v < max : v <= max);
}

function parseNumber(raw: string): unknown {
  const fraction = /^\s*(-?[\d.]+(?:e-?\d+)?)\s*\/\s*([\d.]+(?:e-?\d+)?)\s*$/i.exec(raw);
  if (fraction) return Number(fraction[1]) / Number(fraction[2]);
  return raw.trim() !== '' && Number.isFinite(Number(raw)) ? Number(raw) : raw;
}

function spec<T>(fields: Omit<OptionSpec<T>, 'required' | 'default'> & { readonly default: T | undefined }): OptionSpec<T> {
  return Object.freeze({ ...fields, required: fields.default === undefined });
}

function quoteList(values: readonly string[]): string {
  const quoted = values.map((v) => `'${v}'`);
  return quoted.length <= 1 ? (quoted[0] ?? '') : `${quoted.slice(0, -1).join(', ')} or ${quoted[quoted.length - 1]}`;
}

/**
 * Builders of {@link OptionSpec}s. Pass `undefined` as the default for a required option.
 *
 * @example
 * ```ts
 * const schema = {
 *   steps: option.integer(40, 'gradient steps per restart', { min: 1 }),
 *   loss: option.oneOf(['ce', 'margin'] as const, 'ce', 'loss to ascend'),
 *   randomStart: option.boolean(true, 'start from a uniformly random point of the epsilon ball'),
 * };
 * resolveOptions('pgd', schema, { steps: 10 }); // { steps: 10, loss: 'ce', randomStart: true }
 * ```
 * @public
 */
export const option = {
  /** An integer in a range (default `[0, ∞)`). */
  integer<D extends number | undefined>(
    defaultValue: D,
    doc: string,
    range: NumberRange = { min: 0 },
  ): OptionSpec<number> & RequiredFlag<D extends undefined ? true : false> {
    const r = { min: 0, ...range };
    return spec<number>({
      default: defaultValue,
      doc,
      type: `integer in ${rangeText(r)}`,
      cli: true,
      reject: (v) => (typeof v === 'number' && Number.isInteger(v) && inRange(v, r) ? undefined : `an integer in ${rangeText(r)}`),
      parse: parseNumber,
    }) as OptionSpec<number> & RequiredFlag<D extends undefined ? true : false>;
  },
  /** A finite number in a range (default any finite number). */
  number<D extends number | undefined>(
    defaultValue: D,
    doc: string,
    range: NumberRange = {},
  ): OptionSpec<number> & RequiredFlag<D extends undefined ? true : false> {
    return spec<number>({
      default: defaultValue,
      doc,
      type: `number in ${rangeText(range)}`,
      cli: true,
      reject: (v) => (typeof v === 'number' && Number.isFinite(v) && inRange(v, range) ? undefined : `a finite number in ${rangeText(range)}`),
      parse: parseNumber,
    }) as OptionSpec<number> & RequiredFlag<D extends undefined ? true : false>;
  },
  /** `true` or `false`. */
  boolean(defaultValue: boolean, doc: string): OptionSpec<boolean> & RequiredFlag<false> {
    return spec<boolean>({
      default: defaultValue,
      doc,
      type: 'boolean',
      cli: true,
      reject: (v) => (typeof v === 'boolean' ? undefined : 'true or false'),
      parse: (raw) => (raw === 'true' ? true : raw === 'false' ? false : raw),
    }) as OptionSpec<boolean> & RequiredFlag<false>;
  },
  /** One of a list of strings. */
  oneOf<const V extends readonly string[]>(values: V, defaultValue: V[number], doc: string): OptionSpec<V[number]> & RequiredFlag<false> {
    return spec<V[number]>({
      default: defaultValue,
      doc,
      type: values.map((v) => `'${v}'`).join(' | '),
      cli: true,
      reject: (v) => (typeof v === 'string' && values.includes(v) ? undefined : quoteList(values)),
      parse: (raw) => raw,
    }) as OptionSpec<V[number]> & RequiredFlag<false>;
  },
  /**
   * An option with no fixed default, whose absence means something that depends on the model, the
   * data or another option (`absent` says what, for the docs): leaving it out (or passing `undefined`
   * or `null`) resolves to `null`. `type` and `accepts` describe and check a given value.
   */
  optional<T>(
    doc: string,
    absent: string,
    check: { readonly type: string; readonly accepts: (value: unknown) => boolean; readonly json?: boolean },
  ): OptionSpec<T | null> & RequiredFlag<false> {
    return option.custom<T | null, null>(null, `${doc} (none: ${absent})`, { ...check, accepts: (v) => v === null || check.accepts(v) });
  },
  /**
   * Any other value (an array, a function, an object): `accepts` says whether a value is valid,
   * `type` describes the valid values in words. Read from a command line as JSON when `json`. A
   * required option names both types, `option.custom<T, undefined>(undefined, ...)`.
   */
  custom<T, D extends T | undefined = T>(
    defaultValue: D,
    doc: string,
    check: { readonly type: string; readonly accepts: (value: unknown) => boolean; readonly json?: boolean },
  ): OptionSpec<T> & RequiredFlag<D extends undefined ? true : false> {
    return spec<T>({
      default: defaultValue as T | undefined,
      doc,
      type: check.type,
      cli: check.json === true,
      reject: (v) => (check.accepts(v) ? undefined : check.type),
      parse: (raw) => {
        try {
          return JSON.parse(raw) as unknown;
        } catch {
          return raw;
        }
      },
    }) as OptionSpec<T> & RequiredFlag<D extends undefined ? true : false>;
  },
};

function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'function') return 'a function';
  if (Array.isArray(value) || (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype)) {
    try {
      return JSON.stringify(value);
    } catch {
      return String(value);
    }
  }
  return String(value);
}

/**
 * Resolves `given` against `schema`: rejects a non-object, unknown keys and missing required
 * options, fills in defaults, checks every value, then runs `check` (constraints between options).
 * Throws `INVALID_OPTION` naming the method (`who`) and the option; returns frozen options.
 *
 * @example
 * ```ts
 * resolveOptions('pgd', { steps: option.integer(40, 'steps', { min: 1 }) }, { steps: 0 });
 * // throws INVALID_OPTION: "pgd: steps must be an integer in [1, ∞), got 0."
 * ```
 * @public
 */
export function resolveOptions<S extends OptionSchema>(
  who: string,
  schema: S,
  given: unknown,
  check?: (options: OptionsResolved<S>) => void,
): OptionsResolved<S> {
  if (given !== undefined && (given === null || typeof given !== 'object' || Array.isArray(given))) {
    throw new AdvxError(
      'INVALID_OPTION',
      `${who}: options must be an object, got ${given === null ? 'null' : Array.isArray(given) ? 'an array' : typeof given}.`,
    );
  }
  const known = Object.keys(schema);
  const input = (given ?? {}) as Record<string, unknown>;
  for (const key of Object.keys(input)) {
    if (!Object.prototype.hasOwnProperty.call(schema, key)) {
      throw new AdvxError('INVALID_OPTION', `${who}: unknown option '${key}'. Known options: ${known.join(', ')}.`, { option: key });
    }
  }
  const out: Record<string, unknown> = {};
  for (const key of known) {
    const s = schema[key] as OptionSpec<unknown>;
    const value = input[key] === undefined ? s.default : input[key];
    if (value === undefined) {
      throw new AdvxError('INVALID_OPTION', `${who}: option '${key}' is required (${s.doc}; ${s.type}).`, { option: key });
    }
    const reason = s.reject(value);
    if (reason !== undefined) {
      throw new AdvxError('INVALID_OPTION', `${who}: ${key} must be ${reason}, got ${show(value)}.`, {
        option: key,
        value: typeof value === 'function' ? undefined : value,
      });
    }
    out[key] = value;
  }
  const resolved = Object.freeze(out) as OptionsResolved<S>;
  check?.(resolved);
  return resolved;
}

/**
 * The defaults of a schema (required options left out).
 *
 * @public
 */
export function schemaDefaults<S extends OptionSchema>(schema: S): Partial<OptionsResolved<S>> {
  return Object.freeze(
    Object.fromEntries(
      Object.entries(schema)
        .filter(([, s]) => !s.required)
        .map(([k, s]) => [k, s.default]),
    ),
  ) as Partial<OptionsResolved<S>>;
}

/**
 * One row of an option table: name, accepted values, default (as text) and doc.
 *
 * @public
 */
export interface OptionRow {
  /** Option name. */
  readonly name: string;
  /** Accepted values in words. */
  readonly type: string;
  /** The default as text (`required` for a required option). */
  readonly default: string;
  /** What it does. */
  readonly doc: string;
  /** Whether a command line can give it. */
  readonly cli: boolean;
}

function defaultText(s: OptionSpec<unknown>): string {
  if (s.required) return 'required';
  const d = s.default;
  if (typeof d === 'string') return `'${d}'`;
  if (typeof d === 'number') return Number.isInteger(d) || Math.abs(d) >= 1e-3 ? String(Number(d.toPrecision(6))) : d.toExponential();
  return show(d);
}

/**
 * The option table of a schema, one row per option, in declaration order.
 *
 * @public
 */
export function describeOptions(schema: OptionSchema): OptionRow[] {
  return Object.entries(schema).map(([name, s]) => ({ name, type: s.type, default: defaultText(s), doc: s.doc, cli: s.cli }));
}

/**
 * Reads `key=value` strings from a command line against `schema` (numbers, fractions such as
 * `8/255`, booleans, names, JSON where the option allows it). Unknown keys and options a command
 * line cannot give throw `INVALID_OPTION`; the values are checked later, with the rest, by
 * {@link resolveOptions}.
 *
 * @example
 * ```ts
 * parseOptionStrings('pgd', schema, ['steps=40', 'loss=margin']); // { steps: 40, loss: 'margin' }
 * ```
 * @public
 */
export function parseOptionStrings(who: string, schema: OptionSchema, pairs: readonly string[]): Record<string, unknown> {
  // No prototype: a key such as __proto__ stays an own key and is rejected as unknown.
  const out = Object.create(null) as Record<string, unknown>;
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new AdvxError('INVALID_OPTION', `${who}: '${pair}' is not key=value (e.g. ${who}:steps=40).`);
    const key = pair.slice(0, eq);
    const s = Object.prototype.hasOwnProperty.call(schema, key) ? schema[key] : undefined;
    if (s === undefined) {
      throw new AdvxError('INVALID_OPTION', `${who}: unknown option '${key}'. Known options: ${Object.keys(schema).join(', ')}.`, { option: key });
    }
    if (!s.cli)
      throw new AdvxError('INVALID_OPTION', `${who}: option '${key}' (${s.type}) cannot be given on a command line; set it from code.`, { option: key });
    out[key] = s.parse(pair.slice(eq + 1));
  }
  return out;
}

/**
 * A Markdown table of a schema's options (name, values, default, doc), for docs and TSDoc.
 *
 * @public
 */
export function optionTable(schema: OptionSchema): string {
  const cell = (s: string): string => s.replace(/\|/g, '\\|');
  const rows = describeOptions(schema).map((r) => `| \`${r.name}\` | ${cell(r.type)} | ${cell(r.default)} | ${cell(r.doc)} |`);
  return ['| option | values | default | |', '| --- | --- | --- | --- |', ...rows].join('\n');
}

/**
 * A factory whose options `I` are declared by a schema (a defense, a detector, an explanation
 * method; see {@link defineFactory}): calling it resolves the options ({@link resolveOptions}) and
 * builds its `R`. The options argument may be left out when no option is required.
 *
 * @public
 */
export type OptionFactory<I, R> = (Partial<I> extends I ? (options?: I) => R : (options: I) => R) & {
  /** Every option's declaration: see {@link describeOptions}. */
  readonly schema: OptionSchema;
  /** The defaults (required options left out). */
  readonly defaults: Readonly<Partial<I>>;
};

/**
 * Defines a factory from an option schema and a builder: `who` names the factory in errors, `check`
 * states constraints between options. The options are resolved (unknown keys, missing required ones
 * and bad values throw `INVALID_OPTION`) before `build` runs.
 *
 * @example
 * ```ts
 * export const bitDepth = defineFactory(
 *   'bitDepth',
 *   { bits: option.integer(1, 'bits per value after squeezing', { min: 1, max: 16 }) },
 *   (o) => makeSqueezer(o.bits),
 * );
 * bitDepth({ bits: 4 });
 * ```
 * @public
 */
export function defineFactory<const S extends OptionSchema, R>(
  who: string,
  schema: S,
  build: (options: OptionsResolved<S>) => R,
  check?: (options: OptionsResolved<S>) => void,
): OptionFactory<OptionsInput<S>, R> {
  const frozen = Object.freeze({ ...schema });
  const factory = (given?: unknown): R => build(resolveOptions(who, frozen, given, check));
  return Object.assign(factory, { schema: frozen as OptionSchema, defaults: schemaDefaults(frozen) }) as unknown as OptionFactory<OptionsInput<S>, R>;
}

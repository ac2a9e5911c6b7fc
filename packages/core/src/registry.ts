import type { AttackMeta } from './attack.js';
import type { AttackFactory, AttackOptionsBase } from './define-attack.js';
import { AdvxError } from './errors.js';

/**
 * Anything with a registry name.
 *
 * @public
 */
export interface Named {
  /** Registry name, kebab-case. */
  readonly name: string;
}

/**
 * One registry entry.
 *
 * @public
 */
export interface RegistryEntry<Meta, Factory> {
  /** Static description. */
  readonly meta: Meta;
  /** The factory. */
  readonly factory: Factory;
}

/**
 * A typed name → entry registry. Entries are registered only by the explicit `register-all` entry
 * points of plugin packages; application code imports factories directly so bundlers can tree-shake.
 *
 * @public
 */
export interface Registry<Meta extends Named, Factory> {
  /** Adds an entry; throws `DUPLICATE_NAME` when the name is taken by a different factory. */
  register(meta: Meta, factory: Factory): void;
  /** The entry for `name`; throws `UNKNOWN_NAME` listing the registered names. */
  get(name: string): RegistryEntry<Meta, Factory>;
  /** Whether `name` is registered. */
  has(name: string): boolean;
  /** Metadata of every entry, sorted by name. */
  list(): Meta[];
}

const STORE = Symbol.for('@advx/core/registries');

type Store = Map<string, Map<string, { meta: { name: string }; factory: unknown }>>;

/** Registries live on globalThis so that two copies of @advx/core (ESM + CJS) share them. */
function store(): Store {
  const g = globalThis as typeof globalThis & { [STORE]?: Store };
  g[STORE] ??= new Map();
  return g[STORE];
}

/**
 * Creates (or returns the existing) registry of a given kind.
 *
 * @param kind - registry kind, e.g. `attack`, `defense`, `detector`.
 * @public
 */
export function createRegistry<Meta extends Named, Factory>(kind: string): Registry<Meta, Factory> {
  const all = store();
  if (!all.has(kind)) all.set(kind, new Map());
  const entries = all.get(kind) as Map<string, { meta: Meta; factory: Factory }>;
  return {
    register(meta, factory) {
      if (typeof meta?.name !== 'string' || !/^[a-z0-9][a-z0-9-]*$/.test(meta.name)) {
        throw new AdvxError('INVALID_OPTION', `A ${kind} name must be kebab-case (a-z, 0-9, -), got '${String(meta?.name)}'.`);
      }
      const existing = entries.get(meta.name);
      if (existing && existing.factory !== factory) {
        throw new AdvxError('DUPLICATE_NAME', `A different ${kind} named '${meta.name}' is already registered. Pick another name.`);
      }
      entries.set(meta.name, { meta: Object.freeze({ ...meta }), factory });
    },
    get(name) {
      const entry = entries.get(name);
      if (!entry) {
        const known = [...entries.keys()].sort();
        throw new AdvxError(
          'UNKNOWN_NAME',
          `No ${kind} named '${name}' is registered. ${known.length ? `Registered: ${known.join(', ')}.` : `None is registered: import the plugin's register-all entry first.`}`,
          { name, known },
        );
      }
      return entry;
    },
    has: (name) => entries.has(name),
    list: () => [...entries.values()].map((e) => e.meta).sort((a, b) => a.name.localeCompare(b.name)),
  };
}

/**
 * An attack factory as stored in the registry.
 *
 * @public
 */
export type AnyAttackFactory = AttackFactory<AttackOptionsBase & Record<string, unknown>>;

const attacks = createRegistry<AttackMeta, AnyAttackFactory>('attack');

/**
 * Registers an attack factory under `meta.name`.
 *
 * @example
 * ```ts
 * registerAttack(pgd.meta, pgd);
 * ```
 * @public
 */
export function registerAttack<O extends AttackOptionsBase>(meta: AttackMeta, factory: AttackFactory<O>): void {
  attacks.register(meta, factory as unknown as AnyAttackFactory);
}

/**
 * The registered attack factory named `name`; throws `UNKNOWN_NAME`.
 *
 * @example
 * ```ts
 * const attack = getAttack('pgd')({ steps: 40 });
 * ```
 * @public
 */
export function getAttack(name: string): AnyAttackFactory {
  return attacks.get(name).factory;
}

/**
 * Metadata of every registered attack, sorted by name.
 *
 * @public
 */
export function listAttacks(): AttackMeta[] {
  return attacks.list();
}

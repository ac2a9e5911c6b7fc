import { AdvxError, getAttack, listAttacks, type Attack, type NormName } from '@advx/core';

import type { AttackInfo, AttackInput, AttackSpec } from '../types.js';

/** An attack ready to run, with its description. */
export interface ResolvedAttack {
  readonly attack: Attack;
  readonly info: AttackInfo;
}

function isAttack(a: AttackInput): a is Attack {
  return typeof (a as Attack).run === 'function' && typeof (a as Attack).meta === 'object';
}

function formatValue(v: unknown): string {
  return typeof v === 'number' ? String(Number(v.toPrecision(6))) : String(v);
}

/** `name(k=v,...)` for the options that differ from the registered defaults (norm left out). */
function defaultLabel(attack: Attack): string {
  const name = attack.meta.name;
  const registered = listAttacks().some((m) => m.name === name) ? getAttack(name).defaults : undefined;
  if (registered === undefined) return name;
  const diff = Object.entries(attack.options as Record<string, unknown>)
    .filter(([k, v]) => k !== 'norm' && JSON.stringify(v) !== JSON.stringify((registered as Record<string, unknown>)[k]))
    .map(([k, v]) => `${k}=${formatValue(v)}`);
  return diff.length ? `${name}(${diff.join(',')})` : name;
}

function fromSpec(spec: AttackSpec, norm: NormName): Attack {
  if (typeof spec.name !== 'string' || spec.name === '') {
    throw new AdvxError('INVALID_OPTION', 'attacks: every entry must be a configured Attack or { name, options? } with a registry name such as "pgd".');
  }
  const factory = getAttack(spec.name);
  if (!factory.meta.norms.includes(norm)) {
    throw new AdvxError('UNSUPPORTED_NORM', `${spec.name} is defined for ${factory.meta.norms.join(', ')}, not '${norm}': pick another attack or norm.`, {
      attack: spec.name,
      norm,
    });
  }
  const options = { ...(spec.options ?? {}) };
  if (options.norm !== undefined && options.norm !== norm) {
    throw new AdvxError('INVALID_OPTION', `${spec.name}: option norm='${String(options.norm)}' differs from the evaluation's norm '${norm}'.`);
  }
  return factory({ ...options, norm } as Parameters<typeof factory>[0]);
}

/** Resolves the attack list: registry specs become attacks, every attack uses `norm`, labels are unique. */
export function resolveAttacks(inputs: readonly AttackInput[], norm: NormName): ResolvedAttack[] {
  if (!Array.isArray(inputs) || inputs.length === 0) {
    throw new AdvxError('INVALID_OPTION', 'attacks must be a non-empty list, e.g. [pgd({ steps: 40 })] or [{ name: "pgd" }].');
  }
  const seen = new Set<string>();
  return inputs.map((input, i) => {
    if (input === null || typeof input !== 'object') {
      throw new AdvxError('INVALID_OPTION', `attacks[${i}] is not an attack: pass a configured Attack or { name, options? }.`);
    }
    const attack = isAttack(input) ? input : fromSpec(input, norm);
    const attackNorm = (attack.options as { norm?: unknown }).norm;
    if (attackNorm !== norm) {
      throw new AdvxError(
        'UNSUPPORTED_NORM',
        `attacks[${i}] (${attack.meta.name}) uses norm '${String(attackNorm)}' but the evaluation's norm is '${norm}'. Configure it with { norm: '${norm}' }.`,
      );
    }
    const label = (isAttack(input) ? undefined : input.label) ?? defaultLabel(attack);
    if (seen.has(label)) {
      throw new AdvxError('INVALID_OPTION', `attacks: two attacks are labelled '${label}'; give them different labels or options.`, { label });
    }
    seen.add(label);
    const info: AttackInfo = {
      label,
      name: attack.meta.name,
      kind: attack.meta.kind,
      threat: attack.meta.threat,
      options: JSON.parse(JSON.stringify(attack.options)) as Record<string, unknown>,
      ...(attack.meta.paper !== undefined ? { paper: attack.meta.paper } : {}),
      ...(attack.meta.scope === 'dataset' ? { scope: 'dataset' as const } : {}),
    };
    return { attack, info };
  });
}

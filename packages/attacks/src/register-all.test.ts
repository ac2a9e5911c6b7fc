import { describe, expect, it } from 'vitest';

import { getAttack, listAttacks } from '@advx/core';

import * as attacks from './index.js';
import './register-all.js';

describe('@advx/attacks/register-all', () => {
  it('registers every attack factory of the package under its meta name', () => {
    const factories = Object.values(attacks).filter((v): v is typeof attacks.pgd => typeof v === 'function' && 'meta' in v && 'defaults' in v);
    expect(factories.length).toBeGreaterThanOrEqual(8);
    for (const f of factories) expect(getAttack(f.meta.name)).toBe(f);
    const names = listAttacks().map((m) => m.name);
    expect(names).toEqual([...names].sort());
    for (const f of factories) expect(names).toContain(f.meta.name);
  });
  it('every registered attack states its paper with a link', () => {
    for (const meta of listAttacks()) expect(meta.paper ?? '').toMatch(/https?:\/\//);
  });
});

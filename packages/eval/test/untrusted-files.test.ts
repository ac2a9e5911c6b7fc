/**
 * Untrusted files (issue #17): `advx merge` and `--resume` read results and state files that may be
 * damaged or crafted. Every field is checked before use (a typed error naming the file and the field),
 * the HTML report escapes what it shows, and image file names never leave `--out`. A seeded fuzz test
 * feeds randomly damaged JSON to both and asserts: a typed error or a correct result, never a crash,
 * never a file outside `--out`, never unescaped input in `report.html`.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import '@advx/attacks/register-all';
import { isAdvxError, Rng } from '@advx/core';
import { linearModel, selfLabeledData } from '@advx/core/testing';

import { evaluate } from '../src/evaluate.js';
import { fileStateStore } from '../src/node/file-state-store.js';
import { parseAttacks, runCli } from '../src/node/run-cli.js';
import type { EvaluateOptions, EvaluationResult } from '../src/types.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'advx-untrusted-'));
const rng0 = new Rng(7);
const model = linearModel({ weights: Array.from({ length: 3 }, () => Array.from({ length: 16 }, () => rng0.normal())), inputShape: [4, 4, 1] });
const data = selfLabeledData(model, 3, 8);
const base: EvaluateOptions = {
  model,
  data: { x: data.x, labels: data.labels, name: 'tiny' },
  attacks: [{ name: 'fgsm' }],
  epsilons: [0.1, 0.3],
  batchSize: 4,
  seed: 0,
  diagnostics: false,
  examples: 2,
};
const shards: EvaluationResult[] = [];
let single: EvaluationResult;
const files: string[] = [];

beforeAll(async () => {
  single = await evaluate(base);
  for (const index of [0, 1]) {
    const r = await evaluate({ ...base, shard: { index, count: 2 } });
    shards.push(r);
    const file = path.join(tmp, `shard${index}.json`);
    writeFileSync(file, JSON.stringify(r));
    files.push(file);
  }
});
afterAll(() => {
  tf.dispose([data.x, data.labels]);
  rmSync(tmp, { recursive: true, force: true });
});

async function cli(args: string[]): Promise<{ code: number; stderr: string }> {
  let stderr = '';
  const code = await runCli(args, { stdout: { write: () => true }, stderr: { write: (s: string) => (stderr += s) } });
  return { code, stderr };
}

/** Every file under `dir`, relative to it. */
function walk(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(dir, e.name)).map((f) => path.join(e.name, f)) : [e.name]));
}

const PAYLOAD = '<script>alert(1)</script>';

describe('advx merge of crafted results files', () => {
  it('clean shards merge; crafted fields are refused with the file and the field named, nothing written', async () => {
    const ok = await cli(['merge', ...files, '--out', path.join(tmp, 'clean')]);
    expect(ok.code).toBe(0);
    expect(readFileSync(path.join(tmp, 'clean', 'report.html'), 'utf8')).toContain('<h2>Examples</h2>');
    const cases: [string, (r: Record<string, any>) => void, string][] = [
      ['norm', (r) => (r.config.norm = PAYLOAD), 'config.norm'],
      ['example index as a path', (r) => (r.examples[0].index = '../../../escaped'), 'examples[0].index'],
      ['example epsilon', (r) => (r.examples[0].epsilon = PAYLOAD), 'examples[0].epsilon'],
      ['example perturbation', (r) => (r.examples[0].perturbation = PAYLOAD), 'examples[0].perturbation'],
      ['epsilon', (r) => (r.config.epsilons[1] = PAYLOAD), 'config.epsilons[1]'],
      ['warning code', (r) => r.warnings.push({ code: PAYLOAD, message: 'x', evidence: {} }), 'warnings[0].code'],
      ['a damaged sample record', (r) => delete r.samples[1].attacks, 'samples[1].attacks'],
    ];
    for (const [what, damage, field] of cases) {
      const r = JSON.parse(readFileSync(files[0] as string, 'utf8')) as Record<string, any>;
      damage(r);
      const bad = path.join(tmp, `bad-${what.replace(/\W+/g, '-')}.json`);
      writeFileSync(bad, JSON.stringify(r));
      const out = path.join(tmp, `out-${what.replace(/\W+/g, '-')}`);
      const run = await cli(['merge', bad, files[1] as string, '--out', out]);
      expect(run.code, what).toBe(1);
      expect(run.stderr.trim().split('\n'), what).toHaveLength(1);
      expect(run.stderr, what).toContain('[INVALID_OPTION]');
      expect(run.stderr, what).toContain(bad);
      expect(run.stderr, what).toContain(`field ${field}`);
      expect(existsSync(out), what).toBe(false);
    }
    expect(existsSync(path.join(tmp, 'escaped-original.png'))).toBe(false);
  });

  it('a second report in the same folder rewrites images/ instead of keeping old PNGs', async () => {
    const out = path.join(tmp, 'rewrite');
    mkdirSync(path.join(out, 'images'), { recursive: true });
    writeFileSync(path.join(out, 'images', 'stale-original.png'), 'old');
    expect((await cli(['merge', ...files, '--out', out])).code).toBe(0);
    const pngs = readdirSync(path.join(out, 'images'));
    expect(pngs).not.toContain('stale-original.png');
    expect(pngs.length).toBe(3 * single.examples.length);
    expect(walk(out).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });
});

describe('--attacks reserved keys', () => {
  it('pgd:__proto__=1 is rejected like any unknown option, while parsing, before any work', async () => {
    expect(() => parseAttacks('pgd:__proto__=1')).toThrow(/\[INVALID_OPTION\] pgd: unknown option '__proto__'/);
    const run = await cli(['eval', '--attacks', 'pgd:__proto__=1', '--backend', 'cpu', '--out', path.join(tmp, 'proto')]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("unknown option '__proto__'");
  });
});

/** Replaces one random node of `value` (or deletes it) with a value from a pool of bad and odd values. */
function damage(value: unknown, rng: Rng): unknown {
  const pool: unknown[] = [PAYLOAD, '../../../escaped', -1, 1e308, 0, 1.5, null, true, '', [], {}, [PAYLOAD], { index: PAYLOAD }, 'NaN', 3];
  const nodes: { parent: Record<string, unknown> | unknown[]; key: string | number }[] = [];
  const visit = (v: unknown) => {
    if (Array.isArray(v)) v.forEach((c, i) => (nodes.push({ parent: v, key: i }), visit(c)));
    else if (v !== null && typeof v === 'object') {
      for (const [k, c] of Object.entries(v)) {
        nodes.push({ parent: v as Record<string, unknown>, key: k });
        visit(c);
      }
    }
  };
  const copy = JSON.parse(JSON.stringify(value)) as unknown;
  visit(copy);
  // Prefer the small fields (the pixel arrays hold most nodes).
  const small = nodes.filter((n) => !(Array.isArray(n.parent) && n.parent.length > 4 && typeof n.parent[0] === 'number'));
  const target = small[rng.int(small.length)] ?? nodes[0];
  if (!target) return copy;
  if (rng.uniform() < 0.15 && !Array.isArray(target.parent)) delete (target.parent as Record<string, unknown>)[target.key as string];
  else (target.parent as Record<string | number, unknown>)[target.key] = pool[rng.int(pool.length)];
  return copy;
}

describe('fuzz: randomly damaged JSON (seeded)', () => {
  it('advx merge: a typed error or a clean report, never a crash or a file outside --out', { timeout: 240_000 }, async () => {
    const rng = new Rng(2024);
    const sandbox = path.join(tmp, 'fuzz-merge');
    const outcomes = { refused: 0, merged: 0 };
    for (let k = 0; k < 200; k++) {
      const which = rng.int(2);
      const damaged = damage(shards[which], rng);
      const dir = path.join(sandbox, `case${k}`);
      mkdirSync(dir, { recursive: true });
      const input = path.join(dir, 'input.json');
      writeFileSync(input, rng.uniform() < 0.05 ? JSON.stringify(damaged).slice(0, 200) : JSON.stringify(damaged));
      const args = which === 0 ? [input, files[1] as string] : [files[0] as string, input];
      const out = path.join(dir, 'out');
      const run = await cli(['merge', ...args, '--out', out]);
      if (run.code === 1) {
        expect(run.stderr, `case ${k}`).toMatch(/^advx: error: \[INVALID_OPTION\] /);
        expect(run.stderr.trim().split('\n')).toHaveLength(1);
        outcomes.refused++;
      } else {
        expect(run.code, `case ${k}: ${run.stderr}`).toBe(0);
        const html = readFileSync(path.join(out, 'report.html'), 'utf8');
        expect(html, `case ${k}`).not.toContain('<script');
        expect(html, `case ${k}`).not.toContain('../');
        outcomes.merged++;
      }
      const outside = walk(dir).filter((f) => f !== 'input.json' && !f.startsWith(`out${path.sep}`));
      expect(outside, `case ${k}`).toEqual([]);
    }
    expect(walk(tmp).filter((f) => f.includes('escaped'))).toEqual([]);
    expect(outcomes.refused).toBeGreaterThan(50);
    expect(outcomes.merged).toBeGreaterThan(5);
  });

  it('--resume from a damaged state file: a typed error or the uninterrupted result, never a crash', { timeout: 240_000 }, async () => {
    const file = path.join(tmp, 'state.json');
    // One chunk done, as an interrupted run leaves it.
    const controller = new AbortController();
    await expect(
      evaluate({ ...base, state: fileStateStore(file), signal: controller.signal, onProgress: (p) => (p.chunk === 1 ? controller.abort() : undefined) }),
    ).rejects.toSatisfy((e: unknown) => isAdvxError(e, 'ABORTED'));
    const state = JSON.parse(readFileSync(file, 'utf8')) as unknown;
    const rng = new Rng(99);
    const outcomes = { refused: 0, resumed: 0 };
    const expected = JSON.stringify({ ...single, attacks: single.attacks.map((a) => ({ ...a, timeMs: 0 })) });
    for (let k = 0; k < 150; k++) {
      const damaged = path.join(tmp, `state-${k}.json`);
      writeFileSync(damaged, JSON.stringify(damage(state, rng)));
      const before = tf.memory().numTensors;
      try {
        const r = await evaluate({ ...base, state: fileStateStore(damaged) });
        const timeless = JSON.stringify({ ...r, attacks: r.attacks.map((a) => ({ ...a, timeMs: 0 })) });
        // A record changed to another valid value is indistinguishable from a real one; everything else must match.
        if (timeless !== expected) expect(JSON.stringify(r.config)).toBe(JSON.stringify(single.config));
        outcomes.resumed++;
      } catch (e) {
        expect(isAdvxError(e, 'INVALID_OPTION'), `case ${k}: ${String(e)}`).toBe(true);
        outcomes.refused++;
      }
      expect(tf.memory().numTensors, `case ${k}`).toBe(before);
      rmSync(damaged, { force: true });
    }
    expect(outcomes.refused).toBeGreaterThan(30);
  });
});

#!/usr/bin/env node
// Row pruning, before and after, same machine, same run: the attack base (and APGD) stop computing
// rows that are already adversarial. Measures, in two checkouts (this one and `--before DIR`, a
// built checkout of the commit before the change):
//   - PGD-40 (step 0.01) and APGD-CE-100 at ε 0.3 on the first N shipped MNIST test images, on wasm
//     (bench/row-pruning-worker.mjs in each checkout): time, white-box passes, success rate and a
//     SHA-256 of the adversarial batch (equal hashes = bit-for-bit equal results);
//   - the default `advx eval` (fgsm, pgd-40, apgd-ce-100 × ε 0.1, 0.2, 0.3; 300 images): wall clock
//     of the process, and its robust accuracies (must be equal).
// Each measurement runs in its own process; before and after alternate, so load drifts hit both.
//
//   node bench/row-pruning.mjs --before /tmp/advx-before [--n 500] [--eval-n 300] [--threads 2] [--models mnist-cnn,mnist-cnn-at]
// Writes bench/results/row-pruning-<date>.json and prints a markdown table.
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const AFTER = resolve(new URL('..', import.meta.url).pathname);
const args = process.argv.slice(2);
const flag = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : fallback;
};
const BEFORE = flag('before');
if (!BEFORE) {
  console.error(
    'row-pruning: give --before DIR, a built checkout of the commit before row pruning (git worktree add DIR <commit>; npm ci; npx nx run-many -t build).',
  );
  process.exit(2);
}
const n = Number(flag('n', '500'));
const threads = Number(flag('threads', '2'));
const models = flag('models', 'mnist-cnn,mnist-cnn-at').split(',');
const evalN = Number(flag('eval-n', '300'));
const sides = { before: resolve(BEFORE), after: AFTER };
copyFileSync(join(AFTER, 'bench/row-pruning-worker.mjs'), join(sides.before, 'bench/row-pruning-worker.mjs'));
const commit = (dir) => execFileSync('git', ['-C', dir, 'rev-parse', '--short', 'HEAD']).toString().trim();

function attackRun(dir, model, attack) {
  const out = execFileSync('node', [join(dir, 'bench/row-pruning-worker.mjs'), model, attack, String(n), String(threads)], { cwd: dir }).toString();
  return JSON.parse(out.trim().split('\n').pop());
}

function evalRun(dir, model) {
  const out = mkdtempSync(join(tmpdir(), 'advx-prune-'));
  const t0 = performance.now();
  const p = spawnSync(
    'node',
    [join(dir, 'packages/eval/bin/advx.js'), 'eval', '--model', model, '--n', String(evalN), '--threads', String(threads), '--out', join(out, 'r')],
    { cwd: dir, encoding: 'utf8' },
  );
  const s = (performance.now() - t0) / 1000;
  if (p.status !== 0) throw new Error(`advx eval in ${dir} failed: ${p.stderr}`);
  const result = JSON.parse(readFileSync(join(out, 'r/results.json'), 'utf8'));
  rmSync(out, { recursive: true, force: true });
  const robust = result.attacks.map((a) => `${a.name}: ${a.perEpsilon.map((e) => e.robustAccuracy.toFixed(4)).join('/')}`).join(', ');
  return { s: Math.round(s * 10) / 10, robust };
}

const rows = [];
for (const model of models) {
  for (const attack of ['pgd40', 'apgd-ce']) {
    const before = attackRun(sides.before, model, attack);
    const after = attackRun(sides.after, model, attack);
    rows.push({ model, workload: `${attack} ε 0.3, n ${n}`, before, after, identical: before.sha256 === after.sha256 });
    console.error(JSON.stringify(rows.at(-1)));
  }
  const before = evalRun(sides.before, model);
  const after = evalRun(sides.after, model);
  rows.push({ model, workload: `advx eval (default grid, n ${evalN})`, before, after, identical: before.robust === after.robust });
  console.error(JSON.stringify(rows.at(-1)));
}

const time = (r) => (r.ms !== undefined ? `${(r.ms / 1000).toFixed(1)} s` : `${r.s.toFixed(1)} s`);
const secs = (r) => (r.ms !== undefined ? r.ms / 1000 : r.s);
const lines = [
  `| model | workload | before | after | speed-up | backward passes before → after | results identical |`,
  `|---|---|---|---|---|---|---|`,
  ...rows.map(
    (r) =>
      `| ${r.model} | ${r.workload} | ${time(r.before)} | ${time(r.after)} | ${(secs(r.before) / secs(r.after)).toFixed(2)}× | ${r.before.passes ? `${r.before.passes.backward} → ${r.after.passes.backward}` : '—'} | ${r.identical ? 'yes' : 'NO'} |`,
  ),
];
console.log(lines.join('\n'));
const stamp = new Date().toISOString().slice(0, 16).replace(':', '-');
const file = join(AFTER, `bench/results/row-pruning-${stamp}.json`);
writeFileSync(
  file,
  `${JSON.stringify({ date: new Date().toISOString(), before: commit(sides.before), after: commit(sides.after), n, threads, backend: 'wasm', rows }, null, 2)}\n`,
);
console.error(`wrote ${file}`);

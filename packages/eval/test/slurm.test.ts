/**
 * Many machines on an existing batch engine: the Slurm scripts of deploy/slurm/ on a one-node cluster
 * started on this machine (Debian's slurm-wlm and munge, root; `.ci/run` installs them). A 4-task job
 * array evaluates one shard per task, one task is requeued while it runs (Slurm kills it and starts it
 * again; it resumes its finished chunks), and the dependent merge job's results.json equals the
 * single-process one except the times. Skipped, with the reason, where Slurm cannot start.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = path.resolve(__dirname, '../../..');
const scripts = path.join(root, 'deploy', 'slurm');
const advx = `${process.execPath} ${path.join(root, 'packages', 'eval', 'bin', 'advx.js')}`;
const tmp = mkdtempSync(path.join(os.tmpdir(), 'advx-slurm-'));
const cluster = path.join(tmp, 'cluster');
const env = { ...process.env, SLURM_CONF: path.join(cluster, 'slurm.conf'), ADVX: advx, SLURM_PORT: String(20_000 + Math.floor(Math.random() * 20_000)) };
const GRID = ['--n', '80', '--batch-size', '10', '--attacks', 'fgsm,pgd:steps=10', '--eps', '0.1,0.3', '--examples', '2'];

/** Why the cluster could not start (the test is skipped then), or undefined once it runs. */
let unavailable: string | undefined;

beforeAll(() => {
  const started = spawnSync('bash', [path.join(scripts, 'local-cluster.sh'), 'start', cluster], { env, encoding: 'utf8' });
  if (started.status !== 0) unavailable = `Slurm cannot start here (local-cluster.sh exit ${started.status}): ${started.stderr.trim()}`;
}, 60_000);

afterAll(() => {
  spawnSync('bash', [path.join(scripts, 'local-cluster.sh'), 'stop', cluster], { env });
  rmSync(tmp, { recursive: true, force: true });
});

/** results.json without its wall-clock times. */
const withoutTimes = (file: string): unknown => JSON.parse(readFileSync(file, 'utf8'), (key, value: unknown) => (key === 'timeMs' ? undefined : value));

async function until(what: string, ok: () => boolean, timeoutMs: number): Promise<void> {
  const t0 = Date.now();
  while (!ok()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const slurm = (cmd: string, args: string[]) => execFileSync(cmd, args, { env, encoding: 'utf8' });

describe('Slurm job array (deploy/slurm) on a local one-node cluster', () => {
  it('4 shards, one task requeued mid-run: the merge job gives the single-process result', { timeout: 300_000 }, async (ctx) => {
    if (unavailable !== undefined) {
      console.warn(`skipped: ${unavailable}`);
      ctx.skip();
    }
    const reference = path.join(tmp, 'single');
    const single = spawnSync(process.execPath, [path.join(root, 'packages', 'eval', 'bin', 'advx.js'), 'eval', ...GRID, '--out', reference], {
      encoding: 'utf8',
    });
    expect(single.status, single.stderr).toBe(0);

    const out = path.join(tmp, 'array');
    const [array, merge] = slurm('bash', [path.join(scripts, 'submit.sh'), '4', out, ...GRID])
      .trim()
      .split(' ');
    expect(array).toMatch(/^\d+$/);
    expect(merge).toMatch(/^\d+$/);
    // Once task 1 (shard 2/4) has saved a chunk, requeue it: Slurm kills it and starts it again.
    const shard2 = path.join(out, 'shard-2-of-4');
    await until('shard 2/4 to save its first chunk', () => existsSync(path.join(shard2, 'state.json')), 120_000);
    slurm('scontrol', ['requeue', `${array}_1`]);
    const merged = path.join(out, 'merged', 'results.json');
    await until('the merge job', () => existsSync(merged) && !slurm('squeue', ['-h', '-j', merge as string]).trim(), 180_000);

    const task = slurm('scontrol', ['show', 'job', `${array}_1`]);
    expect(task).toMatch(/JobState=COMPLETED/);
    expect(task).toMatch(/Restarts=1/);
    // The second run of the task took over its stale lock and kept the chunk of the first.
    const log = readFileSync(path.join(out, `slurm-${array}_1.log`), 'utf8');
    expect(log).toContain('DUE TO JOB REQUEUE');
    expect(log).toContain('took over the stale lock');
    expect(slurm('scontrol', ['show', 'job', merge as string])).toMatch(/JobState=COMPLETED/);
    expect(withoutTimes(merged)).toEqual(withoutTimes(path.join(reference, 'results.json')));
  });
});

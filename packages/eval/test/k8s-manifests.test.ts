/**
 * The Kubernetes manifests of deploy/k8s/: valid against the Kubernetes API schema (kubernetes-models),
 * consistent with each other (an Indexed Job whose completions, parallelism and SHARDS agree, the
 * volume, the merge Job), and their container scripts do what they say when run here with the
 * environment Kubernetes gives each pod (`JOB_COMPLETION_INDEX`): the 4 indexes, one of them killed
 * mid-run and started again as `backoffLimitPerIndex` would, then the merge, give the single-process
 * results.json except the times. (No cluster or container runtime here: the image itself is not built.)
 */
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { Job } from 'kubernetes-models/batch/v1';
import { PersistentVolumeClaim } from 'kubernetes-models/v1';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const root = path.resolve(__dirname, '../../..');
const dir = path.join(root, 'deploy', 'k8s');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'advx-k8s-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

interface Container {
  command: string[];
  args: string[];
  env: { name: string; value: string }[];
  volumeMounts: { name: string; mountPath: string }[];
}
interface JobManifest {
  metadata: { name: string };
  spec: {
    completionMode?: string;
    completions?: number;
    parallelism?: number;
    backoffLimitPerIndex?: number;
    template: { spec: { restartPolicy: string; containers: Container[]; volumes: { name: string; persistentVolumeClaim: { claimName: string } }[] } };
  };
}

const load = <T>(file: string): T => parse(readFileSync(path.join(dir, file), 'utf8')) as T;
const evalJob = load<JobManifest>('eval-job.yaml');
const mergeJob = load<JobManifest>('merge-job.yaml');
const pvc = load<{ metadata: { name: string } }>('results-pvc.yaml');
const container = (job: JobManifest) => job.spec.template.spec.containers[0] as Container;
const envOf = (job: JobManifest) => Object.fromEntries(container(job).env.map((e) => [e.name, e.value]));

describe('deploy/k8s manifests', () => {
  it('are valid Kubernetes objects (the API schema of kubernetes-models)', () => {
    expect(() => new Job(evalJob as never).validate()).not.toThrow();
    expect(() => new Job(mergeJob as never).validate()).not.toThrow();
    expect(() => new PersistentVolumeClaim(pvc as never).validate()).not.toThrow();
    // The schema check itself rejects a broken manifest.
    expect(() => new Job({ ...evalJob, spec: { ...evalJob.spec, completionMode: 'Indexd' } } as never).validate()).toThrow(/completionMode/);
  });

  it('an Indexed Job with one pod per shard, restarts per index, and the volume the merge Job reads', () => {
    const shards = Number(envOf(evalJob).SHARDS);
    expect(evalJob.spec.completionMode).toBe('Indexed');
    expect(evalJob.spec.completions).toBe(shards);
    expect(evalJob.spec.parallelism).toBe(shards);
    expect(evalJob.spec.backoffLimitPerIndex).toBeGreaterThan(0);
    // Kubernetes requires restartPolicy Never with backoffLimitPerIndex.
    expect(evalJob.spec.template.spec.restartPolicy).toBe('Never');
    expect(Number(envOf(mergeJob).SHARDS)).toBe(shards);
    for (const job of [evalJob, mergeJob]) {
      const mount = container(job).volumeMounts[0];
      expect(mount?.mountPath).toBe(envOf(job).RESULTS);
      expect(job.spec.template.spec.volumes.find((v) => v.name === mount?.name)?.persistentVolumeClaim.claimName).toBe(pvc.metadata.name);
    }
  });

  describe('their container scripts, run here as each pod would', () => {
    const bin = path.join(tmp, 'bin');
    const results = path.join(tmp, 'results');
    const GRID = '--n 80 --batch-size 10 --attacks fgsm,pgd:steps=10 --eps 0.1,0.3 --examples 2';
    const shards = Number(envOf(evalJob).SHARDS);
    const podEnv = (job: JobManifest, index?: number) => ({
      ...process.env,
      ...envOf(job),
      RESULTS: results,
      ADVX_EVAL_ARGS: GRID,
      THREADS: '1',
      PATH: `${bin}:${process.env.PATH ?? ''}`,
      ...(index !== undefined ? { JOB_COMPLETION_INDEX: String(index) } : {}),
    });
    /** Runs the container of `job` (its command and args) like its pod; resolves with the exit code. */
    const pod = (job: JobManifest, index?: number, onStart?: (pid: number) => void): Promise<number | null> =>
      new Promise((resolve, reject) => {
        const [cmd, ...rest] = container(job).command;
        const child = spawn(cmd as string, [...rest, ...container(job).args], { env: podEnv(job, index), stdio: ['ignore', 'ignore', 'pipe'] });
        if (child.pid !== undefined) onStart?.(child.pid);
        child.on('error', reject);
        child.on('close', (code) => resolve(code));
      });

    beforeAll(() => {
      // `advx` on the PATH, as the image has it.
      mkdirSync(bin, { recursive: true });
      writeFileSync(path.join(bin, 'advx'), `#!/bin/sh\nexec "${process.execPath}" "${path.join(root, 'packages', 'eval', 'bin', 'advx.js')}" "$@"\n`);
      chmodSync(path.join(bin, 'advx'), 0o755);
    });

    it(`the ${shards} indexes (one killed mid-run and started again) and the merge give the single-process result`, { timeout: 240_000 }, async () => {
      const single = spawnSync(
        process.execPath,
        [path.join(root, 'packages', 'eval', 'bin', 'advx.js'), 'eval', ...GRID.split(' '), '--out', path.join(tmp, 'single')],
        { encoding: 'utf8' },
      );
      expect(single.status, single.stderr).toBe(0);

      // Index 1 is killed once it has saved a chunk (as a lost node would), then started again.
      const state = path.join(results, `shard-2-of-${shards}`, 'state.json');
      let pid = 0;
      const first = pod(evalJob, 1, (p) => (pid = p));
      const t0 = Date.now();
      while (!existsSync(state) && Date.now() - t0 < 120_000) await new Promise((r) => setTimeout(r, 20));
      expect(existsSync(state)).toBe(true);
      process.kill(pid, 'SIGKILL');
      expect(await first).toBeNull();
      const codes = await Promise.all(Array.from({ length: shards }, (_, i) => pod(evalJob, i)));
      expect(codes).toEqual(Array.from({ length: shards }, () => 0));
      expect(await pod(mergeJob)).toBe(0);

      const strip = (file: string): unknown => JSON.parse(readFileSync(file, 'utf8'), (key, value: unknown) => (key === 'timeMs' ? undefined : value));
      expect(strip(path.join(results, 'merged', 'results.json'))).toEqual(strip(path.join(tmp, 'single', 'results.json')));
    });
  });
});

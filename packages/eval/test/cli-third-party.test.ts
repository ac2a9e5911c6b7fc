/**
 * `advx eval` end to end on two real networks we did not train, loaded from the installed npm
 * package `@vladmandic/human` 3.3.6 (MIT; never downloaded at run time), on public-domain photos
 * (fixtures/photos: three face crops of NASA's portrait of Eileen Collins, scikit-image's
 * astronaut.png):
 * - `models/antispoof.json`: a colour 128×128×3 → 1 (sigmoid, "real face" score) CNN, a graph model
 *   whose ops all have tfjs gradients (fused conv2d, max pool, relu, matmul); advx reads the logit
 *   before the Sigmoid and makes it a binary classifier [fake, real];
 * - `models/emotion.json`: a 64×64 grey → 7 FER2013 emotions CNN (ends in Softmax; advx reads the
 *   pooled logits before it), fed as human feeds it: (gray − 0.5) / 0.5 via --mean/--std.
 * Without @vladmandic/human the suite is skipped with the reason. Runs on wasm.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { runCli, type CliIo } from '../src/node/run-cli.js';
import type { EvaluationResult } from '../src/types.js';

function humanModels(): string | undefined {
  try {
    return path.join(path.dirname(createRequire(import.meta.url).resolve('@vladmandic/human')), '..', 'models');
  } catch {
    return undefined;
  }
}
const models = humanModels();
const photos = path.resolve(__dirname, 'fixtures/photos');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'advx-third-party-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const io: CliIo = { stdout: { write: (s: string) => (stdout += s) }, stderr: { write: (s: string) => (stderr += s) }, signal: new AbortController().signal };
  const code = await runCli(['eval', '--backend', 'wasm', '--no-diagnostics', '--examples', '1', ...args], io);
  return { code, stdout, stderr };
}
const read = (dir: string) => JSON.parse(readFileSync(path.join(dir, 'results.json'), 'utf8')) as EvaluationResult;

describe.skipIf(models === undefined)(
  'advx eval on third-party models from @vladmandic/human (an optional dev dependency: skipped when it is not installed)',
  () => {
    it('antispoof (128×128×3 colour graph, one sigmoid unit): binary logits before the Sigmoid, class names from --labels', async () => {
      const labels = path.join(tmp, 'antispoof-labels.txt');
      writeFileSync(labels, 'fake\nreal\n');
      const out = path.join(tmp, 'antispoof');
      const run = await cli([
        '--model',
        path.join(models as string, 'antispoof.json'),
        '--data',
        photos,
        '--labels',
        labels,
        '--attacks',
        'fgsm,pgd:steps=5:relStepSize=0.25',
        '--eps',
        '2/255,8/255',
        '--out',
        out,
      ]);
      expect(run.stderr).toMatch(
        /model: graph \[128, 128, 3\] float32, bounds \[0, 1\], 2 classes \(fake, real\), logits of node 'StatefulPartitionedCall\/sequential\/dense_1\/BiasAdd'; forward ok, gradient ok/,
      );
      expect(run.code).toBe(0);
      const r = read(out);
      expect(r.n).toBe(3);
      const input = r.config.model.input as { notes: string[]; classNames: string[] };
      expect(input.classNames).toEqual(['fake', 'real']);
      expect(input.notes.join(' ')).toContain('ends in Sigmoid');
      // Robust accuracy never exceeds clean accuracy and falls (weakly) with ε.
      for (const a of r.attacks) {
        const accs = a.perEpsilon.map((e) => e.robustAccuracy);
        expect(accs[0]).toBeLessThanOrEqual(r.cleanAccuracy);
        expect(accs[1]).toBeLessThanOrEqual(accs[0] as number);
      }
      expect(readFileSync(path.join(out, 'report.md'), 'utf8')).toContain('2 classes (fake, real) from labels-file');
    });

    it('emotion (64×64 grey graph, 7 classes): colour photos converted and resized, Softmax stripped', async () => {
      const data = path.join(tmp, 'emotion-data');
      mkdirSync(path.join(data, 'happy'), { recursive: true });
      for (const f of readdirSync(path.join(photos, 'real'))) copyFileSync(path.join(photos, 'real', f), path.join(data, 'happy', f));
      const labels = path.join(tmp, 'emotion-labels.txt');
      writeFileSync(labels, ['angry', 'disgust', 'fear', 'happy', 'sad', 'surprise', 'neutral'].join('\n'));
      const out = path.join(tmp, 'emotion');
      const run = await cli([
        '--model',
        path.join(models as string, 'emotion.json'),
        '--data',
        data,
        '--labels',
        labels,
        '--resize',
        '--convert-channels',
        '--mean',
        '0.5',
        '--std',
        '0.5',
        '--attacks',
        'fgsm',
        '--eps',
        '4/255',
        '--out',
        out,
      ]);
      expect(run.stderr).toMatch(
        /model: graph \[64, 64, 1\] float32, bounds \[0, 1\], normalized \(x - 0\.5\) \/ 0\.5, 7 classes \(angry, disgust, fear, happy, sad, surprise, \.\.\.\), logits of node '[^']*global_average_pooling2d_1\/Mean'; forward ok, gradient ok/,
      );
      expect(run.code).toBe(0);
      const r = read(out);
      expect(r.n).toBe(3);
      // The smiling astronaut is 'happy' on at least the tight crop (the emotion test's fixture framing).
      expect(r.cleanAccuracy).toBeGreaterThan(0);
    });
  },
);

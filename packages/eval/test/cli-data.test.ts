/**
 * `advx eval --data` on data written here (an image folder, a CSV list, a .npy pair) with a tiny
 * colour layers model: the reports, the class names, --skip-bad counts, and every bad data case's
 * one-line error and exit code.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { encode as encodeJpeg } from 'jpeg-js';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { runCli, type CliIo } from '../src/node/run-cli.js';
import type { EvaluationResult } from '../src/types.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'advx-cli-data-'));
const FAST = ['--attacks', 'fgsm', '--eps', '0.1', '--backend', 'cpu', '--examples', '1', '--batch-size', '4'];

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const io: CliIo = { stdout: { write: (s: string) => (stdout += s) }, stderr: { write: (s: string) => (stderr += s) }, signal: new AbortController().signal };
  const code = await runCli(args, io);
  return { code, stdout, stderr };
}

function colourPng(seed: number, size = 8): Buffer {
  const image = new PNG({ width: size, height: size });
  for (let i = 0; i < size * size; i++) image.data.set([(seed * 37 + i * 11) % 256, (seed * 91 + i * 5) % 256, (seed * 13 + i * 29) % 256, 255], 4 * i);
  return PNG.sync.write(image);
}

function write(file: string, bytes: Buffer | string): void {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, bytes);
}

const modelJson = path.join(tmp, 'model', 'model.json');
const folder = path.join(tmp, 'photos');

beforeAll(async () => {
  const m = tfl.sequential({
    layers: [
      tfl.layers.conv2d({
        inputShape: [8, 8, 3],
        filters: 2,
        kernelSize: 3,
        activation: 'relu',
        kernelInitializer: tfl.initializers.glorotUniform({ seed: 1 }),
      }),
      tfl.layers.flatten(),
      tfl.layers.dense({ units: 2, activation: 'softmax', kernelInitializer: tfl.initializers.glorotUniform({ seed: 2 }) }),
    ],
  });
  await m.save(
    tf.io.withSaveHandler(async (a) => {
      write(modelJson, JSON.stringify({ modelTopology: a.modelTopology, weightsManifest: [{ paths: ['weights.bin'], weights: a.weightSpecs }] }));
      write(path.join(tmp, 'model', 'weights.bin'), Buffer.from(a.weightData as ArrayBuffer));
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  m.dispose();
  for (let i = 0; i < 3; i++) write(path.join(folder, 'cat', `c${i}.png`), colourPng(i));
  for (let i = 0; i < 2; i++) write(path.join(folder, 'dog', `d${i}.png`), colourPng(10 + i));
  const data = Buffer.alloc(8 * 8 * 4, 90);
  write(path.join(folder, 'dog', 'd9.jpg'), encodeJpeg({ width: 8, height: 8, data }, 90).data);
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const read = (dir: string) => JSON.parse(readFileSync(path.join(dir, 'results.json'), 'utf8')) as EvaluationResult;

describe('advx eval --data <image folder>', () => {
  it('evaluates every image of the folder, records how it was read and names the classes in the report', async () => {
    const out = path.join(tmp, 'ok');
    const run = await cli(['eval', '--model', modelJson, '--data', folder, ...FAST, '--out', out]);
    expect(run.stderr).not.toMatch(/error/);
    expect(run.code).toBe(0);
    const r = read(out);
    expect(r.n).toBe(6);
    expect(r.config.dataset).toBe('photos');
    expect(r.config.data).toMatchObject({ format: 'image-folder', classIndex: 'by-position', classes: 2, count: 6, sample: 'all', skipped: 0 });
    expect(r.samples.map((s) => s.label)).toEqual([0, 0, 0, 1, 1, 1]);
    const html = readFileSync(path.join(out, 'report.html'), 'utf8');
    expect(html).toMatch(/cat|dog/);
  });

  it('--n with --sample stratified takes classes in turn', async () => {
    const out = path.join(tmp, 'strat');
    const run = await cli(['eval', '--model', modelJson, '--data', folder, '--n', '3', '--sample', 'stratified', ...FAST, '--out', out]);
    expect(run.code).toBe(0);
    expect(read(out).samples.map((s) => s.label)).toEqual([0, 1, 0]);
  });

  it('an unreadable file stops the run naming it; --skip-bad skips and counts it', async () => {
    const bad = path.join(tmp, 'bad');
    write(path.join(bad, 'cat', 'a.png'), colourPng(1));
    write(path.join(bad, 'dog', 'b.png'), colourPng(2));
    write(path.join(bad, 'dog', 'broken.jpg'), 'not a jpeg');
    const stop = await cli(['eval', '--model', modelJson, '--data', bad, ...FAST, '--out', path.join(tmp, 'bad-out')]);
    expect(stop.code).toBe(1);
    expect(stop.stderr.trim().split('\n')).toHaveLength(1);
    expect(stop.stderr).toMatch(/^advx: error: \[INVALID_DATA\] cannot read dog\/broken\.jpg: neither PNG nor JPEG .*--skip-bad/);
    const out = path.join(tmp, 'skip-out');
    const skip = await cli(['eval', '--model', modelJson, '--data', bad, '--skip-bad', ...FAST, '--out', out]);
    expect(skip.code).toBe(0);
    expect(skip.stdout).toMatch(/skipped 1 unreadable files/);
    const r = read(out);
    expect(r.n).toBe(2);
    expect(r.config.data).toMatchObject({ skipped: 1, skippedFiles: [{ file: 'dog/broken.jpg', reason: 'neither PNG nor JPEG (unknown signature)' }] });
  });

  it('size and colour mismatches, too many classes, a bad list row, an unknown --data and a bad --sample: one line, exit code', async () => {
    const oneLine = (run: { code: number; stderr: string }, code: number, pattern: RegExp) => {
      expect(run.code).toBe(code);
      expect(run.stderr.trim().split('\n')).toHaveLength(1);
      expect(run.stderr).toMatch(pattern);
    };
    const big = path.join(tmp, 'big');
    write(path.join(big, 'cat', 'large.png'), colourPng(3, 12));
    oneLine(
      await cli(['eval', '--model', modelJson, '--data', big, ...FAST, '--out', path.join(tmp, 'e1')]),
      1,
      /\[INVALID_SHAPE\] data big does not match the model's input 8×8×3: 1 of 1 images are not 8×8 \(cat\/large\.png is 12×12×3\).*--resize/,
    );
    const resized = await cli(['eval', '--model', modelJson, '--data', big, '--resize', ...FAST, '--out', path.join(tmp, 'e1r')]);
    expect(resized.code).toBe(0);
    expect(read(path.join(tmp, 'e1r')).config.data).toMatchObject({ resized: 1 });
    const grey = path.join(tmp, 'grey');
    const g = new PNG({ width: 8, height: 8, colorType: 0 });
    g.data.fill(128);
    write(path.join(grey, 'cat', 'g.png'), PNG.sync.write(g, { colorType: 0 }));
    oneLine(
      await cli(['eval', '--model', modelJson, '--data', grey, ...FAST, '--out', path.join(tmp, 'e2')]),
      1,
      /\[INVALID_SHAPE\] .*1 of 1 are grey images for a colour model \(cat\/g\.png\).*--convert-channels/,
    );
    const three = path.join(tmp, 'three');
    for (const c of ['a', 'b', 'c']) write(path.join(three, c, 'x.png'), colourPng(4));
    oneLine(
      await cli(['eval', '--model', modelJson, '--data', three, ...FAST, '--out', path.join(tmp, 'e3')]),
      1,
      /\[LABEL_OUT_OF_RANGE\] the data has 3 class folders but the model has 2 classes: class folder 'c'/,
    );
    write(path.join(tmp, 'list.csv'), 'photos/cat/c0.png,0\nphotos/dog/d0.png,5\n');
    oneLine(
      await cli(['eval', '--model', modelJson, '--data', path.join(tmp, 'list.csv'), ...FAST, '--out', path.join(tmp, 'e4')]),
      1,
      /\[LABEL_OUT_OF_RANGE\] list\.csv line 2: label 5 of photos\/dog\/d0\.png is outside/,
    );
    oneLine(
      await cli(['eval', '--model', modelJson, '--data', path.join(tmp, 'nothing-here'), ...FAST, '--out', path.join(tmp, 'e5')]),
      1,
      /\[UNKNOWN_NAME\] data '.*nothing-here' is not found: give an image folder/,
    );
    oneLine(await cli(['eval', '--model', modelJson, '--data', folder, '--sample', 'random', ...FAST]), 2, /argument 'random' is invalid/);
  });

  it('a CSV list with class names evaluates its rows', async () => {
    write(path.join(tmp, 'good.csv'), 'path,label\nphotos/cat/c0.png,cat\nphotos/dog/d0.png,dog\n');
    const out = path.join(tmp, 'csv');
    expect((await cli(['eval', '--model', modelJson, '--data', path.join(tmp, 'good.csv'), ...FAST, '--out', out])).code).toBe(0);
    expect(read(out).config.data).toMatchObject({ format: 'image-list-csv', classIndex: 'by-position', count: 2 });
    expect(read(out).samples.map((s) => s.label)).toEqual([0, 1]);
  });
});

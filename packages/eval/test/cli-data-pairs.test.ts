/**
 * `advx eval --data images.idx,labels.idx` and `--data x.npy,y.npy` end to end through runCli, with a
 * tiny colour layers model: the per-sample records against the model's own predictions on the same
 * pixels (the in-memory model as reference) and against the same pixels read from a PNG folder; float32
 * .npy inputs equal to the mapped pixels give the same records; --n with --sample stratified picks rows
 * round-robin. And an image whose header is fine but whose pixel data is damaged: one error line naming
 * it and the sample without --skip-bad, skipped and counted with it.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { runCli, type CliIo } from '../src/node/run-cli.js';
import type { EvaluationResult } from '../src/types.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'advx-cli-pairs-'));
const FAST = ['--attacks', 'fgsm', '--eps', '0.1', '--backend', 'cpu', '--examples', '1', '--batch-size', '4', '--seed', '3'];
const N = 6;
const PER = 8 * 8 * 3;
const LABELS = [0, 0, 0, 1, 1, 1];

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const io: CliIo = { stdout: { write: (s: string) => (stdout += s) }, stderr: { write: (s: string) => (stderr += s) }, signal: new AbortController().signal };
  const code = await runCli(args, io);
  return { code, stdout, stderr };
}

function write(file: string, bytes: Buffer | string): string {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, bytes);
  return file;
}

/** An IDX file (big-endian sizes) of unsigned bytes. */
function idx(dims: number[], data: Uint8Array): Buffer {
  const head = Buffer.alloc(4 + 4 * dims.length);
  head.set([0, 0, 0x08, dims.length]);
  dims.forEach((d, i) => head.writeUInt32BE(d, 4 + 4 * i));
  return Buffer.concat([head, Buffer.from(data)]);
}

/** A version 1.0 .npy file, C order, its header padded to a multiple of 64 bytes. */
function npy(descr: string, shape: number[], data: ArrayBufferView): Buffer {
  let dict = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  dict += ' '.repeat(64 - ((10 + dict.length + 1) % 64)) + '\n';
  const head = Buffer.alloc(10);
  head.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  head.writeUInt16LE(dict.length, 8);
  return Buffer.concat([head, Buffer.from(dict, 'latin1'), Buffer.from(data.buffer, data.byteOffset, data.byteLength)]);
}

function png(row: Uint8Array): Buffer {
  const image = new PNG({ width: 8, height: 8 });
  for (let p = 0; p < 64; p++) image.data.set([row[3 * p] as number, row[3 * p + 1] as number, row[3 * p + 2] as number, 255], 4 * p);
  return PNG.sync.write(image);
}

const pixels = Uint8Array.from({ length: N * PER }, (_, i) => (i * 53 + Math.floor(i / PER) * 71) % 256);
const row = (i: number) => pixels.subarray(i * PER, (i + 1) * PER);
const modelJson = path.join(tmp, 'model', 'model.json');
const folder = path.join(tmp, 'folder');
let predictions: number[] = [];

beforeAll(async () => {
  const m = tfl.sequential({
    layers: [
      tfl.layers.conv2d({
        inputShape: [8, 8, 3],
        filters: 3,
        kernelSize: 3,
        activation: 'relu',
        kernelInitializer: tfl.initializers.glorotUniform({ seed: 4 }),
      }),
      tfl.layers.flatten(),
      tfl.layers.dense({
        units: 2,
        activation: 'softmax',
        kernelInitializer: tfl.initializers.glorotUniform({ seed: 5 }),
        biasInitializer: tfl.initializers.constant({ value: 0 }),
      }),
    ],
  });
  // The reference: the model's own predictions on the pixels mapped onto the default bounds [0, 1].
  const x = tf.tensor4d(
    Float32Array.from(pixels, (v) => v * (1 / 255)),
    [N, 8, 8, 3],
  );
  const y = m.predict(x) as tf.Tensor;
  const top = tf.argMax(y, 1);
  predictions = Array.from(await top.data());
  tf.dispose([x, y, top]);
  await m.save(
    tf.io.withSaveHandler(async (a) => {
      write(modelJson, JSON.stringify({ modelTopology: a.modelTopology, weightsManifest: [{ paths: ['weights.bin'], weights: a.weightSpecs }] }));
      write(path.join(tmp, 'model', 'weights.bin'), Buffer.from(a.weightData as ArrayBuffer));
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  m.dispose();
  write(path.join(tmp, 'images.idx'), idx([N, 8, 8, 3], pixels));
  write(path.join(tmp, 'labels.idx'), idx([N], Uint8Array.from(LABELS)));
  write(path.join(tmp, 'x.npy'), npy('|u1', [N, 8, 8, 3], pixels));
  write(
    path.join(tmp, 'xf.npy'),
    npy(
      '<f4',
      [N, 8, 8, 3],
      Float32Array.from(pixels, (v) => v * (1 / 255)),
    ),
  );
  write(
    path.join(tmp, 'y.npy'),
    npy(
      '<i8',
      [N],
      BigInt64Array.from(LABELS, (l) => BigInt(l)),
    ),
  );
  for (let i = 0; i < N; i++) write(path.join(folder, LABELS[i] === 0 ? 'a' : 'b', `s${i}.png`), png(row(i)));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const read = (dir: string) => JSON.parse(readFileSync(path.join(dir, 'results.json'), 'utf8')) as EvaluationResult;
/** The per-sample records without the attack timings (every field a run on the same inputs repeats). */
const records = (r: EvaluationResult) =>
  r.samples.map((s) => ({ index: s.index, label: s.label, prediction: s.prediction, inputNorm: s.inputNorm, attacks: s.attacks }));

async function evalOk(data: string, name: string, extra: string[] = []): Promise<EvaluationResult> {
  const out = path.join(tmp, name);
  const run = await cli(['eval', '--model', modelJson, '--data', data, ...FAST, ...extra, '--out', out]);
  expect(run.stderr).not.toMatch(/error/);
  expect(run.code).toBe(0);
  return read(out);
}

describe('advx eval --data with an IDX or .npy pair', () => {
  it("IDX, uint8 .npy and float32 .npy pairs give the model's own predictions and the records of the same pixels as PNGs", async () => {
    const pair = (a: string, b: string) => `${path.join(tmp, a)},${path.join(tmp, b)}`;
    const fromIdx = await evalOk(pair('images.idx', 'labels.idx'), 'idx');
    expect(fromIdx.n).toBe(N);
    expect(fromIdx.config.dataset).toBe('images.idx,labels.idx');
    expect(fromIdx.config.data).toMatchObject({
      format: 'idx',
      count: N,
      sampleShape: [8, 8, 3],
      dtype: 'uint8',
      sample: 'all',
      classIndex: 'label-index',
      pixels: '0..255 mapped linearly onto [0, 1]',
    });
    expect(fromIdx.samples.map((s) => s.label)).toEqual(LABELS);
    expect(fromIdx.samples.map((s) => s.prediction)).toEqual(predictions);
    expect(fromIdx.cleanAccuracy).toBeCloseTo(predictions.filter((p, i) => p === LABELS[i]).length / N, 12);
    // Linf norm of each input: its largest pixel / 255.
    fromIdx.samples.forEach((s, i) => expect(s.inputNorm).toBeCloseTo(Math.max(...row(i)) / 255, 6));

    const fromNpy = await evalOk(pair('x.npy', 'y.npy'), 'npy');
    expect(fromNpy.config.data).toMatchObject({ format: 'npy', dtype: 'uint8', count: N });
    const fromFloat = await evalOk(pair('xf.npy', 'y.npy'), 'npyf');
    expect(fromFloat.config.data).toMatchObject({ format: 'npy', dtype: 'float32', pixels: 'float32 values used as they are' });
    const fromPng = await evalOk(folder, 'png');
    expect(fromPng.config.data).toMatchObject({ format: 'image-folder', count: N });
    for (const other of [fromNpy, fromFloat, fromPng]) {
      expect(records(other)).toEqual(records(fromIdx));
      expect(other.cleanAccuracy).toBe(fromIdx.cleanAccuracy);
      expect(other.attacks[0]?.perEpsilon[0]?.robustAccuracy).toBe(fromIdx.attacks[0]?.perEpsilon[0]?.robustAccuracy);
    }
    const md = readFileSync(path.join(tmp, 'npy', 'report.md'), 'utf8');
    expect(md).toContain('Data: .npy pair ');
    expect(md).toContain('samples [8, 8, 3] uint8; pixels 0..255 mapped linearly onto [0, 1].');
  });

  it('--n 4 --sample stratified takes rows 0, 3, 1, 4', async () => {
    const r = await evalOk(`${path.join(tmp, 'x.npy')},${path.join(tmp, 'y.npy')}`, 'strat', ['--n', '4', '--sample', 'stratified']);
    expect(r.n).toBe(4);
    expect(r.config.data).toMatchObject({ sample: 'stratified', count: 4 });
    expect(r.samples.map((s) => s.label)).toEqual([0, 1, 0, 1]);
    expect(r.samples.map((s) => s.prediction)).toEqual([0, 3, 1, 4].map((i) => predictions[i]));
  });

  it('labels of another count and a label outside the classes: one line, exit 1', async () => {
    write(
      path.join(tmp, 'y5.npy'),
      npy(
        '<i8',
        [5],
        BigInt64Array.from([0, 1, 0, 1, 0], (l) => BigInt(l)),
      ),
    );
    write(path.join(tmp, 'l7.idx'), idx([N], Uint8Array.from([0, 1, 0, 1, 7, 0])));
    for (const [data, pattern] of [
      [`${path.join(tmp, 'x.npy')},${path.join(tmp, 'y5.npy')}`, /^advx: error: \[BATCH_MISMATCH\] data x\.npy,y5\.npy: 6 samples but 5 labels in y5\.npy/],
      [
        `${path.join(tmp, 'images.idx')},${path.join(tmp, 'l7.idx')}`,
        /^advx: error: \[LABEL_OUT_OF_RANGE\] l7\.idx row 4: label 7 is outside the model's 2 classes \(0 … 1\)/,
      ],
    ] as const) {
      const run = await cli(['eval', '--model', modelJson, '--data', data, ...FAST, '--out', path.join(tmp, 'bad-pair')]);
      expect(run.code).toBe(1);
      expect(run.stderr.trim().split('\n')).toHaveLength(1);
      expect(run.stderr).toMatch(pattern);
    }
  });
});

describe('advx eval --data <folder> with damaged pixel data behind a good header', () => {
  it('stops at the chunk with one error line naming the file and sample; --skip-bad skips and counts it', async () => {
    const damaged = path.join(tmp, 'damaged');
    for (let i = 0; i < N; i++) {
      const bytes = Buffer.from(png(row(i)));
      if (i === 4) {
        const at = bytes.indexOf('IDAT');
        for (let k = at + 6; k < at + 14; k++) bytes[k] = (bytes[k] as number) ^ 0x5a;
      }
      write(path.join(damaged, LABELS[i] === 0 ? 'a' : 'b', `s${i}.png`), bytes);
    }
    const stop = await cli(['eval', '--model', modelJson, '--data', damaged, ...FAST, '--out', path.join(tmp, 'damaged-out')]);
    expect(stop.code).toBe(1);
    const errors = stop.stderr
      .trim()
      .split('\n')
      .filter((l) => l.includes('error'));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(
      /^advx: error: \[INVALID_DATA\] cannot decode b\/s4\.png \(sample 4\): its header is fine but its pixel data is damaged \(pngjs: [^)]+\)\. Fix or remove the file, or pass --skip-bad/,
    );
    expect(stop.stderr.trim().split('\n').at(-1)).toBe(errors[0]);

    const out = path.join(tmp, 'damaged-skip');
    const skip = await cli(['eval', '--model', modelJson, '--data', damaged, '--skip-bad', ...FAST, '--out', out]);
    expect(skip.code).toBe(0);
    expect(skip.stdout).toMatch(/skipped 1 unreadable files/);
    const r = read(out);
    expect(r.n).toBe(N - 1);
    expect(r.config.data).toMatchObject({ skipped: 1, decodeChecked: N, skippedFiles: [{ file: 'b/s4.png' }] });
    expect(r.samples.map((s) => s.prediction)).toEqual([0, 1, 2, 3, 5].map((i) => predictions[i]));
    expect(readFileSync(path.join(out, 'report.md'), 'utf8')).toMatch(
      /1 file skipped as unreadable or damaged \(first: b\/s4\.png: its header is fine but its pixel data is damaged/,
    );
  });
});

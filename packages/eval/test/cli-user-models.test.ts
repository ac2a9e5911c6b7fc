/**
 * `advx eval` on the user's own model and images (issue #16): a Teachable Machine-style export
 * folder and a hand-written graph model, each with a folder of PNG images (one sub-folder per
 * class), written into a temporary folder. Numbers are checked against the models run directly
 * (cpu backend), and every bad model case gives its one line and exit code 1.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import * as tf from '@tensorflow/tfjs-core';
import { PNG } from 'pngjs';
import { afterAll, describe, expect, it } from 'vitest';

import { runCli, type CliIo } from '../src/node/run-cli.js';
import type { EvaluationResult } from '../src/types.js';
import { tinyConvNet, writeGraphModel, writeTeachableMachineExport } from './fixtures/tiny-models.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'advx-user-models-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const io: CliIo = { stdout: { write: (s: string) => (stdout += s) }, stderr: { write: (s: string) => (stderr += s) }, signal: new AbortController().signal };
  const code = await runCli(['eval', '--backend', 'cpu', '--no-diagnostics', '--examples', '0', ...args], io);
  return { code, stdout, stderr };
}

/** Writes `pixels` (h·w·c bytes, c 1 or 3) as an 8-bit PNG. */
function writePng(file: string, pixels: Uint8Array, h: number, w: number, c: number): void {
  const png = new PNG({ width: w, height: h, colorType: c === 1 ? 0 : 2, inputColorType: c === 1 ? 0 : 2, inputHasAlpha: false });
  const rgba = Buffer.alloc(w * h * 4);
  for (let i = 0; i < w * h; i++) {
    for (let k = 0; k < 3; k++) rgba[4 * i + k] = pixels[i * c + (c === 1 ? 0 : k)] as number;
    rgba[4 * i + 3] = 255;
  }
  png.data = rgba;
  writeFileSync(file, PNG.sync.write(png, { colorType: c === 1 ? 0 : 2 }));
}

/** A folder with one sub-folder per class name, `perClass` seeded random images each; returns the pixels in folder order. */
function writeImageFolder(
  dir: string,
  classes: readonly string[],
  perClass: number,
  h: number,
  w: number,
  c: number,
  seed: number,
): { pixels: Uint8Array[]; labels: number[] } {
  let state = seed;
  const next = () => (state = (state * 1103515245 + 12345) % 2147483648) / 2147483648;
  const pixels: Uint8Array[] = [];
  const labels: number[] = [];
  classes.forEach((name, label) => {
    mkdirSync(path.join(dir, name), { recursive: true });
    for (let i = 0; i < perClass; i++) {
      const p = Uint8Array.from({ length: h * w * c }, () => Math.floor(next() * 256));
      writePng(path.join(dir, name, `img-${i}.png`), p, h, w, c);
      pixels.push(p);
      labels.push(label);
    }
  });
  return { pixels, labels };
}

const read = (dir: string) => JSON.parse(readFileSync(path.join(dir, 'results.json'), 'utf8')) as EvaluationResult;

describe('advx eval --model <Teachable Machine folder> --data <image folder>', () => {
  it('uses the TM labels as class names and feeds the net pixel/127 - 1: clean accuracy equals the net run directly', async () => {
    const labels = ['cat', 'dog', 'bird'];
    const net = tinyConvNet(8, 3, 3);
    const tm = path.join(tmp, 'tm-export');
    await writeTeachableMachineExport(tm, net, labels, 8);
    const images = path.join(tmp, 'tm-images');
    const { pixels, labels: y } = writeImageFolder(images, labels, 3, 8, 8, 3, 7);
    const ref = tf.tidy(() => {
      const x = tf.sub(
        tf.div(
          tf.tensor4d(
            pixels.flatMap((p) => Array.from(p)),
            [pixels.length, 8, 8, 3],
          ),
          127,
        ),
        1,
      );
      return tf.argMax(net.predict(x) as tf.Tensor, 1);
    });
    const predicted = Array.from(await ref.data());
    ref.dispose();
    net.dispose();
    const expected = predicted.filter((p, i) => p === y[i]).length / y.length;

    const out = path.join(tmp, 'tm-out');
    const run = await cli(['--model', tm, '--data', images, '--attacks', 'fgsm', '--eps', '0.05', '--out', out]);
    expect(run.stderr).toMatch(
      /\[advx\] model: teachable-machine \[8, 8, 3\] float32, bounds \[0, 1\], normalized .*3 classes \(cat, dog, bird\), logits; forward ok, gradient ok/,
    );
    expect(run.code).toBe(0);
    const r = read(out);
    expect(r.cleanAccuracy).toBeCloseTo(expected, 10);
    const input = r.config.model.input as Record<string, unknown>;
    expect(input.format).toBe('teachable-machine');
    expect(input.classNames).toEqual(labels);
    expect(input.normalize).toEqual({ mean: 127 / 255, std: 127 / 255 });
    expect((input.inspection as { gradient: string }).gradient).toBe('ok');
  });

  it('a TM export whose labels do not match its outputs stops with one line, exit 1', async () => {
    const tm = path.join(tmp, 'tm-bad');
    const net = tinyConvNet(8, 3, 3);
    await writeTeachableMachineExport(tm, net, ['cat', 'dog'], 8);
    net.dispose();
    const run = await cli(['--model', tm, '--data', path.join(tmp, 'tm-images'), '--attacks', 'fgsm', '--out', path.join(tmp, 'tm-bad-out')]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      /^advx: error: \[INVALID_OPTION\] the Teachable Machine metadata .*metadata\.json names 2 classes but the model has 3 outputs; give one class name per output, in output order\.\n$/,
    );
  });
});

describe('advx eval --model <graph model.json> --data <image folder>', () => {
  const W = [
    [2, -1, 0],
    [-1, 2, 0],
    [0, -1, 2],
    [1, 0, -1],
  ];
  const classes = ['a', 'b', 'c'];

  it('reads the logits before the Softmax, class names from --labels; clean accuracy equals x · W by hand', async () => {
    const file = writeGraphModel(path.join(tmp, 'graph'), W, { head: 'Softmax' });
    const images = path.join(tmp, 'grey-images');
    const { pixels, labels: y } = writeImageFolder(images, classes, 4, 2, 2, 1, 11);
    const labelsFile = path.join(tmp, 'labels.txt');
    writeFileSync(labelsFile, classes.join('\n'));
    const predicted = pixels.map((p) => {
      const z = [0, 1, 2].map((j) => Array.from(p).reduce((s, v, i) => s + (v / 255) * (W[i]?.[j] ?? 0), 0));
      return z.indexOf(Math.max(...z));
    });
    const expected = predicted.filter((p, i) => p === y[i]).length / y.length;
    const out = path.join(tmp, 'graph-out');
    const run = await cli(['--model', file, '--data', images, '--labels', labelsFile, '--attacks', 'fgsm,square:maxQueries=20', '--eps', '0.1', '--out', out]);
    expect(run.stderr).toMatch(/model: graph \[2, 2, 1\] float32, bounds \[0, 1\], 3 classes \(a, b, c\), logits of node 'logits'; forward ok, gradient ok/);
    expect(run.code).toBe(0);
    const r = read(out);
    expect(r.cleanAccuracy).toBeCloseTo(expected, 10);
    expect((r.config.model.input as { outputNode: string }).outputNode).toBe('logits');
    expect(readFileSync(path.join(out, 'report.md'), 'utf8')).toContain("graph model, input [2, 2, 1] float32 in [0, 1], output: logits of node 'logits'");
  });

  it('a graph op without a tfjs gradient: white-box attacks stop with one line naming the op; square runs', async () => {
    const file = writeGraphModel(path.join(tmp, 'graph-einsum'), W, { head: 'Softmax', product: 'Einsum' });
    const images = path.join(tmp, 'grey-images');
    const labelsFile = path.join(tmp, 'labels.txt');
    const bad = await cli(['--model', file, '--data', images, '--labels', labelsFile, '--attacks', 'fgsm', '--out', path.join(tmp, 'einsum-out')]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(
      /advx: error: \[UNSUPPORTED_MODEL\] the graph op Einsum has no gradient in tfjs: use a score-based attack such as --attacks square \(white-box attacks requested: fgsm\)\.\n$/,
    );
    const ok = await cli([
      '--model',
      file,
      '--data',
      images,
      '--labels',
      labelsFile,
      '--attacks',
      'square:maxQueries=20',
      '--eps',
      '0.1',
      '--out',
      path.join(tmp, 'einsum-square'),
    ]);
    expect(ok.code).toBe(0);
    expect(ok.stderr).toContain('[advx] warning: the graph op Einsum has no gradient in tfjs');
  });

  it('bad model flags and graphs: one line each, exit 1, before any attack', async () => {
    const two = writeGraphModel(path.join(tmp, 'graph-two'), W, { head: 'Softmax', twoOutputs: true });
    const images = path.join(tmp, 'grey-images');
    const cases: [string[], RegExp][] = [
      [['--model', two], /has 2 outputs \(.*\): pass --output-node with the one that holds the class scores\./],
      [['--model', two, '--output-node', 'nope'], /--output-node 'nope' is not a node of/],
      [
        ['--model', two, '--output-node', 'Identity', '--output', 'logits'],
        /the model output looks like probabilities .*pass --output-node with the node before the softmax, or --output probabilities\./,
      ],
      [['--model', two, '--input-size', '3'], /--input-size: '3' is not HxW/],
      [['--model', two, '--mean', '0.5'], /--mean and --std go together/],
      [['--model', two, '--output-node', 'logits', '--channels', '3'], /--channels is 3 but the graph input 'x' has shape \[-1, 2, 2, 1\]/],
      [['--model', path.join(tmp, 'nowhere')], /neither a zoo model .* nor a model\.json or a folder holding one/],
    ];
    for (const [args, pattern] of cases) {
      const run = await cli([...args, '--data', images, '--attacks', 'fgsm', '--out', path.join(tmp, 'bad-out')]);
      expect(run.code, args.join(' ')).toBe(1);
      expect(run.stderr, args.join(' ')).toMatch(pattern);
      expect(
        run.stderr
          .trim()
          .split('\n')
          .filter((l) => l.startsWith('advx: error')).length,
      ).toBe(1);
    }
  });
});

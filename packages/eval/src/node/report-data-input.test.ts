/**
 * How the data was read (`config.data`) in both reports: the sentence of describeDataInput for a real
 * image-folder source (sampling, class mapping, resizing, the --skip-bad decode check, a skipped file),
 * placed after the model's input line in Markdown and escaped in HTML like the rest of the page; a
 * hand-written record of an array pair; nothing when the result has no record.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import * as tf from '@tensorflow/tfjs-core';
import { PNG } from 'pngjs';
import { afterAll, describe, expect, it } from 'vitest';

import '@advx/attacks/register-all';
import { fgsm } from '@advx/attacks';
import { fromFunction } from '@advx/core';

import { evaluate } from '../evaluate.js';
import { describeDataInput } from '../internal/describe-data-input.js';
import { renderMarkdown } from '../render-markdown.js';
import type { EvaluationResult } from '../types.js';
import { openDataset } from './data/index.js';
import { renderHtml } from '../render-html.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'advx-report-data-'));
const w = tf.tensor2d([1, -1, 2, -2, -1, 1, -2, 2], [4, 2]);
afterAll(() => {
  w.dispose();
  rmSync(tmp, { recursive: true, force: true });
});
const model = fromFunction((x) => tf.matMul(tf.reshape(x, [-1, 4]), w) as tf.Tensor2D, {
  inputShape: [2, 2, 1],
  numClasses: 2,
  bounds: [0, 1],
  output: 'logits',
});

function grey(size: number, v: number): Buffer {
  const image = new PNG({ width: size, height: size, colorType: 0, inputColorType: 6, inputHasAlpha: true });
  for (let i = 0; i < size * size; i++) image.data.set([v, v, v, 255], 4 * i);
  return PNG.sync.write(image, { colorType: 0 });
}

function write(file: string, bytes: Buffer | string): void {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, bytes);
}

const escapeHtml = (v: string): string => v.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');

describe('config.data in the reports', () => {
  it('an image folder read with --skip-bad and --resize: one sentence after the model line, escaped in HTML', async () => {
    const dir = path.join(tmp, `x<y>&'"z`);
    write(path.join(dir, 'cat', 'a.png'), grey(2, 30));
    write(path.join(dir, 'cat', 'b.png'), grey(4, 200));
    write(path.join(dir, 'dog', 'c.png'), grey(2, 120));
    write(path.join(dir, 'dog', 'd.png'), 'not an image');
    write(path.join(dir, 'notes.txt'), 'ignored');
    const source = await openDataset(dir, { inputShape: [2, 2, 1], bounds: [0, 1], numClasses: 2, skipBad: true, resize: true });
    const result = await evaluate({ model, data: source, attacks: [fgsm()], epsilons: [0.1], examples: 0, diagnostics: false });
    source.dispose();
    const sentence =
      `Data: image folder ${dir}, 3 samples (all), class folders, then files, sorted by code point; classes by position in code-point order (2 classes); ` +
      'pixels 0..255 mapped linearly onto [0, 1]; 1 image resized by tf.image.resizeBilinear, alignCorners false, halfPixelCenters false; alpha dropped; ' +
      '3 images decoded before the run (--skip-bad); 1 file skipped as unreadable or damaged (first: dog/d.png: neither PNG nor JPEG (unknown signature)); 1 other entry ignored.';
    expect(describeDataInput(result)).toBe(sentence);
    const md = renderMarkdown(result);
    expect(md).toContain(`\n\n${sentence}\n\nClean accuracy:`);
    const html = renderHtml(result);
    expect(html).toContain(`<p>${escapeHtml(sentence)}</p>`);
    expect(html).not.toContain(`x<y>`);
    expect(html).not.toContain(`&'"z`);
  });

  it('an array pair record, a hand-edited record and no record', () => {
    const base = { config: { model: {} } } as unknown as EvaluationResult;
    const withData = (data: unknown) => ({ ...base, config: { ...base.config, data } }) as unknown as EvaluationResult;
    expect(
      describeDataInput(
        withData({
          format: 'npy',
          source: 'x.npy,y.npy',
          count: 1,
          sampleShape: [8, 8, 1],
          dtype: 'float32',
          sample: 'stratified',
          classIndex: 'label-index',
          resize: null,
          channelConversion: 'grey channel repeated to RGB',
          pixels: 'float32 values used as they are',
          skipped: 0,
        }),
      ),
    ).toBe(
      'Data: .npy pair x.npy,y.npy, 1 sample (stratified: classes in turn); labels are class indices; samples [8, 8, 1] float32; pixels float32 values used as they are; grey channel repeated to RGB.',
    );
    expect(describeDataInput(withData({ format: { evil: 1 }, count: '<2>', skipped: 2, skippedFiles: 'nope' }))).toBe(
      'Data: data, <2> samples; 2 files skipped as unreadable or damaged.',
    );
    expect(describeDataInput(base)).toBeUndefined();
    expect(describeDataInput(withData(null))).toBeUndefined();
  });
});

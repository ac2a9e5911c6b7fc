import { promises as fs } from 'node:fs';
import path from 'node:path';

import { renderMarkdown } from '../render-markdown.js';
import type { EvaluationResult } from '../types.js';
import { drawable, exampleImages } from './example-images.js';
import { renderHtml, type RenderHtmlOptions } from './render-html.js';

/**
 * The files {@link writeReport} wrote.
 *
 * @public
 */
export interface WrittenReport {
  /** `results.json`: the {@link EvaluationResult} (versioned schema). */
  readonly json: string;
  /** `report.md`. */
  readonly markdown: string;
  /** `report.html`: self-contained page with plot, tables, warnings and images. */
  readonly html: string;
  /** `images/*.png`: original, perturbation and adversarial of every example. */
  readonly images: readonly string[];
}

const slug = (s: string) => s.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '') || 'attack';

/**
 * Writes an evaluation's outputs into a folder (created when missing): `results.json`,
 * `report.md`, `report.html` and the example images as PNG files under `images/`
 * (`<attack>-<index>-original.png`, `-perturbation.png`, `-adversarial.png`).
 *
 * @param result - an evaluation result.
 * @param dir - output folder.
 * @param options - options of {@link renderHtml} (class names, title).
 * @returns the paths written.
 *
 * @example
 * ```ts
 * const files = await writeReport(await evaluate(options), 'report');
 * console.log(files.html); // report/report.html
 * ```
 * @public
 */
export async function writeReport(result: EvaluationResult, dir: string, options: RenderHtmlOptions = {}): Promise<WrittenReport> {
  await fs.mkdir(path.join(dir, 'images'), { recursive: true });
  const json = path.join(dir, 'results.json');
  const markdown = path.join(dir, 'report.md');
  const html = path.join(dir, 'report.html');
  await fs.writeFile(json, `${JSON.stringify(result, null, 1)}\n`);
  await fs.writeFile(markdown, renderMarkdown(result));
  await fs.writeFile(html, renderHtml(result, options));
  const images: string[] = [];
  for (const example of result.examples.filter((e) => drawable(e.shape))) {
    const png = exampleImages(example, result.config.model.bounds);
    const stem = path.join(dir, 'images', `${slug(example.attack)}-${example.index}`);
    for (const kind of ['original', 'perturbation', 'adversarial'] as const) {
      const file = `${stem}-${kind}.png`;
      await fs.writeFile(file, png[kind]);
      images.push(file);
    }
  }
  return { json, markdown, html, images };
}

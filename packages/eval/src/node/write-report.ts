import { promises as fs } from 'node:fs';
import path from 'node:path';

import { AdvxError } from '@advx/core';

import { exampleStem } from '../internal/report-data.js';
import { renderMarkdown } from '../render-markdown.js';
import type { EvaluationResult } from '../types.js';
import { drawable, exampleImages } from '../internal/example-images.js';
import { renderHtml, type RenderHtmlOptions } from '../render-html.js';

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

/**
 * Writes an evaluation's outputs into a folder (created when missing): `results.json`,
 * `report.md`, `report.html` and the example images as PNG files under `images/`
 * (`<attack>-eps<ε>-<index>-original.png`, `-perturbation.png`, `-adversarial.png`; `minimal` instead of
 * `eps<ε>` for the unrestricted adversarials of minimization attacks), which `report.md` links.
 * Each file is written under a temporary name and renamed, `images/` is rewritten (no PNG of an
 * earlier report stays), and `results.json` is written last.
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
  // images/ holds this report's PNGs only: it is rewritten, not merged with an earlier report's.
  await fs.rm(path.join(dir, 'images'), { recursive: true, force: true });
  await fs.mkdir(path.join(dir, 'images'), { recursive: true });
  const json = path.join(dir, 'results.json');
  const markdown = path.join(dir, 'report.md');
  const html = path.join(dir, 'report.html');
  const texts = [renderMarkdown(result), renderHtml(result, options), `${JSON.stringify(result, null, 1)}\n`] as const;
  const images: string[] = [];
  for (const example of result.examples.filter((e) => drawable(e.shape))) {
    const png = exampleImages(example, result.config.model.bounds);
    const name = exampleStem(example);
    // File names are derived from validated fields; a name that is not a plain file name is refused.
    if (!/^[A-Za-z0-9][A-Za-z0-9.+-]*$/.test(name) || name.includes('..')) {
      throw new AdvxError(
        'INVALID_OPTION',
        `writeReport: example ${JSON.stringify(name.slice(0, 60))} does not give a plain file name; the result is damaged.`,
      );
    }
    const stem = path.join(dir, 'images', name);
    for (const kind of ['original', 'perturbation', 'adversarial'] as const) {
      const file = `${stem}-${kind}.png`;
      await writeAtomically(file, png[kind]);
      images.push(file);
    }
  }
  await writeAtomically(markdown, texts[0]);
  await writeAtomically(html, texts[1]);
  // results.json last: once it is there, the whole report is on disk.
  await writeAtomically(json, texts[2]);
  return { json, markdown, html, images };
}

/** Writes `data` under a temporary name beside `file`, then renames it over `file`: never a half-written file. */
async function writeAtomically(file: string, data: string | Uint8Array): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    await fs.writeFile(tmp, data);
    await fs.rename(tmp, file);
  } catch (e) {
    await fs.rm(tmp, { force: true });
    throw e;
  }
}

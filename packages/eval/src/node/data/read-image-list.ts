import { promises as fs } from 'node:fs';
import path from 'node:path';

import { AdvxError } from '@advx/core';

import type { ImageEntry } from './image-source.js';
import { byCodePoint, mapClassNames } from './map-class-names.js';

/** Splits one CSV line (RFC 4180 quotes: `"a,b"`, `""` inside quotes). */
function splitCsvLine(line: string): string[] {
  const cells: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i] as string;
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      cells.push(cell);
      cell = '';
    } else cell += ch;
  }
  cells.push(cell);
  return cells.map((c) => c.trim());
}

interface Row {
  readonly path: string;
  readonly label: string;
  /** Where the row is, for messages (`list.csv line 3`). */
  readonly at: string;
}

function csvRows(text: string, file: string): Row[] {
  const lines = text.split(/\r?\n/);
  const rows: Row[] = [];
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    const cells = splitCsvLine(line);
    const at = `${path.basename(file)} line ${i + 1}`;
    if (cells.length !== 2 || cells[0] === '' || cells[1] === '')
      throw new AdvxError('INVALID_DATA', `${at}: expected 'path,label', got '${line.slice(0, 80)}'.`);
    rows.push({ path: cells[0] as string, label: cells[1] as string, at });
  });
  // A header row such as `path,label` or `file,class` is recognised by its first row only.
  if (rows.length > 0 && /^(path|file|filename|image)$/i.test((rows[0] as Row).path)) rows.shift();
  return rows;
}

function jsonRows(text: string, file: string): Row[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new AdvxError('INVALID_DATA', `${file} is not valid JSON: ${(e as Error).message}.`);
  }
  if (!Array.isArray(parsed)) throw new AdvxError('INVALID_DATA', `${file} must hold an array of { "path": …, "label": … } (or [path, label]) entries.`);
  return parsed.map((item: unknown, i) => {
    const at = `${path.basename(file)} entry ${i}`;
    const [p, l] = Array.isArray(item)
      ? item
      : item !== null && typeof item === 'object'
        ? [(item as Record<string, unknown>).path, (item as Record<string, unknown>).label]
        : [];
    if (typeof p !== 'string' || p === '' || (typeof l !== 'string' && typeof l !== 'number')) {
      throw new AdvxError('INVALID_DATA', `${at}: expected { "path": string, "label": class index or name }, got ${JSON.stringify(item)?.slice(0, 80)}.`);
    }
    return { path: p, label: String(l), at };
  });
}

/**
 * Reads a list of `path,label` rows from a CSV file (an optional header row `path,label`) or a JSON
 * array of `{ path, label }` / `[path, label]`, in file order. Paths are relative to the list's folder.
 * Labels are class indices when all are integers (each must be below `numClasses`), else class names
 * (sorted by code point; by name when all are model class names, else by position).
 *
 * @throws AdvxError `INVALID_DATA` for a malformed row, `LABEL_OUT_OF_RANGE` naming the row of a label
 * outside the model's classes.
 */
export async function readImageList(
  file: string,
  numClasses: number,
  modelClassNames: readonly string[] | undefined,
): Promise<{ entries: ImageEntry[]; classNames: readonly string[] | undefined; classIndex: string }> {
  const text = await fs.readFile(file, 'utf8');
  const rows = file.toLowerCase().endsWith('.json') ? jsonRows(text, file) : csvRows(text, file);
  if (rows.length === 0) throw new AdvxError('INVALID_DATA', `${file} lists no images.`);
  const base = path.dirname(file);
  const entry = (r: Row, label: number) => ({ file: path.resolve(base, r.path), name: r.path, label });
  if (rows.every((r) => /^\d+$/.test(r.label))) {
    const entries = rows.map((r) => {
      const label = Number(r.label);
      if (label >= numClasses) {
        throw new AdvxError(
          'LABEL_OUT_OF_RANGE',
          `${r.at}: label ${label} of ${r.path} is outside the model's ${numClasses} classes (0 … ${numClasses - 1}).`,
          { label, numClasses },
        );
      }
      return entry(r, label);
    });
    return { entries, classNames: modelClassNames, classIndex: 'label-index' };
  }
  const names = [...new Set(rows.map((r) => r.label))].sort(byCodePoint);
  const mapping = mapClassNames(names, numClasses, modelClassNames, 'label');
  return { entries: rows.map((r) => entry(r, mapping.index.get(r.label) as number)), classNames: mapping.classNames, classIndex: mapping.by };
}

import { promises as fs } from 'node:fs';

import { AdvxError } from '@advx/core';

/**
 * Reads class names from a labels file: a JSON array of strings, or plain text with one name per
 * line (blank lines and surrounding spaces dropped; Keras' and TF Hub's `labels.txt`).
 *
 * @param file - path of the labels file.
 * @returns the class names in file order.
 * @throws AdvxError `INVALID_OPTION` when the file cannot be read, is empty, holds a JSON value that
 * is not an array of strings, or names a class twice.
 *
 * @example
 * ```ts
 * const names = await readLabels('labels.txt'); // ['cat', 'dog']
 * ```
 */
export async function readLabels(file: string): Promise<string[]> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (e) {
    throw new AdvxError('INVALID_OPTION', `--labels: cannot read ${file}: ${(e as Error).message}`);
  }
  let names: unknown;
  const trimmed = text.trim();
  if (trimmed.startsWith('[')) {
    try {
      names = JSON.parse(trimmed);
    } catch (e) {
      throw new AdvxError('INVALID_OPTION', `--labels: ${file} starts with '[' but is not valid JSON: ${(e as Error).message}`);
    }
    if (!Array.isArray(names) || !names.every((n) => typeof n === 'string')) {
      throw new AdvxError('INVALID_OPTION', `--labels: ${file} must hold a JSON array of strings (e.g. ["cat", "dog"]) or one name per line.`);
    }
  } else {
    names = trimmed
      .split(/\r?\n/)
      .map((l) => l.trim())
      .filter((l) => l !== '');
  }
  const list = names as string[];
  if (list.length === 0) throw new AdvxError('INVALID_OPTION', `--labels: ${file} holds no class name; write one name per line.`);
  const seen = new Set<string>();
  for (const name of list) {
    if (seen.has(name)) throw new AdvxError('INVALID_OPTION', `--labels: ${file} names the class '${name}' twice; class names must be unique.`);
    seen.add(name);
  }
  return list;
}

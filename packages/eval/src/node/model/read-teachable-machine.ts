import { promises as fs } from 'node:fs';
import path from 'node:path';

import { AdvxError } from '@advx/core';

/** What advx reads from a Teachable Machine image export's `metadata.json`. */
export interface TeachableMachineMetadata {
  /** Class names, in the order of the model's outputs. */
  readonly labels: readonly string[];
  /** Side of the square input image (224 for TM's MobileNet), when the file says. */
  readonly imageSize: number | undefined;
  /** TM's version string, when the file says. */
  readonly tmVersion: string | undefined;
  /** The export's model name, when the file says. */
  readonly modelName: string | undefined;
}

/**
 * Whether `folder` holds a `metadata.json` that looks like a Teachable Machine export (it has a
 * `labels` array and a `tmVersion` or `imageSize`).
 *
 * @param folder - the folder of the model.json.
 * @returns the path of the metadata file, or `undefined`.
 *
 * @example
 * ```ts
 * const meta = await findTeachableMachineMetadata('my-tm-export');
 * ```
 */
export async function findTeachableMachineMetadata(folder: string): Promise<string | undefined> {
  const file = path.join(folder, 'metadata.json');
  let raw: unknown;
  try {
    raw = JSON.parse(await fs.readFile(file, 'utf8'));
  } catch {
    return undefined;
  }
  const m = raw as Record<string, unknown> | null;
  return m !== null && typeof m === 'object' && Array.isArray(m.labels) && ('tmVersion' in m || 'imageSize' in m) ? file : undefined;
}

/**
 * Reads and checks a Teachable Machine export's `metadata.json` (`labels`, `imageSize`, `tmVersion`,
 * `modelName`).
 *
 * @param file - path of `metadata.json`.
 * @returns the checked metadata.
 * @throws AdvxError `INVALID_MODEL` when the file cannot be read, `labels` is not a non-empty array of
 * unique strings, or `imageSize` is not a positive integer.
 *
 * @example
 * ```ts
 * const { labels, imageSize } = await readTeachableMachineMetadata('my-tm-export/metadata.json');
 * ```
 */
export async function readTeachableMachineMetadata(file: string): Promise<TeachableMachineMetadata> {
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(await fs.readFile(file, 'utf8')) as Record<string, unknown>;
  } catch (e) {
    throw new AdvxError('INVALID_MODEL', `cannot read the Teachable Machine metadata ${file}: ${(e as Error).message}`);
  }
  const labels = raw.labels;
  if (!Array.isArray(labels) || labels.length === 0 || !labels.every((l) => typeof l === 'string') || new Set(labels).size !== labels.length) {
    throw new AdvxError('INVALID_MODEL', `${file}: 'labels' must be a non-empty array of unique class names (Teachable Machine writes one per class).`);
  }
  const size = raw.imageSize;
  if (size !== undefined && (typeof size !== 'number' || !Number.isInteger(size) || size < 1)) {
    throw new AdvxError('INVALID_MODEL', `${file}: 'imageSize' must be a positive integer (e.g. 224), got ${JSON.stringify(size)}.`);
  }
  return {
    labels: labels as string[],
    imageSize: size as number | undefined,
    tmVersion: typeof raw.tmVersion === 'string' ? raw.tmVersion : undefined,
    modelName: typeof raw.modelName === 'string' ? raw.modelName : undefined,
  };
}

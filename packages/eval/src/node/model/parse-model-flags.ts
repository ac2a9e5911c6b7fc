import { AdvxError, type Bounds } from '@advx/core';

import { readLabels } from './read-labels.js';
import type { LoadUserModelOptions } from './types.js';

/**
 * The `advx eval` flags that say how inputs reach the model and what it outputs (strings as
 * commander gives them).
 *
 * @public
 */
export interface ModelFlags {
  /** `--bounds lo,hi`. */
  readonly bounds?: string;
  /** `--output logits|probabilities`. */
  readonly output?: string;
  /** `--output-node NAME`. */
  readonly outputNode?: string;
  /** `--input-size HxW`. */
  readonly inputSize?: string;
  /** `--channels 1|3`. */
  readonly channels?: string;
  /** `--mean m` or `--mean r,g,b`. */
  readonly mean?: string;
  /** `--std s` or `--std r,g,b`. */
  readonly std?: string;
  /** `--labels FILE`. */
  readonly labels?: string;
}

function numbers(flag: string, s: string, positive: boolean): number | number[] {
  const parts = s.split(',').map((p) => Number(p.trim()));
  if (parts.length === 0 || parts.some((v) => !Number.isFinite(v) || (positive && v <= 0))) {
    throw new AdvxError(
      'INVALID_OPTION',
      `${flag}: '${s}' is not ${positive ? 'a positive number' : 'a number'} or one per channel (e.g. ${flag} 0.5 or ${flag} 0.485,0.456,0.406).`,
    );
  }
  return parts.length === 1 ? (parts[0] as number) : parts;
}

/**
 * Checks and converts the model flags of `advx eval` into {@link LoadUserModelOptions} (reading
 * the `--labels` file), before any backend or model is touched.
 *
 * @param flags - the flags.
 * @returns the loader options.
 * @throws AdvxError `INVALID_OPTION` for a malformed flag, naming it and what to pass.
 *
 * @example
 * ```ts
 * const options = await parseModelFlags({ inputSize: '224x224', channels: '3', mean: '0.5', std: '0.5' });
 * ```
 * @public
 */
export async function parseModelFlags(flags: ModelFlags): Promise<LoadUserModelOptions> {
  let bounds: Bounds | undefined;
  if (flags.bounds !== undefined) {
    const [lo, hi] = flags.bounds.split(',').map(Number);
    if (flags.bounds.split(',').length !== 2 || !Number.isFinite(lo) || !Number.isFinite(hi) || (lo as number) >= (hi as number)) {
      throw new AdvxError('INVALID_OPTION', `--bounds: '${flags.bounds}' is not lo,hi with lo < hi (e.g. 0,1).`);
    }
    bounds = [lo as number, hi as number];
  }
  if (flags.output !== undefined && flags.output !== 'logits' && flags.output !== 'probabilities') {
    throw new AdvxError('INVALID_OPTION', `--output: '${flags.output}' is not logits or probabilities.`);
  }
  let inputSize: [number, number] | undefined;
  if (flags.inputSize !== undefined) {
    const m = /^(\d+)x(\d+)$/i.exec(flags.inputSize.trim());
    const h = Number(m?.[1]);
    const w = Number(m?.[2]);
    if (!m || h < 1 || w < 1)
      throw new AdvxError('INVALID_OPTION', `--input-size: '${flags.inputSize}' is not HxW with positive integers (e.g. --input-size 224x224).`);
    inputSize = [h, w];
  }
  if (flags.channels !== undefined && flags.channels !== '1' && flags.channels !== '3') {
    throw new AdvxError('INVALID_OPTION', `--channels: '${flags.channels}' is not 1 (grey) or 3 (RGB).`);
  }
  if ((flags.mean === undefined) !== (flags.std === undefined)) {
    throw new AdvxError(
      'INVALID_OPTION',
      `--mean and --std go together (normalization (x - mean) / std inside the model): pass both, e.g. --mean 0.5 --std 0.5.`,
    );
  }
  const normalize =
    flags.mean !== undefined && flags.std !== undefined ? { mean: numbers('--mean', flags.mean, false), std: numbers('--std', flags.std, true) } : undefined;
  const labels = flags.labels !== undefined ? await readLabels(flags.labels) : undefined;
  return {
    ...(bounds !== undefined ? { bounds } : {}),
    ...(flags.output !== undefined ? { output: flags.output } : {}),
    ...(flags.outputNode !== undefined ? { outputNode: flags.outputNode } : {}),
    ...(inputSize !== undefined ? { inputSize } : {}),
    ...(flags.channels !== undefined ? { channels: Number(flags.channels) as 1 | 3 } : {}),
    ...(normalize !== undefined ? { normalize } : {}),
    ...(labels !== undefined ? { labels } : {}),
  };
}

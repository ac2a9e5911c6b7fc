/**
 * Which kernel calls the advx implementations claim. Everything outside a claim goes to the stock
 * wasm kernel (where one exists) or fails with a clear message.
 *
 * @internal
 * @packageDocumentation
 */
import { backend_util } from '@tensorflow/tfjs-core';
import type { NamedAttrMap } from '@tensorflow/tfjs-core';

export interface ConvClaim {
  readonly convInfo: backend_util.Conv2DInfo;
}

/** Largest stride the rewrites claim (what the tests cover). */
export const MAX_CLAIMED_STRIDE = 4;

function pair(v: unknown, fallback: number): [number, number] | null {
  if (v === undefined || v === null) return [fallback, fallback];
  if (typeof v === 'number') return [v, v];
  if (Array.isArray(v) && v.length === 2 && typeof v[0] === 'number' && typeof v[1] === 'number') {
    return [v[0], v[1]];
  }
  return null;
}

function isClaimedPad(pad: unknown): boolean {
  if (pad === 'same' || pad === 'valid') return true;
  if (typeof pad === 'number') return Number.isInteger(pad) && pad >= 0;
  if (Array.isArray(pad) && pad.length === 4) {
    return pad.every(
      (p, i) =>
        Array.isArray(p) &&
        p.length === 2 &&
        p.every((v) => typeof v === 'number' && Number.isInteger(v) && v >= 0) &&
        ((i !== 0 && i !== 3) || (p[0] === 0 && p[1] === 0)),
    );
  }
  return false;
}

/**
 * The claim of the conv2d / depthwise gradient rewrites: NHWC, strides 1..{@link MAX_CLAIMED_STRIDE},
 * dilations 1, padding 'same',
 * 'valid', a non-negative number or explicit non-negative NHWC pairs, float32. Returns null when
 * not claimed.
 */
export function conv2dClaim(attrs: NamedAttrMap, xShape: readonly number[], filterShape: readonly number[], depthwise: boolean): ConvClaim | null {
  const dataFormat = attrs.dataFormat ?? 'NHWC';
  if (dataFormat !== 'NHWC' && dataFormat !== 'channelsLast') return null;
  if (xShape.length !== 4 || filterShape.length !== 4) return null;
  const strides = pair(attrs.strides, 1);
  const dilations = pair(attrs.dilations, 1);
  if (strides === null || dilations === null) return null;
  if (!strides.every((v) => Number.isInteger(v) && v >= 1 && v <= MAX_CLAIMED_STRIDE)) return null;
  // tfjs's own gradients refuse dilations > 1 (and the cpu reference kernels ignore them).
  if (!dilations.every((v) => v === 1)) return null;
  if (!isClaimedPad(attrs.pad)) return null;
  const dimRoundingMode = attrs.dimRoundingMode as 'floor' | 'round' | 'ceil' | undefined;
  const convInfo = backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    strides,
    dilations,
    attrs.pad as 'same' | 'valid' | number,
    dimRoundingMode,
    depthwise,
    'channelsLast',
  );
  return { convInfo };
}

/**
 * `DepthwiseConv2dNativeBackpropFilter` (missing in tfjs-backend-wasm 4.22), one filter tap at a
 * time: for every `(ky, kx)`, the strided window of the padded input that this tap sees is
 * multiplied by `dy` (broadcast over the channel multiplier) and summed over batch and space.
 * `fh·fw` slices, products and sums, each the size of `dy`, all stock wasm kernels.
 *
 * @internal
 * @packageDocumentation
 */
import type { NamedAttrMap, NamedTensorInfoMap, TensorInfo } from '@tensorflow/tfjs-core';
import { withScope, type WasmKernelBackend } from './compose.js';
import { conv2dClaim } from './claims.js';

export function depthwiseBackpropFilterFast(x: TensorInfo, dy: TensorInfo, attrs: NamedAttrMap, backend: WasmKernelBackend): TensorInfo | null {
  if (x.dtype !== 'float32' || dy.dtype !== 'float32') return null;
  const filterShape = attrs.filterShape as [number, number, number, number];
  const claim = conv2dClaim(attrs, x.shape, filterShape, true);
  if (claim === null) return null;
  const { convInfo } = claim;
  const { strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw } = convInfo;
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth } = convInfo;
  const [kh = 0, kw = 0, , mult = 1] = filterShape;
  return withScope(backend, (s) => {
    // Pad (or crop) x so that every tap's window lies inside: rows top .. (kh-1)*dh + (oh-1)*sh.
    const top = convInfo.padInfo.top;
    const left = convInfo.padInfo.left;
    const bottom = (kh - 1) * dh + (outHeight - 1) * sh + 1 - inHeight - top;
    const right = (kw - 1) * dw + (outWidth - 1) * sw + 1 - inWidth - left;
    let xp = x;
    if (top > 0 || bottom > 0 || left > 0 || right > 0) {
      xp = s.run(
        'PadV2',
        { x },
        {
          paddings: [
            [0, 0],
            [Math.max(0, top), Math.max(0, bottom)],
            [Math.max(0, left), Math.max(0, right)],
            [0, 0],
          ],
          constantValue: 0,
        },
      );
    }
    // A negative top/left pad means the windows start inside x.
    const offY = Math.max(0, -top);
    const offX = Math.max(0, -left);
    const dyM = mult === 1 ? dy : s.run('Reshape', { x: dy }, { shape: [batchSize, outHeight, outWidth, inChannels, mult] });
    const taps: TensorInfo[] = [];
    for (let ky = 0; ky < kh; ky++) {
      for (let kx = 0; kx < kw; kx++) {
        const y0 = offY + ky * dh;
        const x0 = offX + kx * dw;
        let win = s.run(
          'StridedSlice',
          { x: xp },
          {
            begin: [0, y0, x0, 0],
            end: [batchSize, y0 + (outHeight - 1) * sh + 1, x0 + (outWidth - 1) * sw + 1, inChannels],
            strides: [1, sh, sw, 1],
            beginMask: 0,
            endMask: 0,
            ellipsisMask: 0,
            newAxisMask: 0,
            shrinkAxisMask: 0,
          },
        );
        if (mult !== 1) {
          win = s.run('Reshape', { x: win }, { shape: [batchSize, outHeight, outWidth, inChannels, 1] });
        }
        const prod = s.run('Multiply', { a: win, b: dyM });
        taps.push(s.run('Sum', { x: prod }, { axis: [0, 1, 2], keepDims: false }));
      }
    }
    const stacked = taps.length === 1 ? (taps[0] as TensorInfo) : s.run('Concat', taps as unknown as NamedTensorInfoMap, { axis: 0 });
    return s.run('Reshape', { x: stacked }, { shape: [kh, kw, inChannels, mult] });
  });
}

/**
 * `Conv2DBackpropInput` (input gradient of conv2d) as forward XNNPACK `Conv2D`s.
 *
 * Stride 1: `dx = conv2d(pad(dy), reverse_hw(filter) with in/out channels swapped)`.
 * Strides above 1, by phases (sub-pixel decomposition): the rows `y ≡ p (mod stride)` of dx only meet
 * the filter taps `k ≡ p + padTop (mod stride)`, so each of the `sh · sw` phases is one stride-1
 * conv2d of dy with that sub-filter (reversed, channels swapped), and the phases are interleaved
 * into dx. This does the forward convolution's arithmetic; zero-inserting dy (the fallback, used
 * when the backend does not expose its heap) multiplies `sh · sw` times as many zeros (4× the work
 * at stride 2). The stock wasm kernel is a scalar reference loop (≈ 9× slower on the MNIST CNN).
 *
 * @internal
 * @packageDocumentation
 */
import type { NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';
import { cropNegativePads, explicitPad, withScope, zeroInsert, type Scope, type WasmKernelBackend } from './compose.js';
import { conv2dClaim } from './claims.js';
import { isHeapBackend, type WasmHeapBackend } from './heap.js';

const STRIDE_1_CONV = { strides: [1, 1], dataFormat: 'NHWC', dilations: [1, 1], dimRoundingMode: undefined };

/** One axis of a phase: first tap, number of taps, padding before and after, output length. */
interface PhaseAxis {
  readonly tap0: number;
  readonly taps: number;
  readonly before: number;
  readonly after: number;
  readonly length: number;
}

/** Phase `p` of one axis with filter size `f`, stride `st`, padding `pad` before, dy length `out`, dx length `inLen`. */
function phaseAxis(p: number, f: number, st: number, pad: number, out: number, inLen: number): PhaseAxis {
  const tap0 = (((p + pad) % st) + st) % st;
  const taps = tap0 < f ? Math.ceil((f - tap0) / st) : 0;
  const c = (p + pad - tap0) / st;
  const length = p < inLen ? Math.ceil((inLen - p) / st) : 0;
  const before = taps - 1 - c;
  return { tap0, taps, before, after: length + taps - 1 - before - out, length };
}

/**
 * The taps `tap0y + sy·j`, `tap0x + sx·i` of `filter` `[fh, fw, Cin, Cout]`, reversed in space and with
 * in/out channels swapped (`[Jh, Jw, Cout, Cin]`), in one loop over the wasm heap: the stock `Reverse`
 * and `Transpose` kernels index every element (≈ 0.1 s per call for a 3×3×512×512 filter).
 */
function flippedSwapped(
  s: Scope,
  filter: TensorInfo,
  backend: WasmHeapBackend,
  axes: { tap0y: number; sy: number; taps: number; tap0x: number; sx: number; tapsX: number },
): TensorInfo {
  const [, fw = 0, cin = 0, cout = 0] = filter.shape;
  const { tap0y, sy, taps, tap0x, sx, tapsX } = axes;
  const out = s.adopt(backend.makeOutput([taps, tapsX, cout, cin], 'float32'));
  const dst = backend.typedArrayFromHeap(out) as Float32Array;
  const src = backend.typedArrayFromHeap(filter) as Float32Array;
  for (let j = 0; j < taps; j++) {
    const ky = tap0y + sy * (taps - 1 - j);
    for (let i = 0; i < tapsX; i++) {
      const kx = tap0x + sx * (tapsX - 1 - i);
      const from = (ky * fw + kx) * cin * cout;
      const to = (j * tapsX + i) * cout * cin;
      // A [cin, cout] → [cout, cin] transpose in 32×32 tiles (column-wise writes 2 KB apart at
      // 512 channels missed the cache: 0.2 s per 3×3×512×512 filter untiled).
      for (let c0 = 0; c0 < cin; c0 += 32) {
        const c1 = Math.min(cin, c0 + 32);
        for (let o0 = 0; o0 < cout; o0 += 32) {
          const o1 = Math.min(cout, o0 + 32);
          for (let ci = c0; ci < c1; ci++) {
            const row = from + ci * cout;
            for (let co = o0; co < o1; co++) dst[to + co * cin + ci] = src[row + co]!;
          }
        }
      }
    }
  }
  return out;
}

/** dx by phases (see the file comment), written into a new wasm tensor. */
function byPhases(
  s: Scope,
  dy: TensorInfo,
  filter: TensorInfo,
  info: {
    fh: number;
    fw: number;
    sh: number;
    sw: number;
    padTop: number;
    padLeft: number;
    inHeight: number;
    inWidth: number;
    outHeight: number;
    outWidth: number;
  },
  backend: WasmHeapBackend,
): TensorInfo {
  const { fh, fw, sh, sw, inHeight, inWidth } = info;
  const [n = 0] = dy.shape;
  const cin = filter.shape[2]!;
  const phases: { py: number; px: number; out: TensorInfo }[] = [];
  for (let py = 0; py < sh; py++) {
    const ay = phaseAxis(py, fh, sh, info.padTop, info.outHeight, inHeight);
    for (let px = 0; px < sw; px++) {
      const ax = phaseAxis(px, fw, sw, info.padLeft, info.outWidth, inWidth);
      if (ay.taps === 0 || ax.taps === 0 || ay.length === 0 || ax.length === 0) continue;
      const swapped = flippedSwapped(s, filter, backend, { tap0y: ay.tap0, sy: sh, taps: ay.taps, tap0x: ax.tap0, sx: sw, tapsX: ax.taps });
      const p = cropNegativePads(s, dy, { top: ay.before, bottom: ay.after, left: ax.before, right: ax.after });
      const conv = s.run('Conv2D', { x: p.x, filter: swapped }, {
        ...STRIDE_1_CONV,
        pad: explicitPad(p.top, p.bottom, p.left, p.right),
      } as unknown as NamedAttrMap);
      phases.push({ py, px, out: conv });
    }
  }
  const dx = backend.makeOutput([n, inHeight, inWidth, cin], 'float32');
  // Views after every allocation: growing the wasm memory detaches older ones.
  const dst = backend.typedArrayFromHeap(dx) as Float32Array;
  dst.fill(0);
  for (const { py, px, out } of phases) {
    const src = backend.typedArrayFromHeap(out) as Float32Array;
    const [, hp = 0, wp = 0] = out.shape;
    let at = 0;
    for (let b = 0; b < n; b++) {
      for (let y = 0; y < hp; y++) {
        let to = ((b * inHeight + py + sh * y) * inWidth + px) * cin;
        for (let x = 0; x < wp; x++, at += cin, to += sw * cin) {
          if (cin >= 16) dst.set(src.subarray(at, at + cin), to);
          else for (let k = 0; k < cin; k++) dst[to + k] = src[at + k]!;
        }
      }
    }
  }
  return dx;
}

export function conv2DBackpropInputFast(dy: TensorInfo, filter: TensorInfo, attrs: NamedAttrMap, backend: WasmKernelBackend): TensorInfo | null {
  if (dy.dtype !== 'float32' || filter.dtype !== 'float32') return null;
  const inputShape = attrs.inputShape as [number, number, number, number];
  const claim = conv2dClaim(attrs, inputShape, filter.shape, false);
  if (claim === null) return null;
  const { convInfo } = claim;
  const { filterHeight: fh, filterWidth: fw, strideHeight: sh, strideWidth: sw } = convInfo;
  const { inHeight, inWidth, outHeight, outWidth } = convInfo;
  if ((sh > 1 || sw > 1) && isHeapBackend(backend)) {
    const heap = backend;
    const padTop = convInfo.padInfo.top;
    const padLeft = convInfo.padInfo.left;
    return withScope(backend, (s) => byPhases(s, dy, filter, { fh, fw, sh, sw, padTop, padLeft, inHeight, inWidth, outHeight, outWidth }, heap));
  }
  return withScope(backend, (s) => {
    const dyUp = zeroInsert(s, dy, sh, sw);
    // Rows of the zero-inserted dy are oh*sh (the last sh-1 are zeros); the full correlation needs
    // (oh-1)*sh+1 rows padded by fh-1-padTop on top and whatever makes the output inHeight tall.
    const top = fh - 1 - convInfo.padInfo.top;
    const left = fw - 1 - convInfo.padInfo.left;
    const bottom = inHeight + fh - 1 - top - outHeight * sh;
    const right = inWidth + fw - 1 - left - outWidth * sw;
    const p = cropNegativePads(s, dyUp, { top, bottom, left, right });
    const swapped = isHeapBackend(backend)
      ? flippedSwapped(s, filter, backend, { tap0y: 0, sy: 1, taps: fh, tap0x: 0, sx: 1, tapsX: fw })
      : s.run('Transpose', { x: s.run('Reverse', { x: filter }, { dims: [0, 1] }) }, { perm: [0, 1, 3, 2] });
    return s.run('Conv2D', { x: p.x, filter: swapped }, {
      strides: [1, 1],
      pad: explicitPad(p.top, p.bottom, p.left, p.right),
      dataFormat: 'NHWC',
      dilations: [1, 1],
      dimRoundingMode: undefined,
    } as unknown as NamedAttrMap);
  });
}

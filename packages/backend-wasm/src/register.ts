/**
 * Registration of the advx wasm kernels in tfjs's global kernel registry.
 *
 * @packageDocumentation
 */
import { getKernel, registerKernel, unregisterKernel } from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';
import { batchMatMulFast } from './kernels/batch-mat-mul.js';
import type { WasmKernelBackend } from './kernels/compose.js';
import { conv2DBackpropFilterFast } from './kernels/conv2d-backprop-filter.js';
import { conv2DBackpropInputFast } from './kernels/conv2d-backprop-input.js';
import { depthwiseBackpropFilterFast } from './kernels/depthwise-backprop-filter.js';
import { depthwiseBackpropInputFast } from './kernels/depthwise-backprop-input.js';
import { maxPoolGradFast } from './kernels/max-pool-grad.js';
import { castToBoolFixed } from './kernels/cast-to-bool.js';
import { clipByValueFixed } from './kernels/clip-by-value.js';
import { log1pFixed } from './kernels/log1p.js';
import { maximumFixed } from './kernels/maximum.js';
import { minimumFixed } from './kernels/minimum.js';
import { relu6Fixed } from './kernels/relu6.js';
import { seluFixed } from './kernels/selu.js';
import { sigmoidFixed } from './kernels/sigmoid.js';
import { signFixed } from './kernels/sign.js';
import { tileFast } from './kernels/tile.js';
import { compareScalarFast } from './kernels/compare-scalar.js';
import { gatherBatchFixed } from './kernels/gather-batch.js';
import { LINF_PROJECT, LINF_STEP, linfProjectFused, linfStepFused } from './kernels/linf-step.js';
import { oneHotFixed } from './kernels/one-hot.js';

/**
 * One kernel that {@link registerWasmKernels} registers for the `wasm` backend.
 *
 * @example
 * ```ts
 * import { wasmKernelOverrides } from '@advx/backend-wasm';
 * for (const k of wasmKernelOverrides) console.log(`${k.kernelName}: ${k.claims}`);
 * ```
 * @public
 */
export interface WasmKernelOverride {
  /** tfjs kernel name, e.g. `'Conv2DBackpropInput'`. */
  readonly kernelName: string;
  /**
   * `'faster'`: replaces a slow stock wasm kernel; `'missing'`: tfjs-backend-wasm 4.22 has none;
   * `'fixed'`: replaces a stock wasm kernel that computes wrong results.
   */
  readonly kind: 'faster' | 'missing' | 'fixed';
  /** The configurations the advx implementation handles, in words. */
  readonly claims: string;
  /** What happens outside the claims. */
  readonly otherwise: string;
}

const CONV_CLAIMS =
  "float32, NHWC, strides 1–4 (per axis, may differ), padding 'same', 'valid', a non-negative number " +
  '(with any dimRoundingMode) or explicit non-negative pairs, any filter size, batch and channel counts';

/** `'fixed'` entries for float32 element-wise kernels computed as loops over the wasm heap. */
function elementwiseFixed(entries: readonly (readonly [string, string])[]): WasmKernelOverride[] {
  return entries.map(([kernelName, semantics]) => ({
    kernelName,
    kind: 'fixed' as const,
    claims:
      `float32 input${kernelName === 'Maximum' || kernelName === 'Minimum' ? 's' : ''}, any shape: the cpu backend's ` +
      `semantics exactly (float64 arithmetic in JavaScript, stored as float32), as a loop over the wasm heap: ${semantics}.`,
    otherwise: 'the stock wasm kernel (e.g. int32 input)',
  }));
}

/**
 * The kernels {@link registerWasmKernels} registers for the `wasm` backend, with what each covers.
 *
 * @example
 * ```ts
 * import { wasmKernelOverrides } from '@advx/backend-wasm';
 * console.table(wasmKernelOverrides.map((k) => ({ kernel: k.kernelName, kind: k.kind })));
 * ```
 * @public
 */
export const wasmKernelOverrides: readonly WasmKernelOverride[] = Object.freeze([
  {
    kernelName: 'Conv2DBackpropInput',
    kind: 'faster',
    claims:
      `${CONV_CLAIMS}. Stride 1: one XNNPACK Conv2D of the padded dy with the reversed, in/out-swapped filter; larger ` +
      'strides: one such stride-1 Conv2D per phase (the sub-filter of the taps that reach those rows and columns), ' +
      'interleaved into dx (the forward arithmetic; zero-inserting dy did 4× that at stride 2).',
    otherwise: 'the stock wasm kernel (e.g. NCHW, strides above 4, int32)',
  },
  {
    kernelName: 'Conv2DBackpropFilter',
    kind: 'missing',
    claims: `${CONV_CLAIMS}. One XNNPACK Conv2D of x as [C_in, H, W, N] with dy as the [oh, ow, N, C_out] filter, dilation = stride.`,
    otherwise: 'throws an Error naming the unsupported attribute (there is no stock kernel)',
  },
  {
    kernelName: 'DepthwiseConv2dNativeBackpropInput',
    kind: 'missing',
    claims:
      `${CONV_CLAIMS}, channel multiplier ≥ 1, dilations 1. ` +
      'One XNNPACK depthwise conv of the zero-inserted, padded dy with the reversed filter, then a sum over the multiplier.',
    otherwise: 'throws an Error naming the unsupported attribute (there is no stock kernel)',
  },
  {
    kernelName: 'DepthwiseConv2dNativeBackpropFilter',
    kind: 'missing',
    claims:
      `${CONV_CLAIMS}, channel multiplier ≥ 1, dilations 1. ` + 'Per filter tap: strided slice of the padded x, multiply by dy, sum over batch and space.',
    otherwise: 'throws an Error naming the unsupported attribute (there is no stock kernel)',
  },
  {
    kernelName: 'BatchMatMul',
    kind: 'faster',
    claims:
      'float32, a single b matrix (b of rank 2, or all its batch dimensions 1) with transposeA and/or transposeB, or a ' +
      'batch of several a matrices: the transposed operand is materialised and the batch folded into the rows, so ' +
      "the stock kernel's XNNPACK path runs instead of its scalar loop (the two matmuls of every dense-layer gradient).",
    otherwise: 'the stock wasm kernel (already XNNPACK without transposes at batch 1; scalar loop for batched b)',
  },
  {
    kernelName: 'MaxPoolGrad',
    kind: 'fixed',
    claims:
      "float32, NHWC, any filter size and strides, padding 'same', 'valid', a number (with any dimRoundingMode) or " +
      "explicit pairs, dilations 1, any batch and channel counts: the cpu backend's semantics exactly (arg-max from " +
      '−∞, the first maximum in row-major window order takes the gradient). A loop over the wasm heap; the stock ' +
      'kernel starts its maximum at 0 (wrong gradients in all-negative windows) and breaks ties differently.',
    otherwise: 'the stock wasm kernel (e.g. int32 input, dilations above 1)',
  },
  ...elementwiseFixed([
    [
      'Sign',
      '−1 for x < 0, 1 for x > 0, 0 for ±0 and NaN; the stock kernel returns 0 for every |x| below about 1.2e-7 (FGSM, BIM and PGD-Linf steps left pixels with small gradients unmoved)',
    ],
    ['Log1p', 'Math.log1p; the stock kernel returns 0 for |x| up to about 1e-8'],
    [
      'Sigmoid',
      '1 / (1 + exp(−x)); the stock kernel flushes results below 1.18e-38 (x ≤ −87.4) to 0, so log(sigmoid(x)) is −∞ and the Sigmoid and Softplus gradients vanish there',
    ],
    [
      'ClipByValue',
      'NaN stays NaN, as on cpu; the stock kernel maps NaN to the lower bound and is exact otherwise, so it still runs (SIMD) when a stock Sum of the input is not NaN',
    ],
    [
      'Relu6',
      'min(max(0, x), 6), NaN stays NaN; the stock kernel maps NaN to 0 and is exact otherwise, so it still runs (SIMD) when a stock Sum of the input is not NaN',
    ],
    ['Selu', 'scale·x, or scale·alpha·(exp(x) − 1) below 0; the stock kernel is 0 for x in −1e-8 … −1e-12 and up to 19 % off near −1e-7'],
    ['Maximum', 'Math.max with broadcasting: NaN in either operand gives NaN; the stock kernel returns the first operand when the second is NaN'],
    ['Minimum', 'Math.min with broadcasting: NaN in either operand gives NaN; the stock kernel returns the first operand when the second is NaN'],
  ]),
  {
    kernelName: 'Cast',
    kind: 'fixed',
    claims:
      "casts of float32 or int32 to bool, the cpu backend's semantics exactly (x !== 0: non-zero values and NaN are " +
      'true). A loop over the wasm heap; the stock kernel copies the values into a uint8 array, so 0.5, 1e-7 and NaN ' +
      'become false and 256 wraps to false.',
    otherwise: 'the stock wasm kernel (every other cast; those agree with cpu)',
  },
  {
    kernelName: 'Tile',
    kind: 'faster',
    claims:
      'float32, int32 or bool input of any rank and any repetitions: block copies over the wasm heap (the first ' +
      'repetition of each axis, then copyWithin), bitwise equal to cpu. The stock kernel indexes every element with ' +
      "a division per axis: 1.4 s of a ResNet-18 input gradient at 224×224 (batch norm's gradient tiles its scale).",
    otherwise: 'the stock wasm kernel (other dtypes)',
  },
  {
    kernelName: 'OneHot',
    kind: 'fixed',
    claims:
      "float32 and bool outputs: the cpu backend's semantics exactly (offValue everywhere, onValue at indices in " +
      '[0, depth)). A loop over the wasm heap; the stock kernel writes int32 values into any output, so a float32 ' +
      'one-hot holds 1.4e-45 (the bits of the integer 1) instead of 1.',
    otherwise: 'the stock wasm kernel (int32 output, which it computes correctly)',
  },
  {
    kernelName: 'GatherV2',
    kind: 'fixed',
    claims:
      "batchDims ≥ 1, float32, int32 or bool x, int32 indices: the cpu backend's semantics exactly (slice " +
      'x[b, o, indices[b, j], :] to out[b, o, j, :]; out-of-range indices throw the stock message). A loop over the ' +
      'wasm heap; the stock kernel does not offset the indices by batch and reads wrong rows when the axis lies past ' +
      'the batch axes.',
    otherwise: 'the stock wasm kernel (batchDims 0)',
  },
  {
    kernelName: LINF_PROJECT,
    kind: 'missing',
    claims:
      "@advx/core's fused Linf projection (linfProject, ctx.project of Linf attacks): float32 x and origin of one " +
      'shape, one loop over the wasm heap instead of four element-wise kernels, the float32 arithmetic of the ' +
      'composition step by step (bit for bit the cpu backend’s composed result).',
    otherwise: 'throws an Error naming the unsupported input (linfProject composes tfjs ops for other inputs and never calls it then)',
  },
  {
    kernelName: LINF_STEP,
    kind: 'missing',
    claims:
      "@advx/core's fused signed-gradient step P(x′ + α·sign(g)) (linfSignStep: FGSM, BIM, PGD, MI-FGSM and APGD in " +
      'Linf): float32 x, grad and origin of one shape [n, ...] and a float32 step size per row, one loop over the ' +
      'wasm heap instead of seven element-wise kernels, bit for bit the cpu backend’s composed result.',
    otherwise: 'throws an Error naming the unsupported input (linfSignStep composes tfjs ops for other inputs and never calls it then)',
  },
  ...(['Less', 'LessEqual', 'Greater', 'GreaterEqual'] as const).map((kernelName) => ({
    kernelName,
    kind: 'faster' as const,
    claims:
      'a float32 tensor of any shape against a float32 scalar (either operand, of no higher rank than the other): a ' +
      "loop over the wasm heap, the cpu backend's results exactly (NaN compares false). The stock kernel's broadcast " +
      "loop took 0.74 s of a MobileNetV2 input gradient at 224×224 (ReLU6's gradient compares x with 6).",
    otherwise: 'the stock wasm kernel (two non-scalar operands, int32)',
  })),
]);

type FastImpl = (
  inputs: Readonly<Record<string, TensorInfo>>,
  attrs: NamedAttrMap,
  backend: WasmKernelBackend,
  stock: KernelConfig | null,
) => TensorInfo | null;

function need(inputs: Readonly<Record<string, TensorInfo>>, name: string): TensorInfo {
  const t = inputs[name];
  if (t === undefined) throw new Error(`@advx/backend-wasm: missing kernel input '${name}'`);
  return t;
}

const IMPLS: Readonly<Record<string, FastImpl>> = {
  Conv2DBackpropInput: (i, a, b) => conv2DBackpropInputFast(need(i, 'dy'), need(i, 'filter'), a, b),
  Conv2DBackpropFilter: (i, a, b) => conv2DBackpropFilterFast(need(i, 'x'), need(i, 'dy'), a, b),
  DepthwiseConv2dNativeBackpropInput: (i, a, b) => depthwiseBackpropInputFast(need(i, 'dy'), need(i, 'filter'), a, b),
  DepthwiseConv2dNativeBackpropFilter: (i, a, b) => depthwiseBackpropFilterFast(need(i, 'x'), need(i, 'dy'), a, b),
  BatchMatMul: (i, a, b, stock) => batchMatMulFast(need(i, 'a'), need(i, 'b'), a, b, stock),
  MaxPoolGrad: (i, a, b) => maxPoolGradFast(need(i, 'dy'), need(i, 'input'), a, b),
  Sign: (i, _a, b) => signFixed(need(i, 'x'), b),
  Log1p: (i, _a, b) => log1pFixed(need(i, 'x'), b),
  Sigmoid: (i, _a, b) => sigmoidFixed(need(i, 'x'), b),
  ClipByValue: (i, a, b) => clipByValueFixed(need(i, 'x'), a, b),
  Relu6: (i, _a, b) => relu6Fixed(need(i, 'x'), b),
  Selu: (i, _a, b) => seluFixed(need(i, 'x'), b),
  Maximum: (i, _a, b) => maximumFixed(need(i, 'a'), need(i, 'b'), b),
  Minimum: (i, _a, b) => minimumFixed(need(i, 'a'), need(i, 'b'), b),
  Cast: (i, a, b) => castToBoolFixed(need(i, 'x'), a, b),
  Tile: (i, a, b) => tileFast(need(i, 'x'), a, b),
  OneHot: (i, a, b) => oneHotFixed(need(i, 'indices'), a, b),
  GatherV2: (i, a, b) => gatherBatchFixed(need(i, 'x'), need(i, 'indices'), a, b),
  [LINF_PROJECT]: (i, a, b) => linfProjectFused(need(i, 'x'), need(i, 'origin'), a, b),
  [LINF_STEP]: (i, a, b) => linfStepFused(need(i, 'x'), need(i, 'grad'), need(i, 'origin'), need(i, 'stepSize'), a, b),
  Less: (i, _a, b) => compareScalarFast('Less', need(i, 'a'), need(i, 'b'), b),
  LessEqual: (i, _a, b) => compareScalarFast('LessEqual', need(i, 'a'), need(i, 'b'), b),
  Greater: (i, _a, b) => compareScalarFast('Greater', need(i, 'a'), need(i, 'b'), b),
  GreaterEqual: (i, _a, b) => compareScalarFast('GreaterEqual', need(i, 'a'), need(i, 'b'), b),
};

/** Marks kernel functions made here, so that a second copy of this package sees them too. */
const MARK = Symbol.for('@advx/backend-wasm/kernel');
/** Stock configs replaced here (null: there was none), to restore them. */
const replaced = new Map<string, KernelConfig | null>();

function isOurs(config: KernelConfig | undefined): boolean {
  return config !== undefined && (config.kernelFunc as unknown as Record<symbol, unknown>)[MARK] === true;
}

function describeAttrs(attrs: NamedAttrMap): string {
  const keys = ['filterSize', 'strides', 'pad', 'dilations', 'dataFormat', 'dimRoundingMode'];
  return keys
    .filter((k) => attrs[k] !== undefined)
    .map((k) => `${k}=${JSON.stringify(attrs[k])}`)
    .join(', ');
}

function makeKernelFunc(override: WasmKernelOverride, impl: FastImpl, stock: KernelConfig | null): KernelFunc {
  const kernelFunc: KernelFunc = (args) => {
    const attrs = args.attrs ?? {};
    const inputs = args.inputs as unknown as Readonly<Record<string, TensorInfo>>;
    const out = impl(inputs, attrs, args.backend as WasmKernelBackend, stock);
    if (out !== null) return out;
    if (stock !== null) return stock.kernelFunc(args);
    throw new Error(
      `@advx/backend-wasm: ${override.kernelName} is not available on the wasm backend for ` +
        `${describeAttrs(attrs)} (input dtypes ${Object.values(inputs)
          .map((t) => t.dtype)
          .join(', ')}). ` +
        `Supported: ${override.claims} Run this computation on the cpu backend instead.`,
    );
  };
  Object.defineProperty(kernelFunc, MARK, { value: true });
  return kernelFunc;
}

/**
 * Registers the advx kernels for the `wasm` backend in tfjs's global kernel registry (see
 * {@link wasmKernelOverrides}). Faster kernels keep the stock wasm kernel as their fallback for
 * configurations outside their claims. Idempotent; call it before or after the backend is
 * initialised. {@link useWasm} calls it for you.
 *
 * @returns the names of the kernels registered by this call (empty when all were already there).
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import '@tensorflow/tfjs-backend-wasm';
 * import { registerWasmKernels } from '@advx/backend-wasm';
 * registerWasmKernels();
 * await tf.setBackend('wasm');
 * ```
 * @public
 */
export function registerWasmKernels(): readonly string[] {
  const added: string[] = [];
  for (const override of wasmKernelOverrides) {
    const name = override.kernelName;
    const impl = IMPLS[name];
    if (impl === undefined) continue;
    const existing = getKernel(name, 'wasm') as KernelConfig | undefined;
    if (isOurs(existing)) continue;
    const stock = existing ?? null;
    if (stock !== null) unregisterKernel(name, 'wasm');
    const config: KernelConfig = { kernelName: name, backendName: 'wasm', kernelFunc: makeKernelFunc(override, impl, stock) };
    // The stock kernel's set-up (it binds the wasm function) must still run when the backend
    // initialises after this registration: the fallback calls it.
    if (stock?.setupFunc !== undefined) config.setupFunc = stock.setupFunc;
    if (stock?.disposeFunc !== undefined) config.disposeFunc = stock.disposeFunc;
    registerKernel(config);
    replaced.set(name, stock);
    added.push(name);
  }
  return added;
}

/**
 * Undoes {@link registerWasmKernels} of this copy of the package: restores the stock wasm kernels
 * and removes the ones tfjs-backend-wasm lacks. Meant for benchmarks and tests that compare with
 * the stock backend.
 *
 * @returns the names of the kernels restored or removed.
 * @example
 * ```ts
 * import { registerWasmKernels, unregisterWasmKernels } from '@advx/backend-wasm';
 * registerWasmKernels();
 * // ... timed run with the advx kernels ...
 * unregisterWasmKernels();
 * // ... timed run with the stock kernels ...
 * ```
 * @public
 */
export function unregisterWasmKernels(): readonly string[] {
  const restored: string[] = [];
  for (const [name, stock] of replaced) {
    if (isOurs(getKernel(name, 'wasm') as KernelConfig | undefined)) unregisterKernel(name, 'wasm');
    if (stock !== null) registerKernel(stock);
    restored.push(name);
  }
  replaced.clear();
  return restored;
}

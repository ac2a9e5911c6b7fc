/**
 * `useWebGPU()`: one call that makes the tfjs WebGPU backend work in browsers and in Node (Dawn).
 *
 * @packageDocumentation
 */
import * as tf from '@tensorflow/tfjs-core';
import { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { AdvxError } from './errors.js';

/**
 * Options of {@link useWebGPU}.
 *
 * @example
 * ```ts
 * const options: UseWebGPUOptions = { powerPreference: 'low-power', dawnOptions: ['backend=vulkan'] };
 * await useWebGPU(options);
 * ```
 * @public
 */
export interface UseWebGPUOptions {
  /** Passed to `navigator.gpu.requestAdapter()`. Default `'high-performance'` (tfjs's default). */
  readonly powerPreference?: 'low-power' | 'high-performance';
  /**
   * Node only: Dawn options for the `webgpu` package's `create()`, e.g. `['backend=vulkan']` or
   * `['adapter=llvmpipe']`. Default `[]`. Ignored in browsers and once a GPU object exists.
   */
  readonly dawnOptions?: readonly string[];
}

/**
 * What {@link useWebGPU} set up.
 *
 * @example
 * ```ts
 * const info = await useWebGPU();
 * console.log(`${info.backend} on ${info.adapter} (${info.runtime})`); // webgpu on llvmpipe: Mesa 25… (node)
 * ```
 * @public
 */
export interface WebGPUBackendInfo {
  /** Always `'webgpu'`: the active tfjs backend after the call. */
  readonly backend: 'webgpu';
  /** Where the GPU object came from: the browser's `navigator.gpu`, or Dawn in Node. */
  readonly runtime: 'browser' | 'node';
  /**
   * The adapter as the WebGPU implementation describes it (`GPUAdapterInfo`: description, else
   * vendor and architecture), e.g. `'llvmpipe: Mesa 25.0.7-2~bpo12+1 (LLVM 15.0.6)'`; `''` when the
   * implementation tells nothing.
   */
  readonly adapter: string;
}

/** The part of `GPUAdapterInfo` read here. */
interface AdapterInfoLike {
  readonly description?: string;
  readonly vendor?: string;
  readonly architecture?: string;
  readonly device?: string;
}

/** The part of `GPUAdapter` read here. */
interface AdapterLike {
  readonly info?: AdapterInfoLike;
  readonly features: { has(name: string): boolean };
  readonly limits: Readonly<Record<string, number>>;
  requestDevice(descriptor: { requiredFeatures: string[]; requiredLimits: Record<string, number> }): Promise<unknown>;
}

/** The part of `GPU` (`navigator.gpu`) used here. */
interface GpuLike {
  requestAdapter(options?: { powerPreference?: string }): Promise<AdapterLike | null>;
}

/** The `webgpu` npm package's exports. */
interface DawnModule {
  create(options: string[]): GpuLike;
  globals: object;
}

/** The device limits tfjs-backend-webgpu 4.22 asks for (the adapter's own values). */
const REQUIRED_LIMITS = [
  'maxComputeWorkgroupStorageSize',
  'maxComputeWorkgroupsPerDimension',
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxComputeWorkgroupSizeX',
  'maxComputeInvocationsPerWorkgroup',
] as const;

function isNode(): boolean {
  const p = (globalThis as { process?: { versions?: { node?: string } } }).process;
  return typeof p?.versions?.node === 'string';
}

function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function currentGpu(): GpuLike | undefined {
  return (globalThis as { navigator?: { gpu?: GpuLike } }).navigator?.gpu;
}

/** What to do when there is no adapter, for the platform at hand. */
function noAdapterAdvice(node: boolean): string {
  if (!node) {
    return (
      'In Chromium, WebGPU needs a secure context (https or localhost) and, on Linux or headless, the flag ' + '--enable-unsafe-webgpu; check chrome://gpu.'
    );
  }
  const icd = process.env.VK_ICD_FILENAMES ?? process.env.VK_DRIVER_FILES;
  return (
    'Dawn needs a Vulkan driver. Without a GPU, install Mesa lavapipe from Debian bookworm-backports (Mesa 25; ' +
    "Debian 12's own mesa-vulkan-drivers 22.3.6 is rejected by Dawn): run " +
    'packages/backend-webgpu/scripts/install-lavapipe.sh (needs apt packages libvulkan1 and libllvm15) and export ' +
    'VK_ICD_FILENAMES=<the lvp_icd.json it prints>. ' +
    (icd !== undefined ? `VK_ICD_FILENAMES is now ${JSON.stringify(icd)}: check that the file and its library_path exist.` : 'VK_ICD_FILENAMES is not set.')
  );
}

/**
 * Imports a module only Node has (builtins, the `webgpu` package). The specifier is a variable, so
 * that browser bundlers (esbuild, Vite, webpack) leave the import alone instead of failing on it.
 */
function nodeImport<T>(specifier: string): Promise<T> {
  return import(/* webpackIgnore: true */ /* @vite-ignore */ specifier) as Promise<T>;
}

/** Creates `navigator.gpu` from Dawn (the `webgpu` package) in Node, with the WebGPU globals. */
async function createNodeGpu(dawnOptions: readonly string[]): Promise<GpuLike> {
  const os = await nodeImport<typeof import('node:os')>('node:os');
  const fs = await nodeImport<typeof import('node:fs')>('node:fs');
  const path = await nodeImport<typeof import('node:path')>('node:path');
  if (process.env.XDG_RUNTIME_DIR === undefined || process.env.XDG_RUNTIME_DIR === '') {
    // Dawn warns "XDG_RUNTIME_DIR is invalid" without one; any private writable folder does.
    const dir = path.join(os.tmpdir(), `advx-xdg-${os.userInfo().uid}`);
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    process.env.XDG_RUNTIME_DIR = dir;
  }
  let dawn: DawnModule;
  try {
    dawn = await nodeImport<DawnModule>('webgpu');
  } catch (e) {
    throw new AdvxError(
      'BACKEND_UNAVAILABLE',
      `useWebGPU: WebGPU in Node needs the "webgpu" package (Dawn bindings): npm install webgpu@^0.6.2 (${errorMessage(e)}).`,
    );
  }
  Object.assign(globalThis, dawn.globals);
  const gpu = dawn.create([...dawnOptions]);
  const g = globalThis as { navigator?: { gpu?: GpuLike } };
  if (g.navigator === undefined) {
    Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
  } else {
    Object.defineProperty(g.navigator, 'gpu', { value: gpu, configurable: true, writable: true });
  }
  return gpu;
}

/** The description of the adapter the backend was created on by {@link useWebGPU}, if it was. */
let activeAdapter: string | undefined;

function describeAdapter(info: AdapterInfoLike | undefined): string {
  if (info === undefined) return '';
  if (info.description !== undefined && info.description !== '') return info.description;
  return [info.vendor, info.architecture, info.device].filter((s) => s !== undefined && s !== '').join(' ');
}

/**
 * Makes the tfjs WebGPU backend (`@tensorflow/tfjs-backend-webgpu`) the active backend, in
 * browsers through `navigator.gpu` and in Node through Dawn (the `webgpu` npm package).
 *
 * tfjs-backend-webgpu registers itself at import only if `navigator.gpu` already exists, and with
 * `tf.env().set('PROD', true)` a failed initialisation only makes `setBackend` return `false`.
 * `useWebGPU` does it in the right order whatever was imported first: in Node it creates the GPU
 * with `create(dawnOptions)`, installs the WebGPU globals (`GPUBufferUsage`, ...) and
 * `navigator.gpu`, sets `XDG_RUNTIME_DIR` to a private temp folder when unset (Dawn warns
 * otherwise); it then asks for an adapter itself, so that "no adapter" is a clear error, registers
 * the backend when the import did not, and selects it.
 *
 * In Node, Dawn runs on Vulkan: on a machine without a GPU, Mesa's lavapipe from Debian
 * bookworm-backports works (the package's `scripts/install-lavapipe.sh`, then `VK_ICD_FILENAMES`);
 * Debian 12's own Mesa 22 is rejected by Dawn. Read GPU tensors with `await t.data()`:
 * `dataSync()` throws in Node (tfjs needs `OffscreenCanvas` for it).
 *
 * @throws AdvxError `BACKEND_UNAVAILABLE` when WebGPU is missing (no `navigator.gpu` in a browser,
 *   no `webgpu` package in Node), when no adapter is found (the message says which Vulkan driver to
 *   install, or which browser flag to set), or when the backend cannot be initialised; the
 *   previously active backend then stays active. `INVALID_OPTION` for a bad `powerPreference`.
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { useWebGPU } from '@advx/backend-webgpu';
 *
 * const info = await useWebGPU(); // { backend: 'webgpu', runtime: 'node', adapter: 'llvmpipe: Mesa 25…' }
 * const y = tf.square(tf.tensor1d([1, 2, 3]));
 * console.log(await y.data()); // Float32Array [1, 4, 9] — not dataSync() in Node
 * ```
 * @public
 */
export async function useWebGPU(options: UseWebGPUOptions = {}): Promise<WebGPUBackendInfo> {
  const { powerPreference = 'high-performance', dawnOptions = [] } = options;
  if (powerPreference !== 'high-performance' && powerPreference !== 'low-power') {
    throw new AdvxError('INVALID_OPTION', `useWebGPU: powerPreference must be 'high-performance' or 'low-power', got ${JSON.stringify(powerPreference)}.`, {
      powerPreference,
    });
  }
  if (!Array.isArray(dawnOptions) || !dawnOptions.every((o) => typeof o === 'string')) {
    throw new AdvxError('INVALID_OPTION', 'useWebGPU: dawnOptions must be an array of strings such as "backend=vulkan".', {
      dawnOptions,
    });
  }
  const node = isNode() && typeof (globalThis as { window?: unknown }).window === 'undefined';
  const runtime = node ? 'node' : 'browser';
  const engine = tf.engine();
  if (engine.registry.webgpu !== undefined) {
    await tf.setBackend('webgpu');
    return { backend: 'webgpu', runtime, adapter: activeAdapter ?? '' };
  }
  let gpu = currentGpu();
  if (gpu === undefined) {
    if (!node) {
      throw new AdvxError(
        'BACKEND_UNAVAILABLE',
        'useWebGPU: this browser has no WebGPU (navigator.gpu is undefined). Use a browser with WebGPU ' +
          '(Chrome/Edge ≥ 113, or Chromium with --enable-unsafe-webgpu) in a secure context, or another backend.',
      );
    }
    gpu = await createNodeGpu(dawnOptions);
  }
  let adapter: AdapterLike | null;
  try {
    adapter = await gpu.requestAdapter({ powerPreference });
  } catch (e) {
    throw new AdvxError('BACKEND_UNAVAILABLE', `useWebGPU: requestAdapter failed: ${errorMessage(e)}. ${noAdapterAdvice(node)}`);
  }
  if (adapter === null) {
    throw new AdvxError('BACKEND_UNAVAILABLE', `useWebGPU: no WebGPU adapter was found. ${noAdapterAdvice(node)}`);
  }
  const found = adapter;
  if (tf.findBackendFactory('webgpu') === null) {
    // The backend module was imported before navigator.gpu existed: register it as it would have.
    tf.registerBackend(
      'webgpu',
      async () => {
        const requiredFeatures = found.features.has('timestamp-query') ? ['timestamp-query'] : [];
        const requiredLimits: Record<string, number> = {};
        for (const name of REQUIRED_LIMITS) {
          const v = found.limits[name];
          if (v !== undefined) requiredLimits[name] = v;
        }
        const device = await found.requestDevice({ requiredFeatures, requiredLimits });
        return new WebGPUBackend(device as ConstructorParameters<typeof WebGPUBackend>[0], found.info as ConstructorParameters<typeof WebGPUBackend>[1]);
      },
      3,
    );
  }
  const previous = engine.backendName as string | null;
  let ok: boolean;
  let reason = '';
  try {
    ok = await tf.setBackend('webgpu');
  } catch (e) {
    ok = false;
    reason = errorMessage(e);
  }
  if (!ok) {
    if (previous !== null && previous !== 'webgpu' && engine.registry[previous] !== undefined) {
      await tf.setBackend(previous);
    }
    throw new AdvxError(
      'BACKEND_UNAVAILABLE',
      `useWebGPU: the tfjs WebGPU backend could not be initialised on ${describeAdapter(found.info) || 'the adapter'}` +
        (reason !== '' ? `: ${reason}` : '') +
        ". With tf.env().set('PROD', true) tfjs hides the original error; unset it to see tfjs's warning.",
    );
  }
  activeAdapter = describeAdapter(found.info);
  return { backend: 'webgpu', runtime, adapter: activeAdapter };
}

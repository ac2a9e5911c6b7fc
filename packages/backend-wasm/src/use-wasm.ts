/**
 * `useWasm()`: one call that makes the tfjs wasm backend work in Node and in bundlers.
 *
 * @packageDocumentation
 */
import * as tf from '@tensorflow/tfjs-core';
import { nodeWasmFolder, prepareNodeThreads, type RestoreFn } from '#platform';
import { AdvxError } from './errors.js';
import { registerWasmKernels, wasmKernelOverrides } from './register.js';
import { unrefWorkers } from './unref-workers.js';

/**
 * Options of {@link useWasm}.
 *
 * @example
 * ```ts
 * const options: UseWasmOptions = { kernels: true, wasmPaths: '/static/tfjs-wasm/' };
 * await useWasm(options);
 * ```
 * @public
 */
export interface UseWasmOptions {
  /**
   * Where the `.wasm` binaries are: a folder (path in Node, URL prefix ending in `/` in browsers)
   * or a map from each binary's file name to its location, as tfjs's `setWasmPaths` takes.
   * Default: in Node, the `dist/` folder of the installed `@tensorflow/tfjs-backend-wasm`; in
   * browsers, tfjs's own default (next to the script), which bundlers usually need overridden.
   */
  readonly wasmPaths?: string | Readonly<Record<string, string>>;
  /**
   * XNNPACK threads, 1–{@link MAX_WASM_THREADS}. Default: 1 in Node; tfjs's default in browsers.
   *
   * - Node: `threads > 1` loads tfjs-backend-wasm's threaded SIMD binary, which the stock package
   *   never does in Node (see the README: the pthread worker script is written to the OS temp
   *   folder, the workers are unref'd so Node can exit). Exactly `threads` threads are used, the
   *   calling thread included — tfjs's own cap of half the logical cores is lifted.
   * - Browsers: passed to tfjs's `setThreadsCount`; takes effect only with cross-origin isolation
   *   (`SharedArrayBuffer`), capped by tfjs at half the logical cores.
   *
   * {@link WasmBackendInfo.threads} says what was used. Ignored when the wasm backend was already
   * initialised.
   */
  readonly threads?: number;
  /** Register the advx kernels ({@link registerWasmKernels}). Default `true`. */
  readonly kernels?: boolean;
}

/**
 * What {@link useWasm} set up.
 *
 * @example
 * ```ts
 * const info = await useWasm();
 * console.log(`wasm: simd=${info.simd}, threads=${info.threads}, kernels=${info.kernels.join(',')}`);
 * ```
 * @public
 */
export interface WasmBackendInfo {
  /** Always `'wasm'`: the active tfjs backend after the call. */
  readonly backend: 'wasm';
  /** Whether the SIMD binary was loaded. */
  readonly simd: boolean;
  /** XNNPACK threads the backend uses. */
  readonly threads: number;
  /** The advx kernels registered for wasm (all of {@link wasmKernelOverrides}, or none). */
  readonly kernels: readonly string[];
}

/**
 * Largest `threads` {@link useWasm} accepts (Emscripten pre-starts 8 pthread workers).
 *
 * @example
 * ```ts
 * import os from 'node:os';
 * await useWasm({ threads: Math.min(os.cpus().length, MAX_WASM_THREADS) });
 * ```
 * @public
 */
export const MAX_WASM_THREADS = 8;

/** How long a threaded initialisation may take before {@link useWasm} gives up. */
const THREADED_INIT_TIMEOUT_MS = 60_000;

function isNode(): boolean {
  const p = (globalThis as { process?: { versions?: { node?: string } } }).process;
  return typeof p?.versions?.node === 'string';
}

function errorMessage(e: unknown): string {
  if (e instanceof Error) return e.message;
  if (typeof e === 'object' && e !== null && 'message' in e) return String((e as { message: unknown }).message);
  return String(e);
}

/**
 * Makes the tfjs wasm backend (XNNPACK, SIMD) the active backend and registers the advx kernels
 * that tfjs-backend-wasm 4.22 lacks or runs slowly for adversarial workloads (see
 * {@link wasmKernelOverrides}): the input and filter gradients of conv2d and of depthwise conv2d,
 * so that attacks on conv nets run fast and conv nets can be trained on wasm.
 *
 * In Node the `.wasm` binaries are loaded from the installed `@tensorflow/tfjs-backend-wasm`, no
 * bundler or server needed. Options that only matter at initialisation (`wasmPaths`, `threads`)
 * are ignored when the wasm backend was already initialised.
 *
 * @throws AdvxError `BACKEND_UNAVAILABLE` when the backend cannot be initialised (binary not
 *   found, WebAssembly unavailable), with tfjs's reason; the previously active backend stays
 *   active. tfjs-backend-wasm cannot retry in the same process after a failed initialisation.
 *   `INVALID_OPTION` for a bad `threads`.
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { useWasm } from '@advx/backend-wasm';
 *
 * const info = await useWasm();
 * // tf.getBackend() === 'wasm'; gradients of conv nets now run through XNNPACK
 * const filter = tf.ones([3, 3, 1, 8]) as tf.Tensor4D;
 * const g = tf.grad((x: tf.Tensor) => tf.sum(tf.conv2d(x as tf.Tensor4D, filter, 1, 'same')));
 * const dx = g(tf.zeros([1, 28, 28, 1]));
 * ```
 * @public
 */
export async function useWasm(options: UseWasmOptions = {}): Promise<WasmBackendInfo> {
  const { threads, wasmPaths, kernels = true } = options;
  if (threads !== undefined && !(Number.isInteger(threads) && threads >= 1 && threads <= MAX_WASM_THREADS)) {
    throw new AdvxError('INVALID_OPTION', `useWasm: threads must be an integer from 1 to ${MAX_WASM_THREADS}, got ${String(threads)}.`, { threads });
  }
  // Imported here, not at the top: importing tfjs-backend-wasm registers the stock wasm backend with
  // tfjs, at a higher priority than cpu, which would make importing this package change tfjs's
  // default backend (to wasm without the advx kernels).
  let wasmBackend: typeof import('@tensorflow/tfjs-backend-wasm');
  try {
    wasmBackend = await import('@tensorflow/tfjs-backend-wasm');
  } catch (e) {
    throw new AdvxError(
      'BACKEND_UNAVAILABLE',
      `useWasm: cannot import @tensorflow/tfjs-backend-wasm (install it next to @advx/backend-wasm, version 4.22): ${errorMessage(e)}`,
    );
  }
  const { getThreadsCount, setThreadsCount, setWasmPaths } = wasmBackend;
  const registered = kernels ? (registerWasmKernels(), wasmKernelOverrides.map((k) => k.kernelName)) : [];
  const engine = tf.engine();
  const initialised = engine.registry.wasm !== undefined;
  if (!initialised) {
    try {
      if (wasmPaths !== undefined) setWasmPaths(wasmPaths as string | Record<string, string>);
      else if (isNode()) setWasmPaths(await nodeWasmFolder());
    } catch (e) {
      throw new AdvxError('BACKEND_UNAVAILABLE', `useWasm: cannot locate the tfjs wasm binaries: ${errorMessage(e)}`);
    }
  }
  let restore: RestoreFn | undefined;
  if (!initialised && threads !== undefined) {
    if (isNode() && threads > 1) {
      try {
        restore = await prepareNodeThreads(threads, (name, value) => tf.env().set(name, value));
      } catch (e) {
        throw new AdvxError('BACKEND_UNAVAILABLE', `useWasm: cannot set up ${threads} wasm threads in Node: ${errorMessage(e)}`);
      }
    }
    setThreadsCount(threads);
  }
  const previous = engine.backendName as string | null;
  let ok: boolean;
  let reason = '';
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const init = tf.setBackend('wasm');
    ok =
      restore === undefined
        ? await init
        : await Promise.race([
            init,
            new Promise<boolean>((_, reject) => {
              timer = setTimeout(
                () => reject(new Error(`the ${String(threads)} pthread workers did not start within ${THREADED_INIT_TIMEOUT_MS / 1000} s`)),
                THREADED_INIT_TIMEOUT_MS,
              );
            }),
          ]);
  } catch (e) {
    ok = false;
    reason = errorMessage(e);
  } finally {
    if (timer !== undefined) clearTimeout(timer);
    restore?.();
  }
  if (ok && restore !== undefined) {
    unrefWorkers((engine.registry.wasm as unknown as { wasm?: unknown } | undefined)?.wasm);
  }
  if (!ok) {
    // tfjs leaves 'wasm' selected without an instance: go back to the backend that was active.
    if (previous !== null && previous !== 'wasm' && engine.registry[previous] !== undefined) {
      await tf.setBackend(previous);
    }
    throw new AdvxError(
      'BACKEND_UNAVAILABLE',
      'useWasm: the tfjs wasm backend could not be initialised' +
        (reason !== '' ? `: ${reason}` : '') +
        '. Check that @tensorflow/tfjs-backend-wasm 4.22 is installed and that its .wasm files are reachable ' +
        "(pass useWasm({ wasmPaths }) when a bundler moved them); with tf.env().set('PROD', true) tfjs hides " +
        "the original error, unset it to see tfjs's warning.",
    );
  }
  const simd = (await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')) === true;
  return { backend: 'wasm', simd, threads: getThreadsCount(), kernels: registered };
}

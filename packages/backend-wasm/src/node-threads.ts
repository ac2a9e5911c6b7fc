/**
 * Multi-threaded tfjs-backend-wasm in Node.
 *
 * tfjs-backend-wasm 4.22 hard-codes `WASM_HAS_MULTITHREAD_SUPPORT` to false in Node, and forcing
 * it is not enough: the Emscripten pthread worker script is handed over as a `blob:` URL, which
 * Node's `worker_threads` refuse (`ERR_WORKER_PATH`), and each worker then receives the main
 * script as a `Blob` it cannot `importScripts`. Here the worker script is written to a file (with
 * a two-line prologue that maps the main-script `Blob` to the installed
 * `wasm-out/tfjs-backend-wasm-threaded-simd.js`), `URL.createObjectURL` hands that file to
 * Emscripten while the backend initialises, and XNNPACK's "half the logical cores" cap is lifted
 * for that moment by reporting `2 × threads` cores. The pthread workers are unref'd afterwards so
 * that Node can exit.
 *
 * Node only: reached through the `#platform` import (see package.json `imports`), never by bundlers
 * for browsers.
 *
 * @internal
 * @packageDocumentation
 */

/** Undoes the temporary patches; call once the backend finished initialising (or failed). */
export type RestoreFn = () => void;

/**
 * Prepares the next wasm backend initialisation to load the threaded SIMD binary with `threads`
 * XNNPACK threads. Returns the function that restores the patched globals.
 */
export async function prepareNodeThreads(threads: number, setFlag: (name: string, value: boolean) => void): Promise<RestoreFn> {
  const [{ createRequire }, path, fs, os, crypto] = await Promise.all([
    import('node:module'),
    import('node:path'),
    import('node:fs'),
    import('node:os'),
    import('node:crypto'),
  ]);
  if (typeof SharedArrayBuffer === 'undefined') {
    throw new Error('this Node has no SharedArrayBuffer (needed for wasm threads)');
  }
  const require = createRequire(import.meta.url);
  const root = path.dirname(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm')));
  const mainScript = path.join(root, 'wasm-out', 'tfjs-backend-wasm-threaded-simd.js');
  const workerModule = path.join(root, 'wasm-out', 'tfjs-backend-wasm-threaded-simd.worker.js');
  const { wasmWorkerContents } = require(workerModule) as { wasmWorkerContents?: unknown };
  if (typeof wasmWorkerContents !== 'string' || !fs.existsSync(mainScript)) {
    throw new Error(`unexpected tfjs-backend-wasm layout under ${root}`);
  }
  // Same escaping as tfjs applies before making its Blob: the template literal turned the "\n"
  // escapes inside string literals into real newlines.
  const source = `URL.createObjectURL=()=>${JSON.stringify(mainScript)};URL.revokeObjectURL=()=>{};\n` + wasmWorkerContents.replace(/\n/g, '\\n');
  const hash = crypto.createHash('sha256').update(source).digest('hex').slice(0, 16);
  const workerFile = path.join(os.tmpdir(), `advx-tfjs-wasm-${hash}.worker.cjs`);
  if (!fs.existsSync(workerFile)) {
    const tmp = `${workerFile}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, source);
    fs.renameSync(tmp, workerFile);
  }

  const originalCreateObjectURL = URL.createObjectURL.bind(URL);
  URL.createObjectURL = (obj: Blob | MediaSource): string =>
    obj instanceof Blob && obj.type === 'application/javascript' ? workerFile : originalCreateObjectURL(obj);

  const osModule = os.default as { cpus: typeof os.cpus };
  const originalCpus = osModule.cpus;
  osModule.cpus = () => {
    const cpus = originalCpus.call(osModule);
    const first = cpus[0];
    const out = [...cpus];
    while (first !== undefined && out.length < 2 * threads) out.push(first);
    return out.slice(0, Math.max(1, 2 * threads));
  };

  setFlag('WASM_HAS_MULTITHREAD_SUPPORT', true);
  return () => {
    URL.createObjectURL = originalCreateObjectURL;
    osModule.cpus = originalCpus;
  };
}

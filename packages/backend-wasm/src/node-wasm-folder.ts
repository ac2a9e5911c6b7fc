/**
 * Where the installed tfjs-backend-wasm keeps its `.wasm` binaries, in Node.
 *
 * Node only: reached through the `#platform` import (see package.json `imports`), never by bundlers
 * for browsers.
 *
 * @internal
 * @packageDocumentation
 */

/** The folder holding the installed tfjs-backend-wasm's `.wasm` binaries, with a trailing separator. */
export async function nodeWasmFolder(): Promise<string> {
  const [{ createRequire }, path] = await Promise.all([import('node:module'), import('node:path')]);
  const require = createRequire(import.meta.url);
  const main = require.resolve('@tensorflow/tfjs-backend-wasm');
  return path.dirname(main) + path.sep;
}

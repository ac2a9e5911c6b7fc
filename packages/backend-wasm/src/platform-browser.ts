/**
 * The side of `#platform` (package.json `imports`) that bundlers for browsers get: no Node
 * built-ins. `useWasm` calls these only when it runs in Node, which a browser bundle does only
 * when it is run there by mistake; they then say so.
 *
 * @internal
 * @packageDocumentation
 */

/** Undoes the temporary patches; call once the backend finished initialising (or failed). */
export type RestoreFn = () => void;

const WRONG_BUILD =
  'this is the browser build of @advx/backend-wasm (resolved without the `node` export condition), running in Node; ' +
  "import the package unbundled in Node, or bundle for Node (esbuild --platform=node, Vite's ssr build)";

/** Node only: refuses, with the way out (`useWasm({ wasmPaths })` works in any build). */
export function nodeWasmFolder(): Promise<string> {
  return Promise.reject(new Error(`${WRONG_BUILD}, or pass useWasm({ wasmPaths })`));
}

/** Node only: refuses, with the way out. */
export function prepareNodeThreads(threads: number, _setFlag: (name: string, value: boolean) => void): Promise<RestoreFn> {
  return Promise.reject(new Error(`${WRONG_BUILD} to use ${threads} wasm threads there`));
}

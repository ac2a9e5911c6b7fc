/**
 * The Node side of `#platform` (package.json `imports`, `node` condition): finds the installed
 * `.wasm` binaries and sets up wasm threads with Node's built-ins.
 *
 * @internal
 * @packageDocumentation
 */
export { nodeWasmFolder } from './node-wasm-folder.js';
export { prepareNodeThreads, type RestoreFn } from './node-threads.js';

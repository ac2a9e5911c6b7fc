/**
 * Unref'ing the pthread workers of a threaded tfjs-backend-wasm in Node.
 *
 * @internal
 * @packageDocumentation
 */

interface NodeWorkerLike {
  unref?: () => void;
}

interface PThreadLike {
  runningWorkers?: NodeWorkerLike[];
  unusedWorkers?: NodeWorkerLike[];
}

/** Lets Node exit while XNNPACK's pthread workers are alive. */
export function unrefWorkers(wasmModule: unknown): void {
  const pthread = (wasmModule as { PThread?: PThreadLike } | null)?.PThread;
  for (const w of [...(pthread?.runningWorkers ?? []), ...(pthread?.unusedWorkers ?? [])]) w.unref?.();
}

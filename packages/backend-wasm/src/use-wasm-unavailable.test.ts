import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it, vi } from 'vitest';
import { useWasm } from './index.js';

// Its own file: a failed initialisation leaves the wasm backend unusable in this process.
describe('useWasm when the binaries cannot be loaded', () => {
  it('throws BACKEND_UNAVAILABLE even with PROD set (setBackend only returns false)', async () => {
    tf.env().set('PROD', true);
    // Emscripten reports the missing file on the console before tfjs rejects.
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const errorLog = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const error = await useWasm({ wasmPaths: '/nonexistent/advx-wasm/' }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ name: 'AdvxError', code: 'BACKEND_UNAVAILABLE' });
    expect(String((error as Error).message)).toMatch(/could not be initialised.*wasmPaths/);
    expect(tf.getBackend()).toBe('cpu');
    warn.mockRestore();
    errorLog.mockRestore();
  });
});

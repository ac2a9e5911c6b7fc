import { promises as fs } from 'node:fs';
import path from 'node:path';

import { AdvxError } from '@advx/core';

import { checkStateRecord } from '../internal/check-records.js';
import type { StateStore } from '../types.js';

/**
 * The store of {@link fileStateStore}.
 *
 * @public
 */
export interface FileStateStore extends StateStore {
  /** Deletes the state file (nothing happens when there is none). */
  remove(): Promise<void>;
}

/**
 * A {@link StateStore} in a JSON file, written atomically (a temporary file renamed over the old
 * one) after every completed chunk, so that an interrupted evaluation (Ctrl-C, a crash, a killed
 * job) continues where it stopped when run again with the same store.
 *
 * @param file - path of the state file (its folder is created when missing).
 * @returns the store; `remove()` deletes the file (after a completed run).
 *
 * @example
 * ```ts
 * import { evaluate } from '@advx/eval';
 * import { fileStateStore } from '@advx/eval/node';
 *
 * const state = fileStateStore('report/state.json');
 * const result = await evaluate({ ...options, state }); // rerun after an interruption to resume
 * await state.remove();
 * ```
 * @public
 */
export function fileStateStore(file: string): FileStateStore {
  return {
    async load() {
      let text: string;
      try {
        text = await fs.readFile(file, 'utf8');
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw new AdvxError('INVALID_OPTION', `cannot read the state file ${file}: ${(e as Error).message}`);
      }
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        throw new AdvxError('INVALID_OPTION', `the state file ${file} is not valid JSON; delete it to start afresh.`);
      }
      return checkStateRecord(parsed, `the state file ${file}`);
    },
    async save(state) {
      await fs.mkdir(path.dirname(file), { recursive: true });
      const tmp = `${file}.${process.pid}.tmp`;
      await fs.writeFile(tmp, JSON.stringify(state));
      await fs.rename(tmp, file);
    },
    async remove() {
      await fs.rm(file, { force: true });
    },
  };
}

import { promises as fs } from 'node:fs';
import path from 'node:path';

import { AdvxError } from '@advx/core';

/**
 * The output folder of a command, ready to be written: {@link prepareOutFolder}'s result.
 *
 * @public
 */
export interface PreparedOutFolder {
  /** The folder as given. */
  readonly dir: string;
  /** Whether {@link prepareOutFolder} created it (it did not exist before). */
  readonly created: boolean;
}

/** The deepest existing ancestor of `dir` (or `dir` itself) that is not a folder, if any. */
async function fileInTheWay(dir: string): Promise<string | undefined> {
  let at = path.resolve(dir);
  for (;;) {
    const stat = await fs.stat(at).catch(() => undefined);
    if (stat !== undefined) return stat.isDirectory() ? undefined : at;
    const parent = path.dirname(at);
    if (parent === at) return undefined;
    at = parent;
  }
}

/** `abs` as the user wrote it relative to `dir` (the part of `dir` naming it), else `abs`. */
function asGiven(dir: string, abs: string): string {
  const rel = path.relative(path.resolve(dir), abs);
  const ups = rel === '' ? 0 : rel.split(path.sep).length;
  let given = dir;
  for (let i = 0; i < ups; i++) given = path.dirname(given);
  return path.resolve(given) === abs ? given : abs;
}

/**
 * Creates the output folder of a command (`--out`) before any work, or refuses it with one
 * typed line that says what was wrong and what to do: a path through a file
 * (`--out a/file.txt/x: a/file.txt is a file, not a folder: choose another --out`), an existing
 * file, or a folder that cannot be created (no permission, read-only file system).
 *
 * @param dir - the folder (`--out`).
 * @param flag - the flag named in messages (default `--out`).
 * @returns the folder and whether it was created.
 * @throws AdvxError `INVALID_OPTION` when the folder cannot be used.
 *
 * @example
 * ```ts
 * const out = await prepareOutFolder('advx-report');
 * ```
 * @public
 */
export async function prepareOutFolder(dir: string, flag = '--out'): Promise<PreparedOutFolder> {
  if (typeof dir !== 'string' || dir.trim() === '') throw new AdvxError('INVALID_OPTION', `${flag}: give a folder name, e.g. ${flag} advx-report.`);
  const blocking = await fileInTheWay(dir);
  if (blocking !== undefined) {
    const name = asGiven(dir, blocking);
    const what = name === dir ? `${flag} ${dir} is a file, not a folder` : `${flag} ${dir}: ${name} is a file, not a folder`;
    throw new AdvxError('INVALID_OPTION', `${what}: choose another ${flag}.`, { out: dir, file: name });
  }
  const existed = await fs.stat(dir).then(
    () => true,
    () => false,
  );
  try {
    await fs.mkdir(dir, { recursive: true });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why =
      code === 'EACCES' || code === 'EPERM'
        ? 'permission denied'
        : code === 'EROFS'
          ? 'read-only file system'
          : ((e as Error).message.split('\n')[0] ?? String(code));
    throw new AdvxError('INVALID_OPTION', `${flag} ${dir} cannot be created (${why}): choose a folder you can write to.`, { out: dir, code: code ?? null });
  }
  try {
    await fs.access(dir, fs.constants.W_OK);
  } catch {
    throw new AdvxError('INVALID_OPTION', `${flag} ${dir} is not writable (permission denied): choose a folder you can write to.`, { out: dir });
  }
  return { dir, created: !existed };
}

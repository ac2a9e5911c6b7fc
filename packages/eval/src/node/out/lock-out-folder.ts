import { randomUUID } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { AdvxError } from '@advx/core';

/** Name of the lock file inside an output folder. */
export const LOCK_FILE = '.advx.lock';

/**
 * The content of an output folder's lock file.
 *
 * @public
 */
export interface OutLockRecord {
  /** Process id of the holder. */
  readonly pid: number;
  /** Host name of the holder's machine. */
  readonly host: string;
  /** When the holder took the lock (ISO 8601). */
  readonly started: string;
  /** The command that holds it, e.g. `advx eval`. */
  readonly command: string;
  /** A random token of this holding: release removes the lock only while it is still this one. */
  readonly token: string;
}

/**
 * A held lock of {@link lockOutFolder}.
 *
 * @public
 */
export interface OutLock {
  /** The lock file. */
  readonly file: string;
  /** Set when a stale lock (of a process that no longer runs) was taken over: its record. */
  readonly tookOver: OutLockRecord | undefined;
  /** Removes the lock file if it is still this holding's (idempotent). */
  release(): Promise<void>;
}

function parseRecord(text: string): OutLockRecord | undefined {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (v === null || typeof v !== 'object') return undefined;
  const r = v as Record<string, unknown>;
  if (!Number.isInteger(r.pid) || (r.pid as number) < 1 || typeof r.host !== 'string' || typeof r.started !== 'string') return undefined;
  return {
    pid: r.pid as number,
    host: r.host,
    started: r.started,
    command: typeof r.command === 'string' ? r.command : 'advx',
    token: typeof r.token === 'string' ? r.token : '',
  };
}

/** Whether process `pid` runs on this machine: signal 0 checks without sending; ESRCH = no such process. */
function isRunning(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it runs, under another user.
    return (e as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

async function readRecord(file: string): Promise<{ text: string; record: OutLockRecord | undefined } | undefined> {
  try {
    const text = await fs.readFile(file, 'utf8');
    return { text, record: parseRecord(text) };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

/**
 * Locks an output folder for one run: creates `<dir>/.advx.lock` atomically (`wx`: it fails when the
 * file exists) holding the pid, host, start time and command. When the folder is locked already:
 *
 * - by a live process on this host (`process.kill(pid, 0)` succeeds or fails with `EPERM`): refused
 *   with one line naming the pid and its start time;
 * - by a process that no longer runs on this host (`ESRCH`): the stale lock is taken over (renamed
 *   away under a unique name, checked to be the one judged stale, then replaced);
 * - by another host (a shared file system, where the pid cannot be checked): refused, saying how to
 *   remove the lock when no run is active there;
 * - by a file that is not a lock record: refused, saying to delete it.
 *
 * The caller releases the lock on every exit path (`finally`); a process killed hard leaves a stale
 * lock that the next run takes over.
 *
 * @param dir - the output folder (it must exist: see `prepareOutFolder`).
 * @param command - the command named in the record and in messages, e.g. `advx eval`.
 * @returns the held lock.
 * @throws AdvxError `INVALID_OPTION` when the folder is in use (details: `pid`, `host`, `lock`).
 *
 * @example
 * ```ts
 * const lock = await lockOutFolder('advx-report', 'advx eval');
 * try { await work(); } finally { await lock.release(); }
 * ```
 * @public
 */
export async function lockOutFolder(dir: string, command: string): Promise<OutLock> {
  const file = path.join(dir, LOCK_FILE);
  const mine: OutLockRecord = { pid: process.pid, host: os.hostname(), started: new Date().toISOString(), command, token: randomUUID() };
  const text = `${JSON.stringify(mine)}\n`;
  let tookOver: OutLockRecord | undefined;
  for (let attempt = 0; ; attempt++) {
    try {
      await fs.writeFile(file, text, { flag: 'wx' });
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new AdvxError('INVALID_OPTION', `cannot create the lock file ${file}: ${(e as Error).message}: choose another --out.`);
      }
    }
    const held = await readRecord(file);
    if (held === undefined) continue;
    const other = held.record;
    if (other === undefined) {
      throw new AdvxError(
        'INVALID_OPTION',
        `--out ${dir} holds a lock file ${file} that is not an advx lock record (damaged or half written): if no advx run uses ${dir}, delete ${file} and rerun.`,
        { lock: file },
      );
    }
    if (other.host !== mine.host) {
      throw new AdvxError(
        'INVALID_OPTION',
        `--out ${dir} is locked by ${other.command} (pid ${other.pid}) on host ${other.host} since ${other.started}; its pid cannot be checked from ${mine.host}: ` +
          `if no advx run is active there, delete ${file} and rerun, or choose another --out.`,
        { pid: other.pid, host: other.host, lock: file },
      );
    }
    if (isRunning(other.pid)) {
      throw new AdvxError(
        'INVALID_OPTION',
        `--out ${dir} is in use by a running ${other.command} (pid ${other.pid}, since ${other.started}): wait for it to finish or stop it, or choose another --out.`,
        { pid: other.pid, host: other.host, lock: file },
      );
    }
    if (attempt >= 3) {
      throw new AdvxError(
        'INVALID_OPTION',
        `--out ${dir}: the stale lock ${file} (pid ${other.pid}, no longer running) could not be taken over: delete ${file} and rerun.`,
        {
          pid: other.pid,
          host: other.host,
          lock: file,
        },
      );
    }
    // Stale: move it away under a unique name (atomic; of two takers only one gets it), then check that
    // what moved is the lock judged stale and not a fresh one another taker wrote meanwhile.
    const aside = `${file}.stale.${mine.token}`;
    try {
      await fs.rename(file, aside);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw e;
    }
    const moved = await readRecord(aside);
    if (moved !== undefined && moved.text !== held.text) {
      // A live holder's lock: put it back (link fails rather than overwrite) and look again.
      await fs.link(aside, file).catch(() => undefined);
      await fs.rm(aside, { force: true });
      continue;
    }
    await fs.rm(aside, { force: true });
    tookOver = other;
  }
  let released = false;
  return {
    file,
    tookOver,
    async release() {
      if (released) return;
      released = true;
      const now = await readRecord(file).catch(() => undefined);
      if (now?.record?.token === mine.token) await fs.rm(file, { force: true });
    },
  };
}

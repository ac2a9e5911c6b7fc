/**
 * The side of `#platform` (package.json `imports`) that bundlers for browsers get: no Node
 * built-ins. Locations are URLs; files are read with `fetch`, gzipped ones decompressed with
 * `DecompressionStream`, checksums computed with Web Crypto (`crypto.subtle.digest`). The same
 * functions as `platform-node.ts`.
 *
 * @internal
 * @packageDocumentation
 */

/**
 * The URL of the package folder (holding `data/` and `models/`): one level above this module, which
 * is right when the package is served as installed (unbundled, e.g. from a CDN or a dev server).
 * A bundled app serves a copy of the folders and passes its URL as the `baseUrl` option.
 *
 * @example
 * ```ts
 * const modelsUrl = joinPath(packageRoot(), 'models');
 * ```
 * @internal
 */
export function packageRoot(): string {
  return new URL('../', import.meta.url).href;
}

/**
 * Resolves path segments against a base URL (a relative base, such as `'/zoo/'`, against the
 * page's address).
 *
 * @example
 * ```ts
 * joinPath('https://example.org/zoo', 'data', 'manifest.json'); // 'https://example.org/zoo/data/manifest.json'
 * ```
 * @internal
 */
export function joinPath(base: string, ...parts: string[]): string {
  const page = (globalThis as { location?: { href?: string } }).location?.href;
  const root = new URL(base.endsWith('/') ? base : `${base}/`, page ?? import.meta.url);
  return new URL(parts.join('/'), root).href;
}

async function fetchOk(url: string, method: 'GET' | 'HEAD' = 'GET'): Promise<Response> {
  const response = await fetch(url, { method });
  if (!response.ok) throw new Error(`HTTP ${response.status} ${response.statusText} for ${url}`);
  return response;
}

/**
 * Fetches a whole file; a name ending in `.gz` is gunzipped.
 *
 * @example
 * ```ts
 * const bytes = await readBytes('https://example.org/zoo/models/mnist-mlp/weights.bin');
 * ```
 * @internal
 */
export async function readBytes(url: string): Promise<Uint8Array> {
  const response = await fetchOk(url);
  if (!url.endsWith('.gz') || response.body === null) return new Uint8Array(await response.arrayBuffer());
  return new Uint8Array(await new Response(response.body.pipeThrough(new DecompressionStream('gzip'))).arrayBuffer());
}

/**
 * Fetches a UTF-8 text file.
 *
 * @example
 * ```ts
 * const card = JSON.parse(await readText(url));
 * ```
 * @internal
 */
export async function readText(url: string): Promise<string> {
  return (await fetchOk(url)).text();
}

/**
 * True when a `HEAD` request for `url` succeeds.
 *
 * @example
 * ```ts
 * if (await fileExists(url)) { ... }
 * ```
 * @internal
 */
export async function fileExists(url: string): Promise<boolean> {
  try {
    await fetchOk(url, 'HEAD');
    return true;
  } catch {
    return false;
  }
}

/**
 * No full dataset is installed for a browser: the shipped evaluation sets are used unless a
 * `dataDir` URL is given.
 *
 * @example
 * ```ts
 * installedDataDir('mnist'); // undefined
 * ```
 * @internal
 */
export function installedDataDir(_name: 'mnist' | 'fashion-mnist'): string | undefined {
  return undefined;
}

/**
 * Lower-case hex sha256 of `bytes`, with Web Crypto.
 *
 * @example
 * ```ts
 * await sha256(new Uint8Array()); // 'e3b0c442...'
 * ```
 * @internal
 */
export async function sha256(bytes: Uint8Array): Promise<string> {
  // Web Crypto takes no view of a SharedArrayBuffer: digest a copy on an ArrayBuffer.
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new Uint8Array(bytes)));
  return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
}

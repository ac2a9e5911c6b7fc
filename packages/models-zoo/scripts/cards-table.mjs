#!/usr/bin/env node
/**
 * Prints the README table of the shipped classifiers from their model cards (models/<id>/card.json),
 * so the README states exactly what the cards measured: `node scripts/cards-table.mjs`.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const models = join(dirname(fileURLToPath(import.meta.url)), '..', 'models');
const pct = (v) => `${(100 * v).toFixed(2)}%`;
const rows = [];
for (const id of readdirSync(models).sort()) {
  const card = JSON.parse(readFileSync(join(models, id, 'card.json'), 'utf8'));
  if (card.metrics?.cleanAccuracy === undefined) continue; // not a classifier (the autoencoder)
  const m = card.metrics;
  const fgsm = (m.fgsm ?? []).map((f) => `${f.epsilon}: ${pct(1 - f.errorRate)}`).join(', ');
  const pgd = m.pgd
    ? `${pct(m.pgd.robustAccuracy)} (ε ${m.pgd.epsilon}, ${m.pgd.set === 'full test set' ? `${m.pgd.samples / 1000}k test` : `first ${m.pgd.samples}`})`
    : '—';
  const minutes = (card.training.timeSeconds / 60).toFixed(0);
  const { backend, threads } = card.training.machine;
  const on = threads > 1 ? `${backend}, ${threads} threads` : backend;
  rows.push(
    `| \`${id}\` | ${card.dataset} | ${card.architecture.summary} | ${card.architecture.parameters.toLocaleString('en-US')} | **${pct(m.cleanAccuracy)}** | ${pct(m.shippedEvalAccuracy)} | ${fgsm} | ${pgd} | ${minutes} min (${on}) |`,
  );
}
console.log(
  '| id | data | architecture | params | clean (10k test) | clean (shipped 1k) | FGSM robust accuracy, ε: acc (10k test) | PGD-40 robust accuracy | training |',
);
console.log('|---|---|---|---:|---:|---:|---|---|---:|');
for (const r of rows) console.log(r);

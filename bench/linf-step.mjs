#!/usr/bin/env node
// Benchmark (not a test), issue #21: the Linf signed-gradient step P(x′ + α·sign(g)) of @advx/core's
// linfSignStep on wasm (1 XNNPACK thread by default), composed from tfjs ops (seven element-wise kernels)
// vs the fused `AdvxLinfStep` kernel of @advx/backend-wasm, in the same process: the fused kernels are
// registered by useWasm and unregistered for the composed runs. Shapes [128, 28, 28, 1] and
// [32, 224, 224, 3]; per path the median of 50 calls after 5 warm-up calls, each result read back
// (`await data()`); composed and fused alternate for 3 rounds so that load drift hits both, and the
// reported time is the median of the round medians. Also checks that both paths give the same bits.
//
//   node bench/linf-step.mjs [--threads 1] [--attacks N [--model mnist-cnn-at]]
//
// --attacks N also times PGD-40 and APGD-CE-100 at ε 0.3 on N MNIST test images of the zoo model, fused
// kernels on and off (2 alternating rounds after a warm-up of each), with a SHA-256 of each adversarial batch.
//
// The script bundles itself first with scripts/run-bundled.mjs (the @advx workspace packages from
// source, tfjs from its ESM builds) and runs the bundle. Writes bench/results/linf-step-<date>.json.
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const self = fileURLToPath(import.meta.url);
const bundled = self.includes(`${join('bench', '.bundle')}`);

if (!bundled) {
  // A computed specifier, so that esbuild leaves this import (and esbuild itself) out of the bundle.
  const { runBundled } = await import(pathToFileURL(join(dirname(self), '..', 'scripts', 'run-bundled.mjs')).href);
  await runBundled(self);
} else {
  await main();
}

async function main() {
  const tf = await import('@tensorflow/tfjs-core');
  const { useWasm } = await import('@advx/backend-wasm');
  const { LINF_PROJECT_KERNEL, LINF_STEP_KERNEL, linfSignStep } = await import('@advx/core');

  const ROOT = resolve(dirname(self), '..', '..');
  const args = process.argv.slice(2);
  const i = args.indexOf('--threads');
  const threads = i >= 0 ? Number(args[i + 1]) : 1;
  const CALLS = 50;
  const WARMUP = 5;
  const ROUNDS = 3;

  await useWasm({ threads });
  const saved = new Map([LINF_PROJECT_KERNEL, LINF_STEP_KERNEL].map((name) => [name, tf.getKernel(name, 'wasm')]));
  if ([...saved.values()].some((k) => k === undefined)) throw new Error('linf-step: @advx/backend-wasm registered no fused Linf kernels');
  /** The fused kernels on (registered) or off (unregistered: linfSignStep composes tfjs ops). */
  const fused = (on) => {
    for (const [name, config] of saved) {
      const has = tf.getKernel(name, 'wasm') !== undefined;
      if (on && !has) tf.registerKernel(config);
      if (!on && has) tf.unregisterKernel(name, 'wasm');
    }
  };
  const median = (v) => [...v].sort((a, b) => a - b)[v.length >> 1];
  const sha = (a) =>
    createHash('sha256')
      .update(Buffer.from(a.buffer, a.byteOffset, a.byteLength))
      .digest('hex');

  const rows = [];
  for (const shape of [
    [128, 28, 28, 1],
    [32, 224, 224, 3],
  ]) {
    const origin = tf.randomUniform(shape, 0, 1, 'float32', 1);
    const x = tf.clipByValue(tf.add(origin, tf.randomUniform(shape, -0.3, 0.3, 'float32', 2)), 0, 1);
    const g = tf.randomNormal(shape, 0, 1, 'float32', 3);
    const time = async (on) => {
      fused(on);
      const ms = [];
      let hash;
      for (let k = 0; k < WARMUP + CALLS; k++) {
        const t0 = performance.now();
        const out = linfSignStep(x, g, origin, 0.01, 0.03, [0, 1]);
        const v = await out.data();
        if (k >= WARMUP) ms.push(performance.now() - t0);
        if (k === 0) hash = sha(v);
        out.dispose();
      }
      return { ms: median(ms), hash };
    };
    const on = [];
    const off = [];
    for (let r = 0; r < ROUNDS; r++) {
      off.push(await time(false));
      on.push(await time(true));
    }
    const row = {
      shape,
      elements: shape.reduce((p, d) => p * d, 1),
      composedMs: +median(off.map((o) => o.ms)).toFixed(2),
      fusedMs: +median(on.map((o) => o.ms)).toFixed(2),
      roundsComposedMs: off.map((o) => +o.ms.toFixed(2)),
      roundsFusedMs: on.map((o) => +o.ms.toFixed(2)),
      identical: [...on, ...off].every((o) => o.hash === off[0].hash),
    };
    row.speedup = +(row.composedMs / row.fusedMs).toFixed(2);
    rows.push(row);
    console.error(`[linf-step] [${shape.join(', ')}]: composed ${row.composedMs} ms, fused ${row.fusedMs} ms (${row.speedup}×), identical ${row.identical}`);
    tf.dispose([origin, x, g]);
  }
  // PGD-40 and APGD-CE-100 at ε 0.3 on the first N shipped MNIST test images of a zoo model (--attacks N,
  // default 0 = skip): the same attack with the fused kernels on and off, alternating, and a SHA-256 of the
  // adversarial batch (equal hashes = bit-for-bit equal results).
  const attackRows = [];
  const ai = args.indexOf('--attacks');
  const n = ai >= 0 ? Number(args[ai + 1]) : 0;
  const mi = args.indexOf('--model');
  const modelId = mi >= 0 ? args[mi + 1] : 'mnist-cnn-at';
  if (n > 0) {
    const { apgdCe, pgd } = await import('@advx/attacks');
    const { loadDataset, loadModel } = await import('@advx/models-zoo');
    // The bundle lives outside the zoo package, so the zoo cannot find its own folder: name it.
    const zoo = await loadModel(modelId, { directory: join(ROOT, 'packages/models-zoo/models', modelId) });
    const data = await loadDataset('mnist', { count: n, source: 'shipped' });
    for (const [label, attack] of [
      ['PGD-40 (step 0.01)', pgd({ steps: 40, stepSize: 0.01 })],
      ['APGD-CE-100', apgdCe({ steps: 100 })],
    ]) {
      const once = async (on) => {
        fused(on);
        const t0 = performance.now();
        const r = await attack.run(zoo.model, data.x, { labels: data.y }, { epsilons: [0.3], seed: 0 });
        const bytes = await r.clipped[0].data();
        const out = { ms: performance.now() - t0, hash: sha(bytes), backward: r.passes?.backward };
        r.dispose();
        return out;
      };
      await once(false); // warm-up (kernels, wasm code) of both paths
      await once(true);
      const on = [];
      const off = [];
      for (let r = 0; r < 2; r++) {
        off.push(await once(false));
        on.push(await once(true));
      }
      const row = {
        model: modelId,
        attack: label,
        n,
        epsilon: 0.3,
        composedS: +(median(off.map((o) => o.ms)) / 1000).toFixed(2),
        fusedS: +(median(on.map((o) => o.ms)) / 1000).toFixed(2),
        backwardRows: on[0].backward,
        identical: [...on, ...off].every((o) => o.hash === off[0].hash),
      };
      row.speedup = +(row.composedS / row.fusedS).toFixed(2);
      attackRows.push(row);
      console.error(`[linf-step] ${modelId} ${label}: composed ${row.composedS} s, fused ${row.fusedS} s (${row.speedup}×), identical ${row.identical}`);
    }
    tf.dispose([data.x, data.y]);
  }
  fused(true);

  const table = [
    '| step P(x′ + α·sign(g)) on wasm | composed (7 kernels) | fused (1 kernel) | speed-up | same bits |',
    '|---|---|---|---|---|',
    ...rows.map((r) => `| [${r.shape.join(', ')}] | ${r.composedMs} ms | ${r.fusedMs} ms | ${r.speedup}× | ${r.identical ? 'yes' : '**no**'} |`),
    ...attackRows.map(
      (r) =>
        `| ${r.model}: ${r.attack} at ε 0.3, ${r.n} images (${r.backwardRows} gradient rows) | ${r.composedS} s | ${r.fusedS} s | ${r.speedup}× | ${r.identical ? 'yes' : '**no**'} |`,
    ),
  ].join('\n');
  console.log(table);
  const startedAt = new Date();
  const result = {
    description:
      'bench/linf-step.mjs (issue #21): linfSignStep on wasm, composed tfjs ops vs the fused AdvxLinfStep kernel of @advx/backend-wasm, same process, alternating; per path the median of 50 calls (result read back) after 5 warm-up calls, median over 3 rounds.',
    date: startedAt.toISOString(),
    machine: { cpu: os.cpus()[0]?.model, cores: os.cpus().length, node: process.version, loadAverage: os.loadavg() },
    settings: { threads, calls: CALLS, warmup: WARMUP, rounds: ROUNDS, backend: 'wasm', stepSize: 0.01, epsilon: 0.03, bounds: [0, 1] },
    step: rows,
    attacks: attackRows,
    table,
  };
  mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
  const file = join(ROOT, 'bench/results', `linf-step-${startedAt.toISOString().slice(0, 16).replace(':', '-')}.json`);
  writeFileSync(file, `${JSON.stringify(result, null, 1)}\n`);
  console.error(`[linf-step] wrote ${file}`);
}

// The advx quick start: measure how robust a classifier is against gradient attacks.
//
// It trains a small softmax classifier on seeded synthetic 8×8 "glyph" images, wraps it as an advx
// Model, defines FGSM and PGD (BIM with a random start) on the @advx/core base, and prints clean and
// robust accuracy for several epsilons. (The bundled zoo models and the `advx eval` command replace
// this example as those packages land.)
import * as tf from '@tensorflow/tfjs-core';
import { defineAttack, fromFunction, Rng } from '@advx/core';

tf.env().set('PROD', true);
await import('@tensorflow/tfjs-backend-cpu');
if (!(await tf.setBackend('cpu'))) throw new Error('the tfjs cpu backend could not start');

// --- data: 4 classes of 8×8 glyphs (row, column, diagonal, box) with seeded pixel noise, in [0, 1]
const rng = new Rng(7);
const glyph = (c, i, j) => [i === 3 || i === 4, j === 3 || j === 4, i === j, i === 1 || i === 6 || j === 1 || j === 6][c] ? 0.8 : 0.2;
function sample(n) {
  const xs = new Float32Array(n * 64);
  const ys = new Int32Array(n);
  for (let k = 0; k < n; k++) {
    const c = rng.int(4);
    ys[k] = c;
    for (let p = 0; p < 64; p++) xs[k * 64 + p] = Math.min(1, Math.max(0, glyph(c, Math.floor(p / 8), p % 8) + 0.25 * rng.normal()));
  }
  return { x: tf.tensor4d(xs, [n, 8, 8, 1]), y: tf.tensor1d(ys, 'int32') };
}
const train = sample(2000);
const test = sample(500);

// --- model: softmax regression trained with plain gradient descent
const w = tf.variable(tf.zeros([64, 4]));
const b = tf.variable(tf.zeros([4]));
const logits = (x) => tf.add(tf.matMul(tf.reshape(x, [-1, 64]), w), b);
const optimizer = tf.train.sgd(0.5);
for (let step = 0; step < 200; step++) {
  optimizer.minimize(() => tf.losses.softmaxCrossEntropy(tf.oneHot(train.y, 4), logits(train.x)));
}
const model = fromFunction(logits, { inputShape: [8, 8, 1], numClasses: 4, bounds: [0, 1], output: 'logits' });

// --- attacks: each is only its math; the base does validation, batching, projection, success, ...
const fgsm = defineAttack({
  meta: { name: 'fgsm', kind: 'fixed-epsilon', norms: ['linf'], threat: 'white-box', goals: ['untargeted', 'targeted'], randomized: false },
  defaults: { norm: 'linf', earlyStop: true },
  perturb: (ctx) => tf.add(ctx.x, tf.mul(ctx.norm.normalizeGradient(ctx.gradient(ctx.x).grad), ctx.epsilon)),
});
const pgd = defineAttack({
  meta: { name: 'pgd', kind: 'fixed-epsilon', norms: ['linf', 'l2'], threat: 'white-box', goals: ['untargeted', 'targeted'], randomized: true },
  defaults: { norm: 'linf', earlyStop: true, steps: 20 },
  perturb: async (ctx) => {
    const start = ctx.project(tf.add(ctx.x, ctx.norm.randomStart(ctx.x.shape, ctx.epsilon, ctx.rng)));
    const alpha = (2.5 * ctx.epsilon) / ctx.options.steps;
    const end = await ctx.iterate({ x: start }, ctx.options.steps, (s) => ({
      x: ctx.project(tf.add(s.x, tf.mul(ctx.norm.normalizeGradient(ctx.gradient(s.x).grad), alpha))),
    }));
    return end.x;
  },
});

// --- evaluation
const epsilons = [0.05, 0.1, 0.2, 0.3];
const accuracy = (flags) => 1 - flags.filter(Boolean).length / flags.length;
const clean = tf.tidy(() => tf.mean(tf.cast(tf.equal(tf.argMax(model.logits(test.x), 1), test.y), 'float32')));
console.log(`clean accuracy: ${((await clean.data())[0] * 100).toFixed(1)} % on ${test.y.shape[0]} test samples`);
console.log(`\nrobust accuracy (Linf)  ${epsilons.map((e) => `ε=${e}`.padStart(8)).join('')}`);
for (const [name, attack] of [['FGSM', fgsm()], ['PGD-20', pgd({ steps: 20 })]]) {
  const result = await attack.run(model, test.x, { labels: test.y }, { epsilons, seed: 0 });
  console.log(`${name.padEnd(23)} ${result.success.map((s) => `${(accuracy(s) * 100).toFixed(1)} %`.padStart(8)).join('')}`);
  result.dispose();
}

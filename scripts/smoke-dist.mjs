// Loads the BUILT @advx/core (ESM and CommonJS) in plain Node, as users get it from npm, and checks
// that gradients are registered and an attack runs end to end. Run after `npm run build`.
import { execFileSync } from 'node:child_process';

const esm = `
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { fromFunction, defineAttack, option } from '@advx/core';
tf.env().set('PROD', true);
if (!(await tf.setBackend('cpu'))) throw new Error('cpu backend failed');
const w = tf.tensor2d([[1, -1], [-1, 1]]);
const model = fromFunction((x) => tf.matMul(x, w), { inputShape: [2], numClasses: 2, bounds: [0, 1], output: 'logits' });
const fgsm = defineAttack({
  meta: { name: 'smoke-fgsm', kind: 'fixed-epsilon', norms: ['linf'], threat: 'white-box', goals: ['untargeted'], randomized: false },
  options: { scale: option.number(1, 'step length as a multiple of epsilon', { min: 0, above: true }) },
  perturb: (ctx) => tf.add(ctx.x, tf.mul(ctx.norm.normalizeGradient(ctx.gradient(ctx.x).grad), ctx.options.scale * ctx.epsilon)),
});
const x = tf.tensor2d([[0.6, 0.4]]);
if (fgsm.defaults.scale !== 1 || fgsm.defaults.norm !== 'linf') throw new Error('ESM: unexpected defaults ' + JSON.stringify(fgsm.defaults));
const r = await fgsm().run(model, x, { labels: tf.tensor1d([0], 'int32') }, { epsilons: [0.2] });
const out = Array.from(await r.clipped[0].data()).map((v) => Math.round(v * 1000) / 1000);
if (out.join() !== '0.4,0.6' || r.success[0][0] !== true) throw new Error('ESM: unexpected result ' + out + ' ' + r.success);
console.log('ESM build ok:', out.join(), r.success[0][0]);
`;
const cjs = `
const tf = require('@tensorflow/tfjs-core');
require('@tensorflow/tfjs-backend-cpu');
const { fromFunction } = require('@advx/core');
const testing = require('@advx/core/testing');
tf.env().set('PROD', true);
tf.setBackend('cpu').then(() => {
  const model = fromFunction((x) => tf.mul(x, 2), { inputShape: [2], numClasses: 2, bounds: [0, 1], output: 'logits' });
  const g = tf.grad((x) => tf.sum(model.logits(x)))(tf.ones([1, 2]));
  const v = Array.from(g.dataSync());
  if (v.join() !== '2,2' || typeof testing.checkAttack !== 'function') throw new Error('CJS: unexpected gradient ' + v);
  console.log('CJS build ok: gradient', v.join());
});
`;
execFileSync(process.execPath, ['--input-type=module', '-e', esm], { stdio: 'inherit' });
execFileSync(process.execPath, ['-e', cjs], { stdio: 'inherit' });

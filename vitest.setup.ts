/**
 * Test set-up: selects the tfjs backend for every suite. `ADVX_BACKEND` (default `cpu`) names a
 * registered backend; backend packages register theirs when imported here.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';

const backend = process.env.ADVX_BACKEND ?? 'cpu';
tf.env().set('PROD', true);
if (!(await tf.setBackend(backend))) {
  throw new Error(`ADVX_BACKEND=${backend}: backend could not be initialised (registered: ${Object.keys(tf.engine().registryFactory).join(', ')})`);
}
await tf.ready();

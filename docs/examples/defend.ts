// Guide "Defend": a preprocessor attacked through BPDA, and randomized smoothing with certificates.
import * as tf from '@tensorflow/tfjs-core';

import { defend } from '@advx/core';
import { pgd } from '@advx/attacks';
import { bitDepth, smooth } from '@advx/defenses';
import { loadDataset, loadModel } from '@advx/models-zoo';

export async function defendModel(count = 16) {
  const zoo = await loadModel('mnist-cnn');
  const { x, y } = await loadDataset('mnist', { count });
  try {
    // Bit-depth reduction (here to 16 levels) has no useful gradient; its declared gradient is BPDA's identity, so
    // the attack differentiates through it as if it were not there (Athalye et al. 2018).
    const defended = defend(zoo.model, bitDepth({ bits: 4 }));
    const attacked = await pgd({ steps: 20, stepSize: 0.02 }).run(defended, x, { labels: y }, { epsilons: [0.3], seed: 0 });
    const bpdaSuccess = (attacked.success[0] as readonly boolean[]).filter(Boolean).length / count;
    attacked.dispose();

    // Randomized smoothing (Cohen et al. 2019) on the zoo model trained with Gaussian noise:
    // per sample a class certified within an L2 radius, or ABSTAIN.
    const noisy = await loadModel('mnist-cnn-noise');
    const g = smooth(noisy.model, { sigma: 0.25 });
    const first = tf.slice(x, 0, 2);
    const certificate = await g.certify(first, { n0: 50, n: 500, alpha: 0.001, seed: 0 });
    first.dispose();
    noisy.layers.dispose();
    return { bpdaSuccess, classes: Array.from(certificate.classes), radii: Array.from(certificate.radii), labels: Array.from(y.dataSync()).slice(0, 2) };
  } finally {
    tf.dispose([x, y]);
    zoo.layers.dispose();
  }
}

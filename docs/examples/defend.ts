// Guide "Defend": a preprocessor attacked through BPDA, and randomized smoothing with certificates.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

import { defend } from '@advx/core';
import { pgd } from '@advx/attacks';
import { adversarialTraining, bitDepth, smooth } from '@advx/defenses';
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

/** Adversarial training (Madry et al. 2017) of a small dense network, with FGSM-RS as the attack (Wong et al. 2020). */
export async function trainRobustly() {
  const train = await loadDataset('mnist', { count: 256 });
  const validation = await loadDataset('mnist', { count: 64, offset: 256 });
  const net = tfl.sequential({
    layers: [
      tfl.layers.flatten({ inputShape: [28, 28, 1] }),
      tfl.layers.dense({ units: 64, activation: 'relu', kernelInitializer: tfl.initializers.glorotUniform({ seed: 1 }) }),
      tfl.layers.dense({ units: 10, activation: 'softmax', kernelInitializer: tfl.initializers.glorotUniform({ seed: 2 }) }),
    ],
  });
  const trainer = adversarialTraining({
    attack: pgd({ steps: 1, relStepSize: 1.25 }), // FGSM with a random start
    epsilon: 0.1,
    epochs: 3,
    batchSize: 64,
    evaluation: { attack: pgd({ steps: 10 }), epsilon: 0.1, samples: 64 },
  });
  try {
    const { model, history } = await trainer.fit(net, train, { validation, seed: 1 });
    model.dispose();
    return history.map((h) => ({ epoch: h.epoch, loss: h.loss, cleanAccuracy: h.cleanAccuracy, robustAccuracy: h.robustAccuracy }));
  } finally {
    net.dispose();
    tf.dispose([train.x, train.y, validation.x, validation.y]);
  }
}

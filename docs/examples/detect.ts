// Guide "Detect": feature squeezing against adversarial inputs, occlusion consistency against patches.
import * as tf from '@tensorflow/tfjs-core';

import { fgsm } from '@advx/attacks';
import { bitDepth, medianSmoothing } from '@advx/defenses';
import { featureSqueezing, occlusionConsistency } from '@advx/detectors';
import { loadDataset, loadModel } from '@advx/models-zoo';

export async function detectAdversarials() {
  const zoo = await loadModel('mnist-cnn');
  const clean = await loadDataset('mnist', { count: 64, offset: 0 });
  const probe = await loadDataset('mnist', { count: 32, offset: 64 });
  try {
    const detector = featureSqueezing({ squeezers: [bitDepth({ bits: 1 }), medianSmoothing({ size: 2 })] });
    await detector.fit(zoo.model, clean.x); // threshold: 5 % false positives on clean images
    const attack = await fgsm().run(zoo.model, probe.x, { labels: probe.y }, { epsilons: [0.3] });
    const onClean = await detector.detect(zoo.model, probe.x);
    const onAdversarial = await detector.detect(zoo.model, attack.clipped[0] as tf.Tensor);
    attack.dispose();
    const few = tf.slice(probe.x, 0, 4);
    const occlusion = await occlusionConsistency({ size: 6, stride: 4 }).score(zoo.model, few);
    few.dispose();
    const rate = (flags: boolean[]) => flags.filter(Boolean).length / flags.length;
    return { flaggedClean: rate(onClean), flaggedAdversarial: rate(onAdversarial), occlusionScores: Array.from(occlusion) };
  } finally {
    tf.dispose([clean.x, clean.y, probe.x, probe.y]);
    zoo.layers.dispose();
  }
}

// Guide "Evaluate your model": a robustness curve of a zoo model with evaluate().
import * as tf from '@tensorflow/tfjs-core';

import { fgsm, pgd } from '@advx/attacks';
import { evaluate, renderMarkdown } from '@advx/eval';
import { loadDataset, loadModel } from '@advx/models-zoo';

export async function evaluateZooModel(count = 32) {
  const zoo = await loadModel('mnist-cnn');
  const { x, y } = await loadDataset('mnist', { count });
  try {
    const result = await evaluate({
      model: zoo.model,
      data: { x, labels: y },
      attacks: [fgsm(), pgd({ steps: 10, stepSize: 0.03 })],
      epsilons: [0.1, 0.3],
      seed: 0,
    });
    // Clean accuracy, robust accuracy per attack and epsilon, the worst case over attacks, warnings.
    const report = renderMarkdown(result);
    return { result, report };
  } finally {
    tf.dispose([x, y]);
    zoo.layers.dispose();
  }
}

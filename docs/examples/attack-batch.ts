// Guide "Attack a batch": white-box PGD and black-box Square under a query budget.
import * as tf from '@tensorflow/tfjs-core';

import { toQueryModel } from '@advx/core';
import { pgd, square } from '@advx/attacks';
import { loadDataset, loadModel } from '@advx/models-zoo';

export async function attackBatch(count = 8) {
  const zoo = await loadModel('mnist-cnn');
  const { x, y } = await loadDataset('mnist', { count });
  try {
    // White-box: gradients of the model; one result row per epsilon.
    const white = await pgd({ steps: 20, stepSize: 0.02 }).run(zoo.model, x, { labels: y }, { epsilons: [0.1, 0.2], seed: 0 });
    // Black-box: the attack only sees the model's scores, at most 200 queries per sample.
    const scoresOnly = toQueryModel(zoo.model, { output: 'scores' });
    const black = await square({ maxQueries: 200 }).run(scoresOnly, x, { labels: y }, { epsilons: [0.2], seed: 0 });
    const linf = tf.tidy(() => tf.max(tf.abs(tf.sub(white.clipped[1] as tf.Tensor, x))).dataSync()[0] as number);
    const summary = {
      pgdSuccess: white.success.map((row) => row.filter(Boolean).length / count),
      squareSuccess: (black.success[0] as readonly boolean[]).filter(Boolean).length / count,
      squareQueries: Array.from(black.queries ?? []),
      pgdLinf: linf,
    };
    white.dispose();
    black.dispose();
    return summary;
  } finally {
    tf.dispose([x, y]);
    zoo.layers.dispose();
  }
}

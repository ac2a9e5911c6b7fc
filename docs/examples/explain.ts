// Guide "Explain": saliency and occlusion maps, rendered as PNG heatmaps.
import * as tf from '@tensorflow/tfjs-core';

import { occlusionMap, renderHeatmapPng, saliencyMap } from '@advx/detectors';
import { loadDataset, loadModel } from '@advx/models-zoo';

export async function explainPredictions() {
  const zoo = await loadModel('mnist-cnn');
  const { x, y } = await loadDataset('mnist', { count: 2 });
  try {
    const saliency = await saliencyMap(zoo.model, x); // [2, 28, 28]: |∂ logit / ∂ pixel|
    const occlusion = await occlusionMap(zoo.model, x, { size: 6, stride: 2 }); // [2, 12, 12]
    const first = tf.slice(x, 0, 1);
    const firstMap = tf.slice(saliency, 0, 1);
    const png = await renderHeatmapPng(firstMap, { image: first }); // PNG bytes
    const shapes = { saliency: saliency.shape, occlusion: occlusion.shape };
    tf.dispose([saliency, occlusion, first, firstMap]);
    return { shapes, png };
  } finally {
    tf.dispose([x, y]);
    zoo.layers.dispose();
  }
}

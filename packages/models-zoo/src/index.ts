/**
 * `@advx/models-zoo`: trained TensorFlow.js models with model cards and checksums, and offline
 * MNIST / Fashion-MNIST data (the full IDX data when installed, else shipped evaluation sets).
 *
 * @packageDocumentation
 */
export { DATASETS, hasFullDataset, loadDataset } from './datasets.js';
export type { Dataset, DatasetInfo, DatasetName, DatasetSource, DatasetSplit, LoadDatasetOptions } from './datasets.js';
export { parseIdx } from './idx.js';
export type { IdxArray } from './idx.js';
export { listModels, loadModel, readModelCard, ZOO_MODEL_IDS } from './models.js';
export type { FgsmMetric, LoadModelOptions, ModelCard, ModelCardFile, PgdMetric, TrainingMachine, ZooModel, ZooModelId, ZooModelListing } from './models.js';
export { loadAutoencoder, readAutoencoderCard, ZOO_AUTOENCODER_IDS } from './autoencoders.js';
export type { AutoencoderCard, LoadAutoencoderOptions, ZooAutoencoder, ZooAutoencoderId, ZooEncoderDecoder } from './autoencoders.js';

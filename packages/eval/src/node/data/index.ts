export { openDataset } from './open-dataset.js';
export type { DataChunk, DataSource, OpenDatasetOptions, SkippedFile } from './types.js';

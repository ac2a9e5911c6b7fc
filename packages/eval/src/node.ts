/**
 * `@advx/eval/node`: the Node side of `@advx/eval` — a file state store for resumable runs, the
 * HTML report with its plot and example images, the report writer, a `model.json` loader, backend
 * selection and the `advx` command line ({@link runCli}).
 *
 * @packageDocumentation
 */
export { openDataset, type DataChunk, type DataSource, type OpenDatasetOptions, type SkippedFile } from './node/data/index.js';
export { fileStateStore, type FileStateStore } from './node/file-state-store.js';
export { evaluateInWorkers, type EvaluateInWorkersOptions } from './node/evaluate-in-workers.js';
export { loadModelFile, type LoadedModelFile } from './node/load-model-file.js';
export {
  inspectBeforeAttacks,
  inspectionSummary,
  inspectModel,
  loadUserModel,
  parseModelFlags,
  readLabels,
  type LoadUserModelOptions,
  type ModelFlags,
  type ModelInspection,
  type UserModel,
  type UserModelDescription,
  type UserModelFormat,
} from './node/model/index.js';
export { renderHtml, type RenderHtmlOptions } from './render-html.js';
export { runCli, type CliIo, type TextSink } from './node/run-cli.js';
export { selectBackend, type BackendName } from './node/select-backend.js';
export { writeReport, type WrittenReport } from './node/write-report.js';

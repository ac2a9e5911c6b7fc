/**
 * `@advx/eval`: robustness evaluation of TensorFlow.js models — {@link evaluate} runs a grid of
 * attacks × epsilons with gradient-masking diagnostics, {@link autoAttack} is the AutoAttack-style
 * ensemble, {@link mergeResults} combines shards, {@link renderMarkdown} writes a report. Node
 * helpers (state files, HTML reports with images, the `advx` command) are in `@advx/eval/node`.
 *
 * @packageDocumentation
 */
export { autoAttack, type AutoAttackOptions, type AutoAttackPreset, type AutoAttackVersion } from './auto-attack.js';
export { evaluate } from './evaluate.js';
export { memoryStateStore, type MemoryStateStore } from './memory-state-store.js';
export { mergeResults } from './merge-results.js';
export { clopperPearson, regularizedBeta } from './clopper-pearson.js';
export {
  binarizationTest,
  binarizeSample,
  type BinarizationNorm,
  type BinarizationReason,
  type BinarizationSample,
  type BinarizationStatus,
  type BinarizationTestOptions,
  type BinarizationTestResult,
  type BinarizedSample,
} from './binarization-test.js';
export { renderHtml, type RenderHtmlOptions } from './render-html.js';
export { renderMarkdown } from './render-markdown.js';
export {
  RESULT_SCHEMA,
  type AttackInfo,
  type AttackInput,
  type AttackSpec,
  type AttackSummary,
  type ChunkRecord,
  type CurvePoint,
  type IntervalMethod,
  type DiagnosticsOptions,
  type EnsembleInfo,
  type EnsembleMode,
  type EpsilonSummary,
  type EvaluateOptions,
  type EvaluationConfig,
  type EvaluationData,
  type EvaluationSource,
  type EvaluationProgress,
  type EvaluationResult,
  type EvaluationState,
  type ExampleRecord,
  type MaskingWarning,
  type MinimalPerturbation,
  type ModelInfo,
  type SampleAttackRecord,
  type SampleRecord,
  type SelfTestAttackRecord,
  type SelfTestRecord,
  type ShardSpec,
  type StateStore,
} from './types.js';

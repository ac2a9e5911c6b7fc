/**
 * `@advx/core/testing`: conformance suites that every attack, preprocessor, detector and inspector
 * of advx (and of third-party plugins) runs, plus small fixtures. Test-runner agnostic: each suite
 * returns a {@link ConformanceReport}; {@link assertConformance} throws on failures.
 *
 * @packageDocumentation
 */
export { checkAttack, type AttackCheck, type AttackFixture } from './attack-suite.js';
export { checkConcurrentRuns, type ConcurrencyCheck, type ConcurrentRun } from './concurrency-suite.js';
export { checkPreprocessor, type PreprocessorCheck, type PreprocessorFixture } from './preprocessor-suite.js';
export {
  crossBackendSuite,
  type BackendModel,
  type BackendModelFactory,
  type CrossBackendCase,
  type CrossBackendFigures,
  type CrossBackendFixture,
  type CrossBackendReport,
} from './cross-backend-suite.js';
export { checkDetector, checkInspector, type DetectorFixture, type InspectorFixture } from './detector-suite.js';
export { assertConformance, type CheckResult, type ConformanceReport } from './report.js';
export { linearModel, mlpModel, selfLabeledData, type LabeledBatch, type LinearModelOptions, type MlpModelOptions } from './fixtures.js';

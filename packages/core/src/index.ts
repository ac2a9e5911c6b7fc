/**
 * `@advx/core`: the contracts every advx package builds on — models and model adapters, attacks and
 * their base, goals, losses, norms, seeded randomness, defenses and detectors, the registry and errors.
 *
 * Importing this module registers tfjs-core's gradient definitions (see `@advx/core/register-gradients`).
 *
 * @packageDocumentation
 */
import '@advx/core/register-gradients';

export { AdvxError, isAdvxError, type AdvxErrorCode } from './errors.js';
export type { AnyModel, Bounds, Model, OutputKind, QueryModel, QueryOutput } from './model.js';
export {
  fromFunction,
  fromGraphModel,
  fromLayersModel,
  toQueryModel,
  type BudgetedQueryModel,
  type FromFunctionOptions,
  type FromGraphModelOptions,
  type FromLayersModelOptions,
  type GraphModelLike,
  type GraphTensorInfoLike,
  type LayerLike,
  type LayersModelLike,
  type ModelOutput,
  type NormalizeOptions,
  type SymbolicTensorLike,
  type ToQueryModelOptions,
} from './adapters/index.js';
export { setWarningHandler, type AdvxWarning, type WarningHandler } from './warnings.js';
export { getNorm, l0, l1, l2, linf, NORMS, type NormGeometry, type NormName } from './norms/index.js';
export {
  goalKind,
  goalReached,
  isAdversarialLogits,
  leastLikelyTargets,
  randomTargets,
  type Goal,
  type GoalKind,
  type TargetedGoal,
  type UntargetedGoal,
  type ResolvedGoal,
} from './goals.js';
export { carliniWagnerLoss, crossEntropy, dlr, logitMargin, targetedDlr, type LogitLoss } from './losses.js';
export { BatchRng, deriveSeed, Rng } from './rng.js';
export { rocAuc } from './metrics/roc-auc.js';
export { predictClasses, type PredictOptions } from './predict.js';
export type {
  Attack,
  AttackKind,
  AttackMeta,
  AttackResult,
  PassBudgetReport,
  PassCount,
  Progress,
  QuantizationReport,
  RunOptions,
  ThreatModel,
} from './attack.js';
export {
  defineFactory,
  describeOptions,
  option,
  optionTable,
  parseOptionStrings,
  resolveOptions,
  schemaDefaults,
  type NumberRange,
  type OptionFactory,
  type OptionRow,
  type RequiredFlag,
  type RequiredKeys,
  type Simplify,
  type OptionSchema,
  type OptionSpec,
  type OptionsInput,
  type OptionsResolved,
  type OptionValue,
} from './options.js';
export {
  defineAttack,
  type AttackContext,
  type AttackDefinition,
  type AttackFactory,
  type AttackOptions,
  type AttackOptionsBase,
  type BaseAttackSchema,
  type FactoryOptions,
  type GradientResult,
  type IterationState,
  type IterationStep,
  type Objective,
  type SubsetContext,
} from './define-attack.js';
export { quantizeToward } from './quantize.js';
export { gatherRows, scatterRows, whereRows } from './rows.js';
export { LINF_PROJECT_KERNEL, LINF_STEP_KERNEL, linfProject, linfSignStep, type LinfKernelAttrs } from './fused.js';
export {
  applyPreprocessor,
  defend,
  getDefense,
  listDefenses,
  registerDefense,
  type DefenseMeta,
  type EpochReport,
  type GradientMode,
  type LabeledData,
  type Preprocessor,
  type FitOptions,
  type Trainer,
  type TrainResult,
} from './defense.js';
export { getDetector, listDetectors, registerDetector, type Detector, type DetectorMeta, type Inspection, type Inspector } from './detector.js';
export { createRegistry, getAttack, listAttacks, registerAttack, type AnyAttackFactory, type Named, type Registry, type RegistryEntry } from './registry.js';
export { assertLogitsOutput, checkInteger, checkNumber, validateEpsilons, validateGoal, validateInput, type GoalValues } from './validate.js';

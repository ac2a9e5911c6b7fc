import type * as tf from '@tensorflow/tfjs-core';

import type { Attack, AttackKind, Model, NormName, PassCount, ThreatModel } from '@advx/core';

/**
 * Version of the {@link EvaluationResult} JSON schema. Bumped on any incompatible change.
 *
 * @public
 */
export const RESULT_SCHEMA = 'advx-eval/1';

/**
 * An attack named by its registry name (`@advx/attacks/register-all` must have been imported), with
 * options; `norm` comes from {@link EvaluateOptions.norm}.
 *
 * @example
 * ```ts
 * const spec: AttackSpec = { name: 'pgd', options: { steps: 40 }, label: 'PGD-40' };
 * ```
 * @public
 */
export interface AttackSpec {
  /** Registry name, e.g. `pgd`, `apgd-ce`. */
  readonly name: string;
  /** Options of the attack (default: the attack's defaults). */
  readonly options?: Readonly<Record<string, unknown>>;
  /** Name in the results and reports (default: the name plus the options that differ from the defaults, e.g. `pgd(steps=10)`). */
  readonly label?: string;
  /** Never set: a spec has no `meta`, so an uncalled factory (`attacks: [pgd]` instead of `[pgd()]`) is a compile error. */
  readonly meta?: never;
}

/**
 * An attack to evaluate: a configured `Attack` of `@advx/core` (e.g. `pgd({ steps: 40 })`) or an {@link AttackSpec}.
 *
 * @public
 */
export type AttackInput = Attack | AttackSpec;

/**
 * A slice of an evaluation: shard `index` (0-based) of `count`.
 *
 * @example
 * ```ts
 * const shard: ShardSpec = { index: 0, count: 4 }; // the first quarter of the chunks
 * ```
 * @public
 */
export interface ShardSpec {
  /** Index of the shard, 0 … count − 1. */
  readonly index: number;
  /** Number of shards, ≥ 1. */
  readonly count: number;
}

/**
 * What a result records about the evaluated model.
 *
 * @public
 */
export interface ModelInfo {
  /** Per-sample input shape. */
  readonly inputShape: readonly number[];
  /** Number of classes. */
  readonly numClasses: number;
  /** Input bounds. */
  readonly bounds: readonly [number, number];
  /** Model name (e.g. a zoo id), when given. */
  readonly id?: string;
  /** How the command line read the model and fed it (format, bounds, normalization, output node, class names) and its inspection on one sample, when it says. */
  readonly input?: Readonly<Record<string, unknown>>;
}

/**
 * Mean and median of the minimal adversarial perturbations of a minimization attack.
 *
 * @public
 */
export interface MinimalPerturbation {
  /** Mean over the fooled samples. */
  readonly mean: number;
  /** Median over the fooled samples. */
  readonly median: number;
}

/**
 * How the attacks of a grid are combined.
 *
 * - `independent`: every attack runs on every clean-correct sample; the ensemble robust accuracy is
 *   the per-sample worst case over the attacks.
 * - `sequential` (AutoAttack): per epsilon, the attacks run in order, each only on the samples that
 *   are still correctly classified after the previous ones; the robust accuracy reported for an
 *   attack is the one after it and all attacks before it.
 *
 * @public
 */
export type EnsembleMode = 'independent' | 'sequential';

/**
 * Thresholds of the gradient-masking diagnostics.
 *
 * @public
 */
export interface DiagnosticsOptions {
  /** Samples (the first of the dataset) used by the model probes (default 32). */
  readonly probeSamples?: number;
  /** Share of probe samples with an all-zero or NaN input gradient above which `ZERO_GRADIENTS` fires (default 0.1). */
  readonly zeroGradientShare?: number;
  /** Run the unbounded-attack sanity check (default `true`). */
  readonly unbounded?: boolean;
  /** Robust accuracy at the unbounded epsilon above which `UNBOUNDED_NOT_ZERO` fires (default 0.05). */
  readonly unboundedTolerance?: number;
  /** Robust-accuracy difference (absolute) tolerated by the comparison checks (default 0.01). */
  readonly tolerance?: number;
}

/**
 * What {@link evaluate} reports as it runs.
 *
 * @public
 */
export interface EvaluationProgress {
  /** `diagnostics` (model probes and the sanity check) or `attacks` (the grid). */
  readonly phase: 'diagnostics' | 'attacks';
  /** Overall completed fraction of the phase in [0, 1]. */
  readonly fraction: number;
  /** Label of the running attack (grid phase). */
  readonly attack: string;
  /** Index of the current chunk within this run's slice. */
  readonly chunk: number;
  /** Chunks in this run's slice. */
  readonly chunks: number;
  /** Chunks restored from the state store instead of being recomputed. */
  readonly resumedChunks: number;
}

/**
 * Per-sample record of one attack: `success[e]` is `true` when the attack fooled the model at
 * `epsilons[e]`, `false` when it ran and failed, `null` when it did not run on the sample (clean
 * misclassification, or — in sequential mode — already fooled by an earlier attack).
 *
 * @public
 */
export interface SampleAttackRecord {
  /** Per epsilon: success, or `null` when not run. */
  readonly success: readonly (boolean | null)[];
  /** Per epsilon: norm of the adversarial perturbation when `success[e]`, else `null`. */
  readonly perturbation: readonly (number | null)[];
  /** Minimization attacks: the minimal adversarial perturbation found (`null` when none or not run). */
  readonly distance: number | null;
  /** Black-box attacks: model queries spent on the sample (summed over epsilons). */
  readonly queries: number;
}

/**
 * Everything evaluated about one sample (the unit that shards and resumed runs combine).
 *
 * @public
 */
export interface SampleRecord {
  /** Index of the sample in the dataset. */
  readonly index: number;
  /** True label. */
  readonly label: number;
  /** Clean prediction. */
  readonly prediction: number;
  /** Norm of the input in the evaluation's norm (for the empirical robustness). */
  readonly inputNorm: number;
  /** One record per attack, in the order of {@link EvaluationConfig.attacks}. */
  readonly attacks: readonly SampleAttackRecord[];
}

/**
 * An example adversarial image kept for the report.
 *
 * @public
 */
export interface ExampleRecord {
  /** Label of the attack that produced it. */
  readonly attack: string;
  /** Epsilon of the adversarial (`null`: unrestricted output of a minimization attack). */
  readonly epsilon: number | null;
  /** Index of the sample in the dataset. */
  readonly index: number;
  /** True label. */
  readonly label: number;
  /** Clean prediction and its softmax confidence. */
  readonly cleanPrediction: number;
  /** Softmax confidence of the clean prediction. */
  readonly cleanConfidence: number;
  /** Prediction on the adversarial. */
  readonly adversarialPrediction: number;
  /** Softmax confidence of the adversarial prediction. */
  readonly adversarialConfidence: number;
  /** Norm of the perturbation. */
  readonly perturbation: number;
  /** Per-sample shape (e.g. `[28, 28, 1]`). */
  readonly shape: readonly number[];
  /** Clean input, flattened (4 decimals). */
  readonly original: readonly number[];
  /** Adversarial input, flattened (4 decimals). */
  readonly adversarial: readonly number[];
}

/**
 * Static description of an evaluated attack.
 *
 * @public
 */
export interface AttackInfo {
  /** Unique label in this evaluation. */
  readonly label: string;
  /** Registry name. */
  readonly name: string;
  /** Kind of the attack. */
  readonly kind: AttackKind;
  /** Threat model. */
  readonly threat: ThreatModel;
  /** Resolved options. */
  readonly options: Readonly<Record<string, unknown>>;
  /** Paper reference, when known. */
  readonly paper?: string;
  /**
   * `'dataset'` for a dataset-level attack (one perturbation fitted on all samples: universal
   * perturbations, patches, substitutes); absent for per-sample attacks. The gradient-masking checks
   * do not hold a dataset-level attack to per-sample standards.
   */
  readonly scope?: 'dataset';
}

/**
 * The configuration of an evaluation, as recorded in its result (everything but the model and data).
 *
 * @public
 */
export interface EvaluationConfig {
  /** The attacks, in order. */
  readonly attacks: readonly AttackInfo[];
  /** Epsilons, ascending. */
  readonly epsilons: readonly number[];
  /** Norm of the epsilons. */
  readonly norm: NormName;
  /** Base seed. */
  readonly seed: number;
  /** Samples per chunk (the unit of batching, checkpoints and shards). */
  readonly batchSize: number;
  /** How the attacks are combined. */
  readonly mode: EnsembleMode;
  /** Samples in the whole dataset. */
  readonly datasetSize: number;
  /** Examples kept per attack and ε (a minimization attack keeps its minimal adversarials instead). */
  readonly examples: number;
  /** The model's per-sample input shape, classes and bounds. */
  readonly model: ModelInfo;
  /** Name of the dataset, when given. */
  readonly dataset?: string;
  /** How a chunked source ({@link EvaluationSource}) read and fitted the data, when it says (format, sampling, conversion, skipped files). */
  readonly data?: Readonly<Record<string, unknown>>;
  /** Thresholds of the gradient-masking diagnostics (`null`: diagnostics off). */
  readonly diagnostics: Required<DiagnosticsOptions> | null;
  /** The named ensemble the attacks come from (AutoAttack and its version), when they do. */
  readonly ensemble?: EnsembleInfo;
  /** The per-sample pass budget of the white-box attacks, when one was set ({@link EvaluateOptions.maxPasses}). */
  readonly maxPasses?: number;
}

/**
 * A named ensemble that gave the attack list ({@link autoAttack}'s preset): recorded in the result's
 * configuration and shown by the reports.
 *
 * @public
 */
export interface EnsembleInfo {
  /** The ensemble, e.g. `'AutoAttack'`. */
  readonly name: string;
  /** Its version, e.g. `'standard'` or `'plus'`. */
  readonly version: string;
  /** Attacks of the ensemble that were left out, with the reason. */
  readonly omitted: readonly string[];
}

/**
 * One robust-accuracy measurement of an attack at one epsilon.
 *
 * @public
 */
export interface EpsilonSummary {
  /** The epsilon. */
  readonly epsilon: number;
  /** Share of all evaluated samples that are classified correctly and were not fooled (sequential: by this or an earlier attack). */
  readonly robustAccuracy: number;
  /** 95 % Clopper–Pearson confidence interval of {@link EpsilonSummary.robustAccuracy} (robust samples out of all evaluated). */
  readonly robustInterval: readonly [number, number];
  /** Share of the samples the attack ran on that it fooled. */
  readonly successRate: number;
  /** Samples the attack ran on. */
  readonly attacked: number;
  /** Mean norm of the successful perturbations (`null` when none). */
  readonly meanPerturbation: number | null;
  /** Median norm of the successful perturbations (`null` when none). */
  readonly medianPerturbation: number | null;
  /** Black-box attacks: mean queries per attacked sample (`null` for white-box attacks). */
  readonly meanQueries: number | null;
}

/**
 * A point of a robust-accuracy-vs-epsilon curve.
 *
 * @public
 */
export interface CurvePoint {
  /** Epsilon. */
  readonly epsilon: number;
  /** Robust accuracy at that epsilon. */
  readonly robustAccuracy: number;
  /** 95 % Clopper–Pearson confidence interval of the robust accuracy; present on every point of an {@link EvaluationResult}. */
  readonly interval?: readonly [number, number];
}

/**
 * How the confidence intervals of a result were computed.
 *
 * @public
 */
export interface IntervalMethod {
  /** Clopper–Pearson's exact binomial interval (conservative). */
  readonly method: 'clopper-pearson';
  /** Confidence level. */
  readonly confidence: number;
}

/**
 * The results of one attack.
 *
 * @public
 */
export interface AttackSummary extends AttackInfo {
  /** One row per epsilon. */
  readonly perEpsilon: readonly EpsilonSummary[];
  /** Wall time spent in the attack, in milliseconds (summed over chunks, shards and resumed runs). */
  readonly timeMs: number;
  /**
   * White-box model passes the attack spent, summed over rows, chunks and shards (forward; backward for
   * gradients): per sample on average, divide by {@link EvaluationResult.n}. Absent for attacks that
   * ran through queries (see `meanQueries`) and in results of runs resumed from a state without them.
   */
  readonly passes?: PassCount;
  /**
   * Minimization attacks: the whole robust-accuracy curve from the minimal perturbations, one point
   * per distinct minimal perturbation (accuracy holds from that epsilon up to the next point), from
   * `epsilon: 0` (clean accuracy).
   */
  readonly curve?: readonly CurvePoint[];
  /**
   * Minimization attacks: empirical robustness ρ̂_adv = mean over the samples it fooled of
   * ‖δ_min‖ / ‖x‖ (Moosavi-Dezfooli et al. 2016, eq. 15), in the evaluation's norm.
   */
  readonly empiricalRobustness?: number;
  /** Minimization attacks: mean and median minimal perturbation over the samples it fooled. */
  readonly minimalPerturbation?: MinimalPerturbation;
}

/**
 * A gradient-masking diagnostic: a reason to distrust the robust accuracies, with its evidence.
 *
 * @public
 */
export interface MaskingWarning {
  /** Stable code. */
  readonly code:
    | 'PROBABILITY_OUTPUT'
    | 'ZERO_GRADIENTS'
    | 'RANDOMIZED_MODEL'
    | 'BLACK_BOX_BEATS_WHITE_BOX'
    | 'UNBOUNDED_NOT_ZERO'
    | 'ACCURACY_INCREASES_WITH_EPSILON'
    | 'ACCURACY_INCREASES_WITH_STEPS'
    | 'STEPS_CANNOT_REACH_EPSILON'
    | 'SELF_TEST_FAILED';
  /** What was seen and what to do about it. */
  readonly message: string;
  /** The measurements behind the warning. */
  readonly evidence: Readonly<Record<string, number | string | boolean | null>>;
}

/**
 * The binarization self-test of the attacks (Zimmermann et al. 2022, {@link binarizationTest}), as
 * results.json and the reports hold it: per attack, how many of the valid tests it passed.
 *
 * @public
 */
export interface SelfTestRecord {
  /** The test: `'binarization'` (Zimmermann et al. 2022). */
  readonly method: 'binarization';
  /** The ε (the largest of the grid) and norm of every test. */
  readonly epsilon: number;
  /** Samples tested (the first ones of the data). */
  readonly samples: number;
  /** The features of the binary readout: the model's penultimate layer (the paper's), or its logits (a weaker test). */
  readonly features: 'penultimate' | 'logits';
  /** Pass rate below which the reports warn (`SELF_TEST_FAILED`). */
  readonly threshold: number;
  /** One entry per attack of the grid. */
  readonly attacks: readonly SelfTestAttackRecord[];
}

/**
 * One attack's binarization self-test ({@link SelfTestRecord}).
 *
 * @public
 */
export interface SelfTestAttackRecord {
  /** The attack's label in the grid. */
  readonly label: string;
  /** Valid tests it passed (found the known adversarial's side within ε). */
  readonly pass: number;
  /** Valid tests it failed. */
  readonly fail: number;
  /** Samples without a valid test (misclassified, or no separable construction). */
  readonly indeterminate: number;
  /** `pass / (pass + fail)` (1 when no test was valid). */
  readonly passRate: number;
  /** 95 % Clopper–Pearson interval of the pass rate. */
  readonly interval: readonly [number, number];
}

/**
 * The result of {@link evaluate} (and of {@link mergeResults}): plain JSON data.
 *
 * @public
 */
export interface EvaluationResult {
  /** Schema version, {@link RESULT_SCHEMA}. */
  readonly schema: typeof RESULT_SCHEMA;
  /** What was run. */
  readonly config: EvaluationConfig;
  /** The slice evaluated (`null`: the whole dataset). */
  readonly shard: ShardSpec | null;
  /** Dataset indices `[start, end)` evaluated. */
  readonly range: readonly [number, number];
  /** Samples evaluated. */
  readonly n: number;
  /** Clean accuracy. */
  readonly cleanAccuracy: number;
  /** 95 % Clopper–Pearson confidence interval of {@link EvaluationResult.cleanAccuracy}. */
  readonly cleanInterval: readonly [number, number];
  /** How every interval of the result was computed (Clopper–Pearson, 95 %; the samples are the trials). */
  readonly intervals: IntervalMethod;
  /** One summary per attack, in order. */
  readonly attacks: readonly AttackSummary[];
  /** Per epsilon, the per-sample worst case over all attacks. */
  readonly ensemble: readonly CurvePoint[];
  /** Gradient-masking diagnostics that fired. */
  readonly warnings: readonly MaskingWarning[];
  /** The attacks' binarization self-test (`advx eval --self-test`), when it ran. */
  readonly selfTest?: SelfTestRecord;
  /** Example adversarials: the first ones found per attack and ε (ordered by attack, ε, index). */
  readonly examples: readonly ExampleRecord[];
  /** Per-sample records, ordered by index. */
  readonly samples: readonly SampleRecord[];
}

/**
 * A labelled dataset to evaluate on.
 *
 * @public
 */
export interface EvaluationData {
  /** Inputs `[n, ...model.inputShape]` inside the model's bounds. */
  readonly x: tf.Tensor;
  /** Labels, int32 `[n]`. */
  readonly labels: tf.Tensor1D;
  /** Name recorded in the result (e.g. `mnist`). */
  readonly name?: string;
}

/**
 * A labelled dataset read one chunk at a time (e.g. an image folder opened by `openDataset` of
 * `@advx/eval/node`): {@link evaluate} reads each chunk when it evaluates it and disposes it, so memory
 * stays bounded by `batchSize` whatever the dataset's size.
 *
 * @public
 */
export interface EvaluationSource {
  /** Number of samples. */
  readonly count: number;
  /** All labels (class indices), int32 `[count]`: checked against the model's classes before any work. */
  readonly labels: Int32Array;
  /** Identifies the data for the state store (a resumed run must read the same data). */
  readonly fingerprint: string;
  /** Name recorded in the result. */
  readonly name?: string;
  /** How the data was read (JSON), recorded as {@link EvaluationConfig.data}. */
  readonly description?: Readonly<Record<string, unknown>>;
  /** Samples `[start, end)`: inputs `[end − start, ...inputShape]` inside the bounds and their labels; the caller disposes both. */
  read(
    start: number,
    end: number,
  ): Promise<{
    /** The inputs of samples `start … end − 1`, `[end − start, ...inputShape]`. */
    readonly x: tf.Tensor;
    /** Their labels, int32 `[end − start]`. */
    readonly labels: tf.Tensor;
  }>;
}

/**
 * The state of a resumable evaluation: the chunks done so far.
 *
 * @public
 */
export interface EvaluationState {
  /** Schema version, {@link RESULT_SCHEMA}. */
  readonly schema: typeof RESULT_SCHEMA;
  /** Identifies the evaluation (configuration, slice and data); a state of another evaluation is refused. */
  readonly fingerprint: string;
  /** Completed chunks, by chunk index. */
  readonly chunks: Readonly<Record<string, ChunkRecord>>;
}

/**
 * What one completed chunk contributed.
 *
 * @public
 */
export interface ChunkRecord {
  /** Its samples. */
  readonly samples: readonly SampleRecord[];
  /** Per attack: milliseconds spent. */
  readonly timeMs: readonly number[];
  /** Per attack: white-box passes spent (`null` for an attack that ran through queries); absent in states written before advx counted them. */
  readonly passes?: readonly (PassCount | null)[];
  /** Examples found in the chunk (at most {@link EvaluationConfig.examples} per attack and ε). */
  readonly examples: readonly ExampleRecord[];
}

/**
 * Where a resumable evaluation keeps its state: {@link memoryStateStore}, or a file with
 * `fileStateStore` of `@advx/eval/node`.
 *
 * @public
 */
export interface StateStore {
  /** The saved state, or `undefined` when there is none. */
  load(): Promise<EvaluationState | undefined>;
  /** Saves the state (called after every completed chunk). */
  save(state: EvaluationState): Promise<void>;
}

/**
 * Options of {@link evaluate}.
 *
 * @public
 */
export interface EvaluateOptions {
  /** The white-box model. Black-box attacks get it through `toQueryModel`, so their queries are counted. */
  readonly model: Model;
  /** The labelled data: tensors, or a source read chunk by chunk. */
  readonly data: EvaluationData | EvaluationSource;
  /** The attacks. */
  readonly attacks: readonly AttackInput[];
  /** Perturbation radii > 0 (sorted ascending in the result). */
  readonly epsilons: readonly number[];
  /** Norm of the epsilons (default `'linf'`); every attack must support it. */
  readonly norm?: NormName;
  /** Samples per chunk (default 128): the unit of batching, of checkpoints and of shards. */
  readonly batchSize?: number;
  /** Base seed (default 0); each chunk's attacks get a seed derived from it and the chunk's position. */
  readonly seed?: number;
  /** How attacks combine (default `'independent'`). */
  readonly mode?: EnsembleMode;
  /** Evaluate only slice `index` of `count` (contiguous runs of whole chunks). */
  readonly shard?: ShardSpec;
  /** Keeps completed chunks so that an interrupted run continues where it stopped. */
  readonly state?: StateStore;
  /** Stops the run (throws `AdvxError` `ABORTED`); completed chunks stay in `state`. */
  readonly signal?: AbortSignal;
  /** Called as the run progresses. */
  readonly onProgress?: (progress: EvaluationProgress) => void;
  /** Gradient-masking diagnostics: `false` to skip them, or thresholds (default: on, with the defaults). */
  readonly diagnostics?: boolean | DiagnosticsOptions;
  /**
   * Example adversarials to keep per attack and ε for reports (default 0): the first successes at each
   * ε; a minimization attack keeps its unrestricted minimal adversarials (`epsilon: null`) instead.
   */
  readonly examples?: number;
  /** Model name recorded in the result (e.g. a zoo id). */
  readonly modelId?: string;
  /** The named ensemble the attacks come from ({@link autoAttack}'s preset sets it); recorded in `config.ensemble`. */
  readonly ensemble?: EnsembleInfo;
  /**
   * A per-sample budget of white-box passes (forward plus backward, per ε) for every white-box attack:
   * `RunOptions.maxPasses` of `@advx/core`, so attacks compare at equal cost as in AttackBench. Default:
   * none; black-box attacks keep their own query settings, and dataset-level attacks (`meta.scope:
   * 'dataset'`, such as `universal-perturbation`), which fit one perturbation on a whole chunk, run
   * without it.
   */
  readonly maxPasses?: number;
}

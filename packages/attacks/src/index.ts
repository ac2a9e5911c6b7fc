/**
 * `@advx/attacks`: adversarial attacks on the `@advx/core` base. One file per method; each exports
 * one factory and its options type.
 *
 * @packageDocumentation
 */
export { adversarialPatch, type AdversarialPatchOptions } from './adversarial-patch.js';
export { applyPatch, type PatchPosition } from './patch-geometry.js';
export {
  evaluatePatch,
  trainPatch,
  type EvaluatePatchOptions,
  type PatchData,
  type PatchEvaluation,
  type TrainedPatch,
  type TrainPatchOptions,
} from './train-patch.js';
export { apgd, apgdCe, apgdDlr, type ApgdOptions, type ApgdPresetOptions } from './apgd.js';
export { apgdT, type ApgdTOptions } from './apgd-t.js';
export { bim, type BimOptions } from './bim.js';
export { boundaryAttack, type BoundaryAttackOptions } from './boundary-attack.js';
export { carliniWagnerL2, type CarliniWagnerL2Options } from './carlini-wagner-l2.js';
export { ddn, type DdnOptions } from './ddn.js';
export { deepfool, type DeepFoolOptions } from './deepfool.js';
export { ead, type EadOptions } from './ead.js';
export { fab, fabT, type FabOptions, type FabTOptions } from './fab.js';
export type { EstimatedGradientOptions } from './internal/estimated-steps.js';
export {
  eot,
  evaluateUnderTransforms,
  sampleTransforms,
  transformImages,
  type EotModel,
  type EotOptions,
  type TransformDistribution,
  type TransformEvaluation,
  type TransformParams,
} from './eot.js';
export { fgsm, type FgsmOptions } from './fgsm.js';
export { finiteDifferences, type FiniteDifferencesOptions } from './finite-differences.js';
export { fmn, type FmnOptions } from './fmn.js';
export { foolingImages, type FoolingImagesOptions, type FoolingImagesResult } from './fooling-images.js';
export { hopSkipJump, type HopSkipJumpOptions } from './hop-skip-jump.js';
export { jsma, type JsmaOptions, type JsmaPairSearch } from './jsma.js';
export { latentAttack, type EncoderDecoder, type LatentAttackOptions, type LatentAttackResult } from './latent-attack.js';
export { miFgsm, type MiFgsmOptions } from './mi-fgsm.js';
export { nes, type NesOptions } from './nes.js';
export { onePixel, type OnePixelOptions } from './one-pixel.js';
export { pgd, type PgdOptions } from './pgd.js';
export { simba, type SimbaOptions } from './simba.js';
export { spsa, type SpsaOptions } from './spsa.js';
export { square, type SquareOptions } from './square.js';
export { trainSubstitute, type Substitute, type TrainSubstituteOptions } from './substitute-training.js';
export { substituteTransfer, type SubstituteTransferOptions } from './substitute-transfer.js';
export { universalPatch, type UniversalPatchOptions } from './universal-patch.js';
export {
  foolingRate,
  universal,
  universalPerturbation,
  type UniversalOptions,
  type UniversalPerturbationOptions,
  type UniversalPerturbationResult,
} from './universal-perturbation.js';

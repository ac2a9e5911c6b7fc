/**
 * `@advx/core/plugin`: the pieces every method outside the attack base needs (dataset-level
 * functions, defenses, detectors, training loops, evaluation): abort and progress checkpoints,
 * chunked passes, disposable results, one Adam step and image shapes. Inside `defineAttack` the
 * context offers the same services; option schemas (`option`, `resolveOptions`, `defineFactory`)
 * and `predictClasses` are in `@advx/core` itself.
 *
 * @packageDocumentation
 */
export { adamStep, type AdamState } from './adam.js';
export { abortedError, CHECKPOINT_OPTIONS, makeCheckpoint, yieldToEventLoop, type Checkpoint, type CheckpointOptions } from './checkpoint.js';
export { forEachChunk } from './chunks.js';
export { disposable, type Disposable } from './disposable.js';
export { asNhwc, imageShapeOf, type ImageShape } from './image-shape.js';

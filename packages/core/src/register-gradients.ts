/**
 * Registers tfjs-core's gradient definitions in tfjs's global gradient registry.
 *
 * tfjs-core's Node (CommonJS) entry registers no gradients, so `tf.grad` fails there unless the
 * `@tensorflow/tfjs` union package was loaded. Importing `@advx/core` imports this module once;
 * registering twice is harmless (the registry is a global map keyed by kernel name).
 *
 * @packageDocumentation
 */
import '@tensorflow/tfjs-core/dist/register_all_gradients';

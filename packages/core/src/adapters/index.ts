/**
 * Model adapters: wrap a tfjs `LayersModel`, `GraphModel` or plain function as an advx `Model`
 * (white-box), and turn a `Model` into a budgeted `QueryModel` (black-box).
 *
 * @packageDocumentation
 */
export { fromLayersModel, type FromLayersModelOptions } from './from-layers-model.js';
export { fromGraphModel, type FromGraphModelOptions } from './from-graph-model.js';
export { fromFunction, type FromFunctionOptions } from './from-function.js';
export { toQueryModel, type ToQueryModelOptions, type BudgetedQueryModel } from './to-query-model.js';
export type { NormalizeOptions, ModelOutput } from './make-model.js';
export type { GraphModelLike, GraphTensorInfoLike, LayerLike, LayersModelLike, SymbolicTensorLike } from './model-like.js';

export { inspectBeforeAttacks, inspectionSummary } from './inspect-before-attacks.js';
export { inspectModel, type ModelInspection } from './inspect-model.js';
export { loadUserModel } from './load-user-model.js';
export { parseModelFlags, type ModelFlags } from './parse-model-flags.js';
export { readLabels } from './read-labels.js';
export type { LoadUserModelOptions, UserModel, UserModelDescription, UserModelFormat } from './types.js';

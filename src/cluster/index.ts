// HDBSCAN and GLOSH (see hdbscan.ts and predict.ts for the definitions and the reference they follow).
export { hdbscan, fitFromCondensedTree, checkPoints, effectiveMinSamples } from './hdbscan.js';
export type { HdbscanOptions, HdbscanResult } from './hdbscan.js';
export type { CondensedTree, ClusterInfo, GloshMode, SelectionMethod } from './hierarchy.js';
export {
  NewPointScorer,
  ExactRefitScorer,
  scoreNewPoints,
  approximatePredict,
  approximatePredictScores,
} from './predict.js';
export type { NewPointScores } from './predict.js';
export { numpyArgsort } from './argsort.js';

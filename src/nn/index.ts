// src/nn: reverse-mode autodiff over matrices, layers, losses, Adam, safetensors weight files.
export { Tensor, Tape, type TapeOptions } from './tensor.js';
export { huberLoss, mseLoss, standardNormalLogProb, meanStandardNormalLogProb } from './losses.js';
export {
  Dense,
  MaskedDense,
  MLP,
  parametersToSafetensors,
  loadParametersFromSafetensors,
  type Init,
  type Module,
  type DenseOptions,
  type MLPOptions,
} from './layers.js';
export { Adam, gradNorm, clipGradNorm, type AdamOptions } from './adam.js';
export {
  encodeSafetensors,
  decodeSafetensors,
  saveSafetensors,
  loadSafetensors,
  sha256Bytes,
  sha256File,
  type SafetensorsDtype,
  type SafeTensor,
  type SafetensorsContent,
  type TypedArray,
} from './safetensors.js';

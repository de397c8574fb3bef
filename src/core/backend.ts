import type { Kernels } from './kernels.js';
import { tsKernels } from './kernels-ts.js';

/**
 * The kernels the library computes with. Until the wasm kernels are wired in this returns the
 * plain-TypeScript twins; FLUXMUT_KERNELS=ts forces them (for debugging and parity checks).
 */
export function getKernels(): Kernels {
  return tsKernels;
}

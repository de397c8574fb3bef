import type { Kernels } from './kernels.js';
import { tsKernels } from './kernels-ts.js';
import { wasmKernels } from './wasm.js';
import { ExitCode, FluxmutError } from './errors.js';

let chosen: Kernels | null = null;

/**
 * The kernels the library computes with: the WebAssembly SIMD kernels, or the plain-TypeScript
 * twins when the environment variable FLUXMUT_KERNELS=ts (for debugging and parity checks).
 * The variable is read once, on the first call.
 */
export function getKernels(): Kernels {
  if (chosen === null) {
    const want = (process.env.FLUXMUT_KERNELS ?? 'wasm').trim().toLowerCase();
    if (want === 'ts') chosen = tsKernels;
    else if (want === 'wasm' || want === '') chosen = wasmKernels;
    else throw new FluxmutError(`FLUXMUT_KERNELS must be "wasm" or "ts", got "${process.env.FLUXMUT_KERNELS}"`, ExitCode.Usage);
  }
  return chosen;
}

import { ExitCode, FluxmutError } from './errors.js';

// Shape checks shared by both kernel implementations. A short array is a bug in the caller, not
// bad user data, so the error carries ExitCode.Internal; without the check the TS twin would read
// `undefined` (NaN) and the wasm kernels stale scratch memory: a silent wrong number either way.

export function checkDims(op: string, dims: Record<string, number>): void {
  for (const [name, v] of Object.entries(dims)) {
    if (!Number.isInteger(v) || v < 0) throw new FluxmutError(`${op}: ${name} must be a non-negative integer, got ${v}`, ExitCode.Internal);
  }
}

export function checkLength(op: string, name: string, arr: ArrayLike<number>, need: number, shape: string): void {
  if (arr.length < need) {
    throw new FluxmutError(`${op}: ${name} has ${arr.length} values, needs at least ${need} (${shape})`, ExitCode.Internal);
  }
}

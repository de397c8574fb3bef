// Placeholder; the SIMD kernels land here.
export function ping(x: i32): i32 { return x + 1; }

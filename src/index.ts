// The public entry point of the fluxmut library.
export { Matrix } from './core/matrix.js';
export { Rng } from './core/rng.js';
export { FluxmutError, ExitCode } from './core/errors.js';
export { VERSION } from './version.js';
export * as simulate from './data/simulate/index.js';

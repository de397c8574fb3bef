export * from './calibration.js';
export * from './normalise.js';
export * from './score.js';
export * from './table.js';
export * from './fidelity.js';

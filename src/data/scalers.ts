/**
 * Preprocessing of the paper's sec. 3: features standardised with the training mean/std,
 * conditions min-max scaled to (0,1) over the training range (the flow needs bounded conditions to
 * converge). Both work column-wise on row-major Float64Array or Float32Array blocks, are fitted on
 * training rows only, and serialise into model.json.
 */
import { ExitCode, FluxmutError } from '../core/errors.js';

type Block = Float64Array | Float32Array;

function colsOf(data: Block, cols: number, what: string): number {
  if (!Number.isInteger(cols) || cols <= 0 || data.length % cols !== 0) {
    throw new RangeError(`${what}: data length ${data.length} is not a multiple of ${cols} columns`);
  }
  return data.length / cols;
}

function sameKind<T extends Block>(data: T, n: number): T {
  return (data instanceof Float32Array ? new Float32Array(n) : new Float64Array(n)) as T;
}

function checkFitted(n: number | undefined, cols: number, what: string): number {
  if (n === undefined) throw new Error(`${what}: transform before fit`);
  if (cols !== n) throw new RangeError(`${what}: fitted on ${n} columns, got ${cols}`);
  return n;
}

/** Finite number arrays from JSON, or a BadModel error naming the field. */
function numbers(o: Record<string, unknown>, key: string, where: string, n?: number): number[] {
  const v = o[key];
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'number' && Number.isFinite(x))) {
    throw new FluxmutError(`${where}: scaler field '${key}' must be a list of finite numbers.`, ExitCode.BadModel);
  }
  if (n !== undefined && v.length !== n) {
    throw new FluxmutError(`${where}: scaler field '${key}' has ${v.length} entries, expected ${n}.`, ExitCode.BadModel);
  }
  return v as number[];
}

function objectOf(obj: unknown, type: string, where: string): Record<string, unknown> {
  if (typeof obj !== 'object' || obj === null || (obj as { type?: unknown }).type !== type) {
    throw new FluxmutError(`${where}: expected a scaler of type '${type}'.`, ExitCode.BadModel);
  }
  return obj as Record<string, unknown>;
}

function namesOf(o: Record<string, unknown>, where: string, n: number): string[] | undefined {
  const v = o.names;
  if (v === undefined) return undefined;
  if (!Array.isArray(v) || v.length !== n || !v.every((s) => typeof s === 'string')) {
    throw new FluxmutError(`${where}: scaler field 'names' must list ${n} column names.`, ExitCode.BadModel);
  }
  return v as string[];
}

export interface StandardScalerJSON {
  type: 'standard';
  names?: string[];
  mean: number[];
  std: number[];
  /** Columns whose training std was zero: they are centred only (std kept at 1). */
  constant: boolean[];
}

/** z = (x - mean) / std with the population std (ddof = 0, as scikit-learn's StandardScaler). */
export class StandardScaler {
  mean: Float64Array = new Float64Array(0);
  std: Float64Array = new Float64Array(0);
  constant: boolean[] = [];
  names?: string[];
  private n?: number;

  get cols(): number | undefined {
    return this.n;
  }

  fit(data: Block, cols: number, names?: string[]): this {
    const rows = colsOf(data, cols, 'StandardScaler.fit');
    if (rows === 0) throw new FluxmutError('StandardScaler: no training rows to fit on.');
    const mean = new Float64Array(cols);
    const std = new Float64Array(cols);
    // Two passes (mean, then squared deviations): stable where the one-pass formula cancels.
    for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) mean[j] += data[i * cols + j];
    for (let j = 0; j < cols; j++) mean[j] /= rows;
    for (let i = 0; i < rows; i++) {
      for (let j = 0; j < cols; j++) {
        const d = data[i * cols + j] - mean[j];
        std[j] += d * d;
      }
    }
    this.constant = [];
    for (let j = 0; j < cols; j++) {
      std[j] = Math.sqrt(std[j] / rows);
      // A constant column's computed std is 0 or rounding noise around its mean: treat both as
      // zero and keep scale 1, like scikit-learn's handling of zeros in scale.
      const isConst = !(std[j] > 10 * Number.EPSILON * Math.max(Math.abs(mean[j]), Number.MIN_VALUE));
      this.constant.push(isConst);
      if (isConst) std[j] = 1;
    }
    this.mean = mean;
    this.std = std;
    this.n = cols;
    this.names = names?.slice();
    return this;
  }

  transform<T extends Block>(data: T, cols: number = this.n ?? 0): T {
    const n = checkFitted(this.n, cols, 'StandardScaler');
    const rows = colsOf(data, n, 'StandardScaler.transform');
    const out = sameKind(data, data.length);
    for (let i = 0; i < rows; i++) {
      for (let j = 0; j < n; j++) out[i * n + j] = (data[i * n + j] - this.mean[j]) / this.std[j];
    }
    return out;
  }

  inverseTransform<T extends Block>(data: T, cols: number = this.n ?? 0): T {
    const n = checkFitted(this.n, cols, 'StandardScaler');
    const rows = colsOf(data, n, 'StandardScaler.inverseTransform');
    const out = sameKind(data, data.length);
    for (let i = 0; i < rows; i++) {
      for (let j = 0; j < n; j++) out[i * n + j] = data[i * n + j] * this.std[j] + this.mean[j];
    }
    return out;
  }

  toJSON(): StandardScalerJSON {
    checkFitted(this.n, this.n ?? 0, 'StandardScaler');
    const j: StandardScalerJSON = {
      type: 'standard',
      mean: Array.from(this.mean),
      std: Array.from(this.std),
      constant: this.constant.slice(),
    };
    if (this.names !== undefined) j.names = this.names.slice();
    return j;
  }

  static fromJSON(obj: unknown, where = 'model.json'): StandardScaler {
    const o = objectOf(obj, 'standard', where);
    const mean = numbers(o, 'mean', where);
    const std = numbers(o, 'std', where, mean.length);
    if (!std.every((s) => s > 0)) throw new FluxmutError(`${where}: scaler std must be positive.`, ExitCode.BadModel);
    const c = o.constant;
    if (!Array.isArray(c) || c.length !== mean.length || !c.every((b) => typeof b === 'boolean')) {
      throw new FluxmutError(`${where}: scaler field 'constant' must list ${mean.length} booleans.`, ExitCode.BadModel);
    }
    const s = new StandardScaler();
    s.mean = Float64Array.from(mean);
    s.std = Float64Array.from(std);
    s.constant = (c as boolean[]).slice();
    s.names = namesOf(o, where, mean.length);
    s.n = mean.length;
    return s;
  }
}

export interface MinMaxScalerJSON {
  type: 'minmax';
  names?: string[];
  min: number[];
  max: number[];
}

export interface OutOfRange {
  /** 1 where any column of the row lies outside the training range. */
  mask: Uint8Array;
  count: number;
  /** The first offending row (0-based) and column, for the warning; absent when none. */
  first?: { row: number; col: number; name?: string; value: number; min: number; max: number };
}

/**
 * u = (x - min) / (max - min) over the training range, so training values land in [0, 1]; a
 * constant column maps to 0.5 (the middle of the range the flow sees) and back to its value.
 */
export class MinMaxScaler {
  min: Float64Array = new Float64Array(0);
  max: Float64Array = new Float64Array(0);
  names?: string[];
  private n?: number;

  get cols(): number | undefined {
    return this.n;
  }

  fit(data: Block, cols: number, names?: string[]): this {
    const rows = colsOf(data, cols, 'MinMaxScaler.fit');
    if (rows === 0) throw new FluxmutError('MinMaxScaler: no training rows to fit on.');
    const min = new Float64Array(cols).fill(Infinity);
    const max = new Float64Array(cols).fill(-Infinity);
    for (let i = 0; i < rows; i++) {
      for (let j = 0; j < cols; j++) {
        const v = data[i * cols + j];
        if (v < min[j]) min[j] = v;
        if (v > max[j]) max[j] = v;
      }
    }
    this.min = min;
    this.max = max;
    this.n = cols;
    this.names = names?.slice();
    return this;
  }

  transform<T extends Block>(data: T, cols: number = this.n ?? 0): T {
    const n = checkFitted(this.n, cols, 'MinMaxScaler');
    const rows = colsOf(data, n, 'MinMaxScaler.transform');
    const out = sameKind(data, data.length);
    for (let j = 0; j < n; j++) {
      const lo = this.min[j];
      const span = this.max[j] - lo;
      for (let i = 0; i < rows; i++) out[i * n + j] = span > 0 ? (data[i * n + j] - lo) / span : 0.5;
    }
    return out;
  }

  inverseTransform<T extends Block>(data: T, cols: number = this.n ?? 0): T {
    const n = checkFitted(this.n, cols, 'MinMaxScaler');
    const rows = colsOf(data, n, 'MinMaxScaler.inverseTransform');
    const out = sameKind(data, data.length);
    for (let j = 0; j < n; j++) {
      const lo = this.min[j];
      const span = this.max[j] - lo;
      for (let i = 0; i < rows; i++) out[i * n + j] = span > 0 ? lo + data[i * n + j] * span : lo;
    }
    return out;
  }

  /**
   * Which rows (raw, unscaled values) fall outside the training range in any column. `tolerance`
   * widens the range by that fraction of its span on each side (0: exact training min/max).
   */
  outOfRange(data: Block, cols: number = this.n ?? 0, tolerance = 0): OutOfRange {
    const n = checkFitted(this.n, cols, 'MinMaxScaler');
    const rows = colsOf(data, n, 'MinMaxScaler.outOfRange');
    const mask = new Uint8Array(rows);
    let count = 0;
    let first: OutOfRange['first'];
    for (let i = 0; i < rows; i++) {
      for (let j = 0; j < n; j++) {
        const v = data[i * n + j];
        const pad = tolerance * (this.max[j] - this.min[j]);
        // Written so that NaN counts as out of range.
        if (!(v >= this.min[j] - pad && v <= this.max[j] + pad)) {
          if (first === undefined) {
            first = { row: i, col: j, value: v, min: this.min[j], max: this.max[j] };
            if (this.names !== undefined) first.name = this.names[j];
          }
          if (!mask[i]) count++;
          mask[i] = 1;
        }
      }
    }
    return first === undefined ? { mask, count } : { mask, count, first };
  }

  toJSON(): MinMaxScalerJSON {
    checkFitted(this.n, this.n ?? 0, 'MinMaxScaler');
    const j: MinMaxScalerJSON = { type: 'minmax', min: Array.from(this.min), max: Array.from(this.max) };
    if (this.names !== undefined) j.names = this.names.slice();
    return j;
  }

  static fromJSON(obj: unknown, where = 'model.json'): MinMaxScaler {
    const o = objectOf(obj, 'minmax', where);
    const min = numbers(o, 'min', where);
    const max = numbers(o, 'max', where, min.length);
    for (let j = 0; j < min.length; j++) {
      if (!(max[j] >= min[j])) throw new FluxmutError(`${where}: scaler column ${j} has max < min.`, ExitCode.BadModel);
    }
    const s = new MinMaxScaler();
    s.min = Float64Array.from(min);
    s.max = Float64Array.from(max);
    s.names = namesOf(o, where, min.length);
    s.n = min.length;
    return s;
  }
}

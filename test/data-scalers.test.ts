import { describe, expect, it } from 'vitest';
import { ExitCode, FluxmutError } from '../src/core/errors.js';
import { Rng } from '../src/core/rng.js';
import { MinMaxScaler, StandardScaler } from '../src/data/index.js';

describe('StandardScaler', () => {
  // Column 0: 1, 2, 3, 6 -> mean 3, population variance (4 + 1 + 0 + 9) / 4 = 3.5.
  // Column 1: constant 10 -> centred only, std kept at 1 and flagged.
  const x = new Float64Array([1, 10, 2, 10, 3, 10, 6, 10]);

  it('fits mean and population std by hand, keeps std 1 for a constant column', () => {
    const s = new StandardScaler().fit(x, 2, ['a', 'b']);
    expect(Array.from(s.mean)).toEqual([3, 10]);
    expect(s.std[0]).toBeCloseTo(Math.sqrt(3.5), 15);
    expect(s.std[1]).toBe(1);
    expect(s.constant).toEqual([false, true]);
    const z = s.transform(x);
    const r = Math.sqrt(3.5);
    const want = [-2 / r, 0, -1 / r, 0, 0, 0, 3 / r, 0];
    z.forEach((v, i) => expect(v).toBeCloseTo(want[i], 14));
  });

  it('flags a constant column whose mean is inexact in floating point', () => {
    // 0.1 * 3 / 3 != 0.1 exactly: the deviations are rounding noise, not spread.
    const s = new StandardScaler().fit(new Float64Array([0.1, 0.1, 0.1]), 1);
    expect(s.constant).toEqual([true]);
    expect(s.std[0]).toBe(1);
  });

  it('inverse round trip on random data, Float64 and Float32, and JSON round trip', () => {
    const rng = new Rng(7);
    const d = new Float64Array(500 * 3);
    rng.fillNormal(d);
    for (let i = 0; i < 500; i++) d[i * 3 + 1] = 1000 + 50 * d[i * 3 + 1];
    const s = new StandardScaler().fit(d, 3);
    const z = s.transform(d);
    // Standardised columns have mean 0 and population std 1.
    for (let j = 0; j < 3; j++) {
      let m = 0;
      let v = 0;
      for (let i = 0; i < 500; i++) m += z[i * 3 + j] / 500;
      for (let i = 0; i < 500; i++) v += (z[i * 3 + j] - m) ** 2 / 500;
      expect(Math.abs(m)).toBeLessThan(1e-12);
      expect(v).toBeCloseTo(1, 12);
    }
    const back = s.inverseTransform(z);
    back.forEach((v, i) => expect(Math.abs(v - d[i])).toBeLessThan(1e-12 * Math.max(1, Math.abs(d[i]))));

    const f = Float32Array.from(d);
    const zf = s.transform(f);
    expect(zf).toBeInstanceOf(Float32Array);
    const bf = s.inverseTransform(zf);
    bf.forEach((v, i) => expect(Math.abs(v - f[i])).toBeLessThan(1e-5 * Math.max(1, Math.abs(f[i]))));

    const s2 = StandardScaler.fromJSON(JSON.parse(JSON.stringify(s.toJSON())));
    expect(Array.from(s2.transform(d))).toEqual(Array.from(z));
  });

  it('rejects malformed JSON as BadModel and shape mismatches as errors', () => {
    for (const bad of [null, { type: 'minmax' }, { type: 'standard', mean: [0], std: [0], constant: [false] }, { type: 'standard', mean: [0, 1], std: [1], constant: [false, false] }]) {
      let err: unknown;
      try {
        StandardScaler.fromJSON(bad, 'model.json');
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(FluxmutError);
      expect((err as FluxmutError).exitCode).toBe(ExitCode.BadModel);
    }
    const s = new StandardScaler().fit(x, 2);
    expect(() => s.transform(new Float64Array(3), 3)).toThrow(RangeError);
    expect(() => new StandardScaler().fit(new Float64Array(0), 2)).toThrow(FluxmutError);
  });
});

describe('MinMaxScaler', () => {
  // Column 0 spans [0, 10]; column 1 is constant 5 -> maps to 0.5 and back to 5.
  const k = new Float64Array([0, 5, 10, 5, 5, 5, 2.5, 5]);

  it('maps the training range onto [0, 1] by hand and constant columns to 0.5', () => {
    const s = new MinMaxScaler().fit(k, 2, ['E', 'z']);
    expect(Array.from(s.min)).toEqual([0, 5]);
    expect(Array.from(s.max)).toEqual([10, 5]);
    expect(Array.from(s.transform(k))).toEqual([0, 0.5, 1, 0.5, 0.5, 0.5, 0.25, 0.5]);
    expect(Array.from(s.inverseTransform(new Float64Array([0.75, 0.5, 0, 0.9])))).toEqual([7.5, 5, 0, 5]);
  });

  it('inverse round trip on random data and JSON round trip', () => {
    const rng = new Rng(3);
    const d = new Float64Array(300 * 2);
    rng.fillUniform(d);
    for (let i = 0; i < d.length; i++) d[i] = i % 2 ? 0.2 + 9 * d[i] : -40 + 80 * d[i];
    const s = new MinMaxScaler().fit(d, 2);
    const u = s.transform(d);
    expect(Math.min(...u)).toBe(0);
    expect(Math.max(...u)).toBe(1);
    s.inverseTransform(u).forEach((v, i) => expect(Math.abs(v - d[i])).toBeLessThan(1e-13 * Math.max(1, Math.abs(d[i]))));
    const s2 = MinMaxScaler.fromJSON(JSON.parse(JSON.stringify(s.toJSON())));
    expect(Array.from(s2.transform(d))).toEqual(Array.from(u));
  });

  it('outOfRange flags rows with any condition outside the training range (NaN included)', () => {
    const s = new MinMaxScaler().fit(new Float64Array([0, 1, 10, 3]), 2, ['E', 'z']);
    // Rows: inside; E low; z high; both edges exactly (inside); NaN.
    const q = new Float64Array([5, 2, -0.5, 2, 5, 3.5, 0, 3, 10, 1, NaN, 2]);
    const r = s.outOfRange(q);
    expect(Array.from(r.mask)).toEqual([0, 1, 1, 0, 0, 1]);
    expect(r.count).toBe(3);
    expect(r.first).toEqual({ row: 1, col: 0, name: 'E', value: -0.5, min: 0, max: 10 });
    // A tolerance of 10% of the span (1 for E, 0.2 for z) readmits E = -0.5 but not z = 3.5.
    expect(Array.from(s.outOfRange(q, 2, 0.1).mask)).toEqual([0, 0, 1, 0, 0, 1]);
    const none = s.outOfRange(new Float64Array([1, 1]));
    expect(none.count).toBe(0);
    expect(none.first).toBeUndefined();
  });

  it('rejects malformed JSON as BadModel', () => {
    for (const bad of [{ type: 'minmax', min: [1], max: [0] }, { type: 'minmax', min: [0], max: [1, 2] }, { type: 'minmax', min: [NaN], max: [1] }]) {
      expect(() => MinMaxScaler.fromJSON(bad)).toThrow(FluxmutError);
    }
  });
});

import { describe, it, expect, beforeAll } from 'vitest';
import { Rng } from '../src/core/rng.js';
import { makeTable, numberColumn } from '../src/data/table.js';
import { trainFlux, type FluxModel } from '../src/flux/model.js';
import { heldOutLevels } from '../src/mutability/calibration.js';
import { scoreObjects, type ScoreOptions } from '../src/mutability/score.js';

// A conditional 3-D Gaussian reference class: x = (k + e1, 0.5 k + e2, e3) with noise scale s.
function draw(n: number, s: number, rng: Rng): { x: Float64Array; k: Float64Array } {
  const x = new Float64Array(n * 3);
  const k = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const c = rng.uniform();
    k[i] = c;
    x[i * 3] = c + s * rng.normal();
    x[i * 3 + 1] = 0.5 * c + s * rng.normal();
    x[i * 3 + 2] = s * 0.7 * rng.normal();
  }
  return { x, k };
}

describe('held-out calibration of the quantile cut (scoreObjects with calibration rows)', () => {
  let model: FluxModel;
  beforeAll(() => {
    const { x, k } = draw(1500, 0.3, new Rng(1));
    const cols = ['a', 'b', 'c'].map((name, j) => numberColumn(name, Float64Array.from({ length: 1500 }, (_, i) => x[i * 3 + j])));
    const table = makeTable([...cols, numberColumn('k', k)], 'gauss.csv');
    model = trainFlux(table, {
      features: ['a', 'b', 'c'], conditions: ['k'], space: 'features', seed: 3,
      cae: { epochs: 6, hidden: [16], latent: 2 }, cmaf: { epochs: 10, layers: 2, hidden: [24, 24] }, bank: { minPerBin: 50 },
    });
  }, 120_000);

  const opts: ScoreOptions = { mode: 'cached', nRef: 300, minClusterSize: 150, minSamples: 15, quantiles: [0.68, 0.9], seed: 5 };

  it('restores TPR = q on a reference class wider than the model learnt, where the generated cut fails', () => {
    // Calibration and test rows are exchangeable draws of a class 1.6x wider than the training rows:
    // the generated reference clusters are too narrow for them, as for an overfit flow.
    const cal = draw(1000, 0.48, new Rng(7));
    const test = draw(1000, 0.48, new Rng(8));
    for (const scorer of ['glosh', 'density'] as const) {
      const plain = scoreObjects(model, test.x, test.k, 1000, { ...opts, scorer });
      const held = scoreObjects(model, test.x, test.k, 1000, { ...opts, scorer, calibration: { ...cal, n: 1000, source: 'cal.csv' } });
      expect(held.calibration.kind).toBe('held-out');
      expect(plain.calibration.kind).toBe('generated');
      [0.68, 0.9].forEach((q, j) => {
        const tpr = (s: typeof plain) => 1 - s.isOutlier[j].reduce((a, b) => a + b, 0) / 1000;
        // Calibration noise and test noise, each about sqrt(q(1-q)/1000).
        const se = Math.sqrt((2 * q * (1 - q)) / 1000);
        expect(Math.abs(tpr(held) - q), `${scorer} q=${q} held-out TPR ${tpr(held)}`).toBeLessThan(4 * se);
        expect(q - tpr(plain), `${scorer} q=${q} generated-cut TPR ${tpr(plain)}`).toBeGreaterThan(8 * se);
      });
    }
  });

  for (const mode of ['cached', 'exact'] as const) {
    it(`${mode} mode: the objects' p-values do not depend on the calibration rows; decisions and thresholds follow the levels`, () => {
      const n = mode === 'exact' ? 12 : 200;
      const m = mode === 'exact' ? 30 : 300;
      const small: ScoreOptions = mode === 'exact' ? { ...opts, mode, nRef: 120, minClusterSize: 60, minSamples: 8 } : opts;
      const test = draw(n, 0.4, new Rng(9));
      const cal = draw(m, 0.4, new Rng(10));
      const plain = scoreObjects(model, test.x, test.k, n, small);
      const held = scoreObjects(model, test.x, test.k, n, { ...small, calibration: { ...cal, n: m } });
      expect(Array.from(held.outlierScore)).toEqual(Array.from(plain.outlierScore));
      expect(Array.from(held.pValue)).toEqual(Array.from(plain.pValue));
      if (held.calibration.kind !== 'held-out') throw new Error('expected held-out calibration');
      expect(held.calibration.rows).toBe(m);
      expect(held.levels).toEqual(heldOutLevels(held.calibration.pValues, [0.68, 0.9]));
      expect(plain.levels).toEqual([0.68, 0.9]);
      held.levels.forEach((level, j) => {
        for (let i = 0; i < n; i++) {
          expect(held.isOutlier[j][i]).toBe(held.pValue[i] > level ? 1 : 0);
          if (held.outlierScore[i] > held.thresholds[j][i]) expect(held.isOutlier[j][i]).toBe(1);
        }
      });
    }, 60_000);
  }

  it('warns when the calibration rows are the training rows (same conditions to the last bit), not otherwise', () => {
    const train = draw(1500, 0.3, new Rng(1)); // the very rows the model was trained on
    const test = draw(50, 0.3, new Rng(12));
    const warnings: string[] = [];
    scoreObjects(model, test.x, test.k, 50, { ...opts, calibration: { ...train, n: 1500, source: 'train.csv' }, onWarning: (m) => warnings.push(m) });
    expect(warnings.join('\n')).toMatch(/train\.csv: 1500 of 1500 calibration rows have exactly the conditions of a row the model was trained on/);
    const fresh = draw(300, 0.3, new Rng(13));
    const none: string[] = [];
    scoreObjects(model, test.x, test.k, 50, { ...opts, calibration: { ...fresh, n: 300 }, onWarning: (m) => none.push(m) });
    expect(none.filter((m) => m.includes('trained on'))).toEqual([]);
  });

  it('refuses calibration rows of the wrong shape, naming them', () => {
    const test = draw(5, 0.3, new Rng(11));
    expect(() => scoreObjects(model, test.x, test.k, 5, { ...opts, calibration: { x: new Float64Array(4), k: new Float64Array(2), n: 2, source: 'cal.csv' } }))
      .toThrow(/cal\.csv: calibration rows: expected 2 x 3 feature values/);
  });
});

import { describe, it, expect, beforeAll } from 'vitest';
import { Rng } from '../src/core/rng.js';
import { makeTable, numberColumn } from '../src/data/table.js';
import { trainFlux, type FluxModel } from '../src/flux/model.js';
import { ksPValue, ksStatistic, referenceFidelity } from '../src/mutability/fidelity.js';

/** Reference class with kinematics-dependent, skewed features: the generator must follow k. */
function reference(rng: Rng, n: number) {
  const cols = { e: new Float64Array(n), pos: new Float64Array(n), a: new Float64Array(n), b: new Float64Array(n), c: new Float64Array(n) };
  for (let i = 0; i < n; i++) {
    const e = 0.5 + 1.5 * rng.uniform();
    const pos = 100 * rng.uniform();
    const g = -Math.log(1 - rng.uniform()) - Math.log(1 - rng.uniform()); // Gamma(2): a skewed feature
    cols.e[i] = e;
    cols.pos[i] = pos;
    cols.a[i] = e + 0.3 * Math.sqrt(e) * rng.normal();
    cols.b[i] = 0.02 * pos + 0.5 * g;
    cols.c[i] = 0.5 * cols.a[i] - 0.3 * cols.b[i] + 0.2 * rng.normal();
  }
  return cols;
}

describe('generated reference clusters against held-out reference rows', () => {
  let model: FluxModel;
  let heldOut: ReturnType<typeof reference>;
  const rng = new Rng(8);
  const features = ['a', 'b', 'c'];
  const conditions = ['e', 'pos'];
  const toXK = (cols: ReturnType<typeof reference>, n: number) => {
    const x = new Float64Array(n * 3), k = new Float64Array(n * 2);
    for (let i = 0; i < n; i++) {
      x[3 * i] = cols.a[i]; x[3 * i + 1] = cols.b[i]; x[3 * i + 2] = cols.c[i];
      k[2 * i] = cols.e[i]; k[2 * i + 1] = cols.pos[i];
    }
    return { x, k };
  };

  beforeAll(() => {
    const train = reference(rng, 8000);
    heldOut = reference(rng, 2000);
    const table = makeTable(Object.entries(train).map(([name, v]) => numberColumn(name, v)), 'reference.csv');
    model = trainFlux(table, {
      features, conditions, seed: 4,
      cae: { epochs: 60, hidden: [32], latent: 2 },
      cmaf: { epochs: 150, layers: 5, hidden: [64, 64], lr: 2e-3, patience: 10 },
      bank: { binning: [{ quantiles: 3 }, { quantiles: 3 }], minPerBin: 100 },
    });
  }, 120_000);

  it('KS statistic and p-value behave on known samples', () => {
    const a = Float64Array.from({ length: 400 }, (_, i) => i / 400);
    const b = Float64Array.from({ length: 400 }, (_, i) => (i + 0.5) / 400);
    expect(ksStatistic(a, b)).toBeLessThan(0.01);
    const shifted = Float64Array.from({ length: 400 }, (_, i) => 0.3 + i / 400);
    expect(ksStatistic(a, shifted)).toBeCloseTo(0.3, 2);
    // Kolmogorov distribution: P(K > 1.36) ≈ 0.05 at large n.
    expect(ksPValue(1.36 / Math.sqrt(500), 1000, 1000)).toBeGreaterThan(0.04);
    expect(ksPValue(1.36 / Math.sqrt(500), 1000, 1000)).toBeLessThan(0.06);
  });

  it('match per bin (two-sample KS) and put no more points beyond 5 robust sigma than real rows do', () => {
    const { x, k } = toXK(heldOut, 2000);
    const report = referenceFidelity(model, x, k, 2000, new Rng(3), { nRef: 1500, minRows: 100 });
    expect(report.bins.length).toBe(9);
    // At the 1% level a faithful generator is rejected in about 1% of bins; allow one bin in nine.
    expect(report.rejectedAt01).toBeLessThanOrEqual(1 / 9 + 1e-9);
    // Far tails: the failure mode seen in PyTorch runs (dozens of points per cluster beyond 10 sigma).
    expect(report.farGenerated).toBeLessThanOrEqual(Math.max(3 * report.farReal, 0.003));
  });

  it('the same check rejects a generator that ignores the kinematics (negative control)', () => {
    const { x, k } = toXK(heldOut, 2000);
    // Score held-out rows against clusters from the wrong bins: shift each row's energy to the other end.
    const wrongK = k.slice();
    for (let i = 0; i < 2000; i++) wrongK[2 * i] = 2.5 - wrongK[2 * i];
    const report = referenceFidelity(model, x, k, 2000, new Rng(3), { nRef: 1500, minRows: 100, binsFrom: wrongK });
    expect(report.rejectedAt01).toBeGreaterThan(0.5);
  });
});

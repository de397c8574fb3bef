import { describe, it, expect, beforeAll } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng } from '../src/core/rng.js';
import { FluxmutError } from '../src/core/errors.js';
import { makeTable, numberColumn } from '../src/data/table.js';
import { ConditionalAutoencoder, caeLoss, trainCae } from '../src/flux/cae.js';
import { FluxModel, trainFlux } from '../src/flux/model.js';

/** Rows on a 1-D manifold in 3-D whose shape depends on the condition k: x = (sin 2πu + k, k·cos 2πu, u). */
function manifold(rng: Rng, n: number, noise = 0.02) {
  const x = new Float32Array(3 * n);
  const k = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const u = rng.uniform();
    const kk = rng.uniform();
    k[i] = kk;
    x[3 * i] = Math.sin(2 * Math.PI * u) + kk + noise * rng.normal();
    x[3 * i + 1] = kk * Math.cos(2 * Math.PI * u) + noise * rng.normal();
    x[3 * i + 2] = u + noise * rng.normal();
  }
  return { x, k, n };
}

describe('conditional autoencoder', () => {
  it('learns a known conditional function through a 1-D code', () => {
    const rng = new Rng(17);
    const train = manifold(rng, 4000), val = manifold(rng, 1000), test = manifold(rng, 2000);
    const cae = new ConditionalAutoencoder({ features: 3, conditions: 1, latent: 1, hidden: [32, 32], activation: 'elu' }, rng);
    const before = caeLoss(cae, test, 1);
    trainCae(cae, train, val, 1, { epochs: 60, batchSize: 128, lr: 3e-3, patience: 8, rng, stage: 'cae' });
    const after = caeLoss(cae, test, 1);
    // Per-coordinate variance of the data is ~0.2-0.6, i.e. a Huber loss of ~0.2 for a constant guess;
    // the 1-D code can describe all but the noise (Huber 0.5·0.02² = 2e-4) and the fit error.
    expect(before).toBeGreaterThan(0.1);
    expect(after).toBeLessThan(0.01);
  });
});

describe('trained model directory', () => {
  let dir: string;
  let model: ReturnType<typeof trainFlux>;
  let table: ReturnType<typeof makeTable>;

  beforeAll(() => {
    const rng = new Rng(5);
    const n = 600;
    const cols: Record<string, Float64Array> = { a: new Float64Array(n), b: new Float64Array(n), c: new Float64Array(n), e: new Float64Array(n), zpos: new Float64Array(n) };
    for (let i = 0; i < n; i++) {
      const e = 0.2 + 2 * rng.uniform();
      const z = 160 + 100 * rng.uniform();
      cols.e[i] = e;
      cols.zpos[i] = z;
      cols.a[i] = e * (1 + 0.1 * rng.normal());
      cols.b[i] = 0.01 * z + 0.3 * rng.normal();
      cols.c[i] = cols.a[i] - cols.b[i] + 0.1 * rng.normal();
    }
    table = makeTable(Object.entries(cols).map(([name, v]) => numberColumn(name, v)), 'synthetic.csv');
    model = trainFlux(table, {
      features: ['a', 'b', 'c'], conditions: ['e', 'zpos'], seed: 3,
      cae: { epochs: 3, hidden: [8] }, cmaf: { epochs: 3, layers: 2, hidden: [16, 16] }, bank: { minPerBin: 20 },
    });
    dir = join(mkdtempSync(join(tmpdir(), 'fluxmut-model-')), 'model');
    model.save(dir);
  });

  it('writes model.json and safetensors files with their checksums', () => {
    const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
    expect(json.format).toBe('fluxmut-model');
    expect(json.schema.features).toEqual(['a', 'b', 'c']);
    expect(Object.keys(json.files).sort()).toEqual(['bank.safetensors', 'cae.safetensors', 'cmaf.safetensors', 'conditions.safetensors']);
    expect(json.training.history.cmaf.val.length).toBeGreaterThan(0);
  });

  it('loads to a model with bit-identical outputs', () => {
    const loaded = FluxModel.load(dir);
    const x = Float64Array.of(1, 2, -1, 0.5, 1.5, 0.3);
    const k = Float64Array.of(1, 200, 2, 250);
    const xs = model.scaleFeatures(x), ks = model.scaleConditions(k);
    expect(loaded.scaleFeatures(x)).toEqual(xs);
    expect(loaded.scaleConditions(k)).toEqual(ks);
    const a1 = model.augment(xs, ks, 2), a2 = loaded.augment(xs, ks, 2);
    expect(a2).toEqual(a1);
    expect(loaded.logDensity(a1, ks, 2)).toEqual(model.logDensity(a1, ks, 2));
    const g1 = model.generateReference([1, 200], 50, new Rng(9));
    const g2 = loaded.generateReference([1, 200], 50, new Rng(9));
    expect(g2.a).toEqual(g1.a);
    expect(g2.logProb).toEqual(g1.logProb);
  });

  it('training is reproducible from the seed', () => {
    const again = trainFlux(table, {
      features: ['a', 'b', 'c'], conditions: ['e', 'zpos'], seed: 3,
      cae: { epochs: 3, hidden: [8] }, cmaf: { epochs: 3, layers: 2, hidden: [16, 16] }, bank: { minPerBin: 20 },
    });
    expect(again.generateReference([1, 200], 20, new Rng(1)).a).toEqual(model.generateReference([1, 200], 20, new Rng(1)).a);
  });

  it('a corrupted or missing weight file gives a clear error', () => {
    const bad = dir + '-bad';
    rmSync(bad, { recursive: true, force: true });
    model.save(bad);
    const f = join(bad, 'cmaf.safetensors');
    const bytes = readFileSync(f);
    bytes[bytes.length - 3] ^= 0xff;
    writeFileSync(f, bytes);
    expect(() => FluxModel.load(bad)).toThrow(/cmaf\.safetensors: checksum mismatch/);
    rmSync(f);
    expect(() => FluxModel.load(bad)).toThrow(/cmaf\.safetensors: weight file is missing/);
    writeFileSync(join(bad, 'model.json'), '{ not json');
    expect(() => FluxModel.load(bad)).toThrow(FluxmutError);
    expect(() => FluxModel.load(join(bad, 'nope'))).toThrow(/no model\.json/);
    expect(existsSync(dir)).toBe(true);
  });

  it('works without conditions (one bin, unconditional networks)', () => {
    const m = trainFlux(table, { features: ['a', 'b'], conditions: [], seed: 1, cae: { epochs: 2, hidden: [8], latent: 1 }, cmaf: { epochs: 2, layers: 2, hidden: [8] } });
    expect(m.bank.nBins).toBe(1);
    const g = m.generateReference([], 30, new Rng(2));
    expect(g.a.length).toBe(30 * 4);
    expect(g.a.every(Number.isFinite)).toBe(true);
  });
});

describe('pooled latent bank', () => {
  it('rescales training latents to the held-out spread per dimension, keeping their mean', async () => {
    const { rescaleToHeldOutSpread } = await import('../src/flux/model.js');
    const rng = new Rng(12);
    const nT = 4000, nH = 3000, D = 2;
    const zT = new Float32Array(nT * D), zH = new Float32Array(nH * D);
    for (let i = 0; i < nT; i++) { zT[2 * i] = 1 + 0.5 * rng.normal(); zT[2 * i + 1] = 2 * rng.normal(); }
    for (let i = 0; i < nH; i++) { zH[2 * i] = rng.normal(); zH[2 * i + 1] = 2 * rng.normal(); }
    const scale = rescaleToHeldOutSpread(zT, nT, zH, nH, D);
    expect(scale[0]).toBeCloseTo(2, 1); // held-out sd 1 over training sd 0.5
    expect(Math.abs(scale[1] - 1)).toBeLessThan(0.05);
    let m = 0, v = 0;
    for (let i = 0; i < nT; i++) m += zT[2 * i];
    m /= nT;
    for (let i = 0; i < nT; i++) v += (zT[2 * i] - m) ** 2;
    expect(m).toBeCloseTo(1, 1);
    expect(Math.sqrt(v / (nT - 1))).toBeCloseTo(1, 1);
  });
});

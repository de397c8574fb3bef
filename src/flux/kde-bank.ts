/**
 * The latent KDE bank (DESIGN.md step 5). Every training row's latent z is filed under its bin in
 * condition space (the paper bins 4 cm × 40 MeV for GlueX and 1 GeV of pT for the LHC dijets) and
 * each bin keeps a Gaussian KDE of its latents (Scott's rule, as scipy's gaussian_kde). At inference
 * N_ref latents (paper: 1500) are drawn from the KDE of the object's bin (step 7).
 *
 * Sparse and empty bins borrow: a bin with fewer than `minPerBin` rows of its own adds, ring by
 * ring, all rows of the nearest populated bins (distance between bin indices, i.e. bin centres in
 * units of bin widths) until it reaches the minimum. Each bin's KDE keeps at most `maxPerBin`
 * latents (own rows first; the rest a seeded random subsample).
 *
 * Latents are stored in float32, the flow's precision; a saved bank rebuilds the same float64 KDEs
 * from them, so the same seed gives the same samples before and after a round trip.
 */
import { quantileSorted } from '../core/stats.js';
import { FluxmutError, ExitCode } from '../core/errors.js';
import type { Rng } from '../core/rng.js';
import { GaussianKde, THREE_SIGMA_COVERAGE, DEFAULT_CLIP_MARGIN, type KdeBandwidth, type KdeSupport } from './kde.js';

/** How one condition is binned. Widths and edges are in the condition's ORIGINAL units. */
export type ConditionBinning =
  /** Fixed-width bins with edges min, min + width, ...; the last edge reaches the training max. */
  | { width: number }
  /** Equal-count bins at the training quantiles (linear interpolation); tied edges merge. */
  | { quantiles: number }
  /** Explicit strictly increasing edges. */
  | { edges: ArrayLike<number> };

/** A row-major table (Matrix fits): element (i, j) at data[i * cols + j]. */
export interface RowMajor {
  rows: number;
  cols: number;
  data: ArrayLike<number>;
}

export interface LatentKdeBankOptions {
  /** One spec per condition column (length L); ignored when L = 0. Default: 10 quantile bins each. */
  binning?: ConditionBinning[];
  /** Most latents a bin's KDE keeps (default 2000). */
  maxPerBin?: number;
  /** Fewest rows a bin's KDE is built from; sparser bins borrow (default 50). */
  minPerBin?: number;
  /** KDE bandwidth rule (default Scott's, as the paper). */
  bandwidth?: KdeBandwidth;
  /** Keeps draws on the latent support (see KdeSupport); default on: 3σ-coverage ball, 10% clip margin. */
  support?: KdeSupport | false;
  /** Column names for messages and metadata (default k0, k1, ...). */
  conditionNames?: string[];
}

/** Where a condition vector falls. */
export interface BinLocation {
  /** Flat bin index (row-major over conditions, last condition fastest). */
  bin: number;
  /** Per-condition bin index. */
  index: number[];
  /** True when some condition lay outside the bank's edges and was clamped to the edge bin. */
  outOfRange: boolean;
  /** Per-condition: true where that value was clamped. */
  clamped: boolean[];
}

export interface BinInfo {
  bin: number;
  index: number[];
  lower: number[];
  upper: number[];
  /** Training rows that fell into this bin. */
  ownRows: number;
  /** Latents its KDE is built from (own + borrowed, after the cap). */
  kdeRows: number;
  /** Bins it borrowed rows from (empty when it had at least minPerBin rows). */
  borrowedFrom: number[];
}

export interface SavedTensor {
  dtype: 'F32' | 'F64' | 'I32';
  shape: number[];
  data: Float32Array | Float64Array | Int32Array;
}

export interface LatentKdeBankJson {
  format: 'fluxmut-latent-kde-bank';
  version: 1;
  latentDim: number;
  conditionNames: string[];
  binning: SavedBinning[];
  edges: number[][];
  trainingRows: number;
  maxPerBin: number;
  minPerBin: number;
  bandwidth: KdeBandwidth;
  support: { coverage?: number; maxMahalanobis?: number; clipMargin: number | null; varianceCorrection?: boolean } | false;
}

type SavedBinning = { width: number } | { quantiles: number } | { edges: number[] };

const MAX_BINS = 1_000_000;

interface BankState {
  D: number;
  conditionNames: string[];
  binning: SavedBinning[];
  edges: Float64Array[];
  trainingRows: number;
  maxPerBin: number;
  minPerBin: number;
  bandwidth: KdeBandwidth;
  support: LatentKdeBankJson['support'];
  latents: Float32Array;
  latentRows: Int32Array;
  binOffsets: Int32Array;
  binMembers: Int32Array;
  rowBin: Int32Array;
  donorOffsets: Int32Array;
  donors: Int32Array;
}

export class LatentKdeBank {
  /** Latent dimension D. */
  readonly latentDim: number;
  /** Number of conditions L. */
  readonly conditionDim: number;
  readonly conditionNames: readonly string[];
  /** Bin edges per condition (original units). */
  readonly edges: readonly Float64Array[];
  /** Bins per condition. */
  readonly shape: readonly number[];
  /** Total number of bins (product of shape; 1 when L = 0). */
  readonly nBins: number;
  /** Training rows per bin (own rows, before borrowing or capping). */
  readonly counts: Int32Array;

  private readonly s: BankState;
  private readonly strides: number[];
  private readonly ownOffsets: Int32Array;
  private readonly ownRows: Int32Array;
  private readonly kdes: (GaussianKde | undefined)[];

  private constructor(s: BankState) {
    this.s = s;
    this.latentDim = s.D;
    this.conditionDim = s.edges.length;
    this.conditionNames = s.conditionNames;
    this.edges = s.edges;
    this.shape = s.edges.map((e) => e.length - 1);
    this.strides = stridesOf(this.shape);
    this.nBins = this.shape.reduce((a, b) => a * b, 1);
    this.kdes = new Array(this.nBins);
    this.counts = new Int32Array(this.nBins);
    for (let i = 0; i < s.rowBin.length; i++) this.counts[s.rowBin[i]]++;
    this.ownOffsets = new Int32Array(this.nBins + 1);
    for (let b = 0; b < this.nBins; b++) this.ownOffsets[b + 1] = this.ownOffsets[b] + this.counts[b];
    this.ownRows = new Int32Array(s.rowBin.length);
    const fill = this.ownOffsets.slice(0, this.nBins);
    for (let i = 0; i < s.rowBin.length; i++) this.ownRows[fill[s.rowBin[i]]++] = i;
  }

  /**
   * Builds the bank from training latents (n×D) and conditions (n×L, original units; null or
   * L = 0 for one bin). `rng` drives only the subsampling of bins above maxPerBin.
   */
  static fit(latents: RowMajor, conditions: RowMajor | null, rng: Rng, options: LatentKdeBankOptions = {}): LatentKdeBank {
    const n = latents.rows;
    const D = latents.cols;
    if (!Number.isInteger(n) || n < 1) throw new FluxmutError('LatentKdeBank: no training latents; the bank needs at least one row');
    if (!Number.isInteger(D) || D < 1) throw new FluxmutError(`LatentKdeBank: latent dimension must be positive, got ${D}`);
    if (latents.data.length !== n * D) throw new FluxmutError(`LatentKdeBank: latents have ${latents.data.length} values, expected ${n}×${D}`);
    const L = conditions === null ? 0 : conditions.cols;
    if (conditions !== null) {
      if (conditions.rows !== n) throw new FluxmutError(`LatentKdeBank: ${conditions.rows} condition rows for ${n} latent rows; they must match row for row`);
      if (conditions.data.length !== n * L) throw new FluxmutError(`LatentKdeBank: conditions have ${conditions.data.length} values, expected ${n}×${L}`);
    }
    const names = options.conditionNames ?? Array.from({ length: L }, (_, j) => `k${j}`);
    if (names.length !== L) throw new FluxmutError(`LatentKdeBank: ${names.length} condition names for ${L} condition columns`, ExitCode.Usage);
    const lat = new Float32Array(n * D);
    for (let i = 0; i < n * D; i++) {
      const v = latents.data[i];
      if (!Number.isFinite(v)) throw new FluxmutError(`LatentKdeBank: latent row ${Math.floor(i / D)}, dimension ${i % D} is ${v}; the flow produced a non-finite latent`);
      lat[i] = v;
    }
    const cond = new Float64Array(n * L);
    for (let i = 0; i < n * L; i++) {
      const v = conditions!.data[i];
      if (!Number.isFinite(v)) throw new FluxmutError(`LatentKdeBank: condition '${names[i % L]}' of row ${Math.floor(i / L)} is ${v}; conditions must be finite`);
      cond[i] = v;
    }
    const maxPerBin = options.maxPerBin ?? 2000;
    const minPerBin = options.minPerBin ?? 50;
    if (!Number.isInteger(maxPerBin) || maxPerBin < 1) throw new FluxmutError(`LatentKdeBank: maxPerBin must be a positive integer, got ${maxPerBin}`, ExitCode.Usage);
    if (!Number.isInteger(minPerBin) || minPerBin < 1) throw new FluxmutError(`LatentKdeBank: minPerBin must be a positive integer, got ${minPerBin}`, ExitCode.Usage);
    if (minPerBin > maxPerBin) throw new FluxmutError(`LatentKdeBank: minPerBin (${minPerBin}) exceeds maxPerBin (${maxPerBin})`, ExitCode.Usage);

    const specs: ConditionBinning[] = L === 0 ? [] : options.binning ?? Array.from({ length: L }, () => ({ quantiles: 10 }));
    if (specs.length !== L) throw new FluxmutError(`LatentKdeBank: ${specs.length} binning specs for ${L} conditions; give one per condition`, ExitCode.Usage);
    const edges: Float64Array[] = [];
    const savedSpecs: SavedBinning[] = [];
    for (let j = 0; j < L; j++) {
      const column = new Float64Array(n);
      for (let i = 0; i < n; i++) column[i] = cond[i * L + j];
      edges.push(edgesFor(specs[j], column, names[j]));
      const sp = specs[j];
      savedSpecs.push('edges' in sp ? { edges: Array.from(sp.edges) } : 'width' in sp ? { width: sp.width } : { quantiles: sp.quantiles });
    }
    const shape = edges.map((e) => e.length - 1);
    const nBins = shape.reduce((a, b) => a * b, 1);
    if (nBins > MAX_BINS) {
      throw new FluxmutError(`LatentKdeBank: the binning makes ${nBins} bins (${shape.join(' × ')}); use wider bins (at most ${MAX_BINS} in all)`, ExitCode.Usage);
    }
    const strides = stridesOf(shape);

    const rowBin = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      let b = 0;
      for (let j = 0; j < L; j++) b += locateIn(edges[j], cond[i * L + j]).index * strides[j];
      rowBin[i] = b;
    }
    const counts = new Int32Array(nBins);
    for (let i = 0; i < n; i++) counts[rowBin[i]]++;
    const ownOffsets = new Int32Array(nBins + 1);
    for (let b = 0; b < nBins; b++) ownOffsets[b + 1] = ownOffsets[b] + counts[b];
    const ownRows = new Int32Array(n);
    const fill = ownOffsets.slice(0, nBins);
    for (let i = 0; i < n; i++) ownRows[fill[rowBin[i]]++] = i;

    const populated: number[] = [];
    for (let b = 0; b < nBins; b++) if (counts[b] > 0) populated.push(b);
    const populatedIdx = populated.map((b) => unflatten(b, shape, strides));

    // Members (training row indices) and donors of each bin's KDE, then the cap.
    const memberLists: Int32Array[] = [];
    const donorLists: number[][] = [];
    for (let b = 0; b < nBins; b++) {
      const own = ownRows.subarray(ownOffsets[b], ownOffsets[b + 1]);
      const donors: number[] = [];
      let borrowed: number[] = [];
      if (own.length < minPerBin) {
        const here = unflatten(b, shape, strides);
        const cand: { bin: number; dist2: number }[] = [];
        for (let p = 0; p < populated.length; p++) {
          if (populated[p] === b) continue;
          let d2 = 0;
          for (let j = 0; j < L; j++) d2 += (populatedIdx[p][j] - here[j]) ** 2;
          cand.push({ bin: populated[p], dist2: d2 });
        }
        cand.sort((x, y) => x.dist2 - y.dist2 || x.bin - y.bin);
        let total = own.length;
        // Whole rings of equidistant bins, so no neighbour is favoured by enumeration order.
        for (let c = 0; c < cand.length && total < minPerBin; ) {
          const ring = cand[c].dist2;
          for (; c < cand.length && cand[c].dist2 === ring; c++) {
            donors.push(cand[c].bin);
            total += counts[cand[c].bin];
          }
        }
        borrowed = [];
        for (const db of donors) for (let r = ownOffsets[db]; r < ownOffsets[db + 1]; r++) borrowed.push(ownRows[r]);
      }
      let members: number[];
      if (own.length >= maxPerBin) {
        members = subsample(Array.from(own), maxPerBin, rng);
      } else if (own.length + borrowed.length > maxPerBin) {
        members = Array.from(own).concat(subsample(borrowed, maxPerBin - own.length, rng));
      } else {
        members = Array.from(own).concat(borrowed);
      }
      memberLists.push(Int32Array.from(members));
      donorLists.push(donors);
    }

    // Store only the latents some KDE uses, in training-row order.
    const used = new Uint8Array(n);
    for (const m of memberLists) for (const r of m) used[r] = 1;
    const slotOfRow = new Int32Array(n).fill(-1);
    let m = 0;
    for (let i = 0; i < n; i++) if (used[i]) slotOfRow[i] = m++;
    const stored = new Float32Array(m * D);
    const latentRows = new Int32Array(m);
    for (let i = 0; i < n; i++) {
      const sl = slotOfRow[i];
      if (sl < 0) continue;
      latentRows[sl] = i;
      stored.set(lat.subarray(i * D, (i + 1) * D), sl * D);
    }
    const binOffsets = new Int32Array(nBins + 1);
    for (let b = 0; b < nBins; b++) binOffsets[b + 1] = binOffsets[b] + memberLists[b].length;
    const binMembers = new Int32Array(binOffsets[nBins]);
    for (let b = 0; b < nBins; b++) binMembers.set(memberLists[b].map((r) => slotOfRow[r]), binOffsets[b]);
    const donorOffsets = new Int32Array(nBins + 1);
    for (let b = 0; b < nBins; b++) donorOffsets[b + 1] = donorOffsets[b] + donorLists[b].length;
    const donors = new Int32Array(donorOffsets[nBins]);
    for (let b = 0; b < nBins; b++) donors.set(donorLists[b], donorOffsets[b]);

    return new LatentKdeBank({
      D,
      conditionNames: names,
      binning: savedSpecs,
      edges,
      trainingRows: n,
      maxPerBin,
      minPerBin,
      bandwidth: options.bandwidth ?? 'scott',
      support: resolveBankSupport(options.support),
      latents: stored,
      latentRows,
      binOffsets,
      binMembers,
      rowBin,
      donorOffsets,
      donors,
    });
  }

  /** Where condition vector k (original units) falls; values outside the edges clamp to the edge bin. */
  locate(k: ArrayLike<number>): BinLocation {
    const L = this.conditionDim;
    if (k.length !== L) throw new FluxmutError(`LatentKdeBank: got ${k.length} condition values, the bank has ${L} (${this.conditionNames.join(', ')})`);
    const index: number[] = [];
    const clamped: boolean[] = [];
    let bin = 0;
    for (let j = 0; j < L; j++) {
      const v = k[j];
      if (!Number.isFinite(v)) throw new FluxmutError(`LatentKdeBank: condition '${this.conditionNames[j]}' is ${v}; conditions must be finite`);
      const loc = locateIn(this.edges[j], v);
      index.push(loc.index);
      clamped.push(loc.clamped);
      bin += loc.index * this.strides[j];
    }
    return { bin, index, clamped, outOfRange: clamped.some((c) => c) };
  }

  /** Flat bin of condition vector k (clamped to the edge bin when outside the range; see locate). */
  binOf(k: ArrayLike<number>): number {
    return this.locate(k).bin;
  }

  /** nSamples latents (nSamples×D, float32) from the KDE of k's bin. */
  sample(k: ArrayLike<number>, nSamples: number, rng: Rng): Float32Array {
    return this.sampleBin(this.binOf(k), nSamples, rng);
  }

  /** nSamples latents (nSamples×D, float32) from the KDE of a bin. */
  sampleBin(bin: number, nSamples: number, rng: Rng): Float32Array {
    return Float32Array.from(this.kdeOf(bin).resample(nSamples, rng));
  }

  /** The bin's KDE (built on first use). */
  kdeOf(bin: number): GaussianKde {
    this.checkBin(bin);
    let kde = this.kdes[bin];
    if (kde === undefined) {
      const s = this.s;
      const D = s.D;
      const lo = s.binOffsets[bin];
      const hi = s.binOffsets[bin + 1];
      const data = new Float64Array((hi - lo) * D);
      for (let r = lo; r < hi; r++) {
        const slot = s.binMembers[r];
        for (let j = 0; j < D; j++) data[(r - lo) * D + j] = s.latents[slot * D + j];
      }
      kde = new GaussianKde(data, D, { bandwidth: s.bandwidth, support: s.support === false ? false : s.support });
      this.kdes[bin] = kde;
    }
    return kde;
  }

  /** Indices of the training rows that fell into a bin (ascending; own rows only, not borrowed). */
  rowsOfBin(bin: number): Int32Array {
    this.checkBin(bin);
    return this.ownRows.slice(this.ownOffsets[bin], this.ownOffsets[bin + 1]);
  }

  /** Training row indices of the latents a bin's KDE is built from (own first, then borrowed). */
  kdeRowsOfBin(bin: number): Int32Array {
    this.checkBin(bin);
    const s = this.s;
    return s.binMembers.slice(s.binOffsets[bin], s.binOffsets[bin + 1]).map((slot) => s.latentRows[slot]);
  }

  /** Bins a bin borrowed from (empty when it had enough rows of its own). */
  borrowedFrom(bin: number): number[] {
    this.checkBin(bin);
    return Array.from(this.s.donors.subarray(this.s.donorOffsets[bin], this.s.donorOffsets[bin + 1]));
  }

  /** Per-condition index of a flat bin. */
  binIndex(bin: number): number[] {
    this.checkBin(bin);
    return unflatten(bin, this.shape, this.strides);
  }

  /** Description of a bin for `fluxmut inspect`. */
  binInfo(bin: number): BinInfo {
    const index = this.binIndex(bin);
    return {
      bin,
      index,
      lower: index.map((i, j) => this.edges[j][i]),
      upper: index.map((i, j) => this.edges[j][i + 1]),
      ownRows: this.counts[bin],
      kdeRows: this.s.binOffsets[bin + 1] - this.s.binOffsets[bin],
      borrowedFrom: this.borrowedFrom(bin),
    };
  }

  /** Metadata for model.json; the arrays live in toTensors(). */
  toJSON(): LatentKdeBankJson {
    const s = this.s;
    return {
      format: 'fluxmut-latent-kde-bank',
      version: 1,
      latentDim: s.D,
      conditionNames: [...s.conditionNames],
      binning: s.binning.map((b) => ({ ...b })),
      edges: s.edges.map((e) => Array.from(e)),
      trainingRows: s.trainingRows,
      maxPerBin: s.maxPerBin,
      minPerBin: s.minPerBin,
      bandwidth: s.bandwidth,
      support: s.support === false ? false : { ...s.support },
    };
  }

  /** The bank's arrays, for a safetensors file. */
  toTensors(): Record<string, SavedTensor> {
    const s = this.s;
    const m = s.latentRows.length;
    return {
      latents: { dtype: 'F32', shape: [m, s.D], data: s.latents },
      latent_rows: { dtype: 'I32', shape: [m], data: s.latentRows },
      bin_offsets: { dtype: 'I32', shape: [this.nBins + 1], data: s.binOffsets },
      bin_members: { dtype: 'I32', shape: [s.binMembers.length], data: s.binMembers },
      row_bin: { dtype: 'I32', shape: [s.rowBin.length], data: s.rowBin },
      donor_offsets: { dtype: 'I32', shape: [this.nBins + 1], data: s.donorOffsets },
      donors: { dtype: 'I32', shape: [s.donors.length], data: s.donors },
    };
  }

  /** Rebuilds a bank from toJSON() and toTensors(); checks every shape and index. */
  static fromSaved(json: LatentKdeBankJson, tensors: Record<string, SavedTensor | undefined>): LatentKdeBank {
    const bad = (msg: string): FluxmutError => new FluxmutError(`latent KDE bank: ${msg}; the model file is corrupt or from another version, retrain or restore it`, ExitCode.BadModel);
    if (json === null || typeof json !== 'object' || json.format !== 'fluxmut-latent-kde-bank') throw bad('metadata is not a latent KDE bank');
    if (json.version !== 1) throw bad(`unsupported version ${String(json.version)}`);
    const D = json.latentDim;
    if (!Number.isInteger(D) || D < 1) throw bad(`latentDim ${D} is invalid`);
    if (!Array.isArray(json.edges) || !Array.isArray(json.conditionNames) || json.edges.length !== json.conditionNames.length) throw bad('edges and conditionNames disagree');
    const edges = json.edges.map((e, j) => {
      const a = Float64Array.from(e);
      if (a.length < 2) throw bad(`condition ${j} has fewer than 2 edges`);
      for (let i = 0; i < a.length; i++) {
        if (!Number.isFinite(a[i]) || (i > 0 && !(a[i] >= a[i - 1]))) throw bad(`edges of condition ${j} are not finite and increasing`);
      }
      return a;
    });
    const nBins = edges.reduce((p, e) => p * (e.length - 1), 1);
    const n = json.trainingRows;
    if (!Number.isInteger(n) || n < 1) throw bad(`trainingRows ${n} is invalid`);
    const get = <T extends SavedTensor['data']>(name: string, dtype: SavedTensor['dtype'], rank: number): T => {
      const t = tensors[name];
      if (t === undefined) throw bad(`tensor '${name}' is missing`);
      if (t.dtype !== dtype) throw bad(`tensor '${name}' has dtype ${t.dtype}, expected ${dtype}`);
      if (t.shape.length !== rank || t.shape.reduce((a, b) => a * b, 1) !== t.data.length) throw bad(`tensor '${name}' has shape [${t.shape.join(', ')}] not matching its ${t.data.length} values`);
      return t.data as T;
    };
    const latents = get<Float32Array>('latents', 'F32', 2);
    const m = tensors.latents!.shape[0];
    if (tensors.latents!.shape[1] !== D) throw bad(`tensor 'latents' has ${tensors.latents!.shape[1]} columns, the bank's latent dimension is ${D}`);
    for (let i = 0; i < latents.length; i++) if (!Number.isFinite(latents[i])) throw bad(`latent ${Math.floor(i / D)} is not finite`);
    const latentRows = get<Int32Array>('latent_rows', 'I32', 1);
    const binOffsets = get<Int32Array>('bin_offsets', 'I32', 1);
    const binMembers = get<Int32Array>('bin_members', 'I32', 1);
    const rowBin = get<Int32Array>('row_bin', 'I32', 1);
    const donorOffsets = get<Int32Array>('donor_offsets', 'I32', 1);
    const donors = get<Int32Array>('donors', 'I32', 1);
    if (latentRows.length !== m) throw bad(`'latent_rows' has ${latentRows.length} entries for ${m} latents`);
    if (rowBin.length !== n) throw bad(`'row_bin' has ${rowBin.length} entries for ${n} training rows`);
    checkOffsets(binOffsets, nBins, binMembers.length, 'bin_offsets', bad);
    checkOffsets(donorOffsets, nBins, donors.length, 'donor_offsets', bad);
    for (let b = 0; b < nBins; b++) if (binOffsets[b + 1] === binOffsets[b]) throw bad(`bin ${b} has no latents`);
    checkRange(latentRows, n, 'latent_rows', bad);
    checkRange(binMembers, m, 'bin_members', bad);
    checkRange(rowBin, nBins, 'row_bin', bad);
    checkRange(donors, nBins, 'donors', bad);
    return new LatentKdeBank({
      D,
      conditionNames: [...json.conditionNames],
      binning: json.binning,
      edges,
      trainingRows: n,
      maxPerBin: json.maxPerBin,
      minPerBin: json.minPerBin,
      bandwidth: json.bandwidth,
      support: json.support,
      latents,
      latentRows,
      binOffsets,
      binMembers,
      rowBin,
      donorOffsets,
      donors,
    });
  }

  private checkBin(bin: number): void {
    if (!Number.isInteger(bin) || bin < 0 || bin >= this.nBins) throw new FluxmutError(`LatentKdeBank: bin ${bin} does not exist (the bank has ${this.nBins} bins)`, ExitCode.Usage);
  }
}

function resolveBankSupport(s: KdeSupport | false | undefined): LatentKdeBankJson['support'] {
  if (s === false) return false;
  const spec = s ?? {};
  const clipMargin = spec.clipMargin === undefined ? DEFAULT_CLIP_MARGIN : spec.clipMargin;
  // The bank corrects the KDE's variance inflation unless told otherwise (see KdeSupport).
  const varianceCorrection = spec.varianceCorrection ?? true;
  if (spec.maxMahalanobis !== undefined) return { maxMahalanobis: spec.maxMahalanobis, clipMargin, varianceCorrection };
  return { coverage: spec.coverage ?? THREE_SIGMA_COVERAGE, clipMargin, varianceCorrection };
}

function stridesOf(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let acc = 1;
  for (let j = shape.length - 1; j >= 0; j--) {
    strides[j] = acc;
    acc *= shape[j];
  }
  return strides;
}

function unflatten(bin: number, shape: readonly number[], strides: readonly number[]): number[] {
  return shape.map((s, j) => Math.floor(bin / strides[j]) % s);
}

/** Bin of v among edges: the last i with edges[i] <= v; v outside [first, last] clamps. */
function locateIn(edges: Float64Array, v: number): { index: number; clamped: boolean } {
  const nb = edges.length - 1;
  if (v < edges[0]) return { index: 0, clamped: true };
  if (v > edges[nb]) return { index: nb - 1, clamped: true };
  let lo = 0;
  let hi = nb - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >>> 1;
    if (edges[mid] <= v) lo = mid;
    else hi = mid - 1;
  }
  return { index: lo, clamped: false };
}

/** Edges of one condition from its spec and training column. */
function edgesFor(spec: ConditionBinning, column: Float64Array, name: string): Float64Array {
  let min = Infinity;
  let max = -Infinity;
  for (const v of column) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  if (spec === null || typeof spec !== 'object') throw new FluxmutError(`LatentKdeBank: binning of '${name}' must be {width}, {quantiles} or {edges}`, ExitCode.Usage);
  if ('width' in spec) {
    const w = spec.width;
    if (!(Number.isFinite(w) && w > 0)) throw new FluxmutError(`LatentKdeBank: bin width of '${name}' must be a positive number, got ${w}`, ExitCode.Usage);
    // The tolerance keeps a range that is an exact multiple of the width from growing an empty bin.
    const nb = Math.max(1, Math.ceil((max - min) / w - 1e-9));
    if (nb > MAX_BINS) throw new FluxmutError(`LatentKdeBank: width ${w} cuts '${name}' (range ${min} to ${max}) into ${nb} bins; use a wider bin`, ExitCode.Usage);
    const e = new Float64Array(nb + 1);
    for (let i = 0; i <= nb; i++) e[i] = min + i * w;
    e[nb] = Math.max(e[nb], max);
    return e;
  }
  if ('quantiles' in spec) {
    const q = spec.quantiles;
    if (!Number.isInteger(q) || q < 1) throw new FluxmutError(`LatentKdeBank: quantile bins of '${name}' must be a positive integer, got ${q}`, ExitCode.Usage);
    const sorted = Float64Array.from(column).sort();
    const n = sorted.length;
    const e: number[] = [];
    for (let i = 0; i <= q; i++) {
      // numpy's default 'linear' quantile; the top edge is the maximum exactly.
      const v = i === q ? sorted[n - 1] : quantileSorted(sorted, i / q);
      if (e.length === 0 || v > e[e.length - 1]) e.push(v);
    }
    if (e.length === 1) e.push(e[0]); // a constant condition: one zero-width bin
    return Float64Array.from(e);
  }
  if ('edges' in spec) {
    const e = Float64Array.from(spec.edges);
    if (e.length < 2) throw new FluxmutError(`LatentKdeBank: explicit edges of '${name}' need at least 2 values`, ExitCode.Usage);
    for (let i = 0; i < e.length; i++) {
      if (!Number.isFinite(e[i]) || (i > 0 && !(e[i] > e[i - 1]))) throw new FluxmutError(`LatentKdeBank: explicit edges of '${name}' must be finite and strictly increasing`, ExitCode.Usage);
    }
    return e;
  }
  throw new FluxmutError(`LatentKdeBank: binning of '${name}' must be {width}, {quantiles} or {edges}`, ExitCode.Usage);
}

/** k of the items, chosen uniformly without replacement (partial Fisher-Yates), in ascending order. */
function subsample(items: number[], k: number, rng: Rng): number[] {
  const a = items.slice();
  for (let i = 0; i < k; i++) {
    const j = i + rng.int(a.length - i);
    const t = a[i];
    a[i] = a[j];
    a[j] = t;
  }
  return a.slice(0, k).sort((x, y) => x - y);
}

function checkOffsets(off: Int32Array, nBins: number, total: number, name: string, bad: (m: string) => FluxmutError): void {
  if (off.length !== nBins + 1) throw bad(`'${name}' has ${off.length} entries, expected ${nBins + 1}`);
  if (off[0] !== 0 || off[nBins] !== total) throw bad(`'${name}' does not span its ${total} entries`);
  for (let b = 0; b < nBins; b++) if (off[b + 1] < off[b]) throw bad(`'${name}' decreases at bin ${b}`);
}

function checkRange(a: Int32Array, limit: number, name: string, bad: (m: string) => FluxmutError): void {
  for (let i = 0; i < a.length; i++) if (a[i] < 0 || a[i] >= limit) throw bad(`'${name}' entry ${i} (${a[i]}) is out of range [0, ${limit})`);
}

/**
 * Static SVG plots for fluxmut reports: plain data in, a standalone SVG string out, no DOM.
 *
 * Why our own module and not a package (checked 2025, npm registry + a scratch install in /tmp):
 * - @observablehq/plot 0.6.17: `Plot.plot()` in Node throws "Cannot read properties of undefined
 *   (reading 'documentElement')" without a DOM; it needs jsdom passed in as `document`.
 * - plotly.js, chart.js, uPlot: render into a browser DOM / canvas; no server-side SVG string.
 * - echarts 6.1.0 (`ssr: true` + `renderToSVGString()`): works without a DOM, but the package is
 *   62 MB unpacked (+5 MB zrender), importing it takes ~0.8 s and a 3000-point scatter took
 *   ~0.4 s and came out as 680 KB of SVG; too heavy for one runtime dependency of a library.
 * - vega 6.4.0 (`new View(parse(spec), {renderer: 'none'}).toSVG()`): works without a DOM, but is
 *   async and pulls in ~57 vega-* / d3-* packages (14 MB); each figure would still need its own
 *   spec of similar length to the code below, and the binning and NaN handling would stay ours.
 * The plots a report needs (histogram, heatmap with colour bar, ROC, scatter + line, a grid of
 * panels) are few and fixed, so a small synchronous module with testable geometry fits better.
 *
 * Every user-supplied string is escaped; non-finite values are dropped (histograms, scatter) or
 * drawn as empty cells (heatmap); empty input gives an empty frame that says "no data".
 * No element ids are emitted, so many plots can be inlined in one HTML page without clashes.
 */
import { FluxmutError } from '../core/errors.js';
import type { Rng } from '../core/rng.js';

// ---------------------------------------------------------------------------------------------
// Public types

export interface HistogramSeries {
  name: string;
  values: ArrayLike<number>;
  color?: string;
}

export interface VLine {
  x: number;
  label?: string;
  color?: string;
}

export type LegendPosition = 'top-right' | 'top-left' | 'bottom-right' | 'bottom-left' | 'none';

interface Frame {
  title?: string;
  xLabel?: string;
  yLabel?: string;
  /** Pixel size of the whole SVG (default 640 x 400). */
  width?: number;
  height?: number;
  legend?: LegendPosition;
}

export interface HistogramOptions extends Frame {
  series: readonly HistogramSeries[];
  /** Number of equal-width bins over `range` (default 40), or explicit increasing bin edges. */
  bins?: number | ArrayLike<number>;
  /** [lo, hi] of the binned axis; default the finite extent of all series. */
  range?: readonly [number, number];
  logY?: boolean;
  /** Normalise each series to unit area (compare shapes of classes with different sizes). */
  density?: boolean;
  vlines?: readonly VLine[];
}

export interface HeatmapOptions extends Frame {
  /** nx + 1 increasing bin edges along x. */
  xEdges: ArrayLike<number>;
  /** ny + 1 increasing bin edges along y. */
  yEdges: ArrayLike<number>;
  /** ny rows of nx values, row-major (row j is yEdges[j]..yEdges[j+1]); NaN = empty bin. */
  values: ArrayLike<number>;
  colorLabel?: string;
  /** Colour scale limits (default: finite min/max; values outside take the end colours); share them across panels to compare. */
  colorRange?: readonly [number, number];
}

export interface RocCurve {
  name: string;
  fpr: ArrayLike<number>;
  tpr: ArrayLike<number>;
  auc?: number;
  color?: string;
}

export interface RocOptions extends Frame {
  curves: readonly RocCurve[];
  /**
   * 'fpr-tpr': TPR against FPR (the usual ROC). 'tpr-tnr': TNR = 1 - FPR against TPR (efficiency
   * on the reference class vs rejection of the anomalous one, as physics papers draw it).
   */
  axes?: 'fpr-tpr' | 'tpr-tnr';
}

export interface PointSeries {
  name: string;
  x: ArrayLike<number>;
  y: ArrayLike<number>;
  color?: string;
}

export interface LineSeries {
  name: string;
  x: ArrayLike<number>;
  y: ArrayLike<number>;
  color?: string;
  dashed?: boolean;
}

export interface ScatterOptions extends Frame {
  points?: readonly PointSeries[];
  lines?: readonly LineSeries[];
  /** At most this many points per series are drawn (default 3000). */
  maxPoints?: number;
  /** Random subsample when a series has more than maxPoints; without it, evenly spaced rows. */
  rng?: Rng;
  logX?: boolean;
  logY?: boolean;
  xRange?: readonly [number, number];
  yRange?: readonly [number, number];
}

export type PanelSpec =
  | ({ kind: 'histogram' } & HistogramOptions)
  | ({ kind: 'heatmap' } & HeatmapOptions)
  | ({ kind: 'roc' } & RocOptions)
  | ({ kind: 'scatter' } & ScatterOptions);

export interface GridOptions {
  title?: string;
  panels: readonly PanelSpec[];
  /** Panels per row (default 4). */
  columns?: number;
  panelWidth?: number;
  panelHeight?: number;
  /** One shared legend above the grid (the panels then draw none). */
  legend?: readonly { name: string; color?: string }[];
}

// ---------------------------------------------------------------------------------------------
// Text and numbers

/** Escapes text for SVG/HTML content and attribute values. */
export function escapeXml(s: string): string {
  return String(s)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** Pixel coordinate with two decimals: plenty for screens, keeps files small. */
function px(v: number): string {
  const r = Math.round(v * 100) / 100;
  return String(r === 0 ? 0 : r);
}

/** Okabe-Ito palette: distinguishable for the common colour-vision deficiencies. */
export const PALETTE = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#000000', '#F0E442'];

function seriesColor(i: number, c?: string): string {
  return c ?? PALETTE[i % PALETTE.length]!;
}

function niceStep(span: number, target: number): number {
  const raw = span / Math.max(1, target);
  const mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const norm = raw / mag;
  const m = norm < 1.5 ? 1 : norm < 3 ? 2 : norm < 7 ? 5 : 10;
  return m * mag;
}

function cleanFloat(v: number): number {
  const r = Number.parseFloat(v.toPrecision(12));
  return r === 0 ? 0 : r;
}

function degenerate(min: number, max: number): [number, number] {
  if (!Number.isFinite(min) || !Number.isFinite(max)) return [0, 1];
  if (min > max) [min, max] = [max, min];
  if (min === max) {
    const pad = min === 0 ? 0.5 : Math.abs(min) * 0.05;
    return [min - pad, max + pad];
  }
  return [min, max];
}

/**
 * Ticks on a 1-2-5 grid (multiples of 1, 2 or 5 times a power of ten) lying inside [min, max],
 * about `target` of them. Non-finite or equal bounds are widened to a usable interval.
 */
export function niceTicks(min: number, max: number, target = 5): number[] {
  [min, max] = degenerate(min, max);
  const step = niceStep(max - min, target);
  const out: number[] = [];
  const k0 = Math.ceil(min / step - 1e-9);
  const k1 = Math.floor(max / step + 1e-9);
  for (let k = k0; k <= k1; k++) out.push(cleanFloat(k * step));
  return out;
}

/** [min, max] widened outwards to the 1-2-5 grid of `niceTicks`, so the ticks cover the data. */
export function niceExtent(min: number, max: number, target = 5): [number, number] {
  [min, max] = degenerate(min, max);
  const step = niceStep(max - min, target);
  return [cleanFloat(Math.floor(min / step + 1e-9) * step), cleanFloat(Math.ceil(max / step - 1e-9) * step)];
}

const SUPERSCRIPT: Record<string, string> = {
  '-': '\u207b', '0': '\u2070', '1': '\u00b9', '2': '\u00b2', '3': '\u00b3', '4': '\u2074',
  '5': '\u2075', '6': '\u2076', '7': '\u2077', '8': '\u2078', '9': '\u2079',
};

function powerOfTen(k: number): string {
  return '10' + String(k).split('').map((c) => SUPERSCRIPT[c] ?? c).join('');
}

/** Label for a tick value on a grid of spacing `step` (decimals just enough to tell ticks apart). */
export function formatTick(v: number, step: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e6 || a < 1e-4) {
    const [m, e] = v.toExponential(Math.max(0, Math.min(6, Math.round(Math.log10(a / step))))).split('e');
    const mant = m!.includes('.') ? m!.replace(/\.?0+$/, '') : m!;
    return `${mant}e${Number(e)}`;
  }
  const decimals = Math.max(0, Math.min(10, -Math.floor(Math.log10(step) + 1e-9)));
  return v.toFixed(decimals);
}

/** Short label for a value in a legend or tooltip (4 significant digits). */
function formatValue(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e5 || a < 1e-3) return v.toExponential(3).replace(/\.?0+e/, 'e');
  return String(cleanFloat(Number(v.toPrecision(4))));
}

// ---------------------------------------------------------------------------------------------
// Scales and axes

interface Scale {
  (v: number): number;
  readonly lo: number;
  readonly hi: number;
  readonly log: boolean;
  ticks(): { v: number; label: string }[];
}

function linearScale(lo: number, hi: number, r0: number, r1: number, target: number): Scale {
  [lo, hi] = degenerate(lo, hi);
  const f = ((v: number) => r0 + ((v - lo) / (hi - lo)) * (r1 - r0)) as Scale;
  Object.assign(f, {
    lo, hi, log: false,
    ticks: () => {
      const t = niceTicks(lo, hi, target);
      const step = t.length > 1 ? t[1]! - t[0]! : niceStep(hi - lo, target);
      return t.map((v) => ({ v, label: formatTick(v, step) }));
    },
  });
  return f;
}

function logScale(lo: number, hi: number, r0: number, r1: number): Scale {
  if (!(lo > 0) || !(hi > lo)) return linearScale(lo, hi, r0, r1, 5);
  const l0 = Math.log10(lo);
  const l1 = Math.log10(hi);
  const f = ((v: number) => r0 + ((Math.log10(v) - l0) / (l1 - l0)) * (r1 - r0)) as Scale;
  Object.assign(f, {
    lo, hi, log: true,
    ticks: () => {
      const k0 = Math.ceil(l0 - 1e-9);
      const k1 = Math.floor(l1 + 1e-9);
      const every = Math.max(1, Math.ceil((k1 - k0 + 1) / 8));
      const out: { v: number; label: string }[] = [];
      for (let k = k0; k <= k1; k += every) out.push({ v: Math.pow(10, k), label: powerOfTen(k) });
      return out;
    },
  });
  return f;
}

/** Decade bounds around positive data, for log axes. */
function logExtent(min: number, max: number): [number, number] {
  const lo = Math.pow(10, Math.floor(Math.log10(min)));
  let hi = Math.pow(10, Math.ceil(Math.log10(max)));
  if (hi <= lo) hi = lo * 10;
  return [lo, hi];
}

interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}

function plotBox(width: number, height: number, f: Frame, rightExtra = 0): Box {
  const top = f.title ? 34 : 14;
  const left = f.yLabel ? 66 : 50;
  const bottom = f.xLabel ? 46 : 30;
  const right = 16 + rightExtra;
  return { x: left, y: top, w: Math.max(10, width - left - right), h: Math.max(10, height - top - bottom) };
}

function drawAxes(box: Box, xs: Scale, ys: Scale, f: Frame, width: number, gridLines = true): string {
  const out: string[] = [];
  const bottom = box.y + box.h;
  if (gridLines) {
    out.push(`<g class="grid" stroke="#e6e6e6" stroke-width="1">`);
    for (const t of ys.ticks()) out.push(`<line x1="${px(box.x)}" x2="${px(box.x + box.w)}" y1="${px(ys(t.v))}" y2="${px(ys(t.v))}"/>`);
    out.push(`</g>`);
  }
  out.push(`<g class="xaxis" font-size="11" text-anchor="middle" fill="#333">`);
  for (const t of xs.ticks()) {
    const x = px(xs(t.v));
    out.push(`<line class="xtick" x1="${x}" x2="${x}" y1="${px(bottom)}" y2="${px(bottom + 5)}" stroke="#333"/>`);
    out.push(`<text class="xtick-label" x="${x}" y="${px(bottom + 17)}">${escapeXml(t.label)}</text>`);
  }
  out.push(`</g>`);
  out.push(`<g class="yaxis" font-size="11" text-anchor="end" fill="#333">`);
  for (const t of ys.ticks()) {
    const y = px(ys(t.v));
    out.push(`<line class="ytick" x1="${px(box.x - 5)}" x2="${px(box.x)}" y1="${y}" y2="${y}" stroke="#333"/>`);
    out.push(`<text class="ytick-label" x="${px(box.x - 7)}" y="${y}" dy="0.35em">${escapeXml(t.label)}</text>`);
  }
  out.push(`</g>`);
  out.push(`<rect class="frame" x="${px(box.x)}" y="${px(box.y)}" width="${px(box.w)}" height="${px(box.h)}" fill="none" stroke="#333"/>`);
  if (f.title) out.push(`<text class="title" x="${px(width / 2)}" y="20" text-anchor="middle" font-size="14" font-weight="bold">${escapeXml(f.title)}</text>`);
  if (f.xLabel) out.push(`<text class="xlabel" x="${px(box.x + box.w / 2)}" y="${px(bottom + 36)}" text-anchor="middle" font-size="12">${escapeXml(f.xLabel)}</text>`);
  if (f.yLabel) {
    const cx = 14;
    const cy = box.y + box.h / 2;
    out.push(`<text class="ylabel" x="${px(cx)}" y="${px(cy)}" text-anchor="middle" font-size="12" transform="rotate(-90 ${px(cx)} ${px(cy)})">${escapeXml(f.yLabel)}</text>`);
  }
  return out.join('\n');
}

function noData(box: Box): string {
  return `<text class="no-data" x="${px(box.x + box.w / 2)}" y="${px(box.y + box.h / 2)}" text-anchor="middle" font-size="13" fill="#888">no data</text>`;
}

interface LegendEntry {
  name: string;
  color: string;
  kind: 'box' | 'line' | 'dashed' | 'dot';
}

function drawLegend(box: Box, entries: readonly LegendEntry[], pos: LegendPosition): string {
  if (pos === 'none' || entries.length === 0) return '';
  const lineH = 16;
  const textW = Math.max(...entries.map((e) => e.name.length)) * 6.4;
  const w = 30 + textW;
  const h = entries.length * lineH + 8;
  const x = pos.endsWith('left') ? box.x + 8 : box.x + box.w - w - 8;
  const y = pos.startsWith('bottom') ? box.y + box.h - h - 8 : box.y + 8;
  const out = [`<g class="legend" font-size="11">`, `<rect x="${px(x)}" y="${px(y)}" width="${px(w)}" height="${px(h)}" fill="#fff" fill-opacity="0.85" stroke="#ccc"/>`];
  entries.forEach((e, i) => {
    const cy = y + 4 + lineH * i + lineH / 2;
    const c = escapeXml(e.color);
    if (e.kind === 'box') out.push(`<rect x="${px(x + 6)}" y="${px(cy - 5)}" width="16" height="10" fill="${c}" fill-opacity="0.3" stroke="${c}"/>`);
    else if (e.kind === 'dot') out.push(`<circle cx="${px(x + 14)}" cy="${px(cy)}" r="3" fill="${c}"/>`);
    else out.push(`<line x1="${px(x + 6)}" x2="${px(x + 22)}" y1="${px(cy)}" y2="${px(cy)}" stroke="${c}" stroke-width="2"${e.kind === 'dashed' ? ' stroke-dasharray="5 3"' : ''}/>`);
    out.push(`<text x="${px(x + 26)}" y="${px(cy)}" dy="0.35em">${escapeXml(e.name)}</text>`);
  });
  out.push('</g>');
  return out.join('\n');
}

function svgDocument(width: number, height: number, title: string | undefined, body: string): string {
  const label = title ? ` aria-label="${escapeXml(title)}"` : '';
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${px(width)}" height="${px(height)}" viewBox="0 0 ${px(width)} ${px(height)}" ` +
    `font-family="Helvetica, Arial, sans-serif" font-size="12" role="img"${label}>\n` +
    `<rect class="background" x="0" y="0" width="${px(width)}" height="${px(height)}" fill="#fff"/>\n${body}\n</svg>`
  );
}

/** A path through (x, y) pixel points, broken at non-finite points, skipping sub-pixel steps. */
function polyline(xs: ArrayLike<number>, ys: ArrayLike<number>, sx: Scale, sy: Scale): string {
  const n = Math.min(xs.length, ys.length);
  let d = '';
  let pen = false;
  let lastX = '';
  let lastY = '';
  for (let i = 0; i < n; i++) {
    const x = xs[i]!;
    const y = ys[i]!;
    const ok = Number.isFinite(x) && Number.isFinite(y) && (!sx.log || x > 0) && (!sy.log || y > 0);
    if (!ok) {
      pen = false;
      continue;
    }
    const X = px(sx(x));
    const Y = px(sy(y));
    if (pen && X === lastX && Y === lastY && i !== n - 1) continue;
    d += `${pen ? 'L' : 'M'}${X},${Y}`;
    pen = true;
    lastX = X;
    lastY = Y;
  }
  return d;
}

function clipRect(box: Box): string {
  // A nested viewport clips without needing a clipPath id (ids would clash across inline SVGs).
  return `<svg x="${px(box.x)}" y="${px(box.y)}" width="${px(box.w)}" height="${px(box.h)}" viewBox="${px(box.x)} ${px(box.y)} ${px(box.w)} ${px(box.h)}" overflow="hidden">`;
}

// ---------------------------------------------------------------------------------------------
// Histograms

/** Bin edges from a count over [lo, hi] or from explicit edges (checked increasing and finite). */
export function binEdges(bins: number | ArrayLike<number>, lo: number, hi: number): Float64Array {
  if (typeof bins === 'number') {
    if (!Number.isInteger(bins) || bins < 1) throw new FluxmutError(`histogram: bins must be a positive integer, got ${bins}`);
    const e = new Float64Array(bins + 1);
    for (let i = 0; i <= bins; i++) e[i] = lo + ((hi - lo) * i) / bins;
    e[bins] = hi;
    return e;
  }
  if (bins.length < 2) throw new FluxmutError(`histogram: bin edges need at least 2 values, got ${bins.length}`);
  const e = Float64Array.from(bins);
  for (let i = 0; i < e.length; i++) {
    if (!Number.isFinite(e[i]!)) throw new FluxmutError(`histogram: bin edge ${i} is ${e[i]}; edges must be finite`);
    if (i > 0 && !(e[i]! > e[i - 1]!)) throw new FluxmutError(`histogram: bin edges must increase strictly (edge ${i - 1} = ${e[i - 1]}, edge ${i} = ${e[i]})`);
  }
  return e;
}

/**
 * Counts of finite values in bins [e_i, e_{i+1}); the last bin also takes its upper edge.
 * Values outside the edges or non-finite are not counted.
 */
export function histogramCounts(values: ArrayLike<number>, edges: ArrayLike<number>): Float64Array {
  const nb = edges.length - 1;
  const counts = new Float64Array(Math.max(0, nb));
  if (nb < 1) return counts;
  const lo = edges[0]!;
  const hi = edges[nb]!;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!(v >= lo && v <= hi)) continue;
    // Binary search: works for unequal edges as well as equal ones.
    let a = 0;
    let b = nb;
    while (b - a > 1) {
      const m = (a + b) >> 1;
      if (v >= edges[m]!) a = m;
      else b = m;
    }
    counts[a]!++;
  }
  return counts;
}

function finiteExtent(arrays: readonly ArrayLike<number>[], positiveOnly = false): [number, number] | null {
  let lo = Infinity;
  let hi = -Infinity;
  for (const a of arrays) {
    for (let i = 0; i < a.length; i++) {
      const v = a[i]!;
      if (!Number.isFinite(v) || (positiveOnly && v <= 0)) continue;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
  }
  return lo <= hi ? [lo, hi] : null;
}

function drawHistogram(o: HistogramOptions, width: number, height: number): string {
  const box = plotBox(width, height, o);
  const series = o.series ?? [];
  let edges: Float64Array;
  if (typeof o.bins === 'object') edges = binEdges(o.bins, 0, 0);
  else {
    const ext = o.range ?? finiteExtent(series.map((s) => s.values)) ?? [0, 1];
    const [lo, hi] = degenerate(ext[0], ext[1]);
    edges = binEdges(o.bins ?? 40, lo, hi);
  }
  const nb = edges.length - 1;
  const heights = series.map((s) => {
    const c = histogramCounts(s.values, edges);
    if (o.density) {
      let total = 0;
      for (let i = 0; i < nb; i++) total += c[i]!;
      if (total > 0) for (let i = 0; i < nb; i++) c[i] = c[i]! / (total * (edges[i + 1]! - edges[i]!));
    }
    return c;
  });
  const positive = finiteExtent(heights, true);
  const maxH = positive ? positive[1] : 0;
  const useLog = !!o.logY && positive !== null;
  const xs = linearScale(edges[0]!, edges[nb]!, box.x, box.x + box.w, Math.max(3, Math.round(box.w / 90)));
  const yTarget = Math.max(3, Math.round(box.h / 50));
  const ys = useLog
    ? // Half the smallest bar below the axis floor, so a bin of one count still shows.
      logScale(...logExtent(positive![0] * 0.5, positive![1] * 1.5), box.y + box.h, box.y)
    : linearScale(0, maxH > 0 ? niceExtent(0, maxH * 1.05, yTarget)[1] : 1, box.y + box.h, box.y, yTarget);
  const base = box.y + box.h;
  const body: string[] = [drawAxes(box, xs, ys, o, width), clipRect(box)];
  heights.forEach((h, si) => {
    const color = escapeXml(seriesColor(si, series[si]!.color));
    const name = escapeXml(series[si]!.name);
    body.push(`<g class="series" data-series="${si}" fill="${color}" fill-opacity="0.15">`);
    let d = `M${px(xs(edges[0]!))},${px(base)}`;
    for (let i = 0; i < nb; i++) {
      const v = h[i]!;
      const top = v > 0 ? ys(v) : base;
      const x0 = xs(edges[i]!);
      const x1 = xs(edges[i + 1]!);
      d += `V${px(top)}H${px(x1)}`;
      if (v > 0) {
        body.push(
          `<rect class="bar" data-bin="${i}" x="${px(x0)}" y="${px(top)}" width="${px(x1 - x0)}" height="${px(base - top)}">` +
            `<title>${name}: [${formatValue(edges[i]!)}, ${formatValue(edges[i + 1]!)}) ${formatValue(v)}</title></rect>`,
        );
      }
    }
    d += `V${px(base)}`;
    body.push(`</g>`);
    body.push(`<path class="step" data-series="${si}" d="${d}" fill="none" stroke="${color}" stroke-width="1.5"/>`);
  });
  for (const [i, l] of (o.vlines ?? []).entries()) {
    if (!Number.isFinite(l.x)) continue;
    const x = px(xs(l.x));
    const c = escapeXml(l.color ?? '#222');
    body.push(`<line class="vline" x1="${x}" x2="${x}" y1="${px(box.y)}" y2="${px(base)}" stroke="${c}" stroke-width="1.5" stroke-dasharray="6 4"/>`);
    if (l.label) body.push(`<text class="vline-label" x="${px(xs(l.x) + 4)}" y="${px(box.y + 14 + 14 * i)}" font-size="11" fill="${c}">${escapeXml(l.label)}</text>`);
  }
  body.push('</svg>');
  if (positive === null) body.push(noData(box));
  body.push(drawLegend(box, series.map((s, i) => ({ name: s.name, color: seriesColor(i, s.color), kind: 'box' as const })), o.legend ?? 'top-right'));
  return body.join('\n');
}

/** Overlaid step histograms of one or more series, optional log-y and marked cuts (vlines). */
export function histogramPlot(o: HistogramOptions): string {
  const w = o.width ?? 640;
  const h = o.height ?? 400;
  return svgDocument(w, h, o.title, drawHistogram(o, w, h));
}

// ---------------------------------------------------------------------------------------------
// Heatmap

// Viridis (matplotlib's perceptually uniform map) sampled at 10 evenly spaced points.
const VIRIDIS = ['#440154', '#482878', '#3e4989', '#31688e', '#26828e', '#1f9e89', '#35b779', '#6ece58', '#b5de2b', '#fde725'];
const VIRIDIS_RGB = VIRIDIS.map((h) => [1, 3, 5].map((i) => Number.parseInt(h.slice(i, i + 2), 16)));

/** Colour of t in [0, 1] on the viridis map (clamped), as #rrggbb. */
export function colormap(t: number): string {
  const u = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0)) * (VIRIDIS_RGB.length - 1);
  const i = Math.min(VIRIDIS_RGB.length - 2, Math.floor(u));
  const f = u - i;
  const a = VIRIDIS_RGB[i]!;
  const b = VIRIDIS_RGB[i + 1]!;
  return '#' + [0, 1, 2].map((k) => Math.round(a[k]! + (b[k]! - a[k]!) * f).toString(16).padStart(2, '0')).join('');
}

function checkEdges(name: string, e: ArrayLike<number>): void {
  if (e.length < 2) throw new FluxmutError(`heatmap: ${name} needs at least 2 bin edges, got ${e.length}`);
  for (let i = 0; i < e.length; i++) {
    if (!Number.isFinite(e[i]!)) throw new FluxmutError(`heatmap: ${name}[${i}] is ${e[i]}; bin edges must be finite`);
    if (i > 0 && !(e[i]! > e[i - 1]!)) throw new FluxmutError(`heatmap: ${name} must increase strictly (${name}[${i - 1}] = ${e[i - 1]}, ${name}[${i}] = ${e[i]})`);
  }
}

const EMPTY_CELL = '#d9d9d9';

function drawHeatmap(o: HeatmapOptions, width: number, height: number): string {
  checkEdges('xEdges', o.xEdges);
  checkEdges('yEdges', o.yEdges);
  const nx = o.xEdges.length - 1;
  const ny = o.yEdges.length - 1;
  if (o.values.length !== nx * ny) {
    throw new FluxmutError(`heatmap: values has ${o.values.length} entries but the edges give ${ny} rows x ${nx} columns = ${nx * ny}; pass them row-major, one row per y bin`);
  }
  const barW = 72;
  const box = plotBox(width, height, o, barW);
  const xs = linearScale(o.xEdges[0]!, o.xEdges[nx]!, box.x, box.x + box.w, Math.max(3, Math.round(box.w / 90)));
  const ys = linearScale(o.yEdges[0]!, o.yEdges[ny]!, box.y + box.h, box.y, Math.max(3, Math.round(box.h / 50)));
  const ext = o.colorRange ?? finiteExtent([o.values]);
  const [vmin, vmax] = ext ? degenerate(ext[0], ext[1]) : [0, 1];
  const body: string[] = [];
  body.push(`<g class="cells">`);
  for (let j = 0; j < ny; j++) {
    for (let i = 0; i < nx; i++) {
      const v = o.values[j * nx + i]!;
      const x0 = xs(o.xEdges[i]!);
      const x1 = xs(o.xEdges[i + 1]!);
      const y0 = ys(o.yEdges[j + 1]!);
      const y1 = ys(o.yEdges[j]!);
      const fill = Number.isFinite(v) ? colormap((v - vmin) / (vmax - vmin)) : EMPTY_CELL;
      const tip = `x [${formatValue(o.xEdges[i]!)}, ${formatValue(o.xEdges[i + 1]!)}), y [${formatValue(o.yEdges[j]!)}, ${formatValue(o.yEdges[j + 1]!)}): ${Number.isFinite(v) ? formatValue(v) : 'empty'}`;
      // Cells overlap by a hair so anti-aliasing draws no seams between them.
      body.push(`<rect class="cell" data-i="${i}" data-j="${j}" x="${px(x0)}" y="${px(y0)}" width="${px(x1 - x0 + 0.3)}" height="${px(y1 - y0 + 0.3)}" fill="${fill}"><title>${escapeXml(tip)}</title></rect>`);
    }
  }
  body.push(`</g>`);
  body.push(drawAxes(box, xs, ys, o, width, false));
  // Colour bar: stacked strips, no gradient (a gradient needs an id).
  const bx = box.x + box.w + 14;
  const bw = 14;
  const strips = 64;
  const cs = linearScale(vmin, vmax, box.y + box.h, box.y, Math.max(3, Math.round(box.h / 50)));
  body.push(`<g class="colorbar">`);
  for (let s = 0; s < strips; s++) {
    const y0 = box.y + (box.h * (strips - 1 - s)) / strips;
    body.push(`<rect x="${px(bx)}" y="${px(y0)}" width="${bw}" height="${px(box.h / strips + (s > 0 ? 1 : 0))}" fill="${colormap((s + 0.5) / strips)}"/>`);
  }
  body.push(`<rect x="${px(bx)}" y="${px(box.y)}" width="${bw}" height="${px(box.h)}" fill="none" stroke="#333"/>`);
  for (const t of cs.ticks()) {
    const y = px(cs(t.v));
    body.push(`<line x1="${px(bx + bw)}" x2="${px(bx + bw + 4)}" y1="${y}" y2="${y}" stroke="#333"/>`);
    body.push(`<text class="colorbar-label" x="${px(bx + bw + 6)}" y="${y}" dy="0.35em" font-size="11">${escapeXml(t.label)}</text>`);
  }
  if (o.colorLabel) {
    const cx = bx + bw + 52;
    const cy = box.y + box.h / 2;
    body.push(`<text class="colorbar-title" x="${px(cx)}" y="${px(cy)}" text-anchor="middle" font-size="12" transform="rotate(-90 ${px(cx)} ${px(cy)})">${escapeXml(o.colorLabel)}</text>`);
  }
  body.push(`</g>`);
  if (!ext) body.push(noData(box));
  return body.join('\n');
}

/** Mean (or any) value per 2-D bin as coloured cells with a colour bar; NaN cells are grey. */
export function heatmapPlot(o: HeatmapOptions): string {
  const w = o.width ?? 640;
  const h = o.height ?? 440;
  return svgDocument(w, h, o.title, drawHeatmap(o, w, h));
}

// ---------------------------------------------------------------------------------------------
// ROC

function drawRoc(o: RocOptions, width: number, height: number): string {
  const mode = o.axes ?? 'fpr-tpr';
  const f: Frame = {
    ...o,
    xLabel: o.xLabel ?? (mode === 'fpr-tpr' ? 'false positive rate' : 'true positive rate (reference efficiency)'),
    yLabel: o.yLabel ?? (mode === 'fpr-tpr' ? 'true positive rate' : 'true negative rate (anomaly rejection)'),
  };
  const box = plotBox(width, height, f);
  const xs = linearScale(0, 1, box.x, box.x + box.w, 5);
  const ys = linearScale(0, 1, box.y + box.h, box.y, 5);
  const body = [drawAxes(box, xs, ys, f, width), clipRect(box)];
  const diag = mode === 'fpr-tpr' ? [0, 0, 1, 1] : [0, 1, 1, 0];
  body.push(`<line class="diagonal" x1="${px(xs(diag[0]!))}" y1="${px(ys(diag[1]!))}" x2="${px(xs(diag[2]!))}" y2="${px(ys(diag[3]!))}" stroke="#999" stroke-dasharray="4 4"/>`);
  const curves = o.curves ?? [];
  curves.forEach((c, i) => {
    const n = Math.min(c.fpr.length, c.tpr.length);
    let X: ArrayLike<number> = c.fpr;
    let Y: ArrayLike<number> = c.tpr;
    if (mode === 'tpr-tnr') {
      const tnr = new Float64Array(n);
      for (let k = 0; k < n; k++) tnr[k] = 1 - c.fpr[k]!;
      X = c.tpr;
      Y = tnr;
    }
    body.push(`<path class="curve" data-series="${i}" d="${polyline(X, Y, xs, ys)}" fill="none" stroke="${escapeXml(seriesColor(i, c.color))}" stroke-width="2"/>`);
  });
  body.push('</svg>');
  const hasPoints = curves.some((c) => Math.min(c.fpr.length, c.tpr.length) > 0);
  if (!hasPoints) body.push(noData(box));
  const entries = curves.map((c, i) => ({
    name: c.auc !== undefined && Number.isFinite(c.auc) ? `${c.name} (AUC ${c.auc.toFixed(3)})` : c.name,
    color: seriesColor(i, c.color),
    kind: 'line' as const,
  }));
  body.push(drawLegend(box, entries, o.legend ?? (mode === 'fpr-tpr' ? 'bottom-right' : 'bottom-left')));
  return body.join('\n');
}

/** ROC curves with the chance diagonal; AUC in the legend when given. */
export function rocPlot(o: RocOptions): string {
  const w = o.width ?? 520;
  const h = o.height ?? 480;
  return svgDocument(w, h, o.title, drawRoc(o, w, h));
}

// ---------------------------------------------------------------------------------------------
// Scatter + lines

/** Indices of rows with finite (x, y) (positive where the axis is log), at most `max` of them, ascending. */
export function subsampleIndices(x: ArrayLike<number>, y: ArrayLike<number>, max: number, rng?: Rng, logX = false, logY = false): Uint32Array {
  const n = Math.min(x.length, y.length);
  const ok: number[] = [];
  for (let i = 0; i < n; i++) {
    const a = x[i]!;
    const b = y[i]!;
    if (Number.isFinite(a) && Number.isFinite(b) && (!logX || a > 0) && (!logY || b > 0)) ok.push(i);
  }
  if (ok.length <= max) return Uint32Array.from(ok);
  const out = new Uint32Array(max);
  if (rng) {
    // Partial Fisher-Yates: the first `max` slots become a uniform sample without replacement.
    for (let k = 0; k < max; k++) {
      const j = k + rng.int(ok.length - k);
      const t = ok[k]!;
      ok[k] = ok[j]!;
      ok[j] = t;
      out[k] = ok[k]!;
    }
    return out.sort();
  }
  for (let k = 0; k < max; k++) out[k] = ok[Math.floor(((k + 0.5) * ok.length) / max)]!;
  return out;
}

function padded(lo: number, hi: number, log: boolean): [number, number] {
  if (log) return logExtent(lo, hi);
  [lo, hi] = degenerate(lo, hi);
  const p = (hi - lo) * 0.03;
  return [lo - p, hi + p];
}

function drawScatter(o: ScatterOptions, width: number, height: number): string {
  const box = plotBox(width, height, o);
  const points = o.points ?? [];
  const lines = o.lines ?? [];
  const maxPoints = o.maxPoints ?? 3000;
  if (!Number.isInteger(maxPoints) || maxPoints < 1) throw new FluxmutError(`scatterPlot: maxPoints must be a positive integer, got ${maxPoints}`);
  const logX = !!o.logX;
  const logY = !!o.logY;
  const chosen = points.map((p) => subsampleIndices(p.x, p.y, maxPoints, o.rng, logX, logY));
  const xsAll: ArrayLike<number>[] = [];
  const ysAll: ArrayLike<number>[] = [];
  points.forEach((p, s) => {
    xsAll.push(Float64Array.from(chosen[s]!, (i) => p.x[i]!));
    ysAll.push(Float64Array.from(chosen[s]!, (i) => p.y[i]!));
  });
  for (const l of lines) {
    xsAll.push(l.x);
    ysAll.push(l.y);
  }
  const xe = finiteExtent(xsAll, logX);
  const ye = finiteExtent(ysAll, logY);
  const [x0, x1] = o.xRange ?? (xe ? padded(xe[0], xe[1], logX) : logX ? [1, 10] : [0, 1]);
  const [y0, y1] = o.yRange ?? (ye ? padded(ye[0], ye[1], logY) : logY ? [1, 10] : [0, 1]);
  const xs = logX ? logScale(x0, x1, box.x, box.x + box.w) : linearScale(x0, x1, box.x, box.x + box.w, Math.max(3, Math.round(box.w / 90)));
  const ys = logY ? logScale(y0, y1, box.y + box.h, box.y) : linearScale(y0, y1, box.y + box.h, box.y, Math.max(3, Math.round(box.h / 50)));
  const body = [drawAxes(box, xs, ys, o, width), clipRect(box)];
  const entries: LegendEntry[] = [];
  points.forEach((p, s) => {
    const color = escapeXml(seriesColor(s, p.color));
    body.push(`<g class="points" data-series="${s}" fill="${color}" fill-opacity="0.45">`);
    const idx = chosen[s]!;
    for (let k = 0; k < idx.length; k++) body.push(`<circle cx="${px(xs(p.x[idx[k]!]!))}" cy="${px(ys(p.y[idx[k]!]!))}" r="1.8"/>`);
    body.push('</g>');
    const n = Math.min(p.x.length, p.y.length);
    entries.push({ name: idx.length < n ? `${p.name} (${idx.length} of ${n} shown)` : p.name, color: seriesColor(s, p.color), kind: 'dot' });
  });
  lines.forEach((l, s) => {
    const c = seriesColor(points.length + s, l.color);
    body.push(`<path class="line" data-series="${s}" d="${polyline(l.x, l.y, xs, ys)}" fill="none" stroke="${escapeXml(c)}" stroke-width="2"${l.dashed ? ' stroke-dasharray="6 4"' : ''}/>`);
    entries.push({ name: l.name, color: c, kind: l.dashed ? 'dashed' : 'line' });
  });
  body.push('</svg>');
  if (!xe || !ye) body.push(noData(box));
  body.push(drawLegend(box, entries, o.legend ?? 'top-right'));
  return body.join('\n');
}

/** Points (subsampled to `maxPoints` per series) with lines on top, e.g. scores and a threshold curve. */
export function scatterPlot(o: ScatterOptions): string {
  const w = o.width ?? 640;
  const h = o.height ?? 400;
  return svgDocument(w, h, o.title, drawScatter(o, w, h));
}

// ---------------------------------------------------------------------------------------------
// Grid of panels

function drawPanel(p: PanelSpec, w: number, h: number, legend: LegendPosition | undefined): string {
  switch (p.kind) {
    case 'histogram':
      return drawHistogram({ ...p, legend: legend ?? p.legend }, w, h);
    case 'heatmap':
      return drawHeatmap(p, w, h);
    case 'roc':
      return drawRoc({ ...p, legend: legend ?? p.legend }, w, h);
    case 'scatter':
      return drawScatter({ ...p, legend: legend ?? p.legend }, w, h);
    default:
      throw new FluxmutError(`gridOfPlots: unknown panel kind ${JSON.stringify((p as { kind: unknown }).kind)}; use histogram, heatmap, roc or scatter`);
  }
}

/**
 * Panels in rows of `columns`, e.g. one histogram per feature with the original, reconstructed
 * and generated series overlaid (paper Fig. C1), or one heatmap per class (paper Fig. 3).
 */
export function gridOfPlots(o: GridOptions): string {
  const cols = Math.max(1, Math.min(o.columns ?? 4, Math.max(1, o.panels.length)));
  const pw = o.panelWidth ?? 300;
  const ph = o.panelHeight ?? 230;
  const rows = Math.ceil(o.panels.length / cols);
  const top = (o.title ? 32 : 4) + (o.legend && o.legend.length ? 24 : 0);
  const width = cols * pw;
  const height = top + Math.max(1, rows) * ph;
  const body: string[] = [];
  if (o.title) body.push(`<text class="title" x="${px(width / 2)}" y="20" text-anchor="middle" font-size="15" font-weight="bold">${escapeXml(o.title)}</text>`);
  if (o.legend && o.legend.length) {
    let x = 12;
    const y = (o.title ? 32 : 4) + 12;
    body.push(`<g class="legend" font-size="12">`);
    o.legend.forEach((e, i) => {
      const c = escapeXml(seriesColor(i, e.color));
      body.push(`<rect x="${px(x)}" y="${px(y - 5)}" width="16" height="10" fill="${c}" fill-opacity="0.3" stroke="${c}"/>`);
      body.push(`<text x="${px(x + 21)}" y="${px(y)}" dy="0.35em">${escapeXml(e.name)}</text>`);
      x += 36 + e.name.length * 7;
    });
    body.push('</g>');
  }
  o.panels.forEach((p, k) => {
    const x = (k % cols) * pw;
    const y = top + Math.floor(k / cols) * ph;
    body.push(`<svg class="panel" x="${px(x)}" y="${px(y)}" width="${px(pw)}" height="${px(ph)}" viewBox="0 0 ${px(pw)} ${px(ph)}">`);
    body.push(drawPanel(p, pw, ph, o.legend && o.legend.length ? 'none' : undefined));
    body.push('</svg>');
  });
  if (o.panels.length === 0) body.push(`<text class="no-data" x="${px(width / 2)}" y="${px(top + ph / 2)}" text-anchor="middle" fill="#888">no data</text>`);
  return svgDocument(width, height, o.title, body.join('\n'));
}

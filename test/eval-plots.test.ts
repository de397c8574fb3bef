import { describe, it, expect } from 'vitest';
import {
  niceTicks, niceExtent, histogramCounts, histogramPlot, heatmapPlot, rocPlot, scatterPlot, gridOfPlots,
  colormap, subsampleIndices, formatTick,
} from '../src/eval/plots.js';
import { Rng } from '../src/core/rng.js';
import { FluxmutError } from '../src/core/errors.js';

// ------------------------------------------------------------------------------------------------
// A strict little XML parser, independent of the code under test: it throws on anything that is
// not well-formed (unbalanced tags, bad entities, raw '<' or '&' in text, duplicate attributes,
// more than one root) and returns a tree to measure the geometry on.

interface El {
  name: string;
  attrs: Record<string, string>;
  children: El[];
  text: string;
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function unescape(s: string, where: string): string {
  return s.replace(/&([^;]*);?/g, (m, name: string) => {
    if (!m.endsWith(';')) throw new Error(`bare & in ${where}: ${JSON.stringify(s)}`);
    if (name in ENTITIES) return ENTITIES[name]!;
    if (/^#\d+$/.test(name)) return String.fromCodePoint(Number(name.slice(1)));
    if (/^#x[0-9a-fA-F]+$/.test(name)) return String.fromCodePoint(Number.parseInt(name.slice(2), 16));
    throw new Error(`unknown entity &${name}; in ${where}`);
  });
}

function parseXml(src: string): El {
  let i = 0;
  const stack: El[] = [];
  let root: El | null = null;
  const nameRe = /^[A-Za-z_][\w.:-]*/;
  while (i < src.length) {
    const lt = src.indexOf('<', i);
    const text = src.slice(i, lt < 0 ? src.length : lt);
    if (text.includes('>')) throw new Error(`raw '>' in text near ${JSON.stringify(text.slice(0, 40))}`);
    if (stack.length) stack[stack.length - 1]!.text += unescape(text, 'text');
    else if (text.trim()) throw new Error(`text outside the root element: ${JSON.stringify(text.slice(0, 40))}`);
    if (lt < 0) break;
    const gt = src.indexOf('>', lt);
    if (gt < 0) throw new Error('unterminated tag');
    const tag = src.slice(lt + 1, gt);
    i = gt + 1;
    if (tag.startsWith('/')) {
      const name = tag.slice(1).trim();
      const open = stack.pop();
      if (!open || open.name !== name) throw new Error(`</${name}> closes <${open?.name}>`);
      continue;
    }
    if (tag.startsWith('!') || tag.startsWith('?')) throw new Error(`unexpected <${tag.slice(0, 10)}`);
    const selfClosing = tag.endsWith('/');
    const body = selfClosing ? tag.slice(0, -1) : tag;
    const m = nameRe.exec(body);
    if (!m) throw new Error(`bad tag <${tag.slice(0, 20)}`);
    const el: El = { name: m[0], attrs: {}, children: [], text: '' };
    let rest = body.slice(m[0].length);
    while (rest.trim()) {
      const a = /^\s+([A-Za-z_][\w.:-]*)="([^"<]*)"/.exec(rest);
      if (!a) throw new Error(`bad attribute syntax in <${el.name}: ${JSON.stringify(rest.slice(0, 40))}`);
      if (a[1]! in el.attrs) throw new Error(`duplicate attribute ${a[1]} in <${el.name}>`);
      el.attrs[a[1]!] = unescape(a[2]!, `attribute ${a[1]}`);
      rest = rest.slice(a[0].length);
    }
    if (stack.length) stack[stack.length - 1]!.children.push(el);
    else if (root) throw new Error('more than one root element');
    else root = el;
    if (!selfClosing) stack.push(el);
  }
  if (stack.length) throw new Error(`unclosed <${stack[stack.length - 1]!.name}>`);
  if (!root) throw new Error('no root element');
  return root;
}

function all(el: El, pred: (e: El) => boolean, out: El[] = []): El[] {
  if (pred(el)) out.push(el);
  for (const c of el.children) all(c, pred, out);
  return out;
}
const byClass = (root: El, cls: string) => all(root, (e) => (e.attrs.class ?? '').split(' ').includes(cls));
const num = (e: El, a: string) => Number(e.attrs[a]);

/** Pixel position of each labelled tick: the y-axis (or x-axis) as the plot draws it. */
function tickMap(root: El, axis: 'x' | 'y'): Map<string, number> {
  const lines = byClass(root, `${axis}tick`);
  const labels = byClass(root, `${axis}tick-label`);
  expect(lines.length).toBe(labels.length);
  return new Map(labels.map((l, k) => [l.text, num(lines[k]!, axis === 'x' ? 'x1' : 'y1')]));
}

// ------------------------------------------------------------------------------------------------

describe('parseXml (the test helper itself)', () => {
  it('rejects what is not well-formed', () => {
    expect(() => parseXml('<svg><g></svg>')).toThrow();
    expect(() => parseXml('<svg><text>a < b</text></svg>')).toThrow();
    expect(() => parseXml('<svg><text>a & b</text></svg>')).toThrow();
    expect(() => parseXml('<svg a="1" a="2"/>')).toThrow();
    expect(() => parseXml('<svg/><svg/>')).toThrow();
    expect(parseXml('<svg x="&lt;"><t>a &amp; b</t></svg>').children[0]!.text).toBe('a & b');
  });
});

describe('niceTicks', () => {
  it('gives the expected 1-2-5 grids on hand-checked ranges', () => {
    expect(niceTicks(0, 1)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(niceTicks(0.013, 0.087)).toEqual([0.02, 0.03, 0.04, 0.05, 0.06, 0.07, 0.08]);
    expect(niceTicks(-3, 17)).toEqual([0, 5, 10, 15]);
    expect(niceTicks(100, 1000)).toEqual([200, 400, 600, 800, 1000]);
    expect(niceExtent(0.013, 0.087)).toEqual([0.01, 0.09]);
  });

  it('steps are 1, 2 or 5 times a power of ten and the ticks cover the range', () => {
    const rng = new Rng(7);
    for (let t = 0; t < 500; t++) {
      const scale = Math.pow(10, rng.int(16) - 8);
      const a = (rng.uniform() - 0.5) * 10 * scale;
      const b = a + rng.uniform() * 10 * scale + 1e-3 * scale;
      const ticks = niceTicks(a, b);
      expect(ticks.length).toBeGreaterThanOrEqual(2);
      expect(ticks.length).toBeLessThanOrEqual(11);
      const step = ticks[1]! - ticks[0]!;
      const e = Math.floor(Math.log10(step) + 1e-9);
      const m = step / Math.pow(10, e);
      expect([1, 2, 5, 10].some((k) => Math.abs(m - k) < 1e-6)).toBe(true);
      for (let k = 0; k < ticks.length; k++) {
        expect(ticks[k]!).toBeGreaterThanOrEqual(a - 1e-9 * scale);
        expect(ticks[k]!).toBeLessThanOrEqual(b + 1e-9 * scale);
        // Ticks are whole multiples of the step, evenly spaced.
        expect(Math.abs(ticks[k]! / step - Math.round(ticks[k]! / step))).toBeLessThan(1e-6);
        if (k > 0) expect(Math.abs(ticks[k]! - ticks[k - 1]! - step)).toBeLessThan(1e-6 * step);
      }
      const [lo, hi] = niceExtent(a, b);
      expect(lo).toBeLessThanOrEqual(a);
      expect(hi).toBeGreaterThanOrEqual(b);
      expect(hi - lo).toBeLessThan(2 * (b - a) + 4 * step);
    }
  });

  it('survives degenerate and non-finite ranges', () => {
    expect(niceTicks(3, 3).length).toBeGreaterThan(0);
    expect(niceTicks(0, 0)).toContain(0);
    expect(niceTicks(NaN, Infinity)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(niceTicks(5, 1)).toEqual(niceTicks(1, 5));
  });

  it('labels ticks with just enough decimals', () => {
    expect(formatTick(0.30000000000000004, 0.1)).toBe('0.3');
    expect(formatTick(250, 50)).toBe('250');
    expect(formatTick(0.05, 0.01)).toBe('0.05');
    expect(formatTick(2e-5, 1e-5)).toBe('2e-5');
    expect(formatTick(3e7, 1e7)).toBe('3e7');
  });
});

describe('histogramCounts', () => {
  it('matches a brute-force count, with the last bin closed and NaN/out-of-range dropped', () => {
    const rng = new Rng(3);
    const v = new Float64Array(2000);
    for (let i = 0; i < v.length; i++) v[i] = rng.normal();
    v[0] = NaN;
    v[1] = Infinity;
    v[2] = 2; // exactly the upper edge: counted in the last bin
    v[3] = -2; // exactly the lower edge
    const edges = [-2, -1, -0.25, 0, 0.5, 2];
    const c = histogramCounts(v, edges);
    for (let b = 0; b < 5; b++) {
      let n = 0;
      for (const x of v) if (x >= edges[b]! && (x < edges[b + 1]! || (b === 4 && x === 2))) n++;
      expect(c[b]).toBe(n);
    }
  });
});

describe('histogramPlot', () => {
  it('is well-formed SVG whose bar heights are the counts on the drawn y axis', () => {
    const counts = [3, 7, 0, 12, 5];
    const values: number[] = [];
    counts.forEach((c, i) => { for (let k = 0; k < c; k++) values.push(i + 0.5); });
    const svg = histogramPlot({ title: 'counts', xLabel: 'x', yLabel: 'entries', series: [{ name: 'a', values }], bins: 5, range: [0, 5] });
    const root = parseXml(svg);
    expect(root.name).toBe('svg');
    const bars = byClass(root, 'bar');
    expect(bars.map((b) => Number(b.attrs['data-bin']))).toEqual([0, 1, 3, 4]); // empty bin: no bar
    const yt = tickMap(root, 'y');
    const xt = tickMap(root, 'x');
    const y0 = yt.get('0')!;
    const y10 = yt.get('10')!;
    expect(y0).toBeGreaterThan(y10);
    const pxPerCount = (y0 - y10) / 10;
    for (const b of bars) {
      const c = counts[Number(b.attrs['data-bin'])]!;
      expect(Math.abs(num(b, 'height') - c * pxPerCount)).toBeLessThan(0.02);
      expect(Math.abs(num(b, 'y') + num(b, 'height') - y0)).toBeLessThan(0.02);
      // The bar spans its bin on the drawn x axis.
      const i = Number(b.attrs['data-bin']);
      const pxPerUnit = (xt.get('5')! - xt.get('0')!) / 5;
      expect(Math.abs(num(b, 'x') - (xt.get('0')! + i * pxPerUnit))).toBeLessThan(0.02);
      expect(Math.abs(num(b, 'width') - pxPerUnit)).toBeLessThan(0.02);
    }
    // The y axis reaches above the tallest bar, and the top tick is a round number.
    expect(Math.max(...[...yt.keys()].map(Number))).toBeGreaterThanOrEqual(12);
  });

  it('log-y: bar heights are decades above the axis floor', () => {
    const values: number[] = [];
    [1, 10, 100].forEach((c, i) => { for (let k = 0; k < c; k++) values.push(i + 0.5); });
    const root = parseXml(histogramPlot({ series: [{ name: 'a', values }], bins: 3, range: [0, 3], logY: true }));
    const yt = tickMap(root, 'y');
    const d0 = yt.get('10\u2070')!;
    const d1 = yt.get('10\u00b9')!;
    const floor = yt.get('10\u207b\u00b9')!; // the axis floor is 0.1, so one count is visible
    const perDecade = d0 - d1;
    const bars = byClass(root, 'bar');
    expect(bars).toHaveLength(3);
    bars.forEach((b, i) => {
      expect(Math.abs(num(b, 'y') + num(b, 'height') - floor)).toBeLessThan(0.02);
      expect(Math.abs(num(b, 'height') - (i + 1) * perDecade)).toBeLessThan(0.05);
    });
  });

  it('density: each series has unit area on the drawn axes', () => {
    const rng = new Rng(11);
    const a = Array.from({ length: 3000 }, () => rng.normal());
    const b = Array.from({ length: 500 }, () => 1 + 0.5 * rng.normal());
    const root = parseXml(histogramPlot({ series: [{ name: 'a', values: a }, { name: 'b', values: b }], bins: 25, density: true }));
    const yt = [...tickMap(root, 'y').entries()].map(([k, v]) => [Number(k), v] as const);
    const pxPerY = (yt[0]![1] - yt[1]![1]) / (yt[1]![0] - yt[0]![0]);
    const xt = [...tickMap(root, 'x').entries()].map(([k, v]) => [Number(k), v] as const);
    const pxPerX = (xt[1]![1] - xt[0]![1]) / (xt[1]![0] - xt[0]![0]);
    for (const s of ['0', '1']) {
      const group = all(root, (e) => e.name === 'g' && e.attrs['data-series'] === s)[0]!;
      const area = byClass(group, 'bar').reduce((acc, r) => acc + (num(r, 'height') / pxPerY) * (num(r, 'width') / pxPerX), 0);
      expect(area).toBeCloseTo(1, 2);
    }
  });

  it('marks cuts with labelled vertical lines at the right x', () => {
    const root = parseXml(histogramPlot({ series: [{ name: 'a', values: [0, 1, 2, 3, 4] }], range: [0, 4], vlines: [{ x: 3, label: 'q = 0.99 cut' }] }));
    const xt = tickMap(root, 'x');
    const line = byClass(root, 'vline')[0]!;
    const at3 = [...xt.entries()].find(([k]) => Number(k) === 3)![1];
    expect(Math.abs(num(line, 'x1') - at3)).toBeLessThan(0.02);
    expect(byClass(root, 'vline-label')[0]!.text).toBe('q = 0.99 cut');
  });

  it('escapes every user string', () => {
    const evil = `<script>alert("x")</script> & 'q'`;
    const svg = histogramPlot({
      title: evil, xLabel: evil, yLabel: evil,
      series: [{ name: evil, values: [1, 2, 3], color: '"/><script>alert(1)</script>' }],
      vlines: [{ x: 2, label: evil }],
    });
    expect(svg).not.toMatch(/<script/i);
    expect(svg).toContain('&lt;script&gt;');
    const root = parseXml(svg);
    expect(byClass(root, 'title')[0]!.text).toBe(evil);
    expect(byClass(root, 'xlabel')[0]!.text).toBe(evil);
    expect(root.attrs['aria-label']).toBe(evil);
  });

  it('does not crash on empty, NaN-only or constant input', () => {
    for (const series of [[], [{ name: 'x', values: [] }], [{ name: 'x', values: [NaN, Infinity, -Infinity] }]]) {
      const root = parseXml(histogramPlot({ title: 't', series }));
      expect(byClass(root, 'no-data')).toHaveLength(1);
      expect(byClass(root, 'bar')).toHaveLength(0);
    }
    const root = parseXml(histogramPlot({ series: [{ name: 'x', values: [2, 2, 2, NaN] }], logY: true }));
    expect(byClass(root, 'bar')).toHaveLength(1);
    expect(svgNumbersFinite(histogramPlot({ series: [{ name: 'x', values: new Float32Array([5, 5]) }] }))).toBe(true);
  });

  it('refuses bad binning with a FluxmutError', () => {
    expect(() => histogramPlot({ series: [], bins: 0 })).toThrow(FluxmutError);
    expect(() => histogramPlot({ series: [], bins: [0, 1, 1] })).toThrow(/increase/);
  });
});

function svgNumbersFinite(svg: string): boolean {
  return !/NaN|Infinity/.test(svg.replace(/<title>[^<]*<\/title>/g, ''));
}

describe('heatmapPlot', () => {
  const xEdges = [0, 10, 20, 40];
  const yEdges = [100, 200, 300];
  // Row 0 is the y bin [100, 200).
  const values = [0.1, 0.5, NaN, 0.3, 0.9, 0.2];

  it('places each cell on its bin and colours it by value, NaN grey', () => {
    const root = parseXml(heatmapPlot({ title: 'mean score', xLabel: 'z', yLabel: 'E', xEdges, yEdges, values, colorLabel: 'mean P_out' }));
    const cells = byClass(root, 'cell');
    expect(cells).toHaveLength(6);
    const xt = tickMap(root, 'x');
    const yt = tickMap(root, 'y');
    const xPx = (v: number) => xt.get('0')! + ((xt.get('40')! - xt.get('0')!) * v) / 40;
    const yPx = (v: number) => yt.get('100')! + ((yt.get('300')! - yt.get('100')!) * (v - 100)) / 200;
    for (const c of cells) {
      const i = Number(c.attrs['data-i']);
      const j = Number(c.attrs['data-j']);
      expect(Math.abs(num(c, 'x') - xPx(xEdges[i]!))).toBeLessThan(0.02);
      expect(Math.abs(num(c, 'y') - yPx(yEdges[j + 1]!))).toBeLessThan(0.02); // higher y bin = higher on screen
      expect(num(c, 'width')).toBeGreaterThanOrEqual(xPx(xEdges[i + 1]!) - xPx(xEdges[i]!) - 0.02);
      const v = values[j * 3 + i]!;
      if (Number.isNaN(v)) expect(c.attrs.fill).toBe('#d9d9d9');
      else expect(c.attrs.fill).toBe(colormap((v - 0.1) / 0.8));
    }
    // Extremes map to the ends of viridis.
    expect(cells.find((c) => c.attrs['data-i'] === '0' && c.attrs['data-j'] === '0')!.attrs.fill).toBe('#440154');
    expect(cells.find((c) => c.attrs['data-i'] === '1' && c.attrs['data-j'] === '1')!.attrs.fill).toBe('#fde725');
    expect(byClass(root, 'colorbar-title')[0]!.text).toBe('mean P_out');
    expect(byClass(root, 'colorbar-label').length).toBeGreaterThanOrEqual(3);
  });

  it('handles all-NaN values and rejects inconsistent shapes with a clear error', () => {
    const root = parseXml(heatmapPlot({ xEdges, yEdges, values: new Array(6).fill(NaN) }));
    expect(byClass(root, 'no-data')).toHaveLength(1);
    expect(() => heatmapPlot({ xEdges, yEdges, values: [1, 2, 3] })).toThrow(/2 rows x 3 columns/);
    expect(() => heatmapPlot({ xEdges: [0, 0, 1], yEdges, values: [1, 2, 3, 4] })).toThrow(FluxmutError);
    expect(() => heatmapPlot({ xEdges: [0], yEdges, values: [] })).toThrow(/at least 2/);
  });
});

describe('rocPlot', () => {
  it('draws curves on the unit square with the chance diagonal and AUC in the legend', () => {
    const fpr = [0, 0.1, 0.5, 1];
    const tpr = [0, 0.6, 0.9, 1];
    const root = parseXml(rocPlot({ title: 'ROC', curves: [{ name: 'F+M', fpr, tpr, auc: 0.8123 }] }));
    const xt = tickMap(root, 'x');
    const yt = tickMap(root, 'y');
    const d = byClass(root, 'curve')[0]!.attrs.d!;
    const pts = [...d.matchAll(/[ML]([-\d.]+),([-\d.]+)/g)].map((m) => [Number(m[1]), Number(m[2])]);
    expect(pts).toHaveLength(4);
    pts.forEach(([x, y], k) => {
      expect(Math.abs(x! - (xt.get('0')! + (xt.get('1.0')! - xt.get('0')!) * fpr[k]!))).toBeLessThan(0.02);
      expect(Math.abs(y! - (yt.get('0')! + (yt.get('1.0')! - yt.get('0')!) * tpr[k]!))).toBeLessThan(0.02);
    });
    const diag = byClass(root, 'diagonal')[0]!;
    expect(num(diag, 'x1')).toBeCloseTo(xt.get('0')!, 1);
    expect(num(diag, 'y1')).toBeCloseTo(yt.get('0')!, 1);
    expect(num(diag, 'y2')).toBeCloseTo(yt.get('1.0')!, 1);
    expect(svgText(root)).toContain('F+M (AUC 0.812)');
  });

  it("'tpr-tnr' plots TNR = 1 - FPR against TPR", () => {
    const root = parseXml(rocPlot({ axes: 'tpr-tnr', curves: [{ name: 'a', fpr: [0.25], tpr: [0.75] }] }));
    const xt = tickMap(root, 'x');
    const yt = tickMap(root, 'y');
    const m = /M([-\d.]+),([-\d.]+)/.exec(byClass(root, 'curve')[0]!.attrs.d!)!;
    expect(Math.abs(Number(m[1]) - (xt.get('0')! + (xt.get('1.0')! - xt.get('0')!) * 0.75))).toBeLessThan(0.02);
    expect(Math.abs(Number(m[2]) - (yt.get('0')! + (yt.get('1.0')! - yt.get('0')!) * 0.75))).toBeLessThan(0.02);
    expect(byClass(root, 'xlabel')[0]!.text).toMatch(/true positive/);
  });

  it('copes with empty curves and NaN points', () => {
    const root = parseXml(rocPlot({ curves: [{ name: 'e', fpr: [], tpr: [] }] }));
    expect(byClass(root, 'no-data')).toHaveLength(1);
    const svg = rocPlot({ curves: [{ name: 'n', fpr: [0, NaN, 1], tpr: [0, 0.5, 1] }] });
    parseXml(svg);
    expect(svgNumbersFinite(svg)).toBe(true);
  });
});

function svgText(root: El): string {
  return all(root, () => true).map((e) => e.text).join('\n');
}

describe('scatterPlot', () => {
  const rng = new Rng(5);
  const n = 20000;
  const x = new Float64Array(n);
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    x[i] = 100 + 900 * rng.uniform();
    y[i] = Math.abs(rng.normal()) * 0.1;
  }
  x[7] = NaN;

  it('subsamples to maxPoints real data points, reproducibly for a seed', () => {
    const opts = { title: 'score vs pT', points: [{ name: 'QCD', x, y }], lines: [{ name: '99% threshold', x: [100, 1000], y: [0.3, 0.25], dashed: true }], maxPoints: 2000 };
    const svg = scatterPlot({ ...opts, rng: new Rng(1) });
    expect(svg).toBe(scatterPlot({ ...opts, rng: new Rng(1) }));
    const root = parseXml(svg);
    const circles = all(root, (e) => e.name === 'circle' && e.attrs.r === '1.8');
    expect(circles).toHaveLength(2000);
    expect(svgText(root)).toContain('QCD (2000 of 20000 shown)');
    // Every drawn point is one of the data points, mapped through the drawn axes.
    const xt = [...tickMap(root, 'x').entries()].map(([k, v]) => [Number(k), v] as const);
    const yt = [...tickMap(root, 'y').entries()].map(([k, v]) => [Number(k), v] as const);
    // Map through the outermost ticks, so the 0.01 px rounding of tick positions is not magnified.
    const [x0, xN] = [xt[0]!, xt[xt.length - 1]!];
    const [y0, yN] = [yt[0]!, yt[yt.length - 1]!];
    const toPxX = (v: number) => x0[1] + ((v - x0[0]) * (xN[1] - x0[1])) / (xN[0] - x0[0]);
    const toPxY = (v: number) => y0[1] + ((v - y0[0]) * (yN[1] - y0[1])) / (yN[0] - y0[0]);
    for (const c of circles.slice(0, 50)) {
      const cx = num(c, 'cx');
      const cy = num(c, 'cy');
      let best = Infinity;
      for (let i = 0; i < n; i++) if (Number.isFinite(x[i]!)) best = Math.min(best, Math.hypot(toPxX(x[i]!) - cx, toPxY(y[i]!) - cy));
      expect(best).toBeLessThan(0.03);
    }
    expect(byClass(root, 'line')[0]!.attrs['stroke-dasharray']).toBeDefined();
  });

  it('subsampleIndices: distinct, sorted, finite rows only; uniform over the rows', () => {
    const idx = subsampleIndices(x, y, 5000, new Rng(2));
    expect(idx).toHaveLength(5000);
    for (let k = 1; k < idx.length; k++) expect(idx[k]!).toBeGreaterThan(idx[k - 1]!);
    expect(Array.from(idx)).not.toContain(7);
    // A uniform sample puts about a quarter of its rows in each quarter of the table.
    const quarter = Array.from(idx).filter((i) => i < n / 4).length;
    expect(Math.abs(quarter - 1250)).toBeLessThan(4 * Math.sqrt(5000 * 0.25 * 0.75));
    const even = subsampleIndices(x, y, 100);
    expect(even).toHaveLength(100);
    expect(subsampleIndices([1, NaN, 3], [1, 2, 3], 10)).toEqual(Uint32Array.from([0, 2]));
  });

  it('copes with no points, NaN-only data and log axes', () => {
    const root = parseXml(scatterPlot({ points: [{ name: 'p', x: [NaN], y: [1] }] }));
    expect(byClass(root, 'no-data')).toHaveLength(1);
    parseXml(scatterPlot({}));
    const svg = scatterPlot({ points: [{ name: 'p', x: [0, 10, 100, 1000], y: [-1, 1, 2, 3] }], logX: true });
    parseXml(svg);
    expect(svgNumbersFinite(svg)).toBe(true);
    expect(() => scatterPlot({ maxPoints: 0 })).toThrow(FluxmutError);
  });
});

describe('gridOfPlots', () => {
  it('lays out one panel per feature with one shared legend', () => {
    const rng = new Rng(9);
    const mk = (m: number) => Array.from({ length: 300 }, () => m + rng.normal());
    const panels = Array.from({ length: 7 }, (_, k) => ({
      kind: 'histogram' as const, title: `feature <${k}>`,
      series: [{ name: 'original', values: mk(k) }, { name: 'reconstructed', values: mk(k) }, { name: 'generated', values: mk(k) }],
    }));
    const root = parseXml(gridOfPlots({ title: 'bin E in [100, 140)', columns: 3, panels, legend: [{ name: 'original' }, { name: 'reconstructed' }, { name: 'generated' }] }));
    const p = byClass(root, 'panel');
    expect(p).toHaveLength(7);
    expect(new Set(p.map((e) => e.attrs.y)).size).toBe(3); // 3 rows
    expect(byClass(root, 'legend')).toHaveLength(1);
    expect(byClass(root, 'title').map((t) => t.text)).toContain('feature <3>');
    expect(Number(root.attrs.width)).toBe(3 * 300);
    parseXml(gridOfPlots({ panels: [] }));
    parseXml(gridOfPlots({ panels: [{ kind: 'heatmap', xEdges: [0, 1], yEdges: [0, 1], values: [NaN] }, { kind: 'roc', curves: [] }, { kind: 'scatter' }] }));
  });
});

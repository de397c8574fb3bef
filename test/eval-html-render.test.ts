import { describe, it, expect, afterAll } from 'vitest';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, chmodSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CHROMIUM, chromium, haveChromium, inkOf, screenshot } from './chromium-helpers.js';
import { renderHtmlReport, writeHtmlReport, type HtmlReport } from '../src/eval/html.js';
import { histogramPlot, heatmapPlot, rocPlot, scatterPlot, gridOfPlots } from '../src/eval/plots.js';
import { Rng } from '../src/core/rng.js';
import { FluxmutError } from '../src/core/errors.js';

const WIDTH = 1200;
const HEIGHT = 2000;

const work = mkdtempSync(join(tmpdir(), 'fluxmut-html-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function sampleReport(): HtmlReport {
  const rng = new Rng(42);
  const ref = Array.from({ length: 4000 }, () => Math.abs(rng.normal()) * 0.1);
  const anom = Array.from({ length: 1500 }, () => 0.3 + 0.15 * rng.normal());
  const fpr = Array.from({ length: 101 }, (_, i) => i / 100);
  const tpr = fpr.map((f) => Math.pow(f, 0.25));
  const pt = Array.from({ length: 6000 }, () => 100 + 900 * rng.uniform());
  const xEdges = [0, 10, 20, 30, 40, 50];
  const yEdges = [100, 150, 200, 250];
  const cells = Array.from({ length: 15 }, (_, k) => (k === 7 ? NaN : 0.05 * (k % 5) + 0.1));
  return {
    title: 'fluxmut demo <report> & "quotes"',
    subtitle: 'MAGIC gamma telescope: gammas as the reference class',
    sections: [
      {
        heading: 'Outlier scores',
        text: 'Scores of the reference class and the anomalous class.\n\nThe dashed line is the 99% quantile cut.',
        tables: [{ columns: ['quantile', 'TPR', 'TNR'], rows: [[0.95, 0.9512, 0.61], [0.99, 0.9893, 0.42]] }],
        figures: [{ svg: histogramPlot({ title: 'Outlier score', xLabel: 'P_out', yLabel: 'density', series: [{ name: 'gamma', values: ref }, { name: 'hadron', values: anom }], density: true, vlines: [{ x: 0.25, label: '99% cut' }] }), caption: 'Score distributions (paper Fig. C5).' }],
      },
      {
        heading: 'Mean score per condition bin',
        figures: [{ svg: heatmapPlot({ title: 'photons', xLabel: 'z (cm)', yLabel: 'E (MeV)', xEdges, yEdges, values: cells, colorLabel: 'mean P_out' }), caption: 'paper Fig. 3' }],
      },
      {
        heading: 'ROC and threshold',
        figures: [
          { svg: rocPlot({ title: 'ROC', curves: [{ name: 'F+M', fpr, tpr, auc: 0.87 }] }), caption: 'ROC' },
          { svg: scatterPlot({ title: 'Score vs pT', xLabel: 'pT', yLabel: 'score', points: [{ name: 'QCD', x: pt, y: pt.map(() => Math.abs(rng.normal()) * 0.1) }], lines: [{ name: '99% threshold', x: [100, 1000], y: [0.3, 0.26] }], rng }), caption: 'paper Fig. 4' },
          { svg: gridOfPlots({ columns: 3, panels: [0, 1, 2].map((k) => ({ kind: 'histogram' as const, title: `feature ${k}`, series: [{ name: 'original', values: ref }, { name: 'generated', values: anom }] })), legend: [{ name: 'original' }, { name: 'generated' }] }), caption: 'paper Fig. C1' },
        ],
      },
    ],
    footer: 'fluxmut test',
  };
}

describe('renderHtmlReport', () => {
  it('is one standalone page: inline style and SVG, no scripts or external loads, text escaped', () => {
    const html = renderHtmlReport(sampleReport());
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(html).toContain('<meta charset="utf-8">');
    expect(html).toContain(`default-src 'none'`);
    // The SVG namespace is a name, not a load; anything else with a URL scheme would be.
    expect(html.replace(/xmlns="http:\/\/www\.w3\.org\/2000\/svg"/g, '')).not.toMatch(/<script|<link|@import|url\(|https?:\/\//i);
    expect(html).toContain('<title>fluxmut demo &lt;report&gt; &amp; &quot;quotes&quot;</title>');
    expect(html.match(/<figure>/g)).toHaveLength(5);
    expect(html.match(/<h2>/g)).toHaveLength(3);
    expect(html).toContain('<p>The dashed line is the 99% quantile cut.</p>');
    expect(html).toContain('<td class="num">0.9893</td>');
  });

  it('refuses SVG that is not inert and tables with ragged rows', () => {
    const base = { title: 't', sections: [] as HtmlReport['sections'] };
    const withSvg = (svg: string) => ({ ...base, sections: [{ heading: 'h', figures: [{ svg }] }] });
    expect(() => renderHtmlReport(withSvg('<svg><script>alert(1)</script></svg>'))).toThrow(FluxmutError);
    expect(() => renderHtmlReport(withSvg('<svg><rect onload="x()"/></svg>'))).toThrow(/event handler/);
    expect(() => renderHtmlReport(withSvg('<svg><image href="https://example.org/a.png"/></svg>'))).toThrow(/external/);
    expect(() => renderHtmlReport(withSvg('<div>no</div>'))).toThrow(/not an SVG/);
    // Text that merely looks like an attribute is fine.
    expect(() => renderHtmlReport(withSvg(histogramPlot({ title: 'cut only=0.99 onset', series: [] })))).not.toThrow();
    expect(() => renderHtmlReport({ ...base, sections: [{ heading: 'h', tables: [{ columns: ['a', 'b'], rows: [[1]] }] }] })).toThrow(/row 0 has 1 cells but the table has 2 columns/);
  });

  it('writeHtmlReport writes atomically (no temp file left) and reports unwritable paths', async () => {
    const path = join(work, 'sub', 'report.html');
    await writeHtmlReport(path, sampleReport());
    expect(readFileSync(path, 'utf8')).toBe(renderHtmlReport(sampleReport()));
    expect(readdirSync(join(work, 'sub'))).toEqual(['report.html']);
    if (process.getuid?.() !== 0) {
      const ro = join(work, 'ro');
      mkdirSync(ro);
      chmodSync(ro, 0o500);
      await expect(writeHtmlReport(join(ro, 'r.html'), sampleReport())).rejects.toThrow(/cannot write the HTML report/);
    }
    // A path whose parent is a file cannot be created, even as root.
    writeFileSync(join(work, 'afile'), 'x');
    await expect(writeHtmlReport(join(work, 'afile', 'r.html'), sampleReport())).rejects.toThrow(FluxmutError);
  });
});


describe('the HTML report renders in headless Chromium', () => {
  if (!haveChromium) {
    if (process.env.CI) {
      it('needs Chromium', () => {
        throw new Error(`${CHROMIUM} is missing: install it with "apt-get update && apt-get install -y chromium" (.ci/run does this) to run the render check`);
      });
    } else {
      console.warn(`[eval-html-render] ${CHROMIUM} not found; skipping the render check. Install it with: apt-get install -y chromium`);
      it.skip('renders (needs /usr/bin/chromium)', () => undefined);
    }
    return;
  }

  const reportPath = join(work, 'render', 'report.html');

  function inkFraction(html: string, name: string): number {
    const png = screenshot(html, work, name, WIDTH, HEIGHT);
    expect(png.width).toBe(WIDTH);
    expect(png.height).toBe(HEIGHT);
    return inkOf(png);
  }

  it('screenshot: a PNG of the window size with far more drawn pixels than a text-only page', async () => {
    await writeHtmlReport(reportPath, sampleReport());
    const textOnly = join(work, 'render', 'text-only.html');
    await writeHtmlReport(textOnly, { title: 'fluxmut', sections: [{ heading: 'Scores', text: 'No figures here.' }] });
    const control = inkFraction(textOnly, 'control');
    const full = inkFraction(reportPath, 'full');
    // Text covers well under 1% of the window; the filled histograms, heatmap and scatter
    // in the first 2000 px cover several percent. A blank or broken page would sit at the control.
    expect(control).toBeGreaterThan(0);
    expect(control).toBeLessThan(0.01);
    expect(full).toBeGreaterThan(0.04);
    expect(full).toBeGreaterThan(10 * control);
  });

  it('dump-dom: the rendered DOM holds the headings and the SVG figures', () => {
    const r = chromium(['--dump-dom', `file://${reportPath}`], join(work, 'profile-dom'));
    const dom = r.stdout;
    expect(dom, `empty DOM; chromium exited ${r.status}: ${r.stderr.slice(-2000)}`).toContain('<h1>');
    expect(dom).toContain('<h1>fluxmut demo &lt;report&gt; &amp; "quotes"</h1>');
    for (const h of ['Outlier scores', 'Mean score per condition bin', 'ROC and threshold']) expect(dom).toContain(`<h2>${h}</h2>`);
    // Five figures, each an SVG the HTML parser kept (the grid nests one more per panel).
    const figures = dom.match(/<figure>\s*<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/g) ?? [];
    expect(figures).toHaveLength(5);
    expect(dom).toContain('<figcaption>paper Fig. 4</figcaption>');
    expect((dom.match(/class="bar"/g) ?? []).length).toBeGreaterThan(50);
  });
});

/**
 * A standalone HTML report: one file, inline stylesheet and inline SVG figures, nothing fetched.
 * A Content-Security-Policy meta tag forbids scripts and every network load, so the page looks
 * the same offline, in an archive, or attached to an e-log entry.
 */
import { writeFileAtomic } from './files.js';
import { resolve } from 'node:path';
import { FluxmutError } from '../core/errors.js';
import { escapeXml } from './plots.js';

export type Cell = string | number | boolean | null | undefined;

export interface ReportTable {
  columns: readonly string[];
  rows: readonly (readonly Cell[])[];
  caption?: string;
}

export interface ReportFigure {
  /** An SVG document string as returned by the functions in plots.ts. */
  svg: string;
  caption?: string;
}

export interface ReportSection {
  heading: string;
  /** Paragraphs: one string (blank lines separate paragraphs) or one string per paragraph. */
  text?: string | readonly string[];
  tables?: readonly ReportTable[];
  figures?: readonly ReportFigure[];
}

export interface HtmlReport {
  title: string;
  subtitle?: string;
  sections: readonly ReportSection[];
  /** Small print at the bottom, e.g. the fluxmut version, seed and date. */
  footer?: string;
}

const STYLE = `
:root { color-scheme: light; }
body { font-family: Helvetica, Arial, sans-serif; color: #1a1a1a; background: #fff; margin: 0; line-height: 1.45; }
main { max-width: 1100px; margin: 0 auto; padding: 24px 32px 48px; }
h1 { font-size: 1.7em; margin: 0.2em 0; }
.subtitle { color: #555; margin: 0 0 1em; }
nav ol { margin: 0.3em 0 1.2em; padding-left: 1.4em; }
h2 { font-size: 1.3em; border-bottom: 1px solid #ddd; padding-bottom: 0.2em; margin-top: 1.8em; }
table { border-collapse: collapse; margin: 0.8em 0 1.2em; font-size: 0.92em; }
caption { caption-side: top; text-align: left; color: #444; padding-bottom: 0.3em; }
th, td { border: 1px solid #ccc; padding: 3px 9px; }
th { background: #f2f2f2; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
figure { margin: 1em 0 1.6em; }
figure svg { max-width: 100%; height: auto; display: block; }
figcaption { color: #444; font-size: 0.92em; margin-top: 0.3em; }
footer { color: #777; font-size: 0.85em; margin-top: 3em; border-top: 1px solid #eee; padding-top: 0.6em; }
@media print { h2 { break-after: avoid; } figure, table { break-inside: avoid; } }
`;

function paragraphs(text: string | readonly string[] | undefined): string[] {
  if (text === undefined) return [];
  const parts = typeof text === 'string' ? text.split(/\n\s*\n/) : [...text];
  return parts.map((p) => p.trim()).filter((p) => p.length > 0);
}

function formatCell(c: Cell): { html: string; numeric: boolean } {
  if (c === null || c === undefined) return { html: '', numeric: false };
  if (typeof c === 'number') {
    if (!Number.isFinite(c)) return { html: escapeXml(String(c)), numeric: true };
    if (Number.isInteger(c)) return { html: String(c), numeric: true };
    const a = Math.abs(c);
    const s = a !== 0 && (a >= 1e6 || a < 1e-3) ? c.toExponential(3) : String(Number(c.toPrecision(4)));
    return { html: s, numeric: true };
  }
  return { html: escapeXml(String(c)), numeric: false };
}

function renderTable(t: ReportTable, where: string): string {
  const out = ['<table>'];
  if (t.caption) out.push(`<caption>${escapeXml(t.caption)}</caption>`);
  out.push('<thead><tr>' + t.columns.map((c) => `<th scope="col">${escapeXml(c)}</th>`).join('') + '</tr></thead>');
  out.push('<tbody>');
  t.rows.forEach((r, i) => {
    if (r.length !== t.columns.length) {
      throw new FluxmutError(`renderHtmlReport: ${where}, row ${i} has ${r.length} cells but the table has ${t.columns.length} columns`);
    }
    out.push('<tr>' + r.map((c) => {
      const f = formatCell(c);
      return f.numeric ? `<td class="num">${f.html}</td>` : `<td>${f.html}</td>`;
    }).join('') + '</tr>');
  });
  out.push('</tbody></table>');
  return out.join('\n');
}

/**
 * Figures are inlined verbatim, so they must be SVG documents (from plots.ts); anything with
 * scripts, event handlers, foreign objects or external references is refused, not passed through.
 */
function checkSvg(svg: string, where: string): string {
  const s = svg.trim();
  if (!/^<svg[\s>]/.test(s) || !/<\/svg>$/.test(s)) {
    throw new FluxmutError(`renderHtmlReport: ${where} is not an SVG document (it must start with <svg and end with </svg>); pass the string a plots.ts function returned`);
  }
  for (const tag of s.matchAll(/<([A-Za-z][\w:-]*)((?:\s+[^\s=\/>]+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s>]+))?)*)\s*\/?>/g)) {
    const name = tag[1]!.toLowerCase();
    let bad = name === 'script' || name === 'foreignobject' || name === 'iframe';
    for (const a of tag[2]!.matchAll(/([^\s=\/>]+)(?:\s*=\s*("[^"]*"|'[^']*'|[^\s>]+))?/g)) {
      const attr = a[1]!.toLowerCase();
      const value = (a[2] ?? '').replace(/^["']|["']$/g, '').trim().toLowerCase();
      if (attr.startsWith('on') || ((attr === 'href' || attr.endsWith(':href') || attr === 'src') && !value.startsWith('#'))) bad = true;
    }
    if (bad || /<script/i.test(s)) {
      throw new FluxmutError(`renderHtmlReport: ${where} contains a script, an event handler, a foreignObject or an external reference (<${tag[1]}>); reports must be standalone and inert`);
    }
  }
  return s;
}

/** A complete standalone HTML page for the report (UTF-8, no external resources). */
export function renderHtmlReport(r: HtmlReport): string {
  const out: string[] = [];
  out.push('<!DOCTYPE html>');
  out.push('<html lang="en">');
  out.push('<head>');
  out.push('<meta charset="utf-8">');
  out.push(`<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">`);
  out.push('<meta name="viewport" content="width=device-width, initial-scale=1">');
  out.push(`<title>${escapeXml(r.title)}</title>`);
  out.push(`<style>${STYLE}</style>`);
  out.push('</head>');
  out.push('<body><main>');
  out.push(`<h1>${escapeXml(r.title)}</h1>`);
  if (r.subtitle) out.push(`<p class="subtitle">${escapeXml(r.subtitle)}</p>`);
  if (r.sections.length > 1) {
    out.push('<nav><ol>');
    r.sections.forEach((s, i) => out.push(`<li><a href="#s${i + 1}">${escapeXml(s.heading)}</a></li>`));
    out.push('</ol></nav>');
  }
  r.sections.forEach((s, i) => {
    out.push(`<section id="s${i + 1}">`);
    out.push(`<h2>${escapeXml(s.heading)}</h2>`);
    for (const p of paragraphs(s.text)) out.push(`<p>${escapeXml(p)}</p>`);
    (s.tables ?? []).forEach((t, k) => out.push(renderTable(t, `section "${s.heading}", table ${k + 1}`)));
    (s.figures ?? []).forEach((f, k) => {
      out.push('<figure>');
      out.push(checkSvg(f.svg, `section "${s.heading}", figure ${k + 1}`));
      if (f.caption) out.push(`<figcaption>${escapeXml(f.caption)}</figcaption>`);
      out.push('</figure>');
    });
    out.push('</section>');
  });
  if (r.footer) out.push(`<footer>${escapeXml(r.footer)}</footer>`);
  out.push('</main></body>');
  out.push('</html>');
  return out.join('\n') + '\n';
}

/**
 * Writes the report next to `path` and renames it into place, so a reader (a browser refreshing,
 * a web server) never sees half a file, and a failed run leaves the previous report intact.
 */
export async function writeHtmlReport(path: string, report: HtmlReport): Promise<void> {
  await writeFileAtomic(resolve(path), renderHtmlReport(report), `the HTML report to ${path}`);
}

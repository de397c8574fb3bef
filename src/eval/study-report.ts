import { join } from 'node:path';
import { writeFileAtomic } from './files.js';
import { formatAuc, formatRate, toJSON } from './report.js';
import type { StudyResult } from './study.js';

/** The study's tables as Markdown: per run TPR/TNR at each q and the AUC; agreement; fidelity; baselines. */
export function studyMarkdown(title: string, r: StudyResult): string {
  const qs = r.runs[0]?.report.quantiles.map((x) => x.q) ?? [];
  const lines: string[] = [`# ${title}`, ''];
  lines.push(`Split (seeded): ${r.split.train} reference rows train, ${r.split.validation} validation, ${r.split.testReference} test; ${r.split.testAnomalous} anomalous rows, test only.`, '');
  lines.push('## Flux+Mutability', '');
  lines.push(`| space | mode | scorer | objects | ${qs.map((q) => `TPR@${q} | TNR@${q}`).join(' | ')} | AUC | ms/object |`);
  lines.push(`|---|---|---|---|${qs.map(() => '---|---').join('|')}|---|---|`);
  for (const run of r.runs) {
    const rep = run.report;
    const cells = rep.quantiles.map((x) => `${formatRate(x.tpr)} | ${formatRate(x.tnr)}`).join(' | ');
    lines.push(`| ${run.space} | ${run.mode} | ${run.scorer} | ${rep.nObjects} | ${cells} | ${formatAuc(rep.auc)} | ${((rep.secondsPerObject ?? NaN) * 1000).toFixed(2)} |`);
  }
  lines.push('', 'Calibration target: |TPR - q| <= 0.015 on the reference class; ± is one binomial standard error.', '');
  lines.push('## Cached against exact mode (GLOSH), decisions on the exact-mode subset', '');
  lines.push('| space | q | cached vs exact | exact vs exact, other seed | objects |', '|---|---|---|---|---|');
  for (const a of r.agreement) lines.push(`| ${a.space} | ${a.q} | ${a.agreement.toFixed(4)} | ${a.exactReseeded.toFixed(4)} | ${a.n} |`);
  lines.push('', '## Generated reference clusters against held-out reference rows, per condition bin', '');
  lines.push('| space | bins | bins rejected by KS at 1% | generated points beyond 5 robust sigma | real rows beyond 5 robust sigma |', '|---|---|---|---|---|');
  for (const f of r.fidelity) {
    lines.push(`| ${f.space} | ${f.report.bins.length} | ${(100 * f.report.rejectedAt01).toFixed(1)}% | ${(100 * f.report.farGenerated).toFixed(3)}% | ${(100 * f.report.farReal).toFixed(3)}% |`);
  }
  lines.push('', '## Baselines on the same split (cut at the q-quantile of their own test reference scores)', '');
  lines.push(`| baseline | ${qs.map((q) => `TNR@${q}`).join(' | ')} | AUC |`, `|---|${qs.map(() => '---').join('|')}|---|`);
  for (const b of r.baselines) lines.push(`| ${b.name} | ${b.quantiles.map((x) => formatRate(x.tnr)).join(' | ')} | ${formatAuc(b.auc)} |`);
  lines.push('', `Training time: ${Object.entries(r.trainingSeconds).map(([s, t]) => `${s} ${t!.toFixed(0)} s`).join(', ')}.`, '');
  return lines.join('\n');
}

export function studyJSON(r: StudyResult): Record<string, unknown> {
  return {
    split: r.split,
    runs: r.runs.map((x) => ({ space: x.space, mode: x.mode, scorer: x.scorer, report: toJSON(x.report) })),
    agreement: r.agreement,
    fidelity: r.fidelity.map((f) => ({ space: f.space, ...f.report })),
    baselines: r.baselines,
    trainingSeconds: r.trainingSeconds,
  };
}

/** Writes report.json and report.md into dir (each via a temporary file renamed into place). */
export async function writeStudy(dir: string, title: string, r: StudyResult): Promise<void> {
  await writeFileAtomic(join(dir, 'report.json'), JSON.stringify(studyJSON(r), null, 1) + '\n');
  await writeFileAtomic(join(dir, 'report.md'), studyMarkdown(title, r) + '\n');
}

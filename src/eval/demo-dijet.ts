/**
 * The LHC study of `fluxmut demo --dataset dijet`: simulated QCD dijets as the reference class
 * against Z' -> tt̄. Table 4 and Fig. 4.
 */
import { Rng } from '../core/rng.js';
import { extract, type Schema } from '../data/schema.js';
import type { Table } from '../data/table.js';
import { DIJET_CONDITIONS, DIJET_FEATURES, DIJET_RANGES, simulateDijet } from '../data/simulate/index.js';
import type { ReportFigure, ReportSection } from './html.js';
import { auc } from './metrics.js';
import { scatterPlot } from './plots.js';
import {
  calibrationCheck, type Context, DEMO_QUANTILES, type DemoTable, edgesBetween, exactComparison, exactFinding, featureFigure,
  fmRow, heldOutRows, mask, median, pValueHistogram, rocFigure, score, scoreHistogram, sectionOf, type StudyOutput, timed, train,
} from './demo-study.js';

export async function dijetStudy(ctx: Context): Promise<StudyOutput> {
  const p = ctx.plan;
  const schema: Schema = { features: [...DIJET_FEATURES], conditions: [...DIJET_CONDITIONS] };
  const qs = DEMO_QUANTILES;
  const { trainSet, test, calTable } = await timed(ctx, 'simulating dijets', () => ({
    trainSet: simulateDijet({ qcd: p.trainRows, signal: 0 }, new Rng(ctx.seed)),
    test: simulateDijet({ qcd: p.testReference, signal: p.testAnomalous }, new Rng(ctx.seed + 1000)),
    calTable: simulateDijet({ qcd: p.calibrationReference, signal: 0 }, new Rng(ctx.seed + 2000)),
  }));
  const nR = p.testReference, nA = p.testAnomalous;
  const isRef = mask(nR, nA);
  const model = await train(ctx, trainSet, schema, 'augmented');
  const s = await score(ctx, model, test, 'QCD + signal', ctx.mode, calTable);
  const main = fmRow(`F+M augmented, ${ctx.mode}, held-out cut`, s.pValue, isRef, qs, s.levels);
  const paperCut = fmRow(`F+M augmented, ${ctx.mode}, paper's cut (p > q)`, s.pValue, isRef, qs);
  const exact = await exactComparison(ctx, model, test, nR, s, 'QCD + signal');
  const table: DemoTable = {
    id: 'table4', title: "Table 4: QCD (reference) against Z' -> tt̄",
    caption: `TPR = QCD dijets kept, TNR = Z' -> tt̄ events flagged. Test set: ${nR} QCD, ${nA} signal events. ` +
      `Held-out cut: levels set on ${heldOutRows(s)} further QCD events; paper's cut: p > q. The exact/cached rows use the paper's cut.`,
    rows: [main, paperCut, ...exact.rows],
  };
  const cal = calibrationCheck(main, paperCut, heldOutRows(s), s.levels);
  const q99 = qs.indexOf(0.99);
  const { k } = extract(test, schema);
  // Fig. 4: the 99% threshold follows the kinematics; its binned median against pT.
  const pEdges = edgesBetween(DIJET_RANGES.pT[0], DIJET_RANGES.pT[1], 14);
  const lineX: number[] = [], lineY: number[] = [];
  for (let b = 0; b < pEdges.length - 1; b++) {
    const inBin: number[] = [];
    for (let i = 0; i < test.nRows; i++) if (k[i] >= pEdges[b] && k[i] < pEdges[b + 1]) inBin.push(s.thresholds[q99][i]);
    if (inBin.length) { lineX.push(0.5 * (pEdges[b] + pEdges[b + 1])); lineY.push(median(inBin)); }
  }
  const figRng = new Rng(ctx.seed + 7);
  const fig4: ReportFigure = {
    svg: scatterPlot({
      title: 'Outlier score against leading-jet pT', xLabel: 'leading-jet pT (GeV)', yLabel: 'outlier score P_out', rng: figRng,
      points: [{ name: 'QCD', x: k.subarray(0, nR), y: s.outlierScore.subarray(0, nR) }, { name: "Z' -> tt̄", x: k.subarray(nR), y: s.outlierScore.subarray(nR) }],
      lines: [{ name: '99% threshold (binned median)', x: lineX, y: lineY, color: '#000000', dashed: true }],
    }),
    caption: 'Paper Fig. 4: each event\'s outlier score against its leading-jet pT; the dashed line is the median per 25-GeV bin of the per-event 99% threshold.',
  };
  const sections: ReportSection[] = [
    sectionOf(table, [cal.text], [
      fig4,
      scoreHistogram('QCD', "Z' -> tt̄", s.outlierScore.subarray(0, nR), s.outlierScore.subarray(nR), median(s.thresholds[q99]), 0.99),
      pValueHistogram('QCD', "Z' -> tt̄", s.pValue.subarray(0, nR), s.pValue.subarray(nR)),
      rocFigure([{ name: 'F+M augmented', scores: s.pValue, isRef, auc: main.auc.auc }], 'QCD', "Z' -> tt̄"),
    ]),
    { heading: 'Fig. C1: generated against real QCD dijets', figures: [featureFigure(model, trainSet, figRng, 'QCD dijets in one pT bin')] },
  ];
  return {
    counts: { trainQcd: trainSet.nRows, testQcd: nR, testSignal: nA, calibrationQcd: calTable.nRows },
    tables: [table],
    checks: { maxTprDeviation: cal.maxDev, calibrated: cal.ok, maxTprDeviationPaperCut: cal.maxDevPaper, calibratedPaperCut: cal.okPaper },
    findings: [cal.text, exactFinding(exact.numbers, ctx.mode)],
    numbers: { ...exact.numbers },
    sections,
    models: { augmented: model },
    subtitle: "LHC-like dijets (simulated): QCD is the reference class, Z' -> tt̄ the anomalies.",
  };
}

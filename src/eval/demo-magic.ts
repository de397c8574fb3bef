/**
 * The MAGIC study of `fluxmut demo --dataset magic`: gammas of the MAGIC telescope data as the
 * reference class against hadrons. Tables 1 and 5 and figures.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { ExitCode, FluxmutError } from '../core/errors.js';
import { Rng } from '../core/rng.js';
import { extract, type Schema } from '../data/schema.js';
import { readTable, selectRows, type Table } from '../data/table.js';
import type { ReportSection } from './html.js';
import { auc } from './metrics.js';
import {
  ablationCheck, calibrationCheck, concatTables, conditionHeatmaps, type Context, DEMO_QUANTILES, type DemoTable,
  exactComparison, exactFinding, featureFigure, fmRow, heldOutRows, mask, median, pValueHistogram, quantileEdges, rocFigure,
  rowsWhere, score, scoreHistogram, sectionOf, type StudyOutput, timed, train,
} from './demo-study.js';

export const MAGIC_FEATURES = ['fLength', 'fWidth', 'fConc', 'fConc1', 'fAsym', 'fM3long', 'fM3Trans', 'fAlpha'] as const;
export const MAGIC_CONDITIONS = ['fSize', 'fDist'] as const;
export const MAGIC_DEFAULT_PATH = '../shared/data/magic04.csv';

export async function magicStudy(ctx: Context): Promise<StudyOutput> {
  const p = ctx.plan;
  const file = ctx.o.data ?? MAGIC_DEFAULT_PATH;
  if (!existsSync(file)) {
    throw new FluxmutError(
      `${resolve(file)}: the MAGIC data file is missing. Download magic04.data from the UCI repository (MAGIC Gamma Telescope, ` +
        `CC BY 4.0), add the header line "${[...MAGIC_FEATURES.slice(0, 2), 'fSize', ...MAGIC_FEATURES.slice(2), 'fDist', 'class'].join(',')}" ` +
        `(check the column order against magic04.names) and pass it with --data FILE.`,
      ExitCode.NoInput,
    );
  }
  const schema: Schema = { features: [...MAGIC_FEATURES], conditions: [...MAGIC_CONDITIONS] };
  const qs = DEMO_QUANTILES;
  const table = await timed(ctx, 'reading the MAGIC data', () => readTable(file));
  extract(table, schema); // names the file, row and column of anything unusable before we train
  const rng = new Rng(ctx.seed);
  const gammas = rowsWhere(table, 'class', 'g');
  const hadrons = rowsWhere(table, 'class', 'g', false);
  if (gammas.length < 60 || hadrons.length === 0) {
    throw new FluxmutError(`${file}: expected gammas (class g) and hadrons (class h), found ${gammas.length} and ${hadrons.length} rows`, ExitCode.BadInput);
  }
  rng.shuffle(gammas);
  rng.shuffle(hadrons);
  // Never more than 55% of the gammas for training and 15% for the held-out cut: the rest are the test gammas.
  const nTrain = Math.min(p.trainRows, Math.floor(gammas.length * 0.55));
  const nCal = Math.min(p.calibrationReference, Math.floor(gammas.length * 0.15));
  const nR = Math.min(p.testReference, gammas.length - nTrain - nCal);
  const nA = Math.min(p.testAnomalous, hadrons.length);
  const trainSet = selectRows(table, gammas.slice(0, nTrain).sort((a, b) => a - b));
  const calTable = selectRows(table, gammas.slice(nTrain + nR, nTrain + nR + nCal).sort((a, b) => a - b));
  const test = concatTables(selectRows(table, gammas.slice(nTrain, nTrain + nR)), selectRows(table, hadrons.slice(0, nA)));
  const isRef = mask(nR, nA);
  const aug = await train(ctx, trainSet, schema, 'augmented');
  const feat = await train(ctx, trainSet, schema, 'features');
  const sAug = await score(ctx, aug, test, 'gammas + hadrons, augmented', ctx.mode, calTable);
  const sFeat = await score(ctx, feat, test, 'gammas + hadrons, features only', ctx.mode, calTable);
  const main = fmRow(`F+M augmented, ${ctx.mode}, held-out cut`, sAug.pValue, isRef, qs, sAug.levels);
  const paperCut = fmRow(`F+M augmented, ${ctx.mode}, paper's cut (p > q)`, sAug.pValue, isRef, qs);
  const exact = await exactComparison(ctx, aug, test, nR, sAug, 'gammas + hadrons');
  const featRow = fmRow(`F+M features only (x'), ${ctx.mode}`, sFeat.pValue, isRef, qs, sFeat.levels);
  const augRow5 = fmRow(`F+M augmented ([x', x' - x]), ${ctx.mode}`, sAug.pValue, isRef, qs, sAug.levels);
  const tables: DemoTable[] = [
    {
      id: 'table1', title: 'Table 1: gammas (reference) against hadrons (MAGIC)',
      caption: `TPR = gammas kept, TNR = hadrons flagged. Test set: ${nR} held-out gammas, ${nA} hadrons; conditions fSize, fDist. ` +
        `Held-out cut: levels set on ${heldOutRows(sAug)} further gammas; paper's cut: p > q. The exact/cached rows use the paper's cut.`,
      rows: [main, paperCut, ...exact.rows],
    },
    { id: 'table5', title: 'Table 5: features only against the augmented space (MAGIC)', caption: 'The same training gammas and test set, both with the held-out cut.', rows: [featRow, augRow5] },
  ];
  const cal = calibrationCheck(main, paperCut, heldOutRows(sAug), sAug.levels);
  const abl = ablationCheck(augRow5, featRow);
  const { k } = extract(test, schema);
  const kRef = k.subarray(0, nR * 2), kAnom = k.subarray(nR * 2);
  const pick = (kk: Float64Array, j: number): Float64Array => Float64Array.from({ length: kk.length / 2 }, (_, i) => kk[i * 2 + j]);
  const fig3 = conditionHeatmaps(
    [{ name: 'gammas', k: kRef, score: sAug.outlierScore.subarray(0, nR) }, { name: 'hadrons', k: kAnom, score: sAug.outlierScore.subarray(nR) }],
    ['fDist', 'fSize'], quantileEdges(pick(k, 1), 8), quantileEdges(pick(k, 0), 8), 2, 1, 0,
  );
  const q95 = qs.indexOf(0.95);
  const figRng = new Rng(ctx.seed + 7);
  const sections: ReportSection[] = [
    sectionOf(tables[0], [cal.text], [
      fig3,
      scoreHistogram('gammas', 'hadrons', sAug.outlierScore.subarray(0, nR), sAug.outlierScore.subarray(nR), median(sAug.thresholds[q95]), 0.95),
      pValueHistogram('gammas', 'hadrons', sAug.pValue.subarray(0, nR), sAug.pValue.subarray(nR)),
      rocFigure([
        { name: 'F+M augmented', scores: sAug.pValue, isRef, auc: augRow5.auc.auc },
        { name: 'F+M features only', scores: sFeat.pValue, isRef, auc: featRow.auc.auc },
      ], 'gammas', 'hadrons'),
    ]),
    sectionOf(tables[1], [abl.text], []),
    { heading: 'Fig. C1: generated against real gammas', figures: [featureFigure(aug, trainSet, figRng, 'Gammas in one (fSize, fDist) bin')] },
  ];
  return {
    counts: { trainGammas: nTrain, testGammas: nR, testHadrons: nA, calibrationGammas: nCal },
    tables,
    checks: {
      maxTprDeviation: cal.maxDev, calibrated: cal.ok, maxTprDeviationPaperCut: cal.maxDevPaper, calibratedPaperCut: cal.okPaper,
      augmentedBeatsFeaturesAuc: abl.aucBetter, augmentedBeatsFeaturesTnr: abl.tnrBetter,
    },
    findings: [cal.text, abl.text, exactFinding(exact.numbers, ctx.mode)],
    numbers: { ...exact.numbers },
    sections,
    models: { augmented: aug, features: feat },
    subtitle: `MAGIC gamma telescope (${file}): gammas are the reference class, hadrons the anomalies.`,
  };
}

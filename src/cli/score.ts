import type { Command } from 'commander';
import { ExitCode, FluxmutError } from '../core/errors.js';
import { formatOf, readTable, selectRows, writeTable } from '../data/table.js';
import { referenceMask } from '../eval/evaluate.js';
import { FluxModel } from '../flux/model.js';
import { calibrationRows, describeCalibration, scoreTable } from '../mutability/table.js';
import type { CalibrationRows, ResolvedScoreOptions, ScoreOptions } from '../mutability/score.js';
import { choiceArg, intArg, quantilesArg } from './options.js';
import { makeProgress, type Progress } from './progress.js';

/** What `addScoringOptions` parses: the library's scoring options that the command line exposes. */
export type ScoringFlags = Omit<ResolvedScoreOptions, 'glosh' | 'batchObjects'>;

export interface ScoreCommandOptions extends ScoringFlags {
  model: string;
  data: string;
  out: string;
  calibrationData?: string;
}

/**
 * Reads `--calibration-data`: reference-class rows that took no part in training. When the file
 * has the label column (evaluate), only its reference-class rows are kept.
 */
export async function loadCalibration(
  model: FluxModel, file: string | undefined, label?: { column: string; referenceClass: string },
): Promise<CalibrationRows | undefined> {
  if (file === undefined) return undefined;
  let table = await readTable(file);
  if (label && table.columns.some((c) => c.name === label.column)) table = selectRows(table, referenceMask(table, label.column, label.referenceClass));
  if (table.nRows === 0) {
    throw new FluxmutError(`${file}: no reference-class rows to calibrate on; give a table of reference objects that were not used in training`, ExitCode.BadInput);
  }
  return calibrationRows(model, table);
}

/**
 * The library options for `score` and `evaluate`: the parsed flags, a progress bar, and warnings
 * about `data` printed once on stderr.
 */
export function scoringOptions(o: ScoringFlags & { data: string }, progress: Progress, label: string, calibration?: CalibrationRows): ScoreOptions {
  const warned = new Set<string>();
  return {
    mode: o.mode, scorer: o.scorer, quantiles: o.quantiles, nRef: o.nRef,
    minClusterSize: o.minClusterSize, minSamples: o.minSamples, normalisation: o.normalisation, cacheBins: o.cacheBins, seed: o.seed,
    calibration,
    onProgress: progress.onCount(label),
    onWarning: (m) => {
      // Each warning once; the calibration rows' warnings arrive prefixed with their own file name.
      const ownFile = calibration?.source !== undefined && m.startsWith(`${calibration.source}: `);
      const line = `fluxmut: warning: ${ownFile ? '' : `${o.data}: `}${m}\n`;
      if (!warned.has(line)) process.stderr.write(line);
      warned.add(line);
    },
  };
}

/** Options shared by `score` and `evaluate`. */
export function addScoringOptions(cmd: Command): Command {
  return cmd
    .option('--mode <mode>', 'exact (paper: a reference cluster and a clustering per object) or cached (one per condition bin, much faster)', choiceArg('--mode', ['exact', 'cached'] as const), 'exact')
    .option('--scorer <scorer>', 'glosh (HDBSCAN GLOSH, the paper) or density (the flow\'s own -log p(a|k))', choiceArg('--scorer', ['glosh', 'density'] as const), 'glosh')
    .option('--quantiles <list>', 'quantile cuts q (outlier when more outlying than a fraction q of the reference cluster)', quantilesArg, [0.68, 0.95, 0.99])
    .option('--n-ref <n>', 'reference-cluster size N_ref', intArg('--n-ref', 10), 1500)
    .option('--min-cluster-size <n>', 'HDBSCAN min_cluster_size', intArg('--min-cluster-size', 2), 1000)
    .option('--min-samples <n>', 'HDBSCAN min_samples', intArg('--min-samples', 1), 100)
    .option('--normalisation <kind>', 'scaling fit on each reference cluster: robust (median/IQR), standard (mean/std, the paper) or hypersphere', choiceArg('--normalisation', ['robust', 'standard', 'hypersphere'] as const), 'robust')
    .option('--cache-bins <n>', 'cached mode: quantile bins per condition of the grid of cached reference clusters', intArg('--cache-bins', 1), 8)
    .option('--seed <n>', 'random seed of the reference clusters and tie-breaking', intArg('--seed'), 1)
    .option('--calibration-data <file>', 'reference-class objects NOT used in training (.csv, .tsv or .parquet): their p-values set the cut levels, so TPR = q even where the flow is imperfect (held-out calibration)');
}

export async function runScore(o: ScoreCommandOptions): Promise<void> {
  formatOf(o.out); // refuse an unknown output format before any work
  const model = FluxModel.load(o.model);
  const table = await readTable(o.data);
  if (table.nRows === 0) throw new FluxmutError(`${o.data}: no rows to score`, ExitCode.BadInput);
  const calibration = await loadCalibration(model, o.calibrationData);
  const progress = makeProgress();
  try {
    const { table: scored, scores } = scoreTable(model, table, scoringOptions(o, progress, `scoring (${o.mode})`, calibration));
    progress.stop();
    scored.source = o.out;
    await writeTable(o.out, scored);
    const counts = scores.options.quantiles.map((q, j) => `${scores.isOutlier[j].reduce((a, b) => a + b, 0)} at q=${q}`).join(', ');
    process.stdout.write(`scored ${scores.n} objects in ${scores.seconds.toFixed(1)} s (${((1000 * scores.seconds) / scores.n).toFixed(2)} ms per object, ${o.mode} mode, ${o.scorer}); outliers: ${counts}\n${describeCalibration(scores)}\nwritten to ${o.out}\n`);
  } finally {
    progress.stop();
  }
}

export function register(program: Command): void {
  addScoringOptions(
    program
      .command('score')
      .description('score objects: outlier_score, p_value, threshold_<q>, is_outlier_<q> and out_of_range per row')
      .requiredOption('--model <dir>', 'model directory written by fluxmut train')
      .requiredOption('--data <file>', 'table of objects to score (.csv, .tsv or .parquet); needs the model\'s feature and condition columns'),
  )
    .requiredOption('--out <file>', 'output table: every input column plus the score columns')
    .action(async (opts: ScoreCommandOptions) => runScore(opts));
}

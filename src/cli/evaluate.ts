import type { Command } from 'commander';
import { readTable } from '../data/table.js';
import { FluxModel } from '../flux/model.js';
import { evaluateModel } from '../eval/evaluate.js';
import { formatTable, writeReport } from '../eval/report.js';
import { intArg } from './options.js';
import { makeProgress } from './progress.js';
import { addScoringOptions, loadCalibration, scoringOptions, type ScoreCommandOptions } from './score.js';

interface EvaluateCommandOptions extends Omit<ScoreCommandOptions, 'out'> {
  labelColumn: string;
  referenceClass: string;
  limit?: number;
  report: string;
}

export async function runEvaluate(o: EvaluateCommandOptions): Promise<void> {
  const model = FluxModel.load(o.model);
  const table = await readTable(o.data);
  const calibration = await loadCalibration(model, o.calibrationData, { column: o.labelColumn, referenceClass: o.referenceClass });
  const progress = makeProgress();
  try {
    const { report } = evaluateModel(model, table, {
      ...scoringOptions(o, progress, `evaluating (${o.mode})`, calibration),
      labelColumn: o.labelColumn, referenceClass: o.referenceClass, limit: o.limit, modelName: o.model,
    });
    progress.stop();
    const files = await writeReport(o.report, report);
    process.stdout.write(formatTable(report) + `\nreport written to ${files.json} and ${files.markdown}\n`);
  } finally {
    progress.stop();
  }
}

export function register(program: Command): void {
  addScoringOptions(
    program
      .command('evaluate')
      .description('score a labelled table and report TPR/TNR at each quantile with errors, the AUC, and the time per object')
      .requiredOption('--model <dir>', 'model directory written by fluxmut train')
      .requiredOption('--data <file>', 'labelled table (.csv, .tsv or .parquet)')
      .requiredOption('--label-column <column>', 'column holding each row\'s class')
      .requiredOption('--reference-class <value>', 'the label of the reference class (all other labels count as anomalous)')
      .option('--limit <n>', 'evaluate a seeded random subset of at most n rows (the exact mode costs ~0.1 s per object)', intArg('--limit', 1)),
  )
    .requiredOption('--report <dir>', 'folder for report.json and report.md')
    .action(async (opts: EvaluateCommandOptions) => runEvaluate(opts));
}

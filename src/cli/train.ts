import { InvalidArgumentError, type Command } from 'commander';
import { existsSync } from 'node:fs';
import { ExitCode, FluxmutError } from '../core/errors.js';
import { applyFilters, parseFilter } from '../data/schema.js';
import { readTable } from '../data/table.js';
import { trainFlux, type Preset, type Space } from '../flux/model.js';
import type { ConditionBinning } from '../flux/kde-bank.js';
import { bandwidthArg, choiceArg, intArg, listArg } from './options.js';
import { makeProgress } from './progress.js';

export interface TrainCommandOptions {
  data: string;
  features: string[];
  conditions?: string[];
  filter?: string[];
  space: Space;
  preset: Preset;
  seed: number;
  out: string;
  maxEpochs?: number;
  binWidths?: number[];
  quantileBins?: number;
  bankBandwidth?: 'scott' | 'silverman' | number;
  force?: boolean;
}

/** The latent KDE bank's condition bins: fixed widths in original units, or quantile bins per condition. */
function binning(o: TrainCommandOptions): ConditionBinning[] | undefined {
  const L = o.conditions?.length ?? 0;
  if (o.binWidths && o.quantileBins) throw new FluxmutError('give either --bin-widths or --quantile-bins, not both', ExitCode.Usage);
  if (o.binWidths) {
    if (o.binWidths.length !== L) {
      throw new FluxmutError(`--bin-widths has ${o.binWidths.length} values for ${L} conditions (${(o.conditions ?? []).join(', ')}); give one width per condition, in its units`, ExitCode.Usage);
    }
    return o.binWidths.map((width) => ({ width }));
  }
  if (o.quantileBins) return Array.from({ length: L }, () => ({ quantiles: o.quantileBins! }));
  return undefined;
}

export async function runTrain(o: TrainCommandOptions): Promise<void> {
  if (existsSync(o.out) && !o.force && !existsSync(`${o.out}/model.json`)) {
    throw new FluxmutError(`--out ${o.out} exists and is not a model directory; choose another path`, ExitCode.CantCreate);
  }
  let table = await readTable(o.data);
  if (o.filter && o.filter.length > 0) table = applyFilters(table, o.filter.map(parseFilter));
  const progress = makeProgress();
  const epochs = o.maxEpochs;
  try {
    const model = trainFlux(table, {
      features: o.features,
      conditions: o.conditions ?? [],
      space: o.space,
      preset: o.preset,
      seed: o.seed,
      cae: epochs ? { epochs } : undefined,
      cmaf: epochs ? { epochs } : undefined,
      bank: { binning: binning(o), bandwidth: o.bankBandwidth },
      onEpoch: (r) => progress.onEpoch(r),
    });
    progress.stop();
    model.save(o.out);
    const h = model.training.history;
    process.stdout.write(
      `trained on ${model.training.rows} reference rows (${model.training.trainRows} train, ${model.training.validationRows} validation) in ${model.training.seconds.toFixed(1)} s\n` +
        `  cAE  best validation Huber loss ${h.cae.bestValLoss.toFixed(5)} at epoch ${h.cae.bestEpoch + 1} of ${h.cae.val.length}\n` +
        `  cMAF best validation NLL ${h.cmaf.bestValLoss.toFixed(4)} nats at epoch ${h.cmaf.bestEpoch + 1} of ${h.cmaf.val.length}\n` +
        `  latent KDE bank: ${model.bank.nBins} condition bins, bandwidth ${model.bank.toJSON().bandwidth}\n` +
        `model written to ${o.out}\n`,
    );
  } finally {
    progress.stop();
  }
}

export function register(program: Command): void {
  program
    .command('train')
    .description('train a model (cAE, cMAF, latent KDE bank) on reference-class rows only')
    .requiredOption('--data <file>', 'training table (.csv, .tsv or .parquet)')
    .requiredOption('--features <list>', 'comma-separated feature columns', listArg)
    .option('--conditions <list>', 'comma-separated condition (kinematics) columns; omit for an unconditional model', listArg)
    .option('--filter <column=value>', 'keep only rows where column equals value (e.g. class=g); repeatable', (v: string, prev: string[] = []) => [...prev, v])
    .option('--space <space>', 'augmented ([x\', x\' - x], the paper) or features (x\' only, the ablation)', choiceArg('--space', ['augmented', 'features'] as const), 'augmented')
    .option('--preset <preset>', 'network sizes: default (fast on a CPU) or paper (K=12 MADE layers of 512x2)', choiceArg('--preset', ['default', 'paper'] as const), 'default')
    .option('--seed <n>', 'random seed (same seed, same model)', intArg('--seed'), 1)
    .option('--max-epochs <n>', 'cap on training epochs of each network (early stopping usually ends sooner)', intArg('--max-epochs', 1))
    .option('--bin-widths <list>', 'latent KDE bins: one fixed width per condition, in its own units (paper: 4 cm, 40 MeV)', (v: string) => listArg(v).map((x) => {
      const w = Number(x);
      if (!(w > 0)) throw new InvalidArgumentError(`bin widths must be positive numbers, got '${v}'`);
      return w;
    }))
    .option('--quantile-bins <n>', 'latent KDE bins: this many quantile bins per condition (default: about 250 held-out validation rows per bin)', intArg('--quantile-bins', 1))
    .option('--bank-bandwidth <rule>', 'latent KDE bandwidth: scott (the paper), silverman, or a factor such as 0.25 (a smoothed bootstrap of the bank latents)', bandwidthArg, 'scott')
    .option('--force', 'overwrite --out even if it exists and is not a model directory')
    .requiredOption('--out <dir>', 'model directory to write')
    .action(async (opts: TrainCommandOptions) => runTrain(opts));
}

import type { Command } from 'commander';
import { formatDemo, runDemo, writeDemo, type DemoDataset, type DemoSize } from '../eval/demo.js';
import type { Mode } from '../mutability/score.js';
import { choiceArg, intArg } from './options.js';
import { makeProgress } from './progress.js';

export interface DemoCommandOptions {
  dataset: DemoDataset;
  out: string;
  size: DemoSize;
  seed: number;
  mode: Mode;
  data?: string;
  models: boolean;
}

export async function runDemoCommand(o: DemoCommandOptions): Promise<void> {
  const progress = makeProgress();
  const counters = new Map<string, (done: number, total: number) => void>();
  try {
    const result = await runDemo({
      dataset: o.dataset, size: o.size, seed: o.seed, mode: o.mode, data: o.data,
      onStage: (stage) => {
        progress.stop();
        process.stderr.write(`fluxmut demo: ${stage}\n`);
      },
      onEpoch: (r) => progress.onEpoch(r),
      onProgress: (label, done, total) => {
        let f = counters.get(label);
        if (!f) counters.set(label, (f = progress.onCount(`scoring ${label}`)));
        f(done, total);
      },
      onWarning: (m) => process.stderr.write(`fluxmut: warning: ${m}\n`),
    });
    progress.stop();
    const files = await writeDemo(o.out, result, { models: o.models });
    process.stdout.write(formatDemo(result));
    process.stdout.write(`\nreport: ${files.html}, ${files.json}, ${files.markdown}${files.models.length ? `; models: ${files.models.join(', ')}` : ''}\n`);
  } finally {
    progress.stop();
  }
}

export function register(program: Command): void {
  program
    .command('demo')
    .description("reproduce the paper's studies on simulated data (bcal: Tables 1, 2, 5; dijet: Table 4, Fig. 4) or on MAGIC, with an HTML report")
    .option('--dataset <name>', 'bcal (GlueX-like showers), dijet (LHC QCD vs Z\' -> tt) or magic (MAGIC telescope, needs the data file)', choiceArg('--dataset', ['bcal', 'dijet', 'magic'] as const), 'bcal')
    .option('--out <dir>', 'folder for report.html, report.json, report.md and the models', './fluxmut-demo')
    .option('--size <size>', 'full (minutes on 2 cores) or small (under a minute, rough numbers)', choiceArg('--size', ['small', 'full'] as const), 'full')
    .option('--seed <n>', 'seed of the simulation, the training and the scoring', intArg('--seed', 0), 1)
    .option('--mode <mode>', 'scoring mode of the main tables: cached (fast) or exact (the paper\'s, ~0.1 s per object: slow at full size); the other mode is run on a small subset for comparison', choiceArg('--mode', ['cached', 'exact'] as const), 'cached')
    .option('--data <file>', 'MAGIC only: magic04.csv with a header line (default ../shared/data/magic04.csv)')
    .option('--no-models', 'do not save the trained model directories')
    .action(async (opts: DemoCommandOptions) => runDemoCommand(opts));
}

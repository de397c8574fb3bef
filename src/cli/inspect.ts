import type { Command } from 'commander';
import { FluxModel } from '../flux/model.js';

/** A plain-text description of a model directory: schema, sizes, training losses, bins. */
export function describeModel(dir: string): string {
  const m = FluxModel.load(dir);
  const t = m.training;
  const lines: string[] = [];
  lines.push(`fluxmut model ${dir}`);
  lines.push(`  features (${m.nFeatures}):   ${m.schema.features.join(', ')}`);
  lines.push(`  conditions (${m.nConditions}): ${m.schema.conditions.join(', ') || '(none: unconditional model)'}`);
  lines.push(`  space: ${m.space} (flow dimension ${m.dim})`);
  lines.push(`  cAE: latent ${m.cae.spec.latent}, hidden ${m.cae.spec.hidden.join('x')}, ${m.cae.spec.activation}`);
  const f = m.flow.spec;
  lines.push(`  cMAF: K = ${f.layers} MADE layers, hidden ${f.hidden.join('x')}, ${f.activation}, log-scales bounded to ±${f.logScaleBound}`);
  lines.push(`  training: preset ${t.preset}, seed ${t.seed}, ${t.rows} rows (${t.trainRows} train, ${t.validationRows} validation), ${t.seconds.toFixed(1)} s`);
  for (const [name, h] of [['cAE Huber', t.history.cae], ['cMAF NLL', t.history.cmaf]] as const) {
    const last = h.val.length;
    lines.push(`    ${name}: best validation ${h.bestValLoss.toFixed(5)} at epoch ${h.bestEpoch + 1} of ${last}; train ${h.train[0]?.toFixed(4)} -> ${h.train[last - 1]?.toFixed(4)}`);
  }
  const b = m.bank;
  lines.push(`  latent KDE bank: ${b.nBins} bins (${b.shape.join(' x ') || '1'}), rows per bin min ${Math.min(...b.counts)} max ${Math.max(...b.counts)}`);
  for (let j = 0; j < b.edges.length; j++) {
    lines.push(`    ${b.conditionNames[j]} edges: ${Array.from(b.edges[j], (e) => Number(e.toPrecision(5))).join(', ')}`);
  }
  let borrowing = 0;
  for (let bin = 0; bin < b.nBins; bin++) if (b.borrowedFrom(bin).length > 0) borrowing++;
  lines.push(`    bins borrowing from neighbours: ${borrowing}`);
  return lines.join('\n') + '\n';
}

export function register(program: Command): void {
  program
    .command('inspect')
    .description('describe a model directory: schema, sizes, training losses, condition bins')
    .argument('<model-dir>', 'model directory written by fluxmut train')
    .action((dir: string) => {
      process.stdout.write(describeModel(dir));
    });
}

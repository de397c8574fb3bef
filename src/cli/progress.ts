import cliProgress from 'cli-progress';
import type { EpochReport } from '../flux/train.js';

/**
 * Progress on long work: a bar on a TTY (stderr), nothing otherwise, so that piped and CI output
 * stays clean. The library reports through callbacks; only this file draws.
 */
export interface Progress {
  onEpoch(r: EpochReport): void;
  onStage(stage: string): void;
  onCount(label: string): (done: number, total: number) => void;
  stop(): void;
}

export function makeProgress(enabled = process.stderr.isTTY === true): Progress {
  let bar: cliProgress.SingleBar | null = null;
  let current = '';
  const start = (label: string, total: number, format: string): cliProgress.SingleBar => {
    bar?.stop();
    current = label;
    bar = new cliProgress.SingleBar(
      { format, stream: process.stderr, hideCursor: true, clearOnComplete: false, etaBuffer: 20 },
      cliProgress.Presets.shades_classic,
    );
    bar.start(total, 0, { stage: label, train: '-', val: '-' });
    return bar;
  };
  if (!enabled) return { onEpoch: () => {}, onStage: () => {}, onCount: () => () => {}, stop: () => {} };
  return {
    onEpoch(r) {
      if (current !== r.stage || bar === null) start(r.stage, r.epochs, '{stage} |{bar}| epoch {value}/{total} train {train} val {val} | {duration_formatted}');
      bar!.update(r.epoch, { stage: r.stage, train: r.trainLoss.toFixed(4), val: r.valLoss.toFixed(4) });
    },
    onStage() {},
    onCount(label) {
      return (done, total) => {
        if (current !== label || bar === null) start(label, total, '{stage} |{bar}| {value}/{total} objects | {duration_formatted} eta {eta_formatted}');
        bar!.update(done);
      };
    },
    stop() {
      bar?.stop();
      bar = null;
      current = '';
    },
  };
}

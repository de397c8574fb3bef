// One training step (forward, backward, Adam) of a 30→128→128→56 ReLU MLP at batch 1024, with
// the plain-TS kernels and the default kernels side by side. The input requires a gradient (as the
// cAE decoder's latent input does), so each layer runs exactly three GEMMs: forward x·W,
// dX = dY·Wᵀ and dW = Xᵀ·dY, i.e. 3·2·m·k·n flops per layer.
import { performance } from 'node:perf_hooks';
import type { Kernels } from '../src/core/kernels.js';
import { tsKernels } from '../src/core/kernels-ts.js';
import { getKernels } from '../src/core/backend.js';
import { Rng } from '../src/core/rng.js';
import { Matrix } from '../src/core/matrix.js';
import { Tape, Tensor, MLP, Adam, mseLoss } from '../src/nn/index.js';

const WIDTHS = [30, 128, 128, 56];
const BATCH = 1024;

function flopsPerStep(): number {
  let f = 0;
  for (let i = 0; i + 1 < WIDTHS.length; i++) f += 3 * 2 * BATCH * WIDTHS[i] * WIDTHS[i + 1];
  return f;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const h = s.length >> 1;
  return s.length % 2 ? s[h] : (s[h - 1] + s[h]) / 2;
}

function timeSteps(kernels: Kernels, steps: number): number {
  const rng = new Rng(1);
  const net = new MLP(WIDTHS, rng, { activation: 'relu' });
  const opt = new Adam(net.parameters(), { lr: 1e-3 });
  const x = new Tensor(Matrix.zeros(BATCH, WIDTHS[0]), true);
  rng.fillNormal(x.value.data);
  const y = new Tensor(Matrix.zeros(BATCH, WIDTHS[WIDTHS.length - 1]));
  rng.fillNormal(y.value.data);
  const step = (): void => {
    const tape = new Tape({ kernels });
    opt.zeroGrad();
    x.zeroGrad();
    tape.backward(mseLoss(tape, net.forward(tape, x), y));
    opt.step();
  };
  step(); // warm-up: JIT, first allocation of gradients and moments
  const times: number[] = [];
  for (let i = 0; i < steps; i++) {
    const t0 = performance.now();
    step();
    times.push(performance.now() - t0);
  }
  return median(times);
}

export async function run(): Promise<void> {
  const sets: Kernels[] = [tsKernels];
  const def = getKernels();
  if (def.name !== tsKernels.name) sets.push(def);
  const gflop = flopsPerStep() / 1e9;
  console.log(`MLP ${WIDTHS.join('→')} (ReLU), batch ${BATCH}, ${gflop.toFixed(3)} GFLOP per step (3 GEMMs per layer)`);
  console.log('kernels    median ms/step   GFLOP/s');
  const medians: number[] = [];
  for (const k of sets) {
    const ms = timeSteps(k, k.name === tsKernels.name ? 5 : 15);
    medians.push(ms);
    console.log(`${k.name.padEnd(10)} ${ms.toFixed(1).padStart(15)}   ${(gflop / (ms / 1000)).toFixed(2).padStart(7)}`);
  }
  if (medians.length === 2) console.log(`speed-up ${sets[1].name} over ts: ${(medians[0] / medians[1]).toFixed(1)}x`);
  else console.log('default kernels are the TS kernels; no comparison');
}

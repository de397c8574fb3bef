import { Matrix } from '../core/matrix.js';
import type { Activation, Kernels } from '../core/kernels.js';
import { getKernels } from '../core/backend.js';

/**
 * A node of the computation: a Float32 value and, when it requires a gradient, a gradient of the
 * same shape that backward passes accumulate into (allocated on first use).
 */
export class Tensor {
  readonly value: Matrix;
  grad: Matrix | null = null;
  readonly requiresGrad: boolean;
  /** Parameters carry their weight-file name (e.g. `encoder.0.weight`). */
  readonly name: string | undefined;

  constructor(value: Matrix, requiresGrad = false, name?: string) {
    this.value = value;
    this.requiresGrad = requiresGrad;
    this.name = name;
  }

  /** A trainable parameter. */
  static parameter(value: Matrix, name: string): Tensor {
    return new Tensor(value, true, name);
  }

  get rows(): number {
    return this.value.rows;
  }

  get cols(): number {
    return this.value.cols;
  }

  get shape(): [number, number] {
    return [this.value.rows, this.value.cols];
  }

  /** The gradient, allocated as zeros the first time something flows into it. */
  gradOrZeros(): Matrix {
    if (this.grad === null) this.grad = Matrix.zeros(this.value.rows, this.value.cols);
    return this.grad;
  }

  zeroGrad(): void {
    if (this.grad !== null) this.grad.data.fill(0);
  }

  /** The single number of a 1 x 1 tensor (a loss). */
  item(): number {
    if (this.value.rows !== 1 || this.value.cols !== 1) {
      throw new RangeError(`Tensor.item: expected a 1x1 tensor, got ${this.value.rows}x${this.value.cols}`);
    }
    return this.value.data[0];
  }
}

export interface TapeOptions {
  /** Kernels to compute with; defaults to getKernels(). Passing them lets benchmarks compare. */
  kernels?: Kernels;
  /** false: compute forward values only (inference); nothing is recorded and backward is refused. */
  record?: boolean;
}

interface Node {
  out: Tensor;
  backward: () => void;
}

/**
 * Records the operations of one forward pass, in order, so that `backward` can replay their
 * local derivatives in reverse (reverse-mode automatic differentiation). A tape is used for one
 * forward/backward pass; make a new one (or `reset()`) for the next step. Gradients of inputs
 * accumulate (+=), so a tensor used twice receives the sum of both contributions.
 */
export class Tape {
  readonly kernels: Kernels;
  readonly recording: boolean;
  private nodes: Node[] = [];
  private usedBackward = false;

  constructor(options: TapeOptions = {}) {
    this.kernels = options.kernels ?? getKernels();
    this.recording = options.record ?? true;
  }

  /** Number of recorded operations. */
  get size(): number {
    return this.nodes.length;
  }

  reset(): void {
    this.nodes = [];
    this.usedBackward = false;
  }

  /**
   * Extension point for fused operations (losses live in losses.ts this way): returns a tensor
   * holding `value` that requires a gradient when any input does, and records `backward`, which
   * reads `out.grad` and accumulates into the inputs' gradients that are required.
   */
  record(value: Matrix, inputs: readonly Tensor[], backward: (out: Tensor) => void): Tensor {
    const requiresGrad = this.recording && inputs.some((t) => t.requiresGrad);
    const out = new Tensor(value, requiresGrad);
    if (requiresGrad) this.nodes.push({ out, backward: () => backward(out) });
    return out;
  }

  /**
   * Backpropagates from `root`. A 1 x 1 root (a loss) is seeded with dL/dL = 1; any other root
   * needs an explicit seed gradient of its shape (the vector of a vector-Jacobian product).
   */
  backward(root: Tensor, seed?: Matrix): void {
    if (!this.recording) throw new Error('Tape.backward: this tape was created with record: false');
    if (this.usedBackward) throw new Error('Tape.backward: already run on this tape; reset() or use a new tape per step');
    if (!root.requiresGrad) throw new Error('Tape.backward: the root does not depend on any tensor that requires a gradient');
    if (seed === undefined && (root.rows !== 1 || root.cols !== 1)) {
      throw new RangeError(`Tape.backward: root is ${root.rows}x${root.cols}; pass a seed gradient or reduce it to 1x1`);
    }
    if (seed !== undefined) assertSameShape(seed, root.value, 'Tape.backward seed');
    this.usedBackward = true;
    const g = root.gradOrZeros();
    if (seed === undefined) {
      g.data[0] += 1;
    } else {
      for (let i = 0; i < g.data.length; i++) g.data[i] += seed.data[i];
    }
    for (let i = this.nodes.length - 1; i >= 0; i--) {
      const node = this.nodes[i];
      // No gradient reached this node (its output does not influence the root): skip it.
      if (node.out.grad !== null) node.backward();
    }
  }

  // ---------------------------------------------------------------- linear algebra

  /** x·W (x: m x k, W: k x n). */
  matmul(x: Tensor, w: Tensor): Tensor {
    return this.linear(x, w);
  }

  /**
   * x·W + b, with b a 1 x n row broadcast over the batch. Backward: dX = dY·Wᵀ (gemmNT),
   * dW = Xᵀ·dY (gemmTN), db = column sums of dY (sumRows).
   */
  linear(x: Tensor, w: Tensor, b?: Tensor): Tensor {
    const [m, k] = x.shape;
    const n = w.cols;
    if (w.rows !== k) throw new RangeError(`linear: x is ${m}x${k} but W is ${w.rows}x${n}`);
    if (b !== undefined && (b.rows !== 1 || b.cols !== n)) throw new RangeError(`linear: bias must be 1x${n}, got ${b.rows}x${b.cols}`);
    const kr = this.kernels;
    const y = Matrix.zeros(m, n);
    kr.gemm(x.value.data, w.value.data, y.data, m, k, n, b?.value.data);
    const inputs = b === undefined ? [x, w] : [x, w, b];
    return this.record(y, inputs, (out) => {
      const dy = out.grad!.data;
      if (x.requiresGrad) kr.gemmNT(dy, w.value.data, x.gradOrZeros().data, m, n, k, true);
      if (w.requiresGrad) kr.gemmTN(x.value.data, dy, w.gradOrZeros().data, k, m, n, true);
      if (b !== undefined && b.requiresGrad) kr.sumRows(dy, m, n, b.gradOrZeros().data, true);
    });
  }

  /**
   * x·(W∘M) + b with a fixed 0/1 mask M (MADE, Germain et al. 2015): the masked-out weights
   * neither act nor learn, because dW = (Xᵀ·dY)∘M.
   */
  maskedLinear(x: Tensor, w: Tensor, mask: Matrix, b?: Tensor): Tensor {
    assertSameShape(mask, w.value, 'maskedLinear mask');
    const [m, k] = x.shape;
    const n = w.cols;
    if (w.rows !== k) throw new RangeError(`maskedLinear: x is ${m}x${k} but W is ${w.rows}x${n}`);
    if (b !== undefined && (b.rows !== 1 || b.cols !== n)) throw new RangeError(`maskedLinear: bias must be 1x${n}, got ${b.rows}x${b.cols}`);
    const kr = this.kernels;
    const wm = new Float32Array(k * n);
    const wd = w.value.data, md = mask.data;
    for (let i = 0; i < wm.length; i++) wm[i] = wd[i] * md[i];
    const y = Matrix.zeros(m, n);
    kr.gemm(x.value.data, wm, y.data, m, k, n, b?.value.data);
    const inputs = b === undefined ? [x, w] : [x, w, b];
    return this.record(y, inputs, (out) => {
      const dy = out.grad!.data;
      if (x.requiresGrad) kr.gemmNT(dy, wm, x.gradOrZeros().data, m, n, k, true);
      if (w.requiresGrad) {
        const dwFull = new Float32Array(k * n);
        kr.gemmTN(x.value.data, dy, dwFull, k, m, n, false);
        const dw = w.gradOrZeros().data;
        for (let i = 0; i < dw.length; i++) dw[i] += dwFull[i] * md[i];
      }
      if (b !== undefined && b.requiresGrad) kr.sumRows(dy, m, n, b.gradOrZeros().data, true);
    });
  }

  // ---------------------------------------------------------------- elementwise, broadcasting

  /**
   * a + b. Shapes broadcast like NumPy restricted to matrices: each dimension must match or be 1
   * in one operand (a 1 x n row over a batch, an m x 1 column over features, a 1 x 1 scalar).
   */
  add(a: Tensor, b: Tensor): Tensor {
    return this.binary(a, b, 'add', (x, y) => x + y, (_x, _y, g) => g, (_x, _y, g) => g);
  }

  /** a - b (broadcasting as in add). */
  sub(a: Tensor, b: Tensor): Tensor {
    return this.binary(a, b, 'sub', (x, y) => x - y, (_x, _y, g) => g, (_x, _y, g) => -g);
  }

  /** a ∘ b, elementwise (broadcasting as in add). */
  mul(a: Tensor, b: Tensor): Tensor {
    return this.binary(a, b, 'mul', (x, y) => x * y, (_x, y, g) => g * y, (x, _y, g) => g * x);
  }

  /** c·a for a constant c. */
  scale(a: Tensor, c: number): Tensor {
    return this.unary(a, (x) => c * x, (_x, _y, g) => c * g);
  }

  /** a + c for a constant c. */
  addScalar(a: Tensor, c: number): Tensor {
    return this.unary(a, (x) => x + c, (_x, _y, g) => g);
  }

  neg(a: Tensor): Tensor {
    return this.scale(a, -1);
  }

  square(a: Tensor): Tensor {
    return this.unary(a, (x) => x * x, (x, _y, g) => 2 * x * g);
  }

  exp(a: Tensor): Tensor {
    return this.unary(a, Math.exp, (_x, y, g) => y * g);
  }

  /** Natural log; inputs must be positive (the caller's responsibility, e.g. a clamped scale). */
  log(a: Tensor): Tensor {
    return this.unary(a, Math.log, (x, _y, g) => g / x);
  }

  /** A nonlinearity computed by the kernels (relu, tanh, elu, silu, identity). */
  activation(a: Tensor, kind: Activation): Tensor {
    const kr = this.kernels;
    const y = Matrix.zeros(a.rows, a.cols);
    kr.activate(kind, a.value.data, y.data);
    return this.record(y, [a], (out) => {
      kr.activateBackward(kind, a.value.data, y.data, out.grad!.data, a.gradOrZeros().data, true);
    });
  }

  relu(a: Tensor): Tensor {
    return this.activation(a, 'relu');
  }

  tanh(a: Tensor): Tensor {
    return this.activation(a, 'tanh');
  }

  elu(a: Tensor): Tensor {
    return this.activation(a, 'elu');
  }

  silu(a: Tensor): Tensor {
    return this.activation(a, 'silu');
  }

  /**
   * c·tanh(x/c): the identity near 0, smoothly bounded to (-c, c). Used on the flow's log-scales
   * so that exp(±log-scale) cannot overflow early in training; d/dx = 1 - (y/c)².
   */
  softClamp(a: Tensor, c: number): Tensor {
    if (!(c > 0)) throw new RangeError(`softClamp: bound must be positive, got ${c}`);
    return this.unary(a, (x) => c * Math.tanh(x / c), (_x, y, g) => g * (1 - (y / c) * (y / c)));
  }

  // ---------------------------------------------------------------- shape

  /** [a, b, ...] side by side (e.g. [x, k] into a conditional network). */
  concatCols(parts: readonly Tensor[]): Tensor {
    if (parts.length === 0) throw new RangeError('concatCols: nothing to concatenate');
    const m = parts[0].rows;
    let n = 0;
    for (const p of parts) {
      if (p.rows !== m) throw new RangeError(`concatCols: row counts differ (${m} vs ${p.rows})`);
      n += p.cols;
    }
    const y = Matrix.zeros(m, n);
    let offset = 0;
    for (const p of parts) {
      copyCols(p.value.data, p.cols, 0, y.data, n, offset, m, p.cols, false);
      offset += p.cols;
    }
    return this.record(y, parts, (out) => {
      let off = 0;
      for (const p of parts) {
        if (p.requiresGrad) copyCols(out.grad!.data, n, off, p.gradOrZeros().data, p.cols, 0, m, p.cols, true);
        off += p.cols;
      }
    });
  }

  /** Columns [start, end) of a. */
  sliceCols(a: Tensor, start: number, end: number): Tensor {
    const [m, n] = a.shape;
    if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end > n || start > end) {
      throw new RangeError(`sliceCols: invalid range [${start}, ${end}) of ${n} columns`);
    }
    const w = end - start;
    const y = Matrix.zeros(m, w);
    copyCols(a.value.data, n, start, y.data, w, 0, m, w, false);
    return this.record(y, [a], (out) => {
      copyCols(out.grad!.data, w, 0, a.gradOrZeros().data, n, start, m, w, true);
    });
  }

  // ---------------------------------------------------------------- reductions

  /** Sum of all elements (1 x 1), accumulated in float64. */
  sum(a: Tensor): Tensor {
    return this.total(a, 1);
  }

  /** Mean of all elements (1 x 1). */
  mean(a: Tensor): Tensor {
    return this.total(a, 1 / (a.rows * a.cols));
  }

  /** Per-row sums (m x 1), e.g. a log-density summed over dimensions. */
  sumCols(a: Tensor): Tensor {
    const [m, n] = a.shape;
    const y = Matrix.zeros(m, 1);
    this.kernels.sumCols(a.value.data, m, n, y.data);
    return this.record(y, [a], (out) => {
      const g = out.grad!.data, d = a.gradOrZeros().data;
      for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) d[i * n + j] += g[i];
    });
  }

  /** Per-column sums over the batch (1 x n). */
  sumRows(a: Tensor): Tensor {
    const [m, n] = a.shape;
    const y = Matrix.zeros(1, n);
    this.kernels.sumRows(a.value.data, m, n, y.data);
    return this.record(y, [a], (out) => {
      const g = out.grad!.data, d = a.gradOrZeros().data;
      for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) d[i * n + j] += g[j];
    });
  }

  // ---------------------------------------------------------------- helpers

  private total(a: Tensor, factor: number): Tensor {
    const x = a.value.data;
    let s = 0;
    for (let i = 0; i < x.length; i++) s += x[i];
    const y = new Matrix(1, 1, Float32Array.of(s * factor));
    return this.record(y, [a], (out) => {
      const g = out.grad!.data[0] * factor, d = a.gradOrZeros().data;
      for (let i = 0; i < d.length; i++) d[i] += g;
    });
  }

  /** y = f(x) elementwise; backward dx += df(x, y, dy). */
  private unary(a: Tensor, f: (x: number) => number, df: (x: number, y: number, g: number) => number): Tensor {
    const x = a.value.data;
    const y = Matrix.zeros(a.rows, a.cols);
    const yd = y.data;
    for (let i = 0; i < x.length; i++) yd[i] = f(x[i]);
    return this.record(y, [a], (out) => {
      const g = out.grad!.data, d = a.gradOrZeros().data;
      for (let i = 0; i < d.length; i++) d[i] += df(x[i], yd[i], g[i]);
    });
  }

  private binary(
    a: Tensor,
    b: Tensor,
    op: string,
    f: (x: number, y: number) => number,
    dfa: (x: number, y: number, g: number) => number,
    dfb: (x: number, y: number, g: number) => number,
  ): Tensor {
    const m = broadcastDim(a.rows, b.rows, op, a, b);
    const n = broadcastDim(a.cols, b.cols, op, a, b);
    const ia = stridesFor(a.value), ib = stridesFor(b.value);
    const ad = a.value.data, bd = b.value.data;
    const y = Matrix.zeros(m, n);
    const yd = y.data;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) yd[i * n + j] = f(ad[i * ia.row + j * ia.col], bd[i * ib.row + j * ib.col]);
    }
    return this.record(y, [a, b], (out) => {
      const g = out.grad!.data;
      // A broadcast operand receives the sum of the gradients of every element it was copied to.
      const ga = a.requiresGrad ? a.gradOrZeros().data : null;
      const gb = b.requiresGrad ? b.gradOrZeros().data : null;
      for (let i = 0; i < m; i++) {
        for (let j = 0; j < n; j++) {
          const pa = i * ia.row + j * ia.col, pb = i * ib.row + j * ib.col;
          const gij = g[i * n + j];
          if (ga !== null) ga[pa] += dfa(ad[pa], bd[pb], gij);
          if (gb !== null) gb[pb] += dfb(ad[pa], bd[pb], gij);
        }
      }
    });
  }
}

function broadcastDim(p: number, q: number, op: string, a: Tensor, b: Tensor): number {
  if (p === q || q === 1) return p;
  if (p === 1) return q;
  throw new RangeError(`${op}: shapes ${a.rows}x${a.cols} and ${b.rows}x${b.cols} do not broadcast`);
}

/** Element strides that read a broadcast operand: a dimension of size 1 does not advance. */
function stridesFor(x: Matrix): { row: number; col: number } {
  return { row: x.rows === 1 ? 0 : x.cols, col: x.cols === 1 ? 0 : 1 };
}

function copyCols(
  src: Float32Array, srcCols: number, srcOff: number,
  dst: Float32Array, dstCols: number, dstOff: number,
  rows: number, width: number, accumulate: boolean,
): void {
  for (let i = 0; i < rows; i++) {
    const s = i * srcCols + srcOff, d = i * dstCols + dstOff;
    if (accumulate) for (let j = 0; j < width; j++) dst[d + j] += src[s + j];
    else dst.set(src.subarray(s, s + width), d);
  }
}

function assertSameShape(a: Matrix, b: Matrix, what: string): void {
  if (a.rows !== b.rows || a.cols !== b.cols) {
    throw new RangeError(`${what}: shape ${a.rows}x${a.cols} does not match ${b.rows}x${b.cols}`);
  }
}

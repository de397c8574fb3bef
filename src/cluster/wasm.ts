/**
 * Loader for the float64 HDBSCAN kernels (assembly/cluster.ts compiled to build/cluster.wasm).
 * The module is compiled once; each Workspace is an instance with its own linear memory, so a
 * long-lived scorer can keep its matrices resident while ordinary fits use the shared workspace.
 */
import { ExitCode, FluxmutError } from '../core/errors.js';
import { instantiate, wasmModule, type WasmMemory } from '../core/wasm-module.js';

export interface ClusterExports {
  heapBase(): number;
  distRow(xT: number, ld: number, d: number, xi: number, j0: number, j1: number, out: number): void;
  selectKth(a: number, len: number, k: number): number;
  transposeIn(src: number, n: number, d: number, order: number, xT: number, ld: number): void;
  coreOnTheFly(xT: number, ld: number, n: number, d: number, xi: number, rowBuf: number, scratch: number, k: number, core: number, core2: number): void;
  coreCandidates(
    xT: number, ld: number, n: number, d: number, xi: number, rowBuf: number,
    ns: number, r: number, sRows: number, sBuf: number, tmp: number,
    thr: number, cand: number, stride: number, cnt: number,
  ): void;
  coreFromCandidates(
    xT: number, ld: number, n: number, d: number, xi: number, rowBuf: number, scratch: number, tmp: number,
    cand: number, stride: number, cnt: number, k: number, core: number, core2: number,
  ): number;
  primLazy(
    xT: number, ld: number, n: number, d: number, xi: number, core: number,
    best: number, src: number, outside: number, tree: number, P: number,
    active: number, pos: number, need: number, needD: number,
    edgeA: number, edgeB: number, edgeW: number,
  ): void;
  distList(xT: number, ld: number, d: number, xi: number, list: number, len: number, out: number): void;
}

const PAGE = 65536;
/** One wasm instance and a bump allocator over its memory; reset() frees everything at once. */
export class Workspace {
  readonly k: ClusterExports;
  private readonly memory: WasmMemory;
  private readonly base: number;
  private cursor: number;
  f64!: Float64Array;
  i32!: Int32Array;

  constructor() {
    const module = wasmModule('cluster', 'clustering kernels', 'set FLUXMUT_CLUSTER=ts to use the slow TypeScript path');
    const { exports, memory } = instantiate<ClusterExports>(module, 16);
    this.memory = memory;
    this.k = exports;
    this.base = align(this.k.heapBase());
    this.cursor = this.base;
    this.views();
  }

  reset(to = this.base): void {
    this.cursor = to;
  }

  /** Current allocation mark, for reset(mark) to free what was reserved after it. */
  mark(): number {
    return this.cursor;
  }

  /** Reserves `bytes` (16-byte aligned, with a vector of tail padding) and returns the address. */
  reserve(bytes: number): number {
    const at = this.cursor;
    this.cursor = align(at + bytes + 16);
    const have = this.memory.buffer.byteLength;
    if (this.cursor > have) {
      const pages = Math.ceil((this.cursor - have) / PAGE);
      if (have / PAGE + pages > 65536) {
        throw new FluxmutError(
          `hdbscan: needs ${(this.cursor / 2 ** 30).toFixed(1)} GiB of working memory, more than WebAssembly's 4 GiB; ` +
            'lower maxMatrixBytes so the distance matrix is not stored',
          ExitCode.BadInput,
        );
      }
      this.memory.grow(Math.min(65536 - have / PAGE, Math.max(pages, Math.ceil(have / PAGE / 4))));
      this.views();
    }
    return at;
  }

  private views(): void {
    this.f64 = new Float64Array(this.memory.buffer);
    this.i32 = new Int32Array(this.memory.buffer);
  }
}

function align(bytes: number): number {
  return Math.ceil(bytes / 16) * 16;
}

let shared: Workspace | undefined;

/** The workspace ordinary fits share (single-threaded: one fit runs at a time). */
export function sharedWorkspace(): Workspace {
  shared ??= new Workspace();
  return shared;
}

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ExitCode, FluxmutError } from './errors.js';

/**
 * Loading of the project's WebAssembly modules (assembly/*.ts compiled to build/*.wasm during
 * `npm install`). Every module imports its linear memory as env.memory, so each instance gets a
 * memory its owner manages.
 */

// tsconfig's lib (ES2022, no DOM) has no WebAssembly types; the few members used are declared
// here, module-locally, and re-exported as the types the callers need.
declare namespace WebAssembly {
  class Memory {
    constructor(descriptor: { initial: number; maximum?: number });
    readonly buffer: ArrayBuffer;
    grow(pages: number): number;
  }
  class Module {
    constructor(bytes: Uint8Array);
  }
  class Instance {
    constructor(module: Module, imports: Record<string, Record<string, unknown>>);
    readonly exports: Record<string, unknown>;
  }
}

export type WasmMemory = WebAssembly.Memory;
export type WasmModule = WebAssembly.Module;

const compiled = new Map<string, WebAssembly.Module>();

/**
 * The compiled module build/<name>.wasm (compiled once per process). `what` names it in the
 * error, `fallback` says how to run without it.
 */
export function wasmModule(name: string, what: string, fallback: string): WasmModule {
  const cached = compiled.get(name);
  if (cached) return cached;
  // src/core and dist/core both sit two levels below the package root.
  const url = new URL(`../../build/${name}.wasm`, import.meta.url);
  let bytes: Buffer;
  try {
    bytes = readFileSync(url);
  } catch {
    throw new FluxmutError(
      `the WebAssembly ${what} ${fileURLToPath(url)} are missing: run \`npm install\` (or \`npm run build:wasm\`) ` +
        `in the fluxmut package, or ${fallback}`,
      ExitCode.Internal,
    );
  }
  const module = new WebAssembly.Module(bytes);
  compiled.set(name, module);
  return module;
}

/** A fresh instance of `module` on a new memory of `initialPages` 64 KiB pages. */
export function instantiate<T>(module: WasmModule, initialPages: number): { exports: T; memory: WasmMemory } {
  const memory = new WebAssembly.Memory({ initial: initialPages });
  const instance = new WebAssembly.Instance(module, { env: { memory } });
  return { exports: instance.exports as unknown as T, memory };
}

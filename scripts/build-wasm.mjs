// Compiles every AssemblyScript entry file assembly/*.ts (not assembly/lib/) to build/<name>.wasm.
// Runs during `npm install` (prepare); the compiler comes from npm, nothing is downloaded.
import { readdirSync, mkdirSync } from 'node:fs';
import { join, dirname, basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import asc from 'assemblyscript/asc';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const srcDir = join(root, 'assembly');
const outDir = join(root, 'build');
mkdirSync(outDir, { recursive: true });

const entries = readdirSync(srcDir).filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'));
for (const file of entries) {
  const name = basename(file, '.ts');
  const { error, stderr } = await asc.main([
    join('assembly', file),
    '--outFile', join('build', `${name}.wasm`),
    '--optimizeLevel', '3',
    '--shrinkLevel', '0',
    '--noAssert',
    '--runtime', 'stub',
    '--enable', 'simd',
    '--importMemory',
    '--initialMemory', '1',
  ], { stdout: process.stdout, stderr: process.stderr, baseDir: root });
  if (error) {
    process.stderr.write(`build-wasm: ${file} failed: ${error.message}\n${stderr.toString()}\n`);
    process.exit(1);
  }
  process.stdout.write(`build-wasm: build/${name}.wasm\n`);
}

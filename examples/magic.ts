// `npm run example:magic`: the MAGIC gamma-telescope study (gammas the reference class, hadrons
// never seen in training or tuning). Writes reports/magic/report.{md,json} (git-ignored).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { readTable } from '../src/data/table.js';
import { runStudy } from '../src/eval/study.js';
import { studyMarkdown, writeStudy } from '../src/eval/study-report.js';

const data = process.argv[2] ?? fileURLToPath(new URL('../../shared/data/magic04.csv', import.meta.url));
if (!existsSync(data)) {
  console.error(`example:magic: ${data} not found; pass the path of magic04.csv (UCI MAGIC gamma telescope data) as the argument`);
  process.exit(66);
}
const out = fileURLToPath(new URL('../reports/magic', import.meta.url));
const t0 = Date.now();
const table = await readTable(data);
const result = runStudy(table, {
  features: ['fLength', 'fWidth', 'fConc', 'fConc1', 'fAsym', 'fM3long', 'fM3Trans', 'fAlpha'],
  conditions: ['fSize', 'fDist'],
  labelColumn: 'class',
  referenceClass: 'g',
  seed: 1,
  exactLimit: Number(process.env.MAGIC_EXACT_LIMIT ?? 600),
  onStage: (m) => console.error(`[${((Date.now() - t0) / 1000).toFixed(0)} s] ${m}`),
});
const title = 'MAGIC gamma telescope: gammas (reference) against hadrons';
await writeStudy(out, title, result);
console.log(studyMarkdown(title, result));
console.log(`total ${((Date.now() - t0) / 1000).toFixed(0)} s; report in ${out}`);

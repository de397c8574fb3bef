#!/usr/bin/env node
import { main } from '../dist/cli/main.js';

main(process.argv).catch((err) => {
  // Last-resort guard: commands report their own errors; this only catches bugs.
  process.stderr.write(`fluxmut: internal error: ${err && err.message ? err.message : err}\n`);
  process.exit(70);
});

import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { ExitCode, FluxmutError } from '../core/errors.js';

/**
 * Writes a text file next to `path` and renames it into place: a rename within one folder is
 * atomic on POSIX, so a reader (a browser refreshing, a script polling) never sees half a report
 * and a failed run leaves the previous file intact. Creates the folder. `what` names the file in
 * the error (default: its path).
 */
export async function writeFileAtomic(path: string, text: string, what = path): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}-${Date.now()}`;
  try {
    await mkdir(dirname(path), { recursive: true });
    await writeFile(tmp, text, 'utf8');
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true }).catch(() => undefined);
    throw new FluxmutError(`cannot write ${what}: ${(e as Error).message}; check that the folder is writable`, ExitCode.CantCreate);
  }
}

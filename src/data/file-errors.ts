import { ExitCode, FluxmutError } from '../core/errors.js';

/** A user-facing error for a table file that could not be opened. */
export function openError(file: string, e: unknown): FluxmutError {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT') return new FluxmutError(`${file}: no such file. Check the path.`, ExitCode.NoInput);
  if (code === 'EISDIR') return new FluxmutError(`${file}: is a directory, not a table file.`, ExitCode.NoInput);
  if (code === 'EACCES') return new FluxmutError(`${file}: permission denied.`, ExitCode.NoInput);
  return new FluxmutError(`${file}: cannot read (${(e as Error | undefined)?.message ?? String(e)}).`, ExitCode.NoInput);
}

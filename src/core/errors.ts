/**
 * An error the user can act on: bad input, a corrupted file, an impossible option. The CLI prints
 * its message (never a stack trace) and exits with `exitCode`. Messages name the file, row and
 * column where there is one, and say what to do.
 */
export class FluxmutError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode: number = ExitCode.BadInput) {
    super(message);
    this.name = 'FluxmutError';
    this.exitCode = exitCode;
  }
}

/** Process exit codes of the `fluxmut` command (sysexits-style where one fits). */
export const ExitCode = {
  Ok: 0,
  /** A command-line usage error (unknown option, missing argument). */
  Usage: 64,
  /** Input data was wrong: NaN, missing column, ragged row, out-of-range value. */
  BadInput: 65,
  /** An input file could not be opened. */
  NoInput: 66,
  /** A model directory or weight file is corrupt or inconsistent. */
  BadModel: 67,
  /** An output could not be written. */
  CantCreate: 73,
  /** An internal bug. */
  Internal: 70,
} as const;

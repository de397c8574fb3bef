import { Command, CommanderError } from 'commander';
import { FluxmutError, ExitCode } from '../core/errors.js';
import { VERSION } from '../version.js';
import { register as registerHdbscan } from './hdbscan.js';
import { register as registerSimulate } from './simulate.js';
import { register as registerTrain } from './train.js';
import { register as registerScore } from './score.js';
import { register as registerInspect } from './inspect.js';
import { register as registerEvaluate } from './evaluate.js';
import { register as registerDemo } from './demo.js';

/**
 * Each subcommand lives in its own file under src/cli/ and exports `register(program)`.
 * The CLI only parses arguments and calls the library; all work happens in src/.
 */
type Register = (program: Command) => void;
const commands: Register[] = [registerTrain, registerScore, registerEvaluate, registerInspect, registerHdbscan, registerSimulate, registerDemo];

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('fluxmut')
    .description('Flux+Mutability: one-class classification and anomaly detection with a conditional generative model')
    .version(VERSION, '-V, --version', 'print the fluxmut version')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  for (const register of commands) register(program);
  return program;
}

export async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version arrive here with exit code 0.
      process.exitCode = err.exitCode === 0 ? 0 : ExitCode.Usage;
      return;
    }
    if (err instanceof FluxmutError) {
      process.stderr.write(`fluxmut: ${err.message}\n`);
      process.exitCode = err.exitCode;
      return;
    }
    throw err;
  }
}

import { parseArgs } from 'node:util';
import type { CliStreams } from './main.js';
import { ExitCode } from './shell/commands.js';

/** What a long-running command (`dev`, `gateway`) tells its user about itself. */
export interface CommandUsage {
  /** The one-line usage, printed after a usage error. */
  usage: string;
  /** The --help text. */
  help: () => string[];
}

/**
 * The `--name value` flags of a command that takes only string flags and --help: their values and
 * a usage-error reporter, or the exit code when the flags are wrong (the error and the usage line
 * are written) or ask for help (the help is written).
 */
export function stringFlags<N extends string>(
  args: readonly string[],
  names: readonly N[],
  command: CommandUsage,
  streams: CliStreams,
): { values: Partial<Record<N, string>>; usage: (message: string) => ExitCode } | ExitCode {
  const usage = (message: string) => {
    streams.errorOutput.write(`Error: ${message}\nUsage: ${command.usage}\n`);
    return ExitCode.USAGE;
  };
  const options: Record<string, { type: 'string' } | { type: 'boolean'; short: string }> = {
    help: { type: 'boolean', short: 'h' },
  };
  for (const name of names) options[name] = { type: 'string' };
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({ args: [...args], options, strict: true, allowPositionals: false }) as {
      values: Record<string, string | boolean | undefined>;
    });
  } catch (error) {
    return usage((error as Error).message);
  }
  if (values.help === true) {
    streams.output.write(`${command.help().join('\n')}\n`);
    return ExitCode.OK;
  }
  const strings: Partial<Record<N, string>> = {};
  for (const name of names) {
    const value = values[name];
    if (typeof value === 'string') strings[name] = value;
  }
  return { values: strings, usage };
}

/**
 * Runs a long-lived command until SIGINT or SIGTERM: `run` gets a signal that aborts on either,
 * and the handlers are removed when it returns.
 */
export async function untilInterrupted<T>(run: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const abort = new AbortController();
  const stop = () => abort.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    return await run(abort.signal);
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}

/**
 * The long-run reliability command on the local AWS stack (`pnpm soak:aws`): core's soak — many
 * seeded randomised runs under injected faults, each checked for linearizability and a consistent
 * final state — with every run on a fresh deployment (tables, bucket, queues) on DynamoDB Local and
 * fauxqs. Starts the stack, and stops it by PID when done or interrupted. Runs under plain node from
 * `dist`.
 *
 *   pnpm soak:aws --seeds 10 --ops 100 --seed 1
 *
 * Prints one line per run and then the same summary as `pnpm soak` (runs, operations, faults by
 * kind, and the fault kinds this target cannot inject). Exits with 1 when any run failed.
 */
import { pathToFileURL } from 'node:url';
import { parseSoakArgs, runSoak, type SoakOptions, type SoakSummary } from '@faaskeeper/core/testkit';
import { localAwsStackMissing, startLocalAwsStack } from './local-stack.js';
import { localAwsTarget } from './target.js';

/** Default size of an AWS soak: runs take seconds each on the emulators, not milliseconds. */
const DEFAULTS = ['--seeds', '10', '--ops', '100'];

/** Runs the soak on a local AWS stack it starts and stops, reporting through `print`. */
export async function runAwsSoak(options: SoakOptions, print: (line: string) => void): Promise<SoakSummary> {
  const stack = await startLocalAwsStack();
  // Ctrl-C must not leave the emulators running.
  const stop = () => {
    void stack.stop().finally(() => process.exit(130));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    return await runSoak(options, print, {
      target: localAwsTarget(async () => stack),
      command: 'pnpm soak:aws',
    });
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    await stack.stop();
  }
}

async function main(): Promise<void> {
  let options: SoakOptions;
  try {
    // Later arguments win: the user's override the defaults.
    options = parseSoakArgs([...DEFAULTS, ...process.argv.slice(2)]);
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
    console.error('usage: pnpm soak:aws [--seeds N] [--ops M] [--seed S] [--clients C] [--paths P]');
    process.exit(2);
  }
  const missing = localAwsStackMissing();
  if (missing !== undefined) {
    console.error(`the local AWS stack cannot run here: ${missing}`);
    process.exit(2);
  }
  const summary = await runAwsSoak(options, (line) => console.log(line));
  process.exit(summary.failedSeeds.length === 0 ? 0 : 1);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) void main();

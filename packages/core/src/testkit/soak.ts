/**
 * The long-run reliability command (`pnpm soak`): many seeded randomised runs under injected
 * faults, each checked for linearizability and a consistent final state. Runs under plain node from
 * `dist` (no test framework).
 *
 *   pnpm soak --seeds 200 --ops 300 --seed 1
 *
 * Prints how many runs, operations and injected faults (by kind) it covered, and for every failing
 * seed the command that replays it. Exits with 1 when any run failed. Every fifth seed runs a fault
 * storm (`STORM_FAULTS`). The same loop runs on the local AWS stack as `pnpm soak:aws`.
 */
import { pathToFileURL } from 'node:url';
import { parseSoakArgs, runSoak, type SoakOptions } from './faults/soak-run.js';

export {
  parseSoakArgs,
  replayCommand,
  runSoak,
  type SoakOptions,
  type SoakSummary,
  type SoakTarget,
} from './faults/soak-run.js';

async function main(): Promise<void> {
  let options: SoakOptions;
  try {
    options = parseSoakArgs(process.argv.slice(2));
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
    console.error('usage: pnpm soak [--seeds N] [--ops M] [--seed S] [--clients C] [--paths P]');
    process.exit(2);
  }
  const summary = await runSoak(options, (line) => console.log(line));
  process.exit(summary.failedSeeds.length === 0 ? 0 : 1);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) void main();

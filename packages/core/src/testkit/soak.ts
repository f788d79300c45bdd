/**
 * The long-run reliability command (`pnpm soak`): many seeded randomised runs under injected
 * faults, each checked for linearizability and a consistent final state. Runs under plain node from
 * `dist` (no test framework).
 *
 *   pnpm soak --seeds 200 --ops 300 --seed 1
 *
 * Prints how many runs, operations and injected faults (by kind) it covered, and for every failing
 * seed the command that replays it. Exits with 1 when any run failed. Every fifth seed runs a fault
 * storm ({@link STORM_FAULTS}).
 */
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { addFaultStats, emptyFaultStats, type FaultStats, STORM_FAULTS } from './faults/faults.js';
import { runRandomScenario } from './faults/random-run.js';

/** What `pnpm soak` runs. */
export interface SoakOptions {
  /** Number of runs (seeds `seed`, `seed + 1`, ...). */
  seeds: number;
  /** Operations per run. */
  ops: number;
  /** First seed. */
  seed: number;
  /** Concurrent clients per run. */
  clients: number;
  /** Contended paths per run. */
  paths: number;
}

/** The totals of a soak. */
export interface SoakSummary {
  runs: number;
  operations: number;
  unknownOutcomes: number;
  resolvedOutcomes: number;
  faults: FaultStats;
  failedSeeds: number[];
  /** Seeds whose linearizability search hit its step limit (inconclusive, not failures). */
  undecidedSeeds: number[];
}

/** Parses `--seeds N --ops M --seed S [--clients C] [--paths P]`. */
export function parseSoakArgs(argv: string[]): SoakOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      seeds: { type: 'string', default: '50' },
      ops: { type: 'string', default: '200' },
      seed: { type: 'string', default: '1' },
      clients: { type: 'string', default: '4' },
      paths: { type: 'string', default: '4' },
    },
    strict: true,
  });
  const int = (name: string, v: string | undefined, min: number) => {
    const n = Number(v);
    if (!Number.isSafeInteger(n) || n < min)
      throw new Error(`--${name} must be an integer ≥ ${min}, got ${v}`);
    return n;
  };
  return {
    seeds: int('seeds', values.seeds, 1),
    ops: int('ops', values.ops, 1),
    seed: int('seed', values.seed, 0),
    clients: int('clients', values.clients, 1),
    paths: int('paths', values.paths, 2),
  };
}

/** The command that replays one seed. */
export function replayCommand(options: SoakOptions, seed: number): string {
  const extra =
    (options.clients !== 4 ? ` --clients ${options.clients}` : '') +
    (options.paths !== 4 ? ` --paths ${options.paths}` : '');
  return `pnpm soak --seeds 1 --ops ${options.ops} --seed ${seed}${extra}`;
}

/** Runs the soak, reporting through `print`. */
export async function runSoak(options: SoakOptions, print: (line: string) => void): Promise<SoakSummary> {
  const summary: SoakSummary = {
    runs: 0,
    operations: 0,
    unknownOutcomes: 0,
    resolvedOutcomes: 0,
    faults: emptyFaultStats(),
    failedSeeds: [],
    undecidedSeeds: [],
  };
  const started = Date.now();
  for (let i = 0; i < options.seeds; i++) {
    const seed = options.seed + i;
    // Every fifth seed is a storm (more faults, more crashes): outcomes become unknown, sessions strain.
    const storm = seed % 5 === 0;
    const result = await runRandomScenario({
      seed,
      ops: options.ops,
      ...(storm ? { faults: STORM_FAULTS, crashProbability: 0.03, operationTimeoutMs: 2000 } : {}),
      clients: options.clients,
      paths: options.paths,
      timeoutMs: Math.max(20_000, options.ops * 200),
    });
    summary.runs++;
    summary.operations += result.operations;
    summary.unknownOutcomes += result.unknownOutcomes;
    summary.resolvedOutcomes += result.resolvedOutcomes;
    addFaultStats(summary.faults, result.faults);
    if (result.undecided) {
      summary.undecidedSeeds.push(seed);
      print(`UNDECIDED seed ${seed}: the linearizability search hit its step limit`);
      print(`  replay: ${replayCommand(options, seed)}`);
    }
    if (!result.ok) {
      summary.failedSeeds.push(seed);
      print(`FAIL seed ${seed}${storm ? ' (storm)' : ''}:`);
      for (const p of result.problems) print(`  ${p.split('\n').join('\n  ')}`);
      print(`  replay: ${replayCommand(options, seed)}`);
    } else if ((i + 1) % 10 === 0 || i + 1 === options.seeds) {
      print(
        `${i + 1}/${options.seeds} runs, ${summary.failedSeeds.length} failed (${Math.round((Date.now() - started) / 1000)} s)`,
      );
    }
  }
  print('');
  print(
    `soak: ${summary.runs} runs, ${summary.operations} operations (${summary.unknownOutcomes} of unknown outcome to the client, ${summary.resolvedOutcomes} of them settled by a late reply), seeds ${options.seed}..${options.seed + options.seeds - 1}`,
  );
  print('injected faults:');
  for (const [kind, n] of Object.entries(summary.faults)) print(`  ${kind.padEnd(20)} ${n}`);
  if (summary.undecidedSeeds.length > 0)
    print(
      `${summary.undecidedSeeds.length} run(s) undecided (search limit): seeds ${summary.undecidedSeeds.join(', ')}`,
    );
  if (summary.failedSeeds.length === 0)
    print('no run failed: every decided history linearizable, every final state consistent');
  else {
    print(`${summary.failedSeeds.length} failed run(s); replay with:`);
    for (const s of summary.failedSeeds) print(`  ${replayCommand(options, s)}`);
  }
  return summary;
}

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

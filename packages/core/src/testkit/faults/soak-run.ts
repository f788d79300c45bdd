/**
 * The soak loop behind `pnpm soak` (embedded) and the providers' soaks (`pnpm soak:aws`): many
 * seeded randomised runs, their totals, and the command that replays a failing seed.
 */
import { parseArgs } from 'node:util';
import type { DeploymentTarget } from '../target.js';
import { addFaultStats, emptyFaultStats, type FaultStats, STORM_FAULTS } from './faults.js';
import { runRandomScenario } from './random-run.js';

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
  /** Fault kinds the target could not inject (fully or in part), with why; empty in memory. */
  disabledFaults: string[];
}

/** Where a soak runs, and how its failures are replayed. */
export interface SoakTarget {
  /** Default: the embedded deployment. */
  target?: DeploymentTarget;
  /** The command that replays a seed, before its arguments. Default `pnpm soak`. */
  command?: string;
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
export function replayCommand(options: SoakOptions, seed: number, command = 'pnpm soak'): string {
  const extra =
    (options.clients !== 4 ? ` --clients ${options.clients}` : '') +
    (options.paths !== 4 ? ` --paths ${options.paths}` : '');
  return `${command} --seeds 1 --ops ${options.ops} --seed ${seed}${extra}`;
}

/**
 * Runs the soak, reporting through `print`. On a target other than the embedded deployment every
 * run is also reported on its own line (runs take seconds there), with its wall and clock time.
 */
export async function runSoak(
  options: SoakOptions,
  print: (line: string) => void,
  where: SoakTarget = {},
): Promise<SoakSummary> {
  const target = where.target;
  const replay = (seed: number) => replayCommand(options, seed, where.command);
  const summary: SoakSummary = {
    runs: 0,
    operations: 0,
    unknownOutcomes: 0,
    resolvedOutcomes: 0,
    faults: emptyFaultStats(),
    failedSeeds: [],
    undecidedSeeds: [],
    disabledFaults: [],
  };
  const started = Date.now();
  for (let i = 0; i < options.seeds; i++) {
    const seed = options.seed + i;
    // Every fifth seed is a storm (more faults, more crashes): outcomes become unknown, sessions strain.
    const storm = seed % 5 === 0;
    const result = await runRandomScenario({
      seed,
      ops: options.ops,
      // Elsewhere the clock runs near wall time, not ~50× faster: a shorter timeout keeps ops timing out.
      ...(storm
        ? {
            faults: STORM_FAULTS,
            crashProbability: 0.03,
            operationTimeoutMs: target === undefined ? 2000 : 1000,
          }
        : {}),
      clients: options.clients,
      paths: options.paths,
      // Emulators take a few hundred ms of real time per write.
      timeoutMs:
        target === undefined
          ? Math.max(20_000, options.ops * 200)
          : Math.max(target.testTimeoutMs / 2, options.ops * 1000),
      ...(target === undefined ? {} : { target }),
    });
    summary.runs++;
    summary.operations += result.operations;
    summary.unknownOutcomes += result.unknownOutcomes;
    summary.resolvedOutcomes += result.resolvedOutcomes;
    addFaultStats(summary.faults, result.faults);
    for (const d of result.disabledFaults) {
      const line = `${d.kind}: ${d.why}`;
      if (!summary.disabledFaults.includes(line)) summary.disabledFaults.push(line);
    }
    if (target !== undefined)
      print(
        `seed ${seed}${storm ? ' (storm)' : ''}: ${result.ok ? 'ok' : 'FAILED'}, ${result.operations} operations, ` +
          `${result.unknownOutcomes} of unknown outcome (${result.resolvedOutcomes} settled late), ` +
          `${(result.wallMs / 1000).toFixed(1)} s (${Math.round(result.clockMs / 1000)} s of clock)`,
      );
    if (result.undecided) {
      summary.undecidedSeeds.push(seed);
      print(`UNDECIDED seed ${seed}: the linearizability search hit its step limit`);
      print(`  replay: ${replay(seed)}`);
    }
    if (!result.ok) {
      summary.failedSeeds.push(seed);
      print(`FAIL seed ${seed}${storm ? ' (storm)' : ''}:`);
      for (const p of result.problems) print(`  ${p.split('\n').join('\n  ')}`);
      print(`  replay: ${replay(seed)}`);
    } else if ((i + 1) % 10 === 0 || i + 1 === options.seeds) {
      print(
        `${i + 1}/${options.seeds} runs, ${summary.failedSeeds.length} failed (${Math.round((Date.now() - started) / 1000)} s)`,
      );
    }
  }
  print('');
  print(
    `soak${target === undefined ? '' : ` on ${target.name}`}: ${summary.runs} runs, ${summary.operations} operations (${summary.unknownOutcomes} of unknown outcome to the client, ${summary.resolvedOutcomes} of them settled by a late reply), seeds ${options.seed}..${options.seed + options.seeds - 1}`,
  );
  print('injected faults:');
  for (const [kind, n] of Object.entries(summary.faults)) print(`  ${kind.padEnd(20)} ${n}`);
  if (summary.disabledFaults.length > 0) {
    print('not injected on this target:');
    for (const line of summary.disabledFaults) print(`  ${line}`);
  }
  if (summary.undecidedSeeds.length > 0)
    print(
      `${summary.undecidedSeeds.length} run(s) undecided (search limit): seeds ${summary.undecidedSeeds.join(', ')}`,
    );
  if (summary.failedSeeds.length === 0)
    print('no run failed: every decided history linearizable, every final state consistent');
  else {
    print(`${summary.failedSeeds.length} failed run(s); replay with:`);
    for (const s of summary.failedSeeds) print(`  ${replay(s)}`);
  }
  return summary;
}

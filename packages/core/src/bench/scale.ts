/**
 * The scale benchmark's measuring engine, shared by the embedded command (`pnpm bench:scale`,
 * `scale-bench.ts`) and the local AWS one (`pnpm bench:scale --aws`, in `@faaskeeper/aws`): how
 * the cost of one operation moves as one dimension of the deployment grows — children under one
 * parent, sessions watching one node, idle sessions, nodes in the tree — with everything else
 * held small. Each size runs on a fresh deployment.
 *
 * Per operation it reports time (median, mean, p99 over the timed runs), the bytes the functions
 * wrote to each store (JSON encoding of every system-store put and user-store record, counted by
 * port wrappers in a separate, untimed pass, since encoding a large record is itself O(size)),
 * and, when the target has a meter, its billable units. For each operation and metric, `ratio` is
 * the value at the largest size over the value at the smallest.
 */
import { performance } from 'node:perf_hooks';
import type { FaaSKeeperClient } from '../client/client.js';
import type { Deployment, PortWrappers } from '../deployment/deployment.js';
import type { CountingMeter } from '../ports/meter.js';
import { childrenPlan, type DimensionPlan, nodesPlan, sessionsPlan, watchersPlan } from './scale-plans.js';
import { ByteCounter, Session } from './scale-session.js';

export { ByteCounter, fillChildren } from './scale-session.js';

/** The dimensions the benchmark grows, one at a time. */
export const SCALE_DIMENSIONS = ['children', 'watchers', 'sessions', 'nodes'] as const;
/** One dimension of {@link SCALE_DIMENSIONS}. */
export type ScaleDimension = (typeof SCALE_DIMENSIONS)[number];

/** One deployment of one size, as a {@link ScaleTarget} starts it. */
export interface ScaleRun {
  deployment: Deployment;
  /** Billable units, when the target meters them (the local cloud stacks). */
  meter?: CountingMeter;
  /**
   * Opens one of the many extra sessions of the watchers and sessions dimensions. Default
   * `deployment.connect()`; a cloud target gives each its own SDK clients, as separate processes
   * would have (one shared client's socket pool is soon taken by the sessions' channel polls).
   */
  connect?: () => Promise<FaaSKeeperClient>;
  /** What the target can tell about its stored items after the operations (largest item sizes). */
  inspect?: () => Promise<unknown>;
  /** Closes the deployment and releases what it created. */
  close(): Promise<void>;
}

/** Where the benchmark runs. */
export interface ScaleTarget {
  /** Named in the JSON output. */
  name: string;
  /** Starts a fresh deployment whose functions' ports are wrapped with `wrap`. */
  start(wrap: PortWrappers): Promise<ScaleRun>;
  /**
   * Creates per multi when filling a tree (see {@link fillChildren}): as many as one store
   * transaction takes (DynamoDB: 100 items, one of them the parent and one the writer's).
   */
  fillBatch: number;
  /** Multis in flight while filling. */
  fillInFlight: number;
  /**
   * Sessions set up at a time in the watchers and sessions dimensions (default 8 × `fillInFlight`):
   * a cloud emulator shared with other jobs answers more requests at once more slowly, not faster.
   */
  setupInFlight?: number;
  /**
   * Attempts of each step of a session's setup (connect, create, register), the first included,
   * retried with back-off on OPERATIONTIMEOUT, CONNECTIONLOSS and throttling. Default 1.
   */
  setupAttempts?: number;
  /** Run each dimension's smallest size once, unreported, before measuring (see {@link runScale}). */
  warmUp?: boolean;
}

/** Options of {@link runScale}. */
export interface ScaleOptions {
  /** Sizes to run per dimension; a dimension without sizes is skipped. */
  sizes: Partial<Record<ScaleDimension, number[]>>;
  /** Timed runs of each operation at each size. */
  ops: number;
  /** Untimed runs of each operation whose store bytes are counted. */
  bytesRuns: number;
  /** Progress lines (stderr). */
  progress: (line: string) => void;
}

/** Cost of one operation at one size. */
export interface OpAtSize {
  size: number;
  runs: number;
  p50Ms: number;
  meanMs: number;
  p99Ms: number;
  /** Bytes the functions wrote per operation: system-store puts and user-store records (JSON). */
  systemStoreBytes: number;
  userStoreBytes: number;
  /** Meter units per operation (only on a metered target). */
  units?: Record<string, number>;
}

/** One operation across the sizes of a dimension, and how much it grew. */
export interface OpSeries {
  bySize: OpAtSize[];
  /** Largest size's value / smallest size's value, per metric (absent when the smallest is 0). */
  ratio: Record<string, number>;
}

/** One dimension's results. */
export interface DimensionResult {
  sizes: number[];
  /** Time to build each size (fill the tree, open the sessions, register the watches), in seconds. */
  setupSeconds: number[];
  ops: Record<string, OpSeries>;
  /** Per size, what the target reported about its stored items ({@link ScaleRun.inspect}). */
  items?: { size: number; report: unknown }[];
  /** Why the dimension stopped before its last size, if it did. */
  stopped?: string;
}

/** The ratio of each numeric metric, largest size over smallest. */
export function ratioOf(bySize: OpAtSize[]): Record<string, number> {
  const first = bySize[0];
  const last = bySize[bySize.length - 1];
  if (first === undefined || last === undefined) return {};
  const flat = (o: OpAtSize): Record<string, number> => ({
    p50Ms: o.p50Ms,
    meanMs: o.meanMs,
    systemStoreBytes: o.systemStoreBytes,
    userStoreBytes: o.userStoreBytes,
    ...Object.fromEntries(Object.entries(o.units ?? {}).map(([k, v]) => [`units.${k}`, v])),
  });
  const a = flat(first);
  const b = flat(last);
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(b)) {
    const base = a[k];
    if (base !== undefined && base > 0) out[k] = Math.round((v / base) * 100) / 100;
  }
  return out;
}

/** One size of one dimension on a fresh deployment: its operations, setup time and item report. */
async function runSize(
  target: ScaleTarget,
  options: ScaleOptions,
  dimension: ScaleDimension,
  size: number,
): Promise<{ ops: Record<string, OpAtSize>; setupMs: number; items?: unknown }> {
  const bytes = new ByteCounter();
  const run = await target.start(bytes.wrappers());
  try {
    const zk = await run.deployment.connect();
    const session = new Session(run, bytes, options);
    const connect = run.connect ?? (() => run.deployment.connect());
    const plans: Record<ScaleDimension, DimensionPlan> = {
      children: childrenPlan(target, options.progress),
      watchers: watchersPlan(target, connect, options.progress),
      sessions: sessionsPlan(target, connect, options.progress),
      nodes: nodesPlan(target, options.progress),
    };
    const t0 = performance.now();
    const ops = await plans[dimension](session, zk, size);
    const setupMs = (session.measuredFrom ?? performance.now()) - t0;
    if (session.items === undefined) await session.inspect();
    const items = session.items;
    await zk.close();
    return { ops, setupMs, ...(items === undefined ? {} : { items }) };
  } finally {
    await run.close();
  }
}

/**
 * Runs every dimension with sizes on `target`, each size on a fresh deployment, and returns the
 * results by dimension. A size that fails (a store limit, a timeout) ends its dimension: the error
 * is kept as `stopped` and the sizes before it are reported. With {@link ScaleTarget.warmUp}, each
 * dimension first runs its smallest size once, unreported: otherwise the smallest size would pay
 * for the compilation of the code paths, and every ratio would be understated.
 */
export async function runScale(
  target: ScaleTarget,
  options: ScaleOptions,
): Promise<Partial<Record<ScaleDimension, DimensionResult>>> {
  const results: Partial<Record<ScaleDimension, DimensionResult>> = {};
  for (const dimension of SCALE_DIMENSIONS) {
    const sizes = options.sizes[dimension];
    if (sizes === undefined || sizes.length === 0) continue;
    const result: DimensionResult = { sizes: [], setupSeconds: [], ops: {} };
    results[dimension] = result;
    if (target.warmUp === true) {
      options.progress(`${target.name}: ${dimension} warm-up at ${sizes[0]}`);
      await runSize(target, { ...options, progress: () => {} }, dimension, sizes[0]!);
    }
    for (const size of sizes) {
      options.progress(`${target.name}: ${dimension} = ${size}`);
      try {
        const { ops, setupMs, items } = await runSize(target, options, dimension, size);
        result.sizes.push(size);
        result.setupSeconds.push(Math.round(setupMs / 100) / 10);
        for (const [name, at] of Object.entries(ops)) {
          const series = result.ops[name] ?? { bySize: [], ratio: {} };
          series.bySize.push(at);
          series.ratio = ratioOf(series.bySize);
          result.ops[name] = series;
        }
        if (items !== undefined) {
          result.items = result.items ?? [];
          result.items.push({ size, report: items });
        }
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        result.stopped = `at ${size}: ${message}`.slice(0, 500);
        options.progress(`${target.name}: ${dimension} stopped ${result.stopped}`);
        break;
      }
    }
  }
  return results;
}

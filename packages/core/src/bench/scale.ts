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
import { quietMeter } from '../memory/meter-per-op.js';
import type { CountingMeter } from '../ports/meter.js';
import type { SystemStore } from '../ports/system-store.js';
import type { UserStore } from '../ports/user-store.js';
import { byteLength, encodeMessage } from '../protocol/codec.js';
import { mapLimit } from '../util/map-limit.js';
import { percentile } from './measure.js';

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

/** Counts the bytes the functions write, while `on`. */
export class ByteCounter {
  on = false;
  systemStore = 0;
  userStore = 0;

  reset(): void {
    this.systemStore = 0;
    this.userStore = 0;
  }

  /** Port wrappers that count into this counter. */
  wrappers(): PortWrappers {
    const size = (value: unknown) => byteLength(encodeMessage(value));
    return {
      systemStore: (store: SystemStore): SystemStore => ({
        capabilities: store.capabilities,
        get: (key) => store.get(key),
        getMany: (keys) => store.getMany(keys),
        list: (kind) => store.list(kind),
        increment: (key, by) => store.increment(key, by),
        transact: async (ops) => {
          if (this.on)
            for (const op of ops)
              if (op.type === 'put') this.systemStore += size({ id: op.id, value: op.value });
          return store.transact(ops);
        },
      }),
      userStore: (store: UserStore): UserStore => ({
        get: (path) => store.get(path),
        delete: (path) => store.delete(path),
        getWatermark: () => store.getWatermark(),
        putWatermark: (zxid) => store.putWatermark(zxid),
        deleteChild: (entry) => store.deleteChild(entry),
        listChildren: (parent) => store.listChildren(parent),
        putChild: async (entry) => {
          if (this.on) this.userStore += size(entry);
          return store.putChild(entry);
        },
        put: async (path, record) => {
          if (this.on) this.userStore += size({ path, record });
          return store.put(path, record);
        },
      }),
    };
  }
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;

/** Untimed runs before an operation's timed ones. */
const WARMUP_RUNS = 3;

/** A deployment of one size while it is measured. */
class Session {
  private next = 0;
  /** When the first measurement began: the end of the size's setup. */
  measuredFrom: number | undefined;
  /** The target's item report, when a plan took it at its peak ({@link inspect}). */
  items: unknown;
  constructor(
    readonly run: ScaleRun,
    private readonly bytes: ByteCounter,
    private readonly options: ScaleOptions,
  ) {}

  /**
   * Takes the target's item report now, where the plan's items are largest (before the sessions
   * that make them close); otherwise it is taken after the plan.
   */
  async inspect(): Promise<void> {
    if (this.run.inspect !== undefined) this.items = await this.run.inspect();
  }

  /** A fresh index for an operation's run (names of created nodes never repeat). */
  index(): number {
    return this.next++;
  }

  /** Times `runs` sequential runs of `op` and meters them; bytes come from {@link countBytes}. */
  async time(
    runs: number,
    op: (i: number) => Promise<unknown>,
    warmup = WARMUP_RUNS,
  ): Promise<Omit<OpAtSize, 'size' | 'systemStoreBytes' | 'userStoreBytes'>> {
    this.measuredFrom ??= performance.now();
    // The first runs of an operation pay for compilation and cold caches, not for the size.
    for (let r = 0; r < warmup; r++) await op(this.index());
    const meter = this.run.meter;
    if (meter !== undefined) {
      await quietMeter(meter);
      meter.reset();
    }
    const latencies: number[] = [];
    for (let r = 0; r < runs; r++) {
      const i = this.index();
      const t0 = performance.now();
      await op(i);
      latencies.push(performance.now() - t0);
    }
    const mean = latencies.reduce((a, b) => a + b, 0) / Math.max(1, runs);
    latencies.sort((a, b) => a - b);
    const out: Omit<OpAtSize, 'size' | 'systemStoreBytes' | 'userStoreBytes'> = {
      runs,
      p50Ms: round3(percentile(latencies, 50)),
      meanMs: round3(mean),
      p99Ms: round3(percentile(latencies, 99)),
    };
    if (meter !== undefined) {
      // The tail of the last run (acknowledgements, deletions after the reply) belongs to it.
      await quietMeter(meter);
      out.units = Object.fromEntries(
        Object.entries(meter.snapshot()).map(([k, total]) => [k, Math.round((total / runs) * 1e6) / 1e6]),
      );
    }
    return out;
  }

  /** Bytes the functions write per run of `op`, over {@link ScaleOptions.bytesRuns} untimed runs. */
  async countBytes(
    op: (i: number) => Promise<unknown>,
    runs = this.options.bytesRuns,
  ): Promise<{ systemStore: number; userStore: number }> {
    if (this.run.meter !== undefined) await quietMeter(this.run.meter);
    this.bytes.reset();
    this.bytes.on = true;
    try {
      for (let r = 0; r < runs; r++) await op(this.index());
      if (this.run.meter !== undefined) await quietMeter(this.run.meter);
    } finally {
      this.bytes.on = false;
    }
    return {
      systemStore: Math.round(this.bytes.systemStore / runs),
      userStore: Math.round(this.bytes.userStore / runs),
    };
  }

  /** Times and then byte-counts `op`: its cost at `size`. */
  async measure(size: number, op: (i: number) => Promise<unknown>): Promise<OpAtSize> {
    const timed = await this.time(this.options.ops, op);
    const bytes = await this.countBytes(op);
    return { size, ...timed, systemStoreBytes: bytes.systemStore, userStoreBytes: bytes.userStore };
  }
}

/** A child name of a fill: fixed width, so that every size's names are the same length. */
const childName = (i: number) => `c${String(i).padStart(7, '0')}`;

/**
 * Creates `count` children `<parent>/c0000000`… with empty data, `batch` creates per `multi` and
 * `inFlight` multis at a time: one request, one writer transaction and one distributor write of
 * the parent per multi instead of per child, which is what makes 100,000 children (and a 1M-node
 * tree) fillable at all while every create still rewrites the parent's whole child list.
 */
export async function fillChildren(
  zk: FaaSKeeperClient,
  parent: string,
  count: number,
  batch: number,
  inFlight: number,
  progress?: (done: number) => void,
): Promise<void> {
  const starts: number[] = [];
  for (let i = 0; i < count; i += batch) starts.push(i);
  let done = 0;
  // Progress about every 10% of the fill.
  const step = Math.max(batch, Math.ceil(count / 10));
  await mapLimit(starts, inFlight, async (start) => {
    const end = Math.min(count, start + batch);
    const ops = [];
    for (let i = start; i < end; i++) ops.push({ op: 'create' as const, path: `${parent}/${childName(i)}` });
    await zk.multi(ops);
    const before = done;
    done += end - start;
    if (progress !== undefined && Math.floor(done / step) > Math.floor(before / step)) progress(done);
  });
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

const DATA = new Uint8Array(100).fill(7);

/** What one dimension does at one size: builds it, then measures its operations. */
type DimensionPlan = (s: Session, zk: FaaSKeeperClient, size: number) => Promise<Record<string, OpAtSize>>;

/**
 * Children under one parent: create and delete of a child, setData of the parent, getChildren of
 * the parent (checked to answer in full), and, as the baseline the 2× bound is judged
 * against, a create under an empty parent of the same tree.
 */
function childrenPlan(target: ScaleTarget, progress: (line: string) => void): DimensionPlan {
  return async (s, zk, size) => {
    await zk.create('/p');
    await zk.create('/empty');
    await fillChildren(zk, '/p', size, target.fillBatch, target.fillInFlight, (done) =>
      progress(`  filled ${done}/${size} children`),
    );
    const created: number[] = [];
    const create = (i: number) => {
      created.push(i);
      return zk.create(`/p/x${i}`, DATA);
    };
    const out: Record<string, OpAtSize> = {};
    out.createUnderEmptyParent = await s.measure(size, (i) => zk.create(`/empty/x${i}`, DATA));
    out.create = await s.measure(size, create);
    // Deletes what the create runs made, so the parent is back at `size` children.
    out.delete = await s.measure(size, async () => zk.delete(`/p/x${created.shift()}`));
    out.setDataOfParent = await s.measure(size, () => zk.setData('/p', DATA));
    out.getChildren = await s.measure(size, async () => {
      const { children } = await zk.getChildren('/p');
      if (children.length < size)
        throw new Error(`getChildren answered ${children.length} of ${size} children`);
    });
    return out;
  };
}

/**
 * Sessions watching one node: `size` sessions each set a data watch on `/config`; then the setData
 * that fires them all (timed to its reply, and to the last watcher's event), then setData of an
 * unrelated node while none of the watchers has sent a request since (their events' epoch entries
 * are still pending). Rounds repeat the registration; the last round is the byte-counted one.
 */
function watchersPlan(
  target: ScaleTarget,
  connect: () => Promise<FaaSKeeperClient>,
  progress: (line: string) => void,
) {
  const plan: DimensionPlan = async (s, zk, size) => {
    await zk.create('/config', DATA);
    await zk.create('/other', DATA);
    let events = 0;
    let allIn: (() => void) | undefined;
    const watcher = () => {
      events++;
      if (events === size) allIn?.();
    };
    const watchers = await mapLimit(
      Array.from({ length: size }, (_, i) => i),
      target.fillInFlight * 8,
      async (i) => {
        const c = await connect();
        if ((i + 1) % Math.max(1, Math.ceil(size / 5)) === 0)
          progress(`  connected ${i + 1}/${size} watchers`);
        return c;
      },
    );
    const register = () =>
      mapLimit(watchers, target.fillInFlight * 8, (c) => c.getData('/config', { watch: watcher }));
    const fire: OpAtSize[] = [];
    const delivered: number[] = [];
    const unrelated: OpAtSize[] = [];
    const rounds = 3;
    for (let r = 0; r < rounds; r++) {
      await register();
      progress(`  round ${r + 1}/${rounds}: ${size} watches registered`);
      events = 0;
      const all = new Promise<void>((resolve) => {
        allIn = resolve;
      });
      // An unrelated write first: after the registrations the functions' poll loops may be idle,
      // and the fire would otherwise be timed from their back-off, not from its own work.
      await zk.setData('/other', DATA);
      const t0 = performance.now();
      const fired = await s.time(1, () => zk.setData('/config', DATA), 0);
      await all;
      delivered.push(performance.now() - t0);
      fire.push({ size, ...fired, systemStoreBytes: 0, userStoreBytes: 0 });
      const next = await s.time(s.run.meter === undefined ? 20 : 5, () => zk.setData('/other', DATA));
      unrelated.push({ size, ...next, systemStoreBytes: 0, userStoreBytes: 0 });
    }
    // One more round, byte-counted and untimed.
    await register();
    const fireBytes = await s.countBytes(() => zk.setData('/config', DATA), 1);
    const nextBytes = await s.countBytes(() => zk.setData('/other', DATA));
    // The epoch of every watcher is now on the writer state and the records.
    await s.inspect();
    const mean = (xs: number[]) => round3(xs.reduce((a, b) => a + b, 0) / xs.length);
    const merge = (xs: OpAtSize[], bytes: { systemStore: number; userStore: number }): OpAtSize => {
      const p50 = xs.map((x) => x.p50Ms).sort((a, b) => a - b);
      const units = xs[xs.length - 1]?.units;
      return {
        size,
        runs: xs.reduce((a, x) => a + x.runs, 0),
        p50Ms: p50[Math.floor(p50.length / 2)] ?? 0,
        meanMs: mean(xs.map((x) => x.meanMs)),
        p99Ms: Math.max(...xs.map((x) => x.p99Ms)),
        systemStoreBytes: bytes.systemStore,
        userStoreBytes: bytes.userStore,
        ...(units === undefined ? {} : { units }),
      };
    };
    const fireOp = merge(fire, fireBytes);
    const deliveredSorted = [...delivered].sort((a, b) => a - b);
    const fireToLastEvent: OpAtSize = {
      ...fireOp,
      p50Ms: round3(deliveredSorted[Math.floor(deliveredSorted.length / 2)] ?? 0),
      meanMs: mean(delivered),
      p99Ms: round3(Math.max(...delivered)),
    };
    await mapLimit(watchers, target.fillInFlight * 8, (c) => c.close());
    return { fireWrite: fireOp, fireToLastEvent, nextUnrelatedWrite: merge(unrelated, nextBytes) };
  };
  return plan;
}

/** Idle sessions: `size` sessions open (and doing nothing) while another one writes and reads. */
function sessionsPlan(
  target: ScaleTarget,
  connect: () => Promise<FaaSKeeperClient>,
  progress: (line: string) => void,
) {
  const plan: DimensionPlan = async (s, zk, size) => {
    await zk.create('/s', DATA);
    const idle = await mapLimit(
      Array.from({ length: size }, (_, i) => i),
      target.fillInFlight * 8,
      async (i) => {
        const c = await connect();
        if ((i + 1) % Math.max(1, Math.ceil(size / 5)) === 0)
          progress(`  connected ${i + 1}/${size} sessions`);
        return c;
      },
    );
    const out = {
      setData: await s.measure(size, () => zk.setData('/s', DATA)),
      getData: await s.measure(size, () => zk.getData('/s')),
    };
    await mapLimit(idle, target.fillInFlight * 8, (c) => c.close());
    return out;
  };
  return plan;
}

/** Children per parent in the nodes dimension's tree: `/t/g<k>/c…`. */
const NODES_PER_GROUP = 1000;

/**
 * Nodes in the tree: `size` nodes as groups of {@link NODES_PER_GROUP} children under `/t`, so no
 * parent grows with the size; then setData and getData of nodes picked by a seeded generator.
 */
function nodesPlan(target: ScaleTarget, progress: (line: string) => void): DimensionPlan {
  return async (s, zk, size) => {
    await zk.create('/t');
    const groups = Math.max(1, Math.ceil(size / NODES_PER_GROUP));
    const inGroup = (g: number) => Math.min(NODES_PER_GROUP, size - g * NODES_PER_GROUP);
    for (let g = 0; g < groups; g++) {
      await zk.create(`/t/g${g}`);
      await fillChildren(zk, `/t/g${g}`, inGroup(g), target.fillBatch, target.fillInFlight);
      if ((g + 1) % Math.max(1, Math.ceil(groups / 10)) === 0)
        progress(`  filled ${Math.min(size, (g + 1) * NODES_PER_GROUP)}/${size} nodes`);
    }
    // A fixed-seed linear congruential generator: the same nodes at every run.
    let seed = 12345;
    const pick = () => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      const g = seed % groups;
      return `/t/g${g}/${childName(Math.floor(seed / groups) % inGroup(g))}`;
    };
    return {
      setData: await s.measure(size, () => zk.setData(pick(), DATA)),
      getData: await s.measure(size, () => zk.getData(pick())),
    };
  };
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

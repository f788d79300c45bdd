/*
 * One size of the scale benchmark while it is measured: the deployment, the byte counter on its
 * store ports, timed and byte-counted runs of an operation, and the fill of a large parent.
 */
import { performance } from 'node:perf_hooks';
import type { FaaSKeeperClient } from '../client/client.js';
import type { PortWrappers } from '../deployment/deployment.js';
import { quietMeter } from '../memory/meter-per-op.js';
import type { SystemStore } from '../ports/system-store.js';
import type { UserStore } from '../ports/user-store.js';
import { byteLength, encodeMessage } from '../protocol/codec.js';
import { mapLimit } from '../util/map-limit.js';
import { percentile } from './measure.js';
import type { OpAtSize, ScaleOptions, ScaleRun } from './scale.js';

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
        query: (kind, prefix, page) => store.query(kind, prefix, page),
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
        getMarker: (session) => store.getMarker(session),
        putMarker: async (session, events) => {
          if (this.on) this.userStore += size({ session, events });
          return store.putMarker(session, events);
        },
        put: async (path, record) => {
          if (this.on) this.userStore += size({ path, record });
          return store.put(path, record);
        },
      }),
    };
  }
}

export const round3 = (x: number) => Math.round(x * 1000) / 1000;

/** Untimed runs before an operation's timed ones. */
const WARMUP_RUNS = 3;

/** A deployment of one size while it is measured. */
export class Session {
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
export const childName = (i: number) => `c${String(i).padStart(7, '0')}`;

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

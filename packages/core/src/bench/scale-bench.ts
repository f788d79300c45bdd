/**
 * The scale benchmark on the embedded deployment: `pnpm bench:scale [--quick]` prints JSON with,
 * for each dimension the issue names (children under one parent, sessions watching one node, idle
 * sessions, nodes in the tree), the time and the store bytes of its operations at growing sizes,
 * and the ratio of the largest size to the smallest (see `scale.ts`). Progress goes to stderr.
 * `pnpm bench:scale --aws` runs the same on the local AWS stack, with billable units
 * (`@faaskeeper/aws`, `providers/aws/src/local/scale-bench.ts`).
 *
 * Large trees are filled with `multi` requests of 1,000 creates each, 4 in flight: one writer
 * transaction and one rewrite of the parent per 1,000 children. The nodes dimension spreads its
 * nodes over parents of 1,000 children, so no parent grows with the tree. A ManualClock holds time
 * still: no pings, heartbeats or expiries run during a measurement, only the operations.
 *
 * Options: `--quick` (small sizes, a smoke test), `--ops N` (timed runs per operation and size,
 * default 50), `--bytes-runs N` (byte-counted runs, default 3), `--children`, `--watchers`,
 * `--sessions`, `--nodes` (comma-separated sizes, or `none` to skip the dimension).
 */
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { createEmbeddedService } from '../embedded/embedded-service.js';
import { ManualClock } from '../memory/manual-clock.js';
import { largestSystemItems } from './item-sizes.js';
import {
  runScale,
  SCALE_DIMENSIONS,
  type ScaleDimension,
  type ScaleOptions,
  type ScaleTarget,
} from './scale.js';

export * from './scale.js';

/** The sizes the issue asks for. */
export const FULL_SIZES: Record<ScaleDimension, number[]> = {
  children: [1_000, 10_000, 100_000],
  watchers: [10, 100, 1_000, 10_000],
  sessions: [10, 100, 1_000, 10_000],
  nodes: [10_000, 100_000, 1_000_000],
};

/** `--quick`: a smoke test that runs in seconds. */
export const QUICK_SIZES: Record<ScaleDimension, number[]> = {
  children: [100, 1_000],
  watchers: [10, 100],
  sessions: [10, 100],
  nodes: [1_000, 5_000],
};

/** The options of a scale command, from its arguments (`defaults` are the target's sizes). */
export function parseScaleArgs(
  args: string[],
  defaults: { full: Record<ScaleDimension, number[]>; quick: Record<ScaleDimension, number[]> },
): ScaleOptions & { quick: boolean } {
  const { values } = parseArgs({
    args,
    options: {
      quick: { type: 'boolean', default: false },
      ops: { type: 'string' },
      'bytes-runs': { type: 'string', default: '3' },
      children: { type: 'string' },
      watchers: { type: 'string' },
      sessions: { type: 'string' },
      nodes: { type: 'string' },
      aws: { type: 'boolean', default: false },
    },
  });
  const quick = values.quick === true;
  const sizes: Partial<Record<ScaleDimension, number[]>> = {};
  for (const d of SCALE_DIMENSIONS) {
    const given = values[d];
    if (given === 'none') continue;
    const list =
      given === undefined ? (quick ? defaults.quick : defaults.full)[d] : given.split(',').map(Number);
    if (list.some((n) => !Number.isSafeInteger(n) || n < 1))
      throw new Error(`--${d}: sizes must be integers ≥ 1`);
    sizes[d] = list;
  }
  const count = (flag: string, value: string | undefined, fallback: number) => {
    const n = value === undefined ? fallback : Number(value);
    if (!Number.isSafeInteger(n) || n < 1) throw new Error(`--${flag} must be an integer ≥ 1`);
    return n;
  };
  return {
    quick,
    sizes,
    ops: count('ops', values.ops, quick ? 10 : 50),
    bytesRuns: count('bytes-runs', values['bytes-runs'], 3),
    progress: (line) => console.error(line),
  };
}

/** The embedded deployment as a scale target. */
export const embeddedScaleTarget: ScaleTarget = {
  name: 'embedded',
  fillBatch: 1000,
  fillInFlight: 4,
  warmUp: true,
  async start(wrap) {
    const service = createEmbeddedService({ clock: new ManualClock(), wrap });
    await service.ready;
    return {
      deployment: service,
      // The largest item of each kind in the system store (the embedded user store is in memory).
      inspect: () => largestSystemItems(service.ports.systemStore),
      close: () => service.close(),
    };
  },
};

async function main(): Promise<void> {
  let options: ScaleOptions & { quick: boolean };
  try {
    options = parseScaleArgs(process.argv.slice(2), { full: FULL_SIZES, quick: QUICK_SIZES });
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
    console.error(
      'usage: pnpm bench:scale [--quick] [--aws] [--ops N] [--children 1000,10000] [--watchers …] [--sessions …] [--nodes …]',
    );
    process.exit(2);
  }
  console.log(JSON.stringify(await scaleReport(embeddedScaleTarget, options), null, 2));
}

/** Runs {@link runScale} on `target` and wraps its results with what the run was. */
export async function scaleReport(target: ScaleTarget, options: ScaleOptions & { quick: boolean }) {
  const started = Date.now();
  const dimensions = await runScale(target, options);
  return {
    benchmark: 'scale: per-operation cost as one dimension grows',
    target: target.name,
    node: process.version,
    quick: options.quick,
    opsPerSize: options.ops,
    seconds: Math.round((Date.now() - started) / 1000),
    dimensions,
  };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href)
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });

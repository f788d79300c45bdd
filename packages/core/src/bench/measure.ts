/**
 * Measurement helpers shared by the embedded benchmark (`pnpm bench`) and the side-by-side comparison
 * with Apache ZooKeeper (`pnpm bench:zookeeper`), so both time operations the same way.
 */
import { performance } from 'node:perf_hooks';

/** Throughput and latency of one measured run. */
export interface Measurement {
  /** Operations completed. */
  ops: number;
  /** Completed operations per second of wall-clock time. */
  opsPerSec: number;
  /** Median latency of one operation, in milliseconds. */
  p50Ms: number;
  /** 99th percentile latency of one operation, in milliseconds. */
  p99Ms: number;
}

/** The `p`th percentile (0–100) of an ascending array; 0 for an empty one. */
export function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

/**
 * Runs `op(0)` … `op(ops - 1)` with `inFlight` operations outstanding at a time and returns the
 * throughput and latency percentiles.
 */
export async function measure(
  ops: number,
  inFlight: number,
  op: (i: number) => Promise<unknown>,
): Promise<Measurement> {
  const latencies = new Array<number>(ops);
  let next = 0;
  const start = performance.now();
  const worker = async () => {
    while (next < ops) {
      const i = next++;
      const t0 = performance.now();
      await op(i);
      latencies[i] = performance.now() - t0;
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  const elapsed = performance.now() - start;
  latencies.sort((a, b) => a - b);
  const round = (x: number) => Math.round(x * 1000) / 1000;
  return {
    ops,
    opsPerSec: Math.round(ops / (elapsed / 1000)),
    p50Ms: round(percentile(latencies, 50)),
    p99Ms: round(percentile(latencies, 99)),
  };
}

/**
 * Benchmark of the embedded deployment: `pnpm bench` prints JSON with throughput and latency of
 * setData/getData (1 and 64 operations in flight), create+delete pairs, and the time from
 * `createEmbeddedService()` to a connected client. Values are 1 KiB.
 *
 * Options: `--ops N` (operations per measurement, default 20000), `--warmup N` (default 2000).
 */
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import type { FaaSKeeperClient } from '../client/client.js';
import { createEmbeddedService } from '../embedded/embedded-service.js';
import { type Measurement, measure } from './measure.js';

const { values } = parseArgs({
  options: {
    ops: { type: 'string', default: '20000' },
    warmup: { type: 'string', default: '2000' },
    /** Run one measurement only (for profiling): setData1, setData64, getData1, getData64, createDelete. */
    only: { type: 'string' },
  },
});
const OPS = Number(values.ops);
const WARMUP = Number(values.warmup);
const VALUE = new Uint8Array(1024).fill(7);

async function main(): Promise<void> {
  // Start-up: from createEmbeddedService() to a connected client (median of 5 fresh deployments).
  const starts: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    const s = createEmbeddedService();
    const c = await s.connect();
    starts.push(performance.now() - t0);
    await c.close();
    await s.close();
  }
  starts.sort((a, b) => a - b);

  const service = createEmbeddedService();
  const zk: FaaSKeeperClient = await service.connect();
  const paths = Array.from({ length: 64 }, (_, i) => `/bench-${i}`);
  for (const p of paths) await zk.create(p, VALUE);
  const pathOf = (i: number) => paths[i % paths.length]!;

  const skip: Measurement = { ops: 0, opsPerSec: 0, p50Ms: 0, p99Ms: 0 };
  let name = '';
  const run = async (inFlight: number, op: (i: number) => Promise<unknown>) => {
    if (values.only !== undefined && values.only !== name) return skip;
    await measure(WARMUP, inFlight, op);
    return measure(OPS, inFlight, op);
  };
  name = 'setData1';
  const setData1 = await run(1, (i) => zk.setData(pathOf(i), VALUE));
  name = 'setData64';
  const setData64 = await run(64, (i) => zk.setData(pathOf(i), VALUE));
  name = 'getData1';
  const getData1 = await run(1, (i) => zk.getData(pathOf(i)));
  name = 'getData64';
  const getData64 = await run(64, (i) => zk.getData(pathOf(i)));
  name = 'createDelete';
  const createDelete = await run(1, async (i) => {
    const p = `/pair-${i}`;
    await zk.create(p, VALUE);
    await zk.delete(p);
  });
  await zk.close();
  await service.close();

  const result = {
    benchmark: 'embedded deployment, 1 KiB values',
    node: process.version,
    startToConnectedMs: Math.round((starts[2] ?? 0) * 100) / 100,
    setData: { inFlight1: setData1, inFlight64: setData64 },
    getData: { inFlight1: getData1, inFlight64: getData64 },
    createDeletePairs: { inFlight1: createDelete },
    targets: {
      setDataInFlight64OpsPerSec: 30_000,
      getDataOpsPerSec: 100_000,
      setDataSequentialP50Ms: 0.1,
      startToConnectedMs: 50,
    },
    apacheZooKeeper38Reference: {
      note: 'standalone, Node client, same machine kind (from the issue)',
      setData: { inFlight1: 1200, inFlight64: 9600, p50Ms: 0.64 },
      getData: { inFlight1: 4000, inFlight64: 17000 },
      createDeletePairsPerSec: 800,
      startMs: 1300,
    },
  };
  console.log(JSON.stringify(result, null, 2));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});

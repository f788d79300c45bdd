/**
 * `node bench/zookeeper/dist/gateway-cpu.js`: the gateway's CPU time per operation, and optionally a
 * CPU profile of it. The same gateway child and client as `compare.js` (no ZooKeeper needed), with
 * the CPU time the child used during each measurement divided by its operations: on a shared
 * machine that figure moves much less with the load than throughput does, so it is what to compare
 * between two versions of the gateway or the core. The client process's CPU time per operation is
 * printed beside it: together they tell which side bounds the throughput.
 *
 * Options: `--ops N` (default 10000), `--warmup N` (default 500), `--only set1|set64|get64`,
 * `--cpu-prof DIR` (writes the child's `.cpuprofile` there when it exits), `--alloc-prof FILE` (writes
 * a `.heapprofile` of everything the child allocated, collected objects included, when it exits).
 */
import os from 'node:os';
import { parseArgs } from 'node:util';
import { measure } from '@faaskeeper/core/bench';
import { call, connectZooKeeper, startGatewayChild } from './processes.js';

const { values } = parseArgs({
  options: {
    ops: { type: 'string', default: '10000' },
    warmup: { type: 'string', default: '500' },
    only: { type: 'string' },
    'cpu-prof': { type: 'string' },
    'alloc-prof': { type: 'string' },
  },
});
const OPS = Number(values.ops);
const WARMUP = Number(values.warmup);
if (!Number.isInteger(OPS) || OPS < 1 || !Number.isInteger(WARMUP) || WARMUP < 0) {
  console.error('--ops must be an integer >= 1 and --warmup >= 0');
  process.exit(64);
}
const VALUE = Buffer.alloc(1024, 7);
const NODES = 64;

async function main(): Promise<void> {
  const profile = values['cpu-prof'];
  const gateway = await startGatewayChild(
    profile === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${profile}`],
    values['alloc-prof'] === undefined ? {} : { FAASKEEPER_BENCH_ALLOC_PROFILE: values['alloc-prof'] },
  );
  console.error(`gateway child PID ${gateway.pid}, ${gateway.connectString}`);
  const client = await connectZooKeeper(gateway.connectString);
  const out: Record<string, unknown> = {};
  try {
    const paths = Array.from({ length: NODES }, (_, i) => `/bench-${i}`);
    for (const p of paths) await call((cb) => client.create(p, VALUE, cb));
    const path = (i: number) => paths[i % NODES]!;
    const runs: [string, number, (i: number) => Promise<unknown>][] = [
      ['setData.inFlight1', 1, (i) => call((cb) => client.setData(path(i), VALUE, -1, cb))],
      ['setData.inFlight64', 64, (i) => call((cb) => client.setData(path(i), VALUE, -1, cb))],
      ['getData.inFlight64', 64, (i) => call((cb) => client.getData(path(i), cb))],
    ];
    const short = {
      'setData.inFlight1': 'set1',
      'setData.inFlight64': 'set64',
      'getData.inFlight64': 'get64',
    };
    for (const [name, inFlight, op] of runs) {
      if (values.only !== undefined && short[name as keyof typeof short] !== values.only) continue;
      await measure(WARMUP, inFlight, op);
      const before = await gateway.cpu();
      const clientBefore = process.cpuUsage();
      const m = await measure(OPS, inFlight, op);
      const clientCpu = process.cpuUsage(clientBefore);
      const after = await gateway.cpu();
      const cpuUs = after.usage.user - before.usage.user + (after.usage.system - before.usage.system);
      out[name] = {
        ...m,
        gatewayCpuUsPerOp: Math.round((cpuUs / OPS) * 10) / 10,
        // The client's side (this process, node-zookeeper-client): whether it, not the gateway, is the limit.
        clientCpuUsPerOp: Math.round(((clientCpu.user + clientCpu.system) / OPS) * 10) / 10,
        gatewayKiBAllocatedPerOp:
          Math.round(((after.allocatedBytes - before.allocatedBytes) / OPS / 1024) * 100) / 100,
      };
    }
  } finally {
    client.close();
    await gateway.stop();
  }
  console.log(
    JSON.stringify({ loadAverage: os.loadavg().map((x) => Math.round(x * 100) / 100), ...out }, null, 2),
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});

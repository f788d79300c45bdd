// The core's guarantees, end to end, on the local AWS stack: DynamoDB Local for the system store,
// S3 (fauxqs) for the user store, SQS FIFO (fauxqs) for the queues and channels, and the real
// Lambda handlers run by the SQS poller runtime. A representative slice of the embedded
// deployment's guarantee tests (packages/core/test/guarantees).
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import {
  type Channel,
  type ChannelSubscription,
  CreateMode,
  FaaSKeeperError,
  ManualClock,
  settle,
} from '@faaskeeper/core';
import { afterEach, describe, expect, it } from 'vitest';
import { connect } from '../src/index.js';
import {
  createLocalAwsDeployment,
  type LocalAwsDeployment,
  type LocalAwsDeploymentOptions,
} from '../src/local/index.js';
import { requireLocalStack, useLocalStack } from './support.js';

const stack = useLocalStack();
const text = (data: Uint8Array) => new TextDecoder().decode(data);

const open: LocalAwsDeployment[] = [];
const cleanups: (() => void)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0)) fn();
  await Promise.all(open.splice(0).map((d) => d.close()));
});

/** A deployment on this file's stack, closed (and its resources deleted) after the test. */
async function deploy(
  ctx: { skip: (note?: string) => void },
  options: Omit<LocalAwsDeploymentOptions, 'stack'> = {},
): Promise<LocalAwsDeployment> {
  if (!requireLocalStack(ctx)) throw new Error('unreachable: skipped');
  const { stack: s } = await stack();
  const service = await createLocalAwsDeployment({ ...options, stack: s });
  open.push(service);
  return service;
}

async function expectError(promise: Promise<unknown>, code: string): Promise<FaaSKeeperError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(FaaSKeeperError);
  expect((error as FaaSKeeperError).code).toBe(code);
  return error as FaaSKeeperError;
}

function recorder() {
  const events: string[] = [];
  return { events, watcher: (e: { type: string; path: string }) => events.push(`${e.type} ${e.path}`) };
}

/** Resolves once `done()` holds (checked every few ms), failing after `ms`. */
async function until(done: () => boolean, what: string, ms = 10_000): Promise<void> {
  const start = Date.now();
  while (!done()) {
    if (Date.now() - start > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Tracks whether a promise settled, without awaiting it. */
function track<T>(promise: Promise<T>) {
  const state = { done: false, promise };
  promise.then(
    () => {
      state.done = true;
    },
    () => {
      state.done = true;
    },
  );
  return state;
}

/** A client channel whose deliveries can be held back and released (a slow channel). */
class HoldingChannel implements Channel {
  readonly maxMessageBytes: number;
  holding = false;
  private held: string[][] = [];
  private deliver: ((messages: string[]) => void) | undefined;
  constructor(private readonly inner: Channel) {
    this.maxMessageBytes = inner.maxMessageBytes;
    cleanups.push(() => this.release());
  }
  send(session: number, messages: string[]) {
    return this.inner.send(session, messages);
  }
  remove(session: number) {
    return this.inner.remove(session);
  }
  subscribe(session: number, onMessages: (messages: string[]) => void): Promise<ChannelSubscription> {
    this.deliver = onMessages;
    return this.inner.subscribe(session, (messages) => {
      if (this.holding) this.held.push(messages);
      else onMessages(messages);
    });
  }
  get heldCount() {
    return this.held.length;
  }
  release() {
    this.holding = false;
    for (const batch of this.held.splice(0)) this.deliver?.(batch);
  }
}

/** How long to watch for something that must not happen (a read that must wait). */
const QUIET_MS = 400;

describe('FaaSKeeper on the local AWS stack', () => {
  it('creates, reads, updates and deletes', async (ctx) => {
    const service = await deploy(ctx);
    const zk = await service.connect();
    expect(zk.state).toBe('CONNECTED');
    expect(await zk.create('/a', 'hello')).toBe('/a');
    const { data, stat } = await zk.getData('/a');
    expect(text(data)).toBe('hello');
    expect(stat.version).toBe(0);
    expect((await zk.setData('/a', 'x', { version: 0 })).version).toBe(1);
    expect(text((await zk.getData('/a')).data)).toBe('x');
    const seq = await zk.create('/a/n-', 'q', { mode: CreateMode.EPHEMERAL_SEQUENTIAL });
    expect(seq).toBe('/a/n-0000000000');
    expect((await zk.getChildren('/a')).children).toEqual(['n-0000000000']);
    await zk.delete(seq);
    await zk.delete('/a');
    expect(await zk.exists('/a')).toBeNull();
  });

  it('connect() from @faaskeeper/aws reaches the deployment by name and endpoints', async (ctx) => {
    const service = await deploy(ctx);
    const inside = await service.connect();
    await inside.create('/hello', 'from inside');
    // Only what a user's config holds: name, region, endpoints, credentials (queue URL by name).
    const { config: _config, ...byName } = service.connectOptions;
    const zk = await connect({ ...byName, sessionTimeoutMs: 10_000 });
    expect(zk.state).toBe('CONNECTED');
    expect(text((await zk.getData('/hello')).data)).toBe('from inside');
    await zk.create('/hello/back', 'from outside');
    await inside.sync('/');
    expect((await inside.getChildren('/hello')).children).toEqual(['back']);
    await zk.close();
    expect(zk.state).toBe('CLOSED');
  });

  it('runs on the DynamoDB user store too (the key-value option)', async (ctx) => {
    const service = await deploy(ctx, { userStore: 'dynamodb' });
    const zk = await service.connect();
    await zk.create('/kv', 'one');
    await zk.create('/kv/child', new Uint8Array(200 * 1024).fill(1));
    expect(text((await zk.getData('/kv')).data)).toBe('one');
    expect((await zk.getData('/kv/child')).data.byteLength).toBe(200 * 1024);
    expect((await zk.getChildren('/kv')).children).toEqual(['child']);
    await zk.delete('/kv/child');
    expect(await zk.exists('/kv/child')).toBeNull();
  });

  it('round-trips node data of the 1 MiB limit byte-exact, through the S3 offloads', async (ctx) => {
    const service = await deploy(ctx);
    const [zk, other] = await Promise.all([service.connect(), service.connect()]);
    const data = new Uint8Array(1024 * 1024);
    for (let i = 0; i < data.length; i++) data[i] = (i * 7919) & 0xff;
    await zk.create('/big', data);
    await zk.setData('/big', data.subarray(1)); // a second big batch replaces the first offloaded state
    const got = (await other.getData('/big')).data;
    expect(got.byteLength).toBe(data.length - 1);
    expect(Buffer.compare(Buffer.from(got), Buffer.from(data.subarray(1)))).toBe(0);
    await expectError(zk.setData('/big', new Uint8Array(1024 * 1024 + 1)), 'BADARGUMENTS');
    // The writer state went to S3 twice; the first value was deleted once the second committed.
    const { clients } = await stack();
    const listed = await clients.s3.send(
      new ListObjectsV2Command({ Bucket: service.config.bucket, Prefix: 'system-items/' }),
    );
    expect(listed.Contents?.length).toBe(1);
  });

  it("fails with ZooKeeper's error codes and changes nothing", async (ctx) => {
    const service = await deploy(ctx);
    const zk = await service.connect();
    await expectError(zk.create('/missing/child'), 'NONODE');
    await expectError(zk.getData('/missing'), 'NONODE');
    await zk.create('/p', 'v');
    await expectError(zk.create('/p', 'other'), 'NODEEXISTS');
    await expectError(zk.setData('/p', 'w', { version: 5 }), 'BADVERSION');
    await zk.create('/p/c');
    await expectError(zk.delete('/p'), 'NOTEMPTY');
    await zk.create('/e', '', { mode: CreateMode.EPHEMERAL });
    await expectError(zk.create('/e/c'), 'NOCHILDRENFOREPHEMERALS');
    await expectError(zk.create('/bad//path'), 'BADARGUMENTS');
    const { data, stat } = await zk.getData('/p');
    expect(text(data)).toBe('v');
    expect(stat.version).toBe(0);
    expect((await zk.getChildren('/p')).children).toEqual(['c']);
  });

  it("sets Stat as ZooKeeper does: setData bumps version and mzxid, a child moves the parent's cversion and pzxid", async (ctx) => {
    const service = await deploy(ctx);
    const zk = await service.connect();
    await zk.create('/s', 'abc');
    const created = (await zk.getData('/s')).stat;
    expect(created.czxid).toBe(created.mzxid);
    expect(created.pzxid).toBe(created.czxid);
    expect(created).toMatchObject({
      version: 0,
      cversion: 0,
      aversion: 0,
      ephemeralOwner: 0,
      dataLength: 3,
      numChildren: 0,
    });
    const updated = await zk.setData('/s', 'abcd');
    expect(updated.version).toBe(1);
    expect(updated.mzxid).toBeGreaterThan(created.mzxid);
    expect(updated.czxid).toBe(created.czxid);
    expect(updated.dataLength).toBe(4);
    await zk.create('/s/child');
    const parent = (await zk.getData('/s')).stat;
    expect(parent.cversion).toBe(1);
    expect(parent.numChildren).toBe(1);
    expect(parent.pzxid).toBeGreaterThan(updated.mzxid);
    expect(parent.mzxid).toBe(updated.mzxid);
    expect(parent.version).toBe(1);
    const eph = await zk.create('/s/e', '', { mode: CreateMode.EPHEMERAL });
    expect((await zk.exists(eph))?.ephemeralOwner).toBe(Number(zk.sessionId));
  });

  it('gives racing clients unique, 10-digit, increasing sequential suffixes', async (ctx) => {
    const service = await deploy(ctx);
    const clients = await Promise.all(Array.from({ length: 4 }, () => service.connect()));
    await clients[0]!.create('/locks');
    const paths = await Promise.all(
      clients.flatMap((zk) =>
        [0, 1, 2].map(() => zk.create('/locks/lock-', '', { mode: CreateMode.EPHEMERAL_SEQUENTIAL })),
      ),
    );
    expect(new Set(paths).size).toBe(12);
    for (const p of paths) expect(p).toMatch(/^\/locks\/lock-\d{10}$/);
    expect([...paths].sort()).toEqual(
      Array.from({ length: 12 }, (_, i) => `/locks/lock-${String(i).padStart(10, '0')}`),
    );
  });

  it('fires a data watch once, and a child watch on a new child', async (ctx) => {
    const service = await deploy(ctx);
    const [a, b] = await Promise.all([service.connect(), service.connect()]);
    await b.create('/w', 'v0');
    const data = recorder();
    const children = recorder();
    await a.getData('/w', { watch: data.watcher });
    await a.getChildren('/w', { watch: children.watcher });
    await b.setData('/w', 'v1');
    await b.setData('/w', 'v2');
    await b.create('/w/c');
    await a.sync('/');
    await until(() => data.events.length > 0 && children.events.length > 0, 'both events');
    expect(data.events).toEqual(['NodeDataChanged /w']);
    expect(children.events).toEqual(['NodeChildrenChanged /w']);
  });

  it('a persistent recursive watch sees every change below it, in order, until removed', async (ctx) => {
    const service = await deploy(ctx);
    const [a, b] = await Promise.all([service.connect(), service.connect()]);
    await b.create('/r');
    await b.create('/elsewhere');
    const w = recorder();
    await a.addWatch('/r', w.watcher, 'PERSISTENT_RECURSIVE');
    await b.create('/r/a');
    await b.create('/r/a/b', 'x');
    await b.setData('/r/a/b', 'y');
    await b.setData('/elsewhere', 'not watched');
    await b.create('/rx'); // a sibling whose name starts with the watched path: not a descendant
    await b.delete('/r/a/b');
    await b.setData('/r', 'self');
    await a.sync('/');
    expect(w.events).toEqual([
      'NodeCreated /r/a',
      'NodeCreated /r/a/b',
      'NodeDataChanged /r/a/b',
      'NodeDeleted /r/a/b',
      'NodeDataChanged /r',
    ]);
    await a.removeWatches('/r', w.watcher);
    await b.create('/r/after');
    await a.sync('/');
    expect(w.events).toHaveLength(5);
  });

  it('expires a childless TTL node after its TTL and clock skew, and not before', async (ctx) => {
    const clock = new ManualClock();
    const clockSkewMs = 1000;
    const ttlMs = 2000;
    const service = await deploy(ctx, {
      clock,
      clockSkewMs,
      heartbeatIntervalMs: 3_600_000,
      sessionTimeoutMs: 60_000,
    });
    const zk = await service.connect();
    await zk.create('/t', 'short-lived', { mode: CreateMode.PERSISTENT_WITH_TTL, ttlMs });
    const w = recorder();
    await zk.exists('/t', { watch: w.watcher });
    await clock.advance(ttlMs - 100);
    await service.heartbeat();
    await zk.sync('/');
    expect(await zk.exists('/t')).not.toBeNull();
    await clock.advance(100 + clockSkewMs + 100);
    await service.heartbeat();
    await zk.sync('/');
    expect(await zk.exists('/t')).toBeNull();
    expect(w.events).toEqual(['NodeDeleted /t']);
  });

  it('delivers the watch event before the new data', async (ctx) => {
    let held: HoldingChannel | undefined;
    const A = 1001;
    const service = await deploy(ctx, {
      wrapClientChannel: (channel, { sessionId }) => {
        if (sessionId !== A) return channel;
        held = new HoldingChannel(channel);
        return held;
      },
    });
    const a = await service.connect({ sessionId: A });
    const b = await service.connect();
    await b.create('/x', 'old');
    await b.create('/y', 'old');
    const order: string[] = [];
    await a.getData('/x', { watch: (e) => order.push(`event ${e.type} ${e.path}`) });
    held!.holding = true;
    await b.setData('/x', 'new');
    await b.setData('/y', 'new'); // written after the change that fired A's watch
    await until(() => held!.heldCount > 0, "A's event to reach its channel");
    const readY = track(a.getData('/y').then((r) => order.push(`read /y ${text(r.data)}`)));
    await new Promise((r) => setTimeout(r, QUIET_MS));
    // /y's record names A's undelivered event (its epoch): the read waits for the event.
    expect(readY.done).toBe(false);
    expect(order).toEqual([]);
    held!.release();
    await readY.promise;
    expect(order).toEqual(['event NodeDataChanged /x', 'read /y new']);
  });

  it('a failed multi applies nothing and reports OK, the failing code, then RUNTIMEINCONSISTENCY', async (ctx) => {
    const service = await deploy(ctx);
    const zk = await service.connect();
    await zk.create('/m', 'v');
    const error = await expectError(
      zk.multi([
        { op: 'create', path: '/m/a' },
        { op: 'setData', path: '/m', data: new TextEncoder().encode('x'), version: 7 },
        { op: 'create', path: '/m/b' },
      ]),
      'BADVERSION',
    );
    expect(error.results?.map((r) => r.code)).toEqual(['OK', 'BADVERSION', 'RUNTIMEINCONSISTENCY']);
    expect(await zk.exists('/m/a')).toBeNull();
    expect(text((await zk.getData('/m')).data)).toBe('v');
    const results = await zk.multi([
      { op: 'create', path: '/m/a' },
      { op: 'check', path: '/m', version: 0 },
      { op: 'setData', path: '/m', data: new TextEncoder().encode('y') },
    ]);
    expect(results.map((r) => r.op)).toEqual(['create', 'check', 'setData']);
    const a = (await zk.exists('/m/a'))!;
    const m = (await zk.exists('/m'))!;
    expect(a.czxid).toBe(m.mzxid); // one zxid for the whole multi
  });

  it('never shows one part of a multi without the others', async (ctx) => {
    let open!: () => void;
    const gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    cleanups.push(() => open());
    let armed = false;
    let paused = false;
    const service = await deploy(ctx, {
      // Holds the distributor just before it writes /b's record; the multi's other records go on.
      betweenDistributorWrites: async (path) => {
        if (!armed || path !== '/b') return;
        paused = true;
        await gate;
      },
    });
    const [writer, reader] = await Promise.all([service.connect(), service.connect()]);
    await writer.create('/a', 'old');
    await writer.create('/b', 'old');
    await writer.create('/c', 'old');
    armed = true;
    const multi = track(
      writer.multi([
        { op: 'setData', path: '/a', data: 'new' },
        { op: 'setData', path: '/b', data: 'new' },
        { op: 'create', path: '/c/d', data: 'new' },
      ]),
    );
    await until(() => paused, 'the distributor to pause before /b');
    const log: string[] = [];
    const reads = [
      reader.getData('/a').then((r) => log.push(`/a ${text(r.data)}`)),
      reader.getData('/b').then((r) => log.push(`/b ${text(r.data)}`)),
      reader.exists('/c/d').then((s) => log.push(`/c/d ${s === null ? 'old' : 'new'}`)),
      reader.getChildren('/c').then((r) => log.push(`/c ${r.children.length === 0 ? 'old' : 'new'}`)),
    ];
    await until(() => log.includes('/b old'), "the read of /b's old record");
    await new Promise((r) => setTimeout(r, QUIET_MS));
    // While /b is old, nothing new of the multi is shown: each read is old or still waiting.
    expect(multi.done).toBe(false);
    expect(log.filter((l) => l.endsWith('new'))).toEqual([]);
    armed = false;
    open();
    await Promise.all(reads);
    await multi.promise;
    expect(text((await reader.getData('/b')).data)).toBe('new');
    expect((await reader.getChildren('/c')).children).toEqual(['d']);
  });

  it('completes pipelined setData calls in issue order', async (ctx) => {
    const service = await deploy(ctx);
    const zk = await service.connect();
    await zk.create('/pipe', '0');
    const n = 20;
    const stats = await Promise.all(Array.from({ length: n }, (_, i) => zk.setData('/pipe', String(i + 1))));
    expect(stats.map((s) => s.version)).toEqual(Array.from({ length: n }, (_, i) => i + 1));
    for (let i = 1; i < n; i++) expect(stats[i]!.mzxid).toBeGreaterThan(stats[i - 1]!.mzxid);
    const { data, stat } = await zk.getData('/pipe');
    expect(text(data)).toBe(String(n));
    expect(stat.version).toBe(n);
  });

  it('after sync, a read reflects every write acknowledged to another client', async (ctx) => {
    const service = await deploy(ctx);
    const [a, b] = await Promise.all([service.connect(), service.connect()]);
    await a.create('/sync', 'v1');
    await a.setData('/sync', 'v2');
    await b.sync('/sync');
    expect(text((await b.getData('/sync')).data)).toBe('v2');
  });

  it("expires a vanished client's session: its ephemerals go with a watch event, and it sees EXPIRED", async (ctx) => {
    const clock = new ManualClock();
    const sessionTimeoutMs = 3000;
    const clockSkewMs = 1000;
    const service = await deploy(ctx, { clock, sessionTimeoutMs, clockSkewMs, heartbeatIntervalMs: 500 });
    const [gone, watcher] = await Promise.all([service.connect(), service.connect()]);
    await gone.create('/eph', 'mine', { mode: CreateMode.EPHEMERAL });
    await gone.create('/kept', 'persistent');
    const exists = recorder();
    await watcher.exists('/eph', { watch: exists.watcher });
    service.partition(gone);
    // Step the clock as real time would pass, letting pings (the watcher's) and the heartbeat run.
    const step = async (ms: number) => {
      for (let done = 0; done < ms; done += 250) {
        await clock.advance(250);
        await settle(3);
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    await step(sessionTimeoutMs + clockSkewMs + 1500);
    await until(() => exists.events.length > 0, 'the ephemeral to go with the expired session', 15_000);
    expect(exists.events).toEqual(['NodeDeleted /eph']);
    await watcher.sync('/');
    expect(await watcher.exists('/eph')).toBeNull();
    expect(await watcher.exists('/kept')).not.toBeNull();
    expect(watcher.state).toBe('CONNECTED');
    service.heal(gone);
    await until(() => gone.state === 'EXPIRED', 'the vanished client to learn it expired', 15_000);
    await expectError(gone.getData('/kept'), 'SESSIONEXPIRED');
  });
});

// A closing (and an expiring) session's ephemerals are all deleted, however many, on a store that
// takes 100 items per transaction (DynamoDB's limit): the close deletes every ephemeral, its session
// item and its lease, fires the `exists` watches on them, and does so in ONE transaction (one zxid),
// as ZooKeeper does. The writer commits such a close with its node and session writes in its redo
// log (one state put) and only the lease in the transaction, so the item limit does not bind it.
import { limitTransactionItems } from '@faaskeeper/core/testkit';
import { describe, expect, it } from 'vitest';
import {
  CreateMode,
  createEmbeddedService,
  type FaaSKeeperClient,
  leaseId,
  ManualClock,
  MemoryLeaseRenewer,
  type MemorySystemStore,
  newSessionKey,
  type SystemStore,
  settle,
  signRenewal,
} from '../../src/index.js';

type Commit = 'redo-log' | 'transaction';

/** Creates `n` ephemerals of `zk` spread over `parents` parents; returns their paths. */
async function ephemerals(zk: FaaSKeeperClient, n: number, parents: number): Promise<string[]> {
  for (let p = 0; p < parents; p++) await zk.create(`/p${p}`);
  const paths = Array.from({ length: n }, (_, i) => `/p${i % parents}/e${i}`);
  // Pipelined in slices: a client's requests keep their order, and the writer batches them.
  for (let i = 0; i < n; i += 200)
    await Promise.all(paths.slice(i, i + 200).map((p) => zk.create(p, '', { mode: CreateMode.EPHEMERAL })));
  return paths;
}

async function scenario(commit: Commit, n: number, parents: number, how: 'close' | 'expire'): Promise<void> {
  const clock = new ManualClock();
  const service = createEmbeddedService({
    clock,
    ...(commit === 'redo-log' ? { commit: 'redo-log' as const } : {}),
    wrap: { systemStore: (inner) => limitTransactionItems(inner, 100) },
  });
  try {
    const [owner, observer] = await Promise.all([service.connect(), service.connect()]);
    const paths = await ephemerals(owner, n, parents);
    const deleted: string[] = [];
    for (let i = 0; i < n; i += 200)
      await Promise.all(
        paths.slice(i, i + 200).map((p) =>
          observer.exists(p, {
            watch: (e) => {
              if (e.type === 'NodeDeleted') deleted.push(e.path);
            },
          }),
        ),
      );
    const sid = owner.sessionId;
    const store = service.ports.systemStore;
    expect(await store.get({ kind: 'session', id: sid })).toBeDefined();
    if (how === 'close') {
      await owner.close();
      expect(owner.state).toBe('CLOSED');
    } else {
      service.partition(owner);
      // Past the session timeout (10 s) and the clock-skew margin; the heartbeat expires it.
      for (let t = 0; t < 15; t++) {
        await clock.advance(1_000);
        await settle(5);
      }
      await service.heartbeat();
      await settle(20);
    }
    await observer.sync('/');
    // Every ephemeral is gone, and so are the session's item and its lease.
    const left = await Promise.all(paths.map((p) => observer.exists(p)));
    expect(left.filter((s) => s !== null)).toHaveLength(0);
    for (let p = 0; p < parents; p++) expect((await observer.getChildren(`/p${p}`)).children).toEqual([]);
    expect(await store.get({ kind: 'session', id: sid })).toBeUndefined();
    expect(await store.get({ kind: 'lease', id: sid })).toBeUndefined();
    // One transaction: every parent's children changed at the same zxid.
    const pzxids = new Set<number>();
    for (let p = 0; p < parents; p++) pzxids.add((await observer.exists(`/p${p}`))!.pzxid);
    expect(pzxids.size).toBe(1);
    // Each exists watch fired once, NodeDeleted.
    await observer.sync('/');
    expect(deleted.sort()).toEqual([...paths].sort());
    if (how === 'expire') {
      service.heal(owner);
      await clock.advance(1_000);
      await settle(20);
    }
  } finally {
    await service.close();
  }
}

describe('a closing (and an expiring) session’s ephemerals are all deleted, however many, on a store that takes 100 items per transaction', () => {
  for (const commit of ['transaction', 'redo-log'] as const) {
    describe(`commit by ${commit}`, () => {
      it('close: 200 ephemerals under one parent', () => scenario(commit, 200, 1, 'close'), 60_000);
      it('close: 1,000 ephemerals over 7 parents', () => scenario(commit, 1_000, 7, 'close'), 120_000);
      it('expiry: 200 ephemerals over 7 parents', () => scenario(commit, 200, 7, 'expire'), 60_000);
      it('expiry: 1,000 ephemerals under one parent', () => scenario(commit, 1_000, 1, 'expire'), 120_000);
    });
  }
});

describe('a reader never sees part of a large close', () => {
  it('while the distributor is held between the close’s record writes, no reader sees an ephemeral gone', async () => {
    const held = '/p0/e100';
    let armed = false;
    const started: string[] = [];
    let reached!: () => void;
    const paused = new Promise<void>((resolve) => {
      reached = resolve;
    });
    let release!: () => void;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    const service = createEmbeddedService({
      clock: new ManualClock(),
      commit: 'redo-log',
      wrap: { systemStore: (inner) => limitTransactionItems(inner, 100) },
      betweenDistributorWrites: async (path) => {
        if (!armed) return;
        started.push(path);
        if (path === held) {
          reached();
          await released;
        }
      },
    });
    try {
      const [owner, reader] = await Promise.all([service.connect(), service.connect()]);
      const paths = await ephemerals(owner, 200, 1);
      armed = true;
      const closing = owner.close();
      await paused;
      await settle(20);
      // Other records of the close were written (tombstones above the watermark): a read of one
      // must wait for the watermark; a read of one not written yet shows the node as before.
      const written = started.filter((p) => p !== held && paths.includes(p));
      expect(written.length).toBeGreaterThan(0);
      const seen: (boolean | undefined)[] = paths.map(() => undefined);
      const reads = paths.map((p, i) =>
        reader.exists(p).then((s) => {
          seen[i] = s !== null;
        }),
      );
      await settle(50);
      // Nothing read so far shows an ephemeral gone.
      expect(seen.filter((s) => s === false)).toHaveLength(0);
      release();
      await closing;
      await Promise.all(reads);
      await reader.sync('/');
      const after = await Promise.all(paths.map((p) => reader.exists(p)));
      expect(after.filter((s) => s !== null)).toHaveLength(0);
    } finally {
      release();
      await service.close();
    }
  }, 60_000);
});

describe('a renewal racing the expiry of a session with more ephemerals than a transaction takes', () => {
  for (const commit of ['transaction', 'redo-log'] as const) {
    it(`wins: the expiry's commit (its lease in the transaction, the rest in the log) fails, and nothing goes (commit by ${commit})`, async () => {
      const clock = new ManualClock();
      const key = newSessionKey();
      let target: string | undefined;
      let raced = 0;
      /** The writer's commit that removes the armed session's lease: the client renews first. */
      const racing = (limited: SystemStore): SystemStore => ({
        ...limited,
        transact: async (ops) => {
          const sid = target;
          if (
            sid !== undefined &&
            ops.some((o) => o.kind === 'lease' && o.id === leaseId(key, Number(sid)) && o.type === 'delete')
          ) {
            target = undefined;
            raced++;
            // The split commit: far fewer items than the close touches.
            expect(ops.length).toBeLessThanOrEqual(100);
            const renewer = new MemoryLeaseRenewer(raw as MemorySystemStore);
            const lease = { owner: Number(sid), id: leaseId(key, Number(sid)) };
            expect(await renewer.renew(lease, signRenewal(key, Number(sid), clock.now()))).toBe('renewed');
          }
          return limited.transact(ops);
        },
      });
      let raw: MemorySystemStore | undefined;
      const service = createEmbeddedService({
        clock,
        ...(commit === 'redo-log' ? { commit: 'redo-log' as const } : {}),
        wrap: {
          systemStore: (inner) => {
            raw = inner as MemorySystemStore;
            return racing(limitTransactionItems(inner, 100));
          },
        },
      });
      try {
        const [owner, other] = await Promise.all([service.connect({ sessionKey: key }), service.connect()]);
        const paths = await ephemerals(owner, 200, 1);
        expect(raw).toBeDefined();
        service.partition(owner);
        target = owner.sessionId;
        for (let t = 0; t < 15 && raced === 0; t++) {
          await clock.advance(1_000);
          await settle(5);
        }
        await service.heartbeat();
        await settle(20);
        expect(raced, 'the expiry reached its commit').toBe(1);
        service.heal(owner);
        await other.sync('/');
        const left = await Promise.all(paths.map((p) => other.exists(p)));
        expect(
          left.filter((s) => s === null),
          'the renewed session kept every ephemeral',
        ).toHaveLength(0);
        expect(await service.ports.systemStore.get({ kind: 'session', id: owner.sessionId })).toBeDefined();
        expect(await owner.create('/after')).toBe('/after');
        expect(owner.state).toBe('CONNECTED');
      } finally {
        await service.close();
      }
    }, 60_000);
  }
});

describe('a large close survives a writer crash between its commit and its item writes', () => {
  for (const commit of ['transaction', 'redo-log'] as const) {
    it(`the retry replays the log: every ephemeral, the session and its lease go, at one zxid (commit by ${commit})`, async () => {
      const clock = new ManualClock();
      let splitCommitted = false;
      let crashed = 0;
      /** Fails the first node write after the close's split commit took effect: a crash there. */
      const crashing = (limited: SystemStore): SystemStore => ({
        ...limited,
        transact: async (ops) => {
          const first = ops[0];
          if (splitCommitted && crashed === 0 && ops.length === 1 && first?.kind === 'node') {
            crashed++;
            throw new Error('injected: the writer crashed after its commit');
          }
          const result = await limited.transact(ops);
          if (ops.some((o) => o.kind === 'lease' && o.type === 'delete') && ops.length < 10)
            splitCommitted = true;
          return result;
        },
      });
      const service = createEmbeddedService({
        clock,
        ...(commit === 'redo-log' ? { commit: 'redo-log' as const } : {}),
        wrap: { systemStore: (inner) => crashing(limitTransactionItems(inner, 100)) },
      });
      try {
        const [owner, observer] = await Promise.all([service.connect(), service.connect()]);
        const paths = await ephemerals(owner, 300, 3);
        let fired = 0;
        await Promise.all(paths.map((p) => observer.exists(p, { watch: () => void fired++ })));
        const closing = owner.close();
        let done = false;
        void closing.then(() => {
          done = true;
        });
        for (let t = 0; t < 120 && !done; t++) {
          await clock.advance(1_000);
          await settle(10);
        }
        await closing;
        expect(crashed, 'the writer crashed after the split commit').toBe(1);
        await observer.sync('/');
        const left = await Promise.all(paths.map((p) => observer.exists(p)));
        expect(left.filter((s) => s !== null)).toHaveLength(0);
        const store = service.ports.systemStore;
        expect(await store.get({ kind: 'session', id: owner.sessionId })).toBeUndefined();
        expect(await store.get({ kind: 'lease', id: owner.sessionId })).toBeUndefined();
        const pzxids = new Set<number>();
        for (let p = 0; p < 3; p++) pzxids.add((await observer.exists(`/p${p}`))!.pzxid);
        expect(pzxids.size).toBe(1);
        expect(fired).toBe(paths.length);
      } finally {
        await service.close();
      }
    }, 60_000);
  }
});

describe('a close the writer refuses is not dropped in silence', () => {
  it('past the batch size a close can take, close() still ends the client and reports the refusal as an error', async () => {
    // Items of at most 6 KB: the writer's chunk budget then cannot take a close of 60 ephemerals
    // with 100-character names, and refuses it whole (nothing of it is applied).
    const small = (inner: SystemStore): SystemStore =>
      new Proxy(inner, {
        get(target, key, receiver) {
          if (key === 'capabilities') return { ...target.capabilities, maxItemBytes: 6_000 };
          const value: unknown = Reflect.get(target, key, receiver);
          return typeof value === 'function' ? value.bind(target) : value;
        },
      });
    const service = createEmbeddedService({ clock: new ManualClock(), wrap: { systemStore: small } });
    try {
      const [owner, observer] = await Promise.all([service.connect(), service.connect()]);
      await owner.create('/big');
      const paths = Array.from({ length: 60 }, (_, i) => `/big/${String(i).padStart(100, 'e')}`);
      for (const p of paths) await owner.create(p, '', { mode: CreateMode.EPHEMERAL });
      const errors: unknown[] = [];
      owner.on('error', (e) => errors.push(e));
      await owner.close();
      expect(owner.state).toBe('CLOSED');
      expect(errors).toHaveLength(1);
      expect(String(errors[0])).toMatch(/BADARGUMENTS/);
      // The refusal applied nothing: the ephemerals are all still there.
      expect((await observer.getChildren('/big')).children).toHaveLength(60);
    } finally {
      await service.close();
    }
  });
});

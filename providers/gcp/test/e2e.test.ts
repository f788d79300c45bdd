// End to end on the local GCP stack: clients connected to a FaaSKeeper deployment whose stores are
// in the Datastore emulator and whose queues and channels are Pub/Sub emulator topics, with the
// real writer, distributor and heartbeat. A representative slice of the core's guarantee tests.
import {
  CreateMode,
  type ErrorCode,
  ErrorCodes,
  type FaaSKeeperClient,
  FaaSKeeperError,
  ManualClock,
  type WatchedEvent,
} from '@faaskeeper/core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createLocalGcpDeployment, type LocalGcpDeployment, missingStorageEmulator } from '../src/index.js';
import { whenEmulators } from './support.js';

const text = (data: Uint8Array) => new TextDecoder().decode(data);
const T = 30_000;

async function expectError(promise: Promise<unknown>, code: ErrorCode): Promise<FaaSKeeperError> {
  const caught = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(caught, `expected ${code}`).toBeInstanceOf(FaaSKeeperError);
  const error = caught as FaaSKeeperError;
  expect(error.code).toBe(code);
  expect(error.errno).toBe(ErrorCodes[code]);
  return error;
}

function recorder() {
  const events: string[] = [];
  return { events, watcher: (e: WatchedEvent) => events.push(`${e.type} ${e.path}`) };
}

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

/** Real time in which an operation that must wait would surely have completed otherwise (a write takes ~0.2 s here). */
const quiet = () => new Promise((resolve) => setTimeout(resolve, 600));

whenEmulators((stack) => {
  // Both invocation paths — in-process pollers on pull subscriptions, and the functions served over
  // HTTP by the functions framework and invoked by the emulator's ordered push subscriptions — and
  // both user stores (Datastore; Cloud Storage on Firebase's emulator when installed).
  const gcs = missingStorageEmulator() === undefined ? ('gcs' as const) : ('datastore' as const);
  if (gcs !== 'gcs')
    it('runs the end-to-end tests with the Cloud Storage user store', () => {
      console.warn(`GCS end-to-end tests not run: ${missingStorageEmulator()}`);
      if (process.env.CI) expect(missingStorageEmulator()).toBeUndefined();
    });
  const configurations = [
    { invocation: 'pull', userStore: 'datastore' },
    { invocation: 'push', userStore: gcs },
  ] as const;
  for (const { invocation, userStore } of configurations) {
    describe(`${invocation} invocation`, () => {
      // One deployment (on the real clock) for the tests that need no clock control; each test works
      // under its own path.
      let d: LocalGcpDeployment;
      let a: FaaSKeeperClient;
      let b: FaaSKeeperClient;
      let hold: { paths: Set<string>; gate: Promise<void>; release: () => void; reached: () => void };
      let reachedHeld: Promise<void> = Promise.resolve();
      const resetHold = () => {
        let release!: () => void;
        let reached!: () => void;
        const gate = new Promise<void>((r) => {
          release = r;
        });
        reachedHeld = new Promise<void>((r) => {
          reached = r;
        });
        hold = { paths: new Set(), gate, release, reached };
      };
      resetHold();

      beforeAll(async () => {
        d = await createLocalGcpDeployment({
          stack: stack(),
          invocation,
          userStore,
          betweenDistributorWrites: async (path) => {
            if (!hold.paths.has(path)) return;
            hold.reached();
            await hold.gate;
          },
        });
        [a, b] = await Promise.all([d.connect(), d.connect()]);
      }, 60_000);
      afterEach(() => {
        hold.release();
        resetHold();
      });
      afterAll(async () => {
        await d?.close();
      }, 30_000);

      describe('CRUD and errors', () => {
        it(
          'creates, reads, updates and deletes a node, with its data byte-exact',
          async () => {
            const bytes = new Uint8Array([0, 1, 2, 254, 255]);
            expect(await a.create('/crud', bytes)).toBe('/crud');
            const got = await b.getData('/crud');
            expect([...got.data]).toEqual([...bytes]);
            const stat = await a.setData('/crud', 'two', { version: 0 });
            expect(stat.version).toBe(1);
            expect(text((await b.getData('/crud')).data)).toBe('two');
            await a.delete('/crud', { version: 1 });
            expect(await b.exists('/crud')).toBeNull();
          },
          T,
        );

        it(
          "answers ZooKeeper's error codes",
          async () => {
            await a.create('/err');
            await a.create('/err/child');
            await a.create('/err/eph', '', { mode: CreateMode.EPHEMERAL });
            await expectError(a.create('/err'), 'NODEEXISTS');
            await expectError(a.create('/err/missing/x'), 'NONODE');
            await expectError(b.getData('/err/none'), 'NONODE');
            await expectError(a.setData('/err', 'x', { version: 7 }), 'BADVERSION');
            await expectError(a.delete('/err'), 'NOTEMPTY');
            await expectError(a.create('/err/eph/x'), 'NOCHILDRENFOREPHEMERALS');
            await expectError(a.create('bad/path'), 'BADARGUMENTS');
            await expectError(a.create('/zookeeper/x'), 'BADARGUMENTS');
          },
          T,
        );
      });

      describe('stat', () => {
        it(
          "keeps ZooKeeper's stat rules: zxids, versions, child counts, data length",
          async () => {
            await a.create('/st', 'abc');
            const created = (await b.getData('/st')).stat;
            expect(created.czxid).toBe(created.mzxid);
            expect(created.version).toBe(0);
            expect(created.dataLength).toBe(3);
            expect(created.ephemeralOwner).toBe(0);
            const set = await a.setData('/st', 'abcdef');
            expect(set.mzxid).toBeGreaterThan(created.mzxid);
            expect(set.czxid).toBe(created.czxid);
            expect(set.version).toBe(1);
            expect(set.dataLength).toBe(6);
            await a.create('/st/c1');
            await a.create('/st/c2', '', { mode: CreateMode.EPHEMERAL });
            const parent = (await b.getChildren('/st')).stat;
            expect(parent.numChildren).toBe(2);
            expect(parent.cversion).toBe(2);
            expect(parent.version).toBe(1); // children do not change the parent's data version
            expect(parent.pzxid).toBeGreaterThan(set.mzxid);
            const eph = await b.exists('/st/c2');
            expect(eph?.ephemeralOwner).toBe(a.sessionNumber);
          },
          T,
        );
      });

      describe('sequential nodes', () => {
        it(
          'gives racing sequential creators distinct, gap-free suffixes',
          async () => {
            await a.create('/seq');
            const created = await Promise.all(
              Array.from({ length: 10 }, (_, i) =>
                (i % 2 === 0 ? a : b).create('/seq/n-', '', { mode: CreateMode.PERSISTENT_SEQUENTIAL }),
              ),
            );
            expect([...created].sort()).toEqual(
              Array.from({ length: 10 }, (_, i) => `/seq/n-${String(i).padStart(10, '0')}`),
            );
            expect((await a.getChildren('/seq')).children.length).toBe(10);
          },
          T,
        );
      });

      describe('watches and ordered notifications', () => {
        it(
          'fires a data watch once, and delivers the event before the new data can be read',
          async () => {
            await a.create('/w', 'v0');
            const w = recorder();
            await b.getData('/w', { watch: w.watcher });
            await a.setData('/w', 'v1');
            // b reads after a's write completed: it must have seen the event first.
            const { data } = await b.getData('/w');
            const eventsWhenRead = [...w.events];
            expect(text(data)).toBe('v1');
            expect(eventsWhenRead).toEqual(['NodeDataChanged /w']);
            await a.setData('/w', 'v2');
            await b.sync('/w');
            expect(w.events).toEqual(['NodeDataChanged /w']); // one-shot
          },
          T,
        );

        it(
          'delivers child and existence watches in zxid order',
          async () => {
            await a.create('/wo');
            const w = recorder();
            await b.getChildren('/wo', { watch: w.watcher });
            await b.exists('/wo/x', { watch: w.watcher });
            await a.create('/wo/x');
            await b.sync('/');
            expect(w.events).toEqual(['NodeCreated /wo/x', 'NodeChildrenChanged /wo']);
          },
          T,
        );

        it(
          'keeps a persistent recursive watch until removed',
          async () => {
            await a.create('/pw');
            const w = recorder();
            await b.addWatch('/pw', w.watcher, 'PERSISTENT_RECURSIVE');
            await a.create('/pw/a');
            await a.setData('/pw/a', 'x');
            await a.delete('/pw/a');
            await b.sync('/');
            expect(w.events).toEqual(['NodeCreated /pw/a', 'NodeDataChanged /pw/a', 'NodeDeleted /pw/a']);
            await b.removeWatches('/pw', w.watcher);
            await a.create('/pw/b');
            await b.sync('/');
            expect(w.events).toHaveLength(3);
          },
          T,
        );
      });

      describe('multi', () => {
        it(
          'applies a multi whole, or nothing with per-op result codes',
          async () => {
            await a.create('/m');
            const results = await a.multi([
              { op: 'create', path: '/m/a', data: '1' },
              { op: 'create', path: '/m/b', data: '2' },
              { op: 'setData', path: '/m', data: 'p' },
            ]);
            expect(results.map((r) => r.op)).toEqual(['create', 'create', 'setData']);
            const error = await expectError(
              a.multi([
                { op: 'create', path: '/m/c' },
                { op: 'check', path: '/m', version: 0 },
                { op: 'delete', path: '/m/a' },
              ]),
              'BADVERSION',
            );
            expect(error.results?.map((r) => r.code)).toEqual(['OK', 'BADVERSION', 'RUNTIMEINCONSISTENCY']);
            expect(await b.exists('/m/c')).toBeNull();
            expect(await b.exists('/m/a')).not.toBeNull();
            expect((await b.getChildren('/m')).children.sort()).toEqual(['a', 'b']);
          },
          T,
        );
      });

      describe('FIFO client order', () => {
        it(
          'completes 20 pipelined setData calls in issue order, ending at version 20',
          async () => {
            await a.create('/pipe', 'start');
            const resolved: number[] = [];
            const stats = await Promise.all(
              Array.from({ length: 20 }, (_, i) =>
                a.setData('/pipe', String(i)).then((stat) => {
                  resolved.push(i);
                  return stat;
                }),
              ),
            );
            expect(resolved).toEqual(Array.from({ length: 20 }, (_, i) => i));
            expect(stats.map((s) => s.version)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
            const { data, stat } = await b.getData('/pipe');
            expect(stat.version).toBe(20);
            expect(text(data)).toBe('19');
          },
          T,
        );
      });

      describe('sync', () => {
        it(
          "makes another client's completed write visible after sync",
          async () => {
            await a.create('/sync', 'old');
            await a.setData('/sync', 'new');
            await b.sync('/sync');
            expect(text((await b.getData('/sync')).data)).toBe('new');
          },
          T,
        );
      });

      describe('atomic reads', () => {
        it(
          "never shows a created node before its parent's record lists it (parent write held back)",
          async () => {
            await a.create('/ar');
            hold.paths = new Set(['/ar']);
            const create = track(a.create('/ar/c', 'child'));
            await reachedHeld;
            // The batch's other record writes go ahead: wait until the child's record is in the store.
            const start = Date.now();
            while ((await d.ports.userStore.get('/ar/c')) === undefined) {
              if (Date.now() - start > 10_000) throw new Error("the child's record was never written");
              await new Promise((r) => setTimeout(r, 10));
            }
            // The child's record is written and newer than the watermark: reading it must wait.
            const child = track(b.getData('/ar/c'));
            const parent = await b.getChildren('/ar');
            expect(parent.children).toEqual([]);
            await quiet();
            expect(child.done).toBe(false);
            expect(create.done).toBe(false);
            hold.release();
            expect(await create.promise).toBe('/ar/c');
            expect(text((await child.promise).data)).toBe('child');
            expect((await b.getChildren('/ar')).children).toEqual(['c']);
          },
          T,
        );
      });

      describe('sessions (ManualClock)', () => {
        it("expires a silent client's session: its ephemerals go with a watch event, and it hears EXPIRED", async () => {
          const clock = new ManualClock();
          const sessionTimeoutMs = 3000;
          const s = await createLocalGcpDeployment({
            stack: stack(),
            invocation,
            userStore,
            clock,
            sessionTimeoutMs,
            clockSkewMs: 1000,
            heartbeatIntervalMs: 60_000,
          });
          try {
            // The silent client runs on a clock that never moves: it never pings.
            const gone = await s.connect({ clock: new ManualClock(clock.now()) });
            const watcher = await s.connect({ sessionTimeoutMs: 3_600_000 });
            await gone.create('/e', 'mine', { mode: CreateMode.EPHEMERAL });
            const w = recorder();
            await watcher.exists('/e', { watch: w.watcher });

            // Not yet expired: deadline plus the allowed skew has not passed.
            await clock.advance(sessionTimeoutMs + 500);
            await s.heartbeat();
            await watcher.sync('/');
            expect(await watcher.exists('/e')).not.toBeNull();

            await clock.advance(1000);
            await s.heartbeat();
            await watcher.sync('/');
            expect(await watcher.exists('/e')).toBeNull();
            expect(w.events).toEqual(['NodeDeleted /e']);
            // The EXPIRED notice travels on the session's channel.
            await new Promise<void>((resolve) => {
              if (gone.state === 'EXPIRED') resolve();
              gone.on('state', (state) => state === 'EXPIRED' && resolve());
            });
            expect(gone.state).toBe('EXPIRED');
            await expectError(gone.getData('/e'), 'SESSIONEXPIRED');
            expect(watcher.state).toBe('CONNECTED');
          } finally {
            await s.close();
          }
        }, 60_000);
      });
    });
  }
});

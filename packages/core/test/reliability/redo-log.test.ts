import { describe, expect, it } from 'vitest';
import {
  createHeartbeat,
  createWriter,
  ManualClock,
  MemoryQueue,
  MemorySystemStore,
  type SessionItem,
  type WriterState,
} from '../../src/index.js';
import type { LoggedOp } from '../../src/protocol/messages.js';
import {
  applyLog,
  loggable,
  packState,
  readThroughLog,
  replayLog,
  splitLog,
  unpackState,
} from '../../src/writer/redo-log.js';
import { initialWriterState, WRITER_STATE_ID } from '../../src/writer/writer.js';

const quiet = () => {};

function session(id: number, expiresAt: number, lastSeq = 0): SessionItem {
  return { id, timeoutMs: 10_000, expiresAt, lastSeq, ephemerals: [], watchPaths: [] };
}

async function seeded(): Promise<MemorySystemStore> {
  const store = new MemorySystemStore();
  await store.transact([
    { type: 'put', kind: 'session', id: '1', value: session(1, 100), expect: 'absent' },
    { type: 'put', kind: 'node', id: '/a', value: { node: { n: 1 } }, expect: 'absent' },
    { type: 'put', kind: 'node', id: '/gone', value: { node: { n: 1 } }, expect: 'absent' },
  ]);
  return store;
}

/** A commit's log: session 1 at seq 1, /a rewritten, /gone deleted, /new created. */
const commitLog: LoggedOp[] = [
  { type: 'put', kind: 'session', id: '1', value: session(1, 200, 1), expect: 1 },
  { type: 'put', kind: 'node', id: '/a', value: { node: { n: 2 } }, expect: 1 },
  { type: 'delete', kind: 'node', id: '/gone', expect: 1 },
  { type: 'put', kind: 'node', id: '/new', value: { node: { n: 1 } }, expect: 'absent' },
];

async function snapshot(store: MemorySystemStore) {
  return {
    session: await store.get({ kind: 'session', id: '1' }),
    a: await store.get({ kind: 'node', id: '/a' }),
    gone: await store.get({ kind: 'node', id: '/gone' }),
    created: await store.get({ kind: 'node', id: '/new' }),
  };
}

describe('redo-log commit', () => {
  it('replays a log whose commit crashed before any item write, and applies it exactly once', async () => {
    const store = await seeded();
    const known = await replayLog(store, commitLog, quiet);
    const after = await snapshot(store);
    expect(after.session).toMatchObject({ version: 2, value: { lastSeq: 1 } });
    expect(after.a).toMatchObject({ version: 2, value: { node: { n: 2 } } });
    expect(after.gone).toBeUndefined();
    expect(after.created).toMatchObject({ version: 1 });
    // What the replay hands the overlay is what the store now holds.
    expect(known.get('node\u0000/a')).toEqual(after.a);
    expect(known.get('node\u0000/gone')).toBeUndefined();
    expect(known.has('node\u0000/gone')).toBe(true);
    // A second replay (a retry of the retry) and a second apply change no version.
    await replayLog(store, commitLog, quiet);
    await applyLog(store, commitLog, quiet);
    expect(await snapshot(store)).toEqual(after);
  });

  it('completes a log whose commit crashed halfway through its item writes', async () => {
    const store = await seeded();
    await applyLog(store, commitLog.slice(0, 2), quiet);
    await replayLog(store, commitLog, quiet);
    const after = await snapshot(store);
    expect(after.session?.version).toBe(2);
    expect(after.a?.version).toBe(2);
    expect(after.gone).toBeUndefined();
    expect(after.created?.version).toBe(1);
  });

  it('never takes an item back: a log replayed after its items moved on writes nothing', async () => {
    const store = await seeded();
    await applyLog(store, commitLog, quiet);
    // The next commit's writes land; then a slow replay of the older log comes.
    await store.transact([
      { type: 'put', kind: 'node', id: '/a', value: { node: { n: 3 } }, expect: 2 },
      { type: 'put', kind: 'session', id: '1', value: session(1, 300, 2), expect: 2 },
    ]);
    const known = await replayLog(store, commitLog, quiet);
    expect(await store.get({ kind: 'node', id: '/a' })).toMatchObject({
      version: 3,
      value: { node: { n: 3 } },
    });
    expect(await store.get({ kind: 'session', id: '1' })).toMatchObject({
      version: 3,
      value: { lastSeq: 2 },
    });
    // Items past the log are left for the overlay to read, not handed over stale.
    expect(known.has('node\u0000/a')).toBe(false);
  });

  it('knows a log applied from its sentinel alone, and writes its sentinel last', async () => {
    const store = await seeded();
    const writes: string[] = [];
    let reads = 0;
    const counting = Object.create(store) as MemorySystemStore;
    counting.transact = async (ops) => {
      writes.push(...ops.map((o) => o.id));
      return store.transact(ops);
    };
    counting.get = async (key) => {
      reads++;
      return store.get(key);
    };
    counting.getMany = async (keys) => {
      reads += keys.length;
      return store.getMany(keys);
    };
    const log = loggable(commitLog.map((op) => ({ ...op })))!;
    expect(log.at(-1)?.kind).toBe('session');
    await applyLog(counting, log, quiet);
    expect(writes.at(-1)).toBe('1');
    reads = 0;
    writes.length = 0;
    const known = await replayLog(counting, log, quiet);
    expect(reads).toBe(1);
    expect(writes).toEqual([]);
    expect(known.get('session\u00001')).toEqual(await store.get({ kind: 'session', id: '1' }));
  });

  it('stores the last batch and the log deflated with the data raw, and reads the state back unchanged', () => {
    const stat = { czxid: 1, mzxid: 2, pzxid: 1, ctime: 5, mtime: 6, version: 1, cversion: 0, dataLength: 3 };
    const state: WriterState = {
      ...initialWriterState(),
      zxid: 2,
      last: {
        ids: ['m1'],
        batch: 3,
        output: {
          v: 1,
          batch: 3,
          zxid: 2,
          items: [
            {
              type: 'txn',
              zxid: 2,
              writes: [{ path: '/a', put: true, stat: stat as never, data: new Uint8Array([1, 2, 3]) }],
              events: [],
              reply: { session: 1, seq: 1, result: { type: 'setData', stat: stat as never } },
            },
          ],
        },
      },
      log: [
        { type: 'put', kind: 'node', id: '/a', value: { node: { stat, kind: 'persistent' } }, expect: 1 },
      ],
    };
    const packed = packState(state);
    // The structure is deflated; the node's data stays raw beside it.
    expect(packed.last).toBeUndefined();
    expect(packed.log).toBeUndefined();
    expect(packed.packed?.b).toEqual([new Uint8Array([1, 2, 3])]);
    const text = JSON.stringify({ last: state.last, log: state.log }).length;
    expect(packed.packed!.z.byteLength).toBeLessThan(text * 0.75);
    expect(unpackState(structuredClone(packed))).toEqual(state);
    // A state with nothing to pack is stored as it is.
    expect(packState(initialWriterState())).toEqual(initialWriterState());
  });

  it('keeps the transaction for items others write (leases) and for unconditioned ops', () => {
    expect(loggable([{ type: 'put', kind: 'node', id: '/a', value: {}, expect: 1 }])).toHaveLength(1);
    expect(
      loggable([{ type: 'put', kind: 'meta', id: 'watches:1:1', value: {}, expect: 'absent' }]),
    ).toHaveLength(1);
    expect(
      loggable([
        { type: 'put', kind: 'node', id: '/a', value: {}, expect: 1 },
        { type: 'delete', kind: 'lease', id: '1', expect: 4 },
      ]),
    ).toBeUndefined();
    expect(loggable([{ type: 'put', kind: 'meta', id: 'lease-fold', value: {}, expect: 1 }])).toBeUndefined();
    expect(loggable([{ type: 'put', kind: 'node', id: '/a', value: {}, expect: 'any' }])).toBeUndefined();
  });

  it('splits a close too big for one transaction: the lease (versioned) and unconditioned ops stay in it, the rest is logged, session last', () => {
    const { log, direct } = splitLog([
      { type: 'delete', kind: 'session', id: '7', expect: 3 },
      { type: 'delete', kind: 'node', id: '/p/e1', expect: 1 },
      { type: 'delete', kind: 'lease', id: '7', expect: 9 },
      { type: 'put', kind: 'node', id: '/p', value: { n: 2 }, expect: 5 },
      { type: 'delete', kind: 'watch', id: 'w', expect: 'any' },
    ]);
    expect(direct).toEqual([
      { type: 'delete', kind: 'lease', id: '7', expect: 9 },
      { type: 'delete', kind: 'watch', id: 'w', expect: 'any' },
    ]);
    expect(log.map((op) => `${op.kind}:${op.id}`)).toEqual(['node:/p/e1', 'node:/p', 'session:7']);
  });

  it('reads through an unapplied log: new items appear, deleted ones go, applied ops are ignored', async () => {
    const store = await seeded();
    const listed = await store.list('node');
    const through = readThroughLog(listed, 'node', commitLog);
    expect(through.map((i) => i.id).sort()).toEqual(['/a', '/new']);
    expect(through.find((i) => i.id === '/a')?.value).toEqual({ node: { n: 2 } });
    await applyLog(store, commitLog, quiet);
    await store.transact([{ type: 'put', kind: 'node', id: '/a', value: { node: { n: 9 } }, expect: 2 }]);
    const later = readThroughLog(await store.list('node'), 'node', commitLog);
    expect(later.find((i) => i.id === '/a')?.value).toEqual({ node: { n: 9 } });
  });

  it('the heartbeat decides through an unapplied log: a renewal only in the log holds off the expiry', async () => {
    // The session item says it expired long ago; the writer's unapplied log renewed it. The
    // heartbeat reads through the log and does not ask for its expiry; once the log says it is
    // overdue too, it does.
    const clock = new ManualClock(1_000_000);
    const store = new MemorySystemStore();
    const queue = new MemoryQueue('writer', { clock });
    await store.transact([
      { type: 'put', kind: 'session', id: '7', value: session(7, 1000), expect: 'absent' },
    ]);
    const renewed: LoggedOp = {
      type: 'put',
      kind: 'session',
      id: '7',
      value: session(7, clock.now() + 10_000, 3),
      expect: 1,
    };
    const state: WriterState = { ...initialWriterState(), log: [renewed] };
    await store.transact([
      { type: 'put', kind: 'meta', id: WRITER_STATE_ID, value: state, expect: 'absent' },
    ]);
    const heartbeat = createHeartbeat({ systemStore: store, writerQueue: queue, clock, clockSkewMs: 0 });
    await heartbeat({ deadline: clock.now() + 60_000, functionName: 'heartbeat' });
    expect(await queue.receive({ max: 10, waitMs: 0, visibilityTimeoutMs: 1000 })).toEqual([]);
    await clock.advance(20_000);
    await heartbeat({ deadline: clock.now() + 60_000, functionName: 'heartbeat' });
    const asked = await queue.receive({ max: 10, waitMs: 0, visibilityTimeoutMs: 1000 });
    expect(asked.map((m) => JSON.parse(m.body).op)).toEqual([{ type: 'expireSession', target: 7 }]);
  });

  it('the writer applies a logged commit before it reads: a bootstrapped writer with a pending log', async () => {
    // A state whose log was never applied (the invocation died after the state put): the next
    // invocation, even with nothing to do, brings the items up to the log.
    const store = await seeded();
    const state: WriterState = { ...initialWriterState(), log: commitLog };
    await store.transact([
      { type: 'put', kind: 'meta', id: WRITER_STATE_ID, value: state, expect: 'absent' },
    ]);
    const writer = createWriter({ systemStore: store, distribute: async () => ({ failed: [] }) });
    await writer([], { deadline: Date.now() + 10_000, functionName: 'writer' });
    const after = await snapshot(store);
    expect(after.a?.version).toBe(2);
    expect(after.gone).toBeUndefined();
    expect(after.created?.version).toBe(1);
  });
});

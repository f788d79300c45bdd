import { describe, expect, it } from 'vitest';
import {
  CreateMode,
  createEmbeddedService,
  createHeartbeat,
  ManualClock,
  MemoryQueue,
  MemorySystemStore,
  rootStat,
  type SystemNodeItem,
  type WriterState,
} from '../../src/index.js';
import { checkFinalState, drain, readNodeAsWriter, unwrapPort } from '../../src/testkit/faults/index.js';
import { MAX_CHILD_STATS } from '../../src/writer/child-stats.js';
import { packState, unpackState, WRITER_STATE_ID } from '../../src/writer/redo-log.js';
import { initialWriterState } from '../../src/writer/writer.js';

/**
 * A plain create or delete keeps its parent's child Stat in the writer state instead of rewriting
 * the parent's node item (docs/cost.md "The parent's child Stat in the writer state"): one item
 * write less, and the tree the writer sees is the same.
 */

async function setup() {
  const service = createEmbeddedService();
  const zk = await service.connect();
  const system = unwrapPort(service.ports.systemStore);
  const item = async (path: string) => system.get<SystemNodeItem>({ kind: 'node', id: path });
  const childStats = async () => {
    const stored = await system.get<WriterState>({ kind: 'meta', id: WRITER_STATE_ID });
    return unpackState(stored!.value).childStats ?? {};
  };
  return { service, zk, system, item, childStats };
}

describe("the parent's child Stat in the writer state", () => {
  it('a create and a delete leave the parent item unwritten, and every reader sees the new child Stat', async () => {
    const { service, zk, system, item, childStats } = await setup();
    await zk.create('/p');
    const before = (await item('/p'))!;
    await zk.create('/p/a');
    await zk.create('/p/b');
    await zk.delete('/p/a');
    // Not one write of the parent's item: same version, the Stat it was created with.
    const after = (await item('/p'))!;
    expect(after.version).toBe(before.version);
    expect(after.value.node!.stat.numChildren).toBe(0);
    const kept = (await childStats())['/p'];
    expect(kept).toMatchObject({ cversion: 3, numChildren: 1, created: 2 });
    // The client (user-store record), the writer's view and the final-state check agree.
    const stat = (await zk.exists('/p'))!;
    expect(stat).toMatchObject({ cversion: 3, numChildren: 1, pzxid: kept!.pzxid });
    expect((await readNodeAsWriter(system, '/p'))!.node!.stat).toMatchObject({ cversion: 3, numChildren: 1 });
    // The writer decides on it: NOTEMPTY, and sequential names count on.
    await expect(zk.delete('/p')).rejects.toMatchObject({ code: 'NOTEMPTY' });
    expect(await zk.create('/p/s-', '', { mode: CreateMode.PERSISTENT_SEQUENTIAL })).toBe('/p/s-0000000002');
    await drain(service);
    expect(await checkFinalState(service)).toEqual([]);
    await zk.close();
    await service.close();
  });

  it("a write of the parent's item takes the child Stat into it and drops the entry", async () => {
    const { service, zk, item, childStats } = await setup();
    await zk.create('/p');
    await zk.create('/p/a');
    expect(Object.keys(await childStats())).toContain('/p');
    await zk.setData('/p', 'v');
    expect(Object.keys(await childStats())).not.toContain('/p');
    expect((await item('/p'))!.value.node!.stat).toMatchObject({ cversion: 1, numChildren: 1 });
    // Deleting the last child and the parent: nothing of its life is left in the state.
    await zk.delete('/p/a');
    await zk.delete('/p');
    expect(Object.keys(await childStats())).not.toContain('/p');
    // A node created again under the same path starts from its own Stat.
    await zk.create('/p');
    expect((await zk.exists('/p'))!).toMatchObject({ cversion: 0, numChildren: 0 });
    await drain(service);
    expect(await checkFinalState(service)).toEqual([]);
    await zk.close();
    await service.close();
  });

  it(`keeps at most ${MAX_CHILD_STATS} entries, writing the least recently used into its item`, async () => {
    const { service, zk, item, childStats } = await setup();
    const parents = Array.from({ length: MAX_CHILD_STATS + 2 }, (_, i) => `/p${i}`);
    for (const p of parents) await zk.create(p);
    for (const p of parents) await zk.create(`${p}/c`);
    const kept = Object.keys(await childStats());
    expect(kept).toHaveLength(MAX_CHILD_STATS);
    // The first two went to their items; the later ones are kept.
    for (const p of parents.slice(0, 2)) {
      expect(kept).not.toContain(p);
      expect((await item(p))!.value.node!.stat).toMatchObject({ cversion: 1, numChildren: 1 });
    }
    expect(kept).toEqual(expect.arrayContaining(parents.slice(2)));
    await drain(service);
    expect(await checkFinalState(service)).toEqual([]);
    await zk.close();
    await service.close();
  });

  it('a multi that fails after a create keeps no child Stat of it', async () => {
    const { service, zk, childStats } = await setup();
    await zk.create('/p');
    await expect(
      zk.multi([
        { op: 'create', path: '/p/a', data: 'a' },
        { op: 'check', path: '/p', version: 7 },
      ]),
    ).rejects.toMatchObject({ code: 'BADVERSION' });
    expect((await childStats())['/p']).toBeUndefined();
    expect((await zk.exists('/p'))!).toMatchObject({ cversion: 0, numChildren: 0 });
    await drain(service);
    expect(await checkFinalState(service)).toEqual([]);
    await zk.close();
    await service.close();
  });

  it('the heartbeat asks no expiry of a TTL node whose children only the writer state counts', async () => {
    // The TTL node's item says no children and an mtime long past its TTL; the writer state says it
    // has one child (a create the item was not rewritten for). A child of its own keeps it.
    const clock = new ManualClock(1_000_000);
    const store = new MemorySystemStore();
    const queue = new MemoryQueue('writer', { clock });
    const stat = { ...rootStat(), czxid: 5, mzxid: 5, pzxid: 5, mtime: 1000, ctime: 1000 };
    const ttl: SystemNodeItem = { node: { stat, kind: 'ttl', ttlMs: 1000 } };
    const stateWith = (numChildren: number): WriterState => ({
      ...initialWriterState(),
      childStats: { '/t': { czxid: 5, cversion: 2 - numChildren, pzxid: 9, numChildren, created: 1 } },
    });
    await store.transact([
      { type: 'put', kind: 'node', id: '/t', value: ttl, expect: 'absent' },
      { type: 'put', kind: 'ttl', id: '/t', value: { path: '/t' }, expect: 'absent' },
      { type: 'put', kind: 'meta', id: WRITER_STATE_ID, value: packState(stateWith(1)), expect: 'absent' },
    ]);
    const heartbeat = createHeartbeat({ systemStore: store, writerQueue: queue, clock, clockSkewMs: 0 });
    const asked = async () => {
      await heartbeat({ deadline: clock.now() + 60_000, functionName: 'heartbeat' });
      return (await queue.receive({ max: 10, waitMs: 0, visibilityTimeoutMs: 1000 })).map(
        (m) => JSON.parse(m.body).op.type,
      );
    };
    expect(await asked()).toEqual([]);
    // The child deleted (still only in the writer state): now it is asked for.
    await store.transact([
      { type: 'put', kind: 'meta', id: WRITER_STATE_ID, value: packState(stateWith(0)), expect: 1 },
    ]);
    expect(await asked()).toEqual(['expireTtl']);
  });
});

// What a writer commit reads on Datastore: the writer state only. The items only the writer writes
// are not read again in the commit's transaction, because the state's version condition covers
// them (docs/cost.md, "GCP: a writer commit reads the writer state only"). These tests prove the
// read count, that a racing commit still fails, that conditions outside a writer commit are still
// checked by reading, and that an item's chunk entities are still removed.
import { ConditionFailedError, CountingMeter, type TransactOp, WRITER_STATE_ID } from '@faaskeeper/core';
import { describe, expect, it } from 'vitest';
import { DatastoreSystemStore } from '../src/index.js';
import { unique, whenEmulators } from './support.js';

const STATE = { kind: 'meta', id: WRITER_STATE_ID } as const;
const NODE = { kind: 'node', id: '/a' } as const;
const SESSION = { kind: 'session', id: '7' } as const;

const reads = (meter: CountingMeter) => meter.totals.get('datastore.entity-reads') ?? 0;

const statePut = (value: unknown, expect: number): TransactOp => ({ type: 'put', ...STATE, value, expect });

whenEmulators((stack) => {
  /** A store on a fresh namespace holding the state, a node and a session, each at version 1. */
  const seeded = async (options: { writerStateGuard?: boolean } = {}) => {
    const namespace = unique('reads');
    const meter = new CountingMeter();
    const make = (m?: CountingMeter) =>
      new DatastoreSystemStore({
        datastore: stack().datastoreClient,
        namespace,
        ...(m === undefined ? {} : { meter: m }),
        ...options,
      });
    const store = make(meter);
    await store.transact([
      { type: 'put', ...STATE, value: { zxid: 0 }, expect: 'absent' },
      { type: 'put', ...NODE, value: { data: 'a0' }, expect: 'absent' },
      { type: 'put', ...SESSION, value: { lastSeq: 0 }, expect: 'absent' },
    ]);
    return { store, meter, make, namespace };
  };

  describe('DatastoreSystemStore: reads of a writer commit', () => {
    it('a commit conditioned on the writer state reads the state only, not the items it read before', async () => {
      const { store, meter } = await seeded();
      await store.get(STATE);
      await store.getMany([NODE, SESSION]);
      const before = reads(meter);
      await store.transact([
        { type: 'put', ...NODE, value: { data: 'a1' }, expect: 1 },
        { type: 'put', ...SESSION, value: { lastSeq: 1 }, expect: 1 },
        { type: 'put', kind: 'node', id: '/a/b', value: { data: 'b' }, expect: 'absent' },
        statePut({ zxid: 1 }, 1),
      ]);
      expect(reads(meter) - before).toBe(1);
      const [node, session, child, state] = await store.getMany([
        NODE,
        SESSION,
        { kind: 'node', id: '/a/b' },
        STATE,
      ]);
      expect([node?.version, session?.version, child?.version, state?.version]).toEqual([2, 2, 1, 2]);
      expect(node?.value).toEqual({ data: 'a1' });
    });

    it('a racing commit on the same state version fails, though it did not read the items', async () => {
      const { store: first, make } = await seeded();
      const second = make();
      for (const s of [first, second]) await s.getMany([STATE, NODE]);
      await first.transact([
        { type: 'put', ...NODE, value: { data: 'first' }, expect: 1 },
        statePut({ zxid: 1 }, 1),
      ]);
      await expect(
        second.transact([
          { type: 'put', ...NODE, value: { data: 'second' }, expect: 1 },
          statePut({ zxid: 1 }, 1),
        ]),
      ).rejects.toBeInstanceOf(ConditionFailedError);
      const node = await first.get(NODE);
      expect(node).toMatchObject({ version: 2, value: { data: 'first' } });
    });

    it('outside a writer commit every condition is checked by reading its item', async () => {
      const { store, meter } = await seeded();
      await store.getMany([NODE]);
      const before = reads(meter);
      await expect(
        store.transact([{ type: 'put', ...NODE, value: { data: 'stale' }, expect: 5 }]),
      ).rejects.toBeInstanceOf(ConditionFailedError);
      // A lease is written by clients too: read even inside a writer commit.
      await store.transact([
        { type: 'put', kind: 'lease', id: '7', value: { at: 1 }, expect: 'absent' },
        statePut({ zxid: 1 }, 1),
      ]);
      expect(reads(meter) - before).toBe(1 + 2);
      expect((await store.get(NODE))?.value).toEqual({ data: 'a0' });
    });

    it('with writerStateGuard off a writer commit reads every item it touches', async () => {
      const { store, meter } = await seeded({ writerStateGuard: false });
      await store.getMany([STATE, NODE, SESSION]);
      const before = reads(meter);
      await store.transact([
        { type: 'put', ...NODE, value: { data: 'a1' }, expect: 1 },
        { type: 'put', ...SESSION, value: { lastSeq: 1 }, expect: 1 },
        statePut({ zxid: 1 }, 1),
      ]);
      expect(reads(meter) - before).toBe(3);
    });

    it('an item this store has not seen at the expected version is read in the commit (its chunk count is not known)', async () => {
      const { store, meter, make } = await seeded();
      // Another instance commits the node's next version; this one last saw version 1.
      const other = make();
      await other.getMany([STATE, NODE]);
      await other.transact([
        { type: 'put', ...NODE, value: { data: 'moved' }, expect: 1 },
        statePut({ zxid: 1 }, 1),
      ]);
      await store.get(STATE);
      const before = reads(meter);
      await store.transact([
        { type: 'put', ...NODE, value: { data: 'x' }, expect: 2 },
        statePut({ zxid: 2 }, 2),
      ]);
      expect(reads(meter) - before).toBe(2);
      expect(await store.get(NODE)).toMatchObject({ version: 3, value: { data: 'x' } });
    });

    it('a shrinking put and a delete without reading the item still remove its chunk entities', async () => {
      const { store, meter, namespace } = await seeded();
      const big = 'x'.repeat(1_500_000);
      const first = { kind: 'node', id: '/big' } as const;
      const second = { kind: 'node', id: '/big2' } as const;
      await store.transact([
        { type: 'put', ...first, value: { data: big }, expect: 'absent' },
        { type: 'put', ...second, value: { data: big }, expect: 'absent' },
      ]);
      await store.getMany([STATE, first, second]);
      const before = reads(meter);
      await store.transact([
        { type: 'put', ...first, value: { data: 'small' }, expect: 1 },
        { type: 'delete', ...second, expect: 1 },
        statePut({ zxid: 1 }, 1),
      ]);
      expect(reads(meter) - before).toBe(1);
      // The main entity of /big2 and one chunk each.
      expect(meter.totals.get('datastore.entity-deletes')).toBe(3);
      const ds = stack().datastoreClient;
      const chunkKey = (id: string) =>
        ds.key({ namespace, path: ['fk_root', 'tree', 'fk_node_chunk', `${id}#1`] });
      const [left] = await ds.get([chunkKey('/big'), chunkKey('/big2')]);
      expect(left).toEqual([]);
      expect((await store.get(first))?.value).toEqual({ data: 'small' });
      expect(await store.get(second)).toBeUndefined();
    });
  });
});

// The DynamoDB system store's S3 offload on the local emulators (DynamoDB Local and fauxqs): a
// value moved to S3 lives exactly as long as the item that points to it. Deleting the item, or
// overwriting it with an inline value, deletes the object once the write committed — and never
// before, so a write that does not commit loses nothing. The bucket's lifecycle rule does not cover
// `system-items/`: an object left here would be kept (and paid for) forever.

import { DeleteObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { ConditionFailedError, type TransactOp } from '@faaskeeper/core';
import { beforeEach, describe, expect, it } from 'vitest';
import { DynamoDbSystemStore } from '../src/dynamodb-system-store.js';
import { S3UserStore } from '../src/s3-user-store.js';
import { requireLocalStack, uniqueName, useLocalStack } from './support.js';

const stack = useLocalStack();
const BUCKET = 'system-offload';
let bucketReady: Promise<void> | undefined;
/** Values over this many bytes go to S3, so that small test values exercise the offload. */
const INLINE_BYTES = 2048;

/** A value that is offloaded (`size` bytes of text, marked so that each write is told apart). */
const big = (mark: string, size = 3 * INLINE_BYTES) => ({ mark, text: mark.padEnd(size, '.') });
const small = (mark: string) => ({ mark });

interface Fixture {
  table: string;
  /** A store as the writer has it, and another that has seen nothing (another function instance). */
  store: DynamoDbSystemStore;
  other: DynamoDbSystemStore;
  /** The system-item objects of this test's table in the bucket. */
  objects(): Promise<string[]>;
}

async function fixture(): Promise<Fixture> {
  const { clients } = await stack();
  bucketReady ??= S3UserStore.createBucket(clients.s3, BUCKET);
  await bucketReady;
  const table = uniqueName('offload');
  await DynamoDbSystemStore.createTable(clients.dynamodb, table);
  const make = () =>
    new DynamoDbSystemStore({
      client: clients.dynamodb,
      table,
      offload: { client: clients.s3, bucket: BUCKET },
      inlineItemBytes: INLINE_BYTES,
    });
  return {
    table,
    store: make(),
    other: make(),
    async objects() {
      const out = await clients.s3.send(
        new ListObjectsV2Command({ Bucket: BUCKET, Prefix: `system-items/${table}/` }),
      );
      return (out.Contents ?? []).flatMap((o) => (o.Key === undefined ? [] : [o.Key]));
    },
  };
}

const put = (id: string, value: unknown, expect: TransactOp['expect']): TransactOp => ({
  type: 'put',
  kind: 'meta',
  id,
  value,
  expect,
});
const del = (id: string, expect: TransactOp['expect']): TransactOp => ({
  type: 'delete',
  kind: 'meta',
  id,
  expect,
});

describe('DynamoDbSystemStore: an offloaded value lives exactly as long as its item', () => {
  let available = false;
  beforeEach((ctx) => {
    if (!available) available = requireLocalStack(ctx);
  });

  it('deletes the S3 object when its item is deleted', async () => {
    const f = await fixture();
    await f.store.transact([put('a', big('a1'), 'absent')]);
    expect(await f.objects()).toHaveLength(1);
    await f.store.transact([del('a', 1)]);
    expect(await f.store.get({ kind: 'meta', id: 'a' })).toBeUndefined();
    expect(await f.objects()).toEqual([]);
  }, 30_000);

  it('deletes the S3 object when its item is overwritten by an inline value', async () => {
    const f = await fixture();
    await f.store.transact([put('a', big('a1'), 'absent')]);
    await f.store.transact([put('a', small('a2'), 1)]);
    expect((await f.store.get({ kind: 'meta', id: 'a' }))?.value).toEqual(small('a2'));
    expect(await f.objects()).toEqual([]);
  }, 30_000);

  it('keeps only the current object when an offloaded value replaces another, in a multi-item transaction', async () => {
    const f = await fixture();
    await f.store.transact([put('a', big('a1'), 'absent'), put('b', small('b1'), 'absent')]);
    await f.store.transact([put('a', big('a2'), 1), put('b', small('b2'), 1)]);
    await f.store.transact([put('a', big('a3'), 'any'), del('b', 2)]);
    expect((await f.store.get({ kind: 'meta', id: 'a' }))?.value).toEqual(big('a3'));
    expect(await f.objects()).toHaveLength(1);
  }, 30_000);

  it('deletes the object also when the deleting store never saw the item (another instance)', async () => {
    const f = await fixture();
    await f.store.transact([put('a', big('a1'), 'absent'), put('b', big('b1'), 'absent')]);
    expect(await f.objects()).toHaveLength(2);
    // `other` assumes both items inline: its writes are cancelled, corrected, and written again.
    await f.other.transact([del('a', 'any'), put('c', small('c1'), 'absent')]);
    await f.other.transact([put('b', small('b2'), 'any')]);
    expect(await f.objects()).toEqual([]);
    expect((await f.other.get({ kind: 'meta', id: 'b' }))?.version).toBe(2);
    // And `store`, whose knowledge is now stale, still writes (the pointer it assumed is gone).
    await f.store.transact([put('a', big('a2'), 'any'), put('b', big('b3'), 2)]);
    await f.store.transact([del('b', 3)]);
    expect((await f.other.get({ kind: 'meta', id: 'a' }))?.value).toEqual(big('a2'));
    expect(await f.objects()).toHaveLength(1);
  }, 30_000);

  it('keeps the object and its value when the delete fails its condition (nothing committed)', async () => {
    const f = await fixture();
    await f.store.transact([put('a', big('a1'), 'absent')]);
    await expect(f.store.transact([del('a', 7)])).rejects.toBeInstanceOf(ConditionFailedError);
    await expect(f.store.transact([del('a', 7), put('b', small('b1'), 'absent')])).rejects.toBeInstanceOf(
      ConditionFailedError,
    );
    expect((await f.other.get({ kind: 'meta', id: 'a' }))?.value).toEqual(big('a1'));
    expect(await f.objects()).toHaveLength(1);
  }, 30_000);

  it('commits and reads consistently when deleting a replaced object fails: the leftover is never read', async () => {
    const f = await fixture();
    const { clients } = await stack();
    // An S3 client whose deletes fail, as after a crash between the commit and the delete.
    const failingDeletes = new Proxy(clients.s3, {
      get(target, name, receiver) {
        if (name !== 'send') return Reflect.get(target, name, receiver);
        return (command: object) =>
          command instanceof DeleteObjectCommand
            ? Promise.reject(new Error('injected: S3 DeleteObject failed'))
            : target.send(command as never);
      },
    });
    const crashing = new DynamoDbSystemStore({
      client: clients.dynamodb,
      table: f.table,
      offload: { client: failingDeletes, bucket: BUCKET },
      inlineItemBytes: INLINE_BYTES,
    });
    await crashing.transact([put('a', big('a1'), 'absent')]);
    await crashing.transact([put('a', big('a2'), 1)]);
    await crashing.transact([put('a', small('a3'), 2)]);
    expect(await f.objects()).toHaveLength(2);
    expect((await f.other.get({ kind: 'meta', id: 'a' }))?.value).toEqual(small('a3'));
    // The next write replaces what the item holds now; the leftovers stay unreferenced storage.
    await f.other.transact([put('a', big('a4'), 3)]);
    expect((await f.store.get({ kind: 'meta', id: 'a' }))?.value).toEqual(big('a4'));
    expect(await f.objects()).toHaveLength(3);
  }, 30_000);

  it('deletes the object when a counter increment replaces an offloaded value', async () => {
    const f = await fixture();
    await f.store.transact([put('a', big('a1'), 'absent')]);
    expect(await f.other.increment({ kind: 'meta', id: 'a' }, 5)).toBe(5);
    expect(await f.other.increment({ kind: 'meta', id: 'a' }, 2)).toBe(7);
    expect(await f.objects()).toEqual([]);
  }, 30_000);

  it('loses no value and leaves one object when two instances overwrite and delete an item concurrently', async () => {
    const f = await fixture();
    // Seeded, so that a failure replays: each instance writes big, small or deletes, unconditionally.
    let seed = 20261204;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const plan = (who: string) =>
      Array.from({ length: 12 }, (_, i) => {
        const r = random();
        return r < 0.5
          ? put('a', big(`${who}${i}`), 'any')
          : r < 0.8
            ? put('a', small(`${who}${i}`), 'any')
            : del('a', 'any');
      });
    const run = async (store: DynamoDbSystemStore, ops: TransactOp[]) => {
      for (const op of ops) {
        await store.transact([op]);
        // Every read in between finds a whole value or no item: never a pointer to a deleted object.
        const seen = await store.get<{ mark: string }>({ kind: 'meta', id: 'a' });
        if (seen !== undefined) expect(typeof seen.value.mark).toBe('string');
      }
    };
    await Promise.all([run(f.store, plan('x')), run(f.other, plan('y'))]);
    await f.store.transact([put('a', big('last'), 'any')]);
    expect((await f.other.get({ kind: 'meta', id: 'a' }))?.value).toEqual(big('last'));
    expect(await f.objects()).toHaveLength(1);
  }, 60_000);
});

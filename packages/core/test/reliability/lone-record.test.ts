// A distribution of one batch writes one of its records last, stamped `complete`, names it in
// every other record (`closer`), and does not write the watermark (distributor/closing-record.ts):
// readers take that record as the watermark at its zxid. These tests pin when the distributor may
// do so, the order of its writes, and that no redelivery rolls a record back.
import { describe, expect, it } from 'vitest';
import {
  createDistributor,
  type DistributorBatch,
  encodeMessage,
  MemoryChannel,
  MemoryUserStore,
  PROTOCOL_VERSION,
  type ReceivedMessage,
  rootStat,
  type Stat,
} from '../../src/index.js';

const context = { deadline: Number.MAX_SAFE_INTEGER, functionName: 'distributor' };
const message = (b: DistributorBatch, attempt = 1): ReceivedMessage => ({
  id: `b${b.batch}`,
  body: encodeMessage(b),
  group: 'distributor',
  attempt,
  receipt: `r${b.batch}-${attempt}`,
});
const stat = (zxid: number): Stat => ({ ...rootStat(), czxid: 1, mzxid: zxid, pzxid: 1, version: zxid });
const bytes = (s: string) => new TextEncoder().encode(s);
type Write = DistributorBatch['items'][number] & { type: 'txn' };

/** Batch `n` at zxid `n`: one txn putting `data` at each of `paths` (options: a child entry, an ACL). */
function batch(n: number, paths: string[], data: string, extra: Partial<Write> = {}): DistributorBatch {
  return {
    v: PROTOCOL_VERSION,
    batch: n,
    zxid: n,
    ev: 0,
    items: [
      {
        type: 'txn',
        zxid: n,
        writes: paths.map((path) => ({ path, put: true as const, stat: stat(n), data: bytes(data) })),
        events: [],
        ...extra,
      },
    ],
  };
}

/** The same batch writing nodes created in it (`czxid` = its zxid): none existed before. */
function created(b: DistributorBatch): DistributorBatch {
  const txn = b.items[0] as Write;
  txn.writes = txn.writes.map((w) => (w.put ? { ...w, stat: { ...w.stat, czxid: b.zxid } } : w));
  return b;
}

async function setup(watermark = 1) {
  const userStore = new MemoryUserStore();
  await userStore.putWatermark(watermark);
  // The order in which record writes begin (the hook runs just before each).
  const order: string[] = [];
  const distributor = createDistributor({
    userStore,
    channel: new MemoryChannel(),
    betweenWrites: async (path) => {
      order.push(path);
    },
  });
  return {
    userStore,
    order,
    apply: (...batches: DistributorBatch[]) =>
      distributor(
        batches.map((b) => message(b)),
        context,
      ),
  };
}

describe('the last record of a distribution stands in for the watermark', () => {
  it('a batch that writes one open record stamps it complete and leaves the watermark', async () => {
    const { userStore, apply } = await setup();
    await apply(batch(2, ['/a'], 'x'));
    const record = await userStore.get('/a');
    expect(record?.complete).toBe(true);
    expect(record?.txZxid).toBe(2);
    expect(await userStore.getWatermark()).toBe(1);
  });

  it('a batch of two records closes with the last, written after the other, which names it', async () => {
    const { userStore, apply, order } = await setup();
    await apply(batch(2, ['/a', '/b'], 'x'));
    expect(await userStore.getWatermark()).toBe(1);
    expect(order).toEqual(['/a', '/b']);
    const [a, b] = [await userStore.get('/a'), await userStore.get('/b')];
    expect(b?.complete).toBe(true);
    expect(b?.closer).toBeUndefined();
    expect(a?.complete).toBeUndefined();
    expect(a?.closer).toBe('/b');
  });

  it('the closing record is written after the batch child index entries', async () => {
    const userStore = new MemoryUserStore();
    await userStore.putWatermark(1);
    // Whether the entry is in the store when the closing record's write begins.
    let listed: number | undefined;
    const distributor = createDistributor({
      userStore,
      channel: new MemoryChannel(),
      concurrency: 1,
      betweenWrites: async (path) => {
        if (path === '/') listed = (await userStore.listChildren('/')).length;
      },
    });
    // A create: the new node's record, its entry under /, and /'s record (created before).
    const b = batch(2, ['/n'], 'x', { kids: [{ parent: '/', name: 'n', czxid: 2 }] });
    const txn = b.items[0] as Write;
    txn.writes = [
      { path: '/n', put: true, stat: { ...stat(2), czxid: 2 }, data: bytes('x') },
      { path: '/', put: true, stat: { ...rootStat(), cversion: 1, pzxid: 2, numChildren: 1 } },
    ];
    await distributor([message(b)], context);
    expect(listed).toBe(1);
    expect((await userStore.get('/'))?.complete).toBe(true);
    expect((await userStore.get('/n'))?.closer).toBe('/');
    expect(await userStore.getWatermark()).toBe(1);
  });

  it('a deletion names the closing record in its tombstone and removes it after that record', async () => {
    const { userStore, apply } = await setup();
    await apply(batch(2, ['/p', '/p/c'], 'x'));
    const tombstones: (string | undefined)[] = [];
    const b: DistributorBatch = {
      v: PROTOCOL_VERSION,
      batch: 3,
      zxid: 3,
      ev: 0,
      items: [
        {
          type: 'txn',
          zxid: 3,
          writes: [
            { path: '/p/c', put: false },
            { path: '/p', put: true, stat: { ...stat(2), pzxid: 3 } },
          ],
          kids: [{ parent: '/p', name: 'c', czxid: 2, dzxid: 3 }],
          events: [],
        },
      ],
    };
    // Snapshot the tombstone as the closing record's write begins.
    const distributor = createDistributor({
      userStore,
      channel: new MemoryChannel(),
      betweenWrites: async (path) => {
        if (path === '/p') tombstones.push((await userStore.get('/p/c'))?.closer);
      },
    });
    await distributor([message(b)], context);
    expect(tombstones).toEqual(['/p']);
    expect(await userStore.get('/p/c')).toBeUndefined();
    expect((await userStore.get('/p'))?.complete).toBe(true);
    expect(await userStore.getWatermark()).toBe(1);
  });

  it('a redelivered batch moves the watermark and names no closer', async () => {
    // Its attempt before may have been a call of several batches, whose readers wait for the
    // watermark.
    const userStore = new MemoryUserStore();
    await userStore.putWatermark(1);
    const distributor = createDistributor({ userStore, channel: new MemoryChannel() });
    await distributor([message(batch(2, ['/a', '/b'], 'x'), 2)], context);
    expect(await userStore.getWatermark()).toBe(2);
    expect((await userStore.get('/a'))?.closer).toBeUndefined();
    expect((await userStore.get('/b'))?.complete).toBeUndefined();
  });

  it('a batch whose records are all of nodes it creates moves the watermark', async () => {
    // A reader that meets one of them and finds the other missing could not tell "not written
    // yet" from "deleted since": a new node cannot close a distribution of several records.
    const { userStore, apply } = await setup();
    await apply(created(batch(2, ['/a', '/b'], 'x')));
    expect(await userStore.getWatermark()).toBe(2);
    expect((await userStore.get('/a'))?.complete).toBeUndefined();
    expect((await userStore.get('/a'))?.closer).toBeUndefined();
    expect((await userStore.get('/b'))?.complete).toBeUndefined();
  });

  it('a protected record (stub and record) moves the watermark', async () => {
    const { userStore, apply } = await setup();
    const acl = [{ perms: 31, id: { scheme: 'digest', id: 'u:x' } }];
    const b = batch(2, ['/a'], 'x');
    const txn = b.items[0] as Write;
    txn.writes = txn.writes.map((w) => ({ ...w, acl }));
    await apply(b);
    expect(await userStore.getWatermark()).toBe(2);
    expect((await userStore.get('/a'))?.protected).toBe(true);
    expect((await userStore.get('/a', 'protected'))?.complete).toBeUndefined();
  });

  it('a batch whose last txn writes nothing to the user store moves the watermark', async () => {
    // A setData at zxid 2 and, in the same batch, a txn at 3 that writes no record (a session
    // opened): the record at 2 does not cover the batch, so the watermark goes to 3.
    const { userStore, apply } = await setup();
    const b = batch(3, [], 'x');
    b.items.unshift({ ...(batch(2, ['/a'], 'x').items[0] as Write) });
    await apply(b);
    expect(await userStore.getWatermark()).toBe(3);
    expect((await userStore.get('/a'))?.complete).toBeUndefined();
  });

  it('two batches in one call, even on one path, move the watermark', async () => {
    const { userStore, apply } = await setup();
    await apply(batch(2, ['/a'], 'x'), batch(3, ['/a'], 'y'));
    expect(await userStore.getWatermark()).toBe(3);
    expect((await userStore.get('/a'))?.complete).toBeUndefined();
  });

  it('never rolls a record back when a call of two lone-record batches comes back split', async () => {
    // [B2, B3] applied together, their ack lost, B2 redelivered alone: B2 is at or below the
    // watermark the call wrote, so it writes nothing. Had the call left the watermark to a
    // complete record, B2 would be above it and would write /a as of zxid 2 over zxid 3.
    const { userStore, apply } = await setup();
    await apply(batch(2, ['/a'], 'x'), batch(3, ['/a'], 'y'));
    await apply(batch(2, ['/a'], 'x'));
    const record = await userStore.get('/a');
    expect(new TextDecoder().decode(record?.data)).toBe('y');
    expect(record?.txZxid).toBe(3);
  });

  it('a lone-record batch applied again (a retry before any later batch) writes the same record', async () => {
    const { userStore, apply } = await setup();
    await apply(batch(2, ['/a'], 'x'));
    const first = await userStore.get('/a');
    await apply(batch(2, ['/a'], 'x'));
    expect(await userStore.get('/a')).toEqual(first);
    expect(await userStore.getWatermark()).toBe(1);
    // The next batch that writes two records closes with /b: /a names it, and is complete no more.
    await apply(batch(3, ['/a', '/b'], 'z'));
    expect(await userStore.getWatermark()).toBe(1);
    expect((await userStore.get('/a'))?.complete).toBeUndefined();
    expect((await userStore.get('/a'))?.closer).toBe('/b');
  });
});

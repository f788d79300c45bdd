// A distribution that writes one open record and nothing else stamps it `complete` and does not
// write the watermark (distributor.ts soloRecord): readers take the record as the watermark at its
// zxid. These tests pin when the distributor may do so, and that no redelivery rolls a record back.
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

async function setup(watermark = 1) {
  const userStore = new MemoryUserStore();
  await userStore.putWatermark(watermark);
  const distributor = createDistributor({ userStore, channel: new MemoryChannel() });
  return {
    userStore,
    apply: (...batches: DistributorBatch[]) =>
      distributor(
        batches.map((b) => message(b)),
        context,
      ),
  };
}

describe('a lone record stands in for the watermark', () => {
  it('a batch that writes one open record stamps it complete and leaves the watermark', async () => {
    const { userStore, apply } = await setup();
    await apply(batch(2, ['/a'], 'x'));
    const record = await userStore.get('/a');
    expect(record?.complete).toBe(true);
    expect(record?.txZxid).toBe(2);
    expect(await userStore.getWatermark()).toBe(1);
  });

  it('a batch that writes two records moves the watermark and stamps neither complete', async () => {
    const { userStore, apply } = await setup();
    await apply(batch(2, ['/a', '/b'], 'x'));
    expect(await userStore.getWatermark()).toBe(2);
    expect((await userStore.get('/a'))?.complete).toBeUndefined();
    expect((await userStore.get('/b'))?.complete).toBeUndefined();
  });

  it('a batch that also writes a child index entry moves the watermark', async () => {
    const { userStore, apply } = await setup();
    const kid = { parent: '/', name: 'a', czxid: 2 };
    await apply(batch(2, ['/a'], 'x', { kids: [kid] }));
    expect(await userStore.getWatermark()).toBe(2);
    expect((await userStore.get('/a'))?.complete).toBeUndefined();
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
    // The next batch that writes two records moves the watermark past both.
    await apply(batch(3, ['/a', '/b'], 'z'));
    expect(await userStore.getWatermark()).toBe(3);
    expect((await userStore.get('/a'))?.complete).toBeUndefined();
  });
});

import { describe, expect, it } from 'vitest';
import {
  type BatchHandler,
  bootstrap,
  createDistributor,
  createEmbeddedService,
  createWriter,
  type DistributorBatch,
  decodeMessage,
  encodeMessage,
  encodeSessionKey,
  MemoryChannel,
  type MemoryQueue,
  MemorySystemStore,
  MemoryUserStore,
  newSessionKey,
  PROTOCOL_VERSION,
  type ReceivedMessage,
  type RequestOp,
  signRequest,
  TransientError,
  type WriterState,
} from '../../src/index.js';
import { unpackState } from '../../src/writer/redo-log.js';

/**
 * Inline distribution (docs/cost.md): the writer hands each committed batch to the distributor in
 * its own invocation instead of through the distributor queue, and a retry after a failure between
 * the commit and the end of the distribution hands the committed batch on again.
 */

const context = { deadline: Number.MAX_SAFE_INTEGER, functionName: 'writer' };

/** Session 7's key: its requests are signed with it (docs/guarantees.md "Security model"). */
const KEY = newSessionKey();
const open = (): RequestOp => ({ type: 'openSession', timeoutMs: 10_000, key: encodeSessionKey(KEY) });

const request = (id: string, seq: number, op: RequestOp): ReceivedMessage => ({
  id,
  body: signRequest(KEY, encodeMessage({ v: PROTOCOL_VERSION, id: `7:${seq}`, session: 7, seq, op })),
  group: 'writer',
  receipt: id,
  attempt: 1,
});

const setData = (path: string, data: Uint8Array): RequestOp => ({ type: 'setData', path, data, version: -1 });

async function writerWithInlineDistributor(distributeFails: () => boolean) {
  const systemStore = new MemorySystemStore();
  const userStore = new MemoryUserStore();
  await bootstrap(systemStore, userStore);
  const channel = new MemoryChannel();
  const distributor = createDistributor({ userStore, channel });
  const handed: DistributorBatch[] = [];
  const distribute: BatchHandler = async (messages, ctx) => {
    for (const m of messages) handed.push(decodeMessage<DistributorBatch>(m.body));
    if (distributeFails()) throw new TransientError('injected: the distribution fails mid-way');
    return distributor(messages, ctx);
  };
  const writer = createWriter({ systemStore, distribute });
  return { systemStore, userStore, writer, handed };
}

/** An embedded deployment whose distributor queue records every body sent to it. */
function countingDistributorQueue(distribution?: 'inline' | 'queue') {
  const sent: string[] = [];
  const service = createEmbeddedService({
    ...(distribution === undefined ? {} : { distribution }),
    wrap: {
      distributorQueue: (q) => ({
        name: q.name,
        capabilities: q.capabilities,
        send: async (messages) => {
          for (const m of messages) sent.push(m.body);
          return q.send(messages);
        },
        receive: (o) => q.receive(o),
        ack: (r) => q.ack(r),
        release: (r) => q.release(r),
        interrupt: () => (q as MemoryQueue).interrupt(),
      }),
    },
  });
  return { service, sent };
}

describe('inline distribution', () => {
  it('applies a committed write to the user store in the writer invocation, sending nothing to the distributor queue', async () => {
    const { service, sent } = countingDistributorQueue();
    try {
      const zk = await service.connect();
      await zk.create('/a', 'one');
      await zk.setData('/a', 'two');
      expect(new TextDecoder().decode((await zk.getData('/a')).data)).toBe('two');
      expect(sent).toEqual([]);
      await zk.close();
    } finally {
      await service.close();
    }
  });

  it('hands the committed batch on again when the distribution failed after the commit (the write is applied once)', async () => {
    let fail = true;
    const h = await writerWithInlineDistributor(() => fail);
    const opened = request('m1', 1, open());
    fail = false;
    await h.writer([opened], context);
    const create = request('m2', 2, {
      type: 'create',
      path: '/a',
      data: new Uint8Array([1]),
      mode: 'PERSISTENT',
    });
    fail = true;
    await expect(h.writer([create], context)).rejects.toThrow(TransientError);
    // Committed but not applied: the user store does not have it yet.
    expect(await h.userStore.get('/a')).toBeUndefined();
    fail = false;
    await h.writer([{ ...create, attempt: 2 }], context);
    const record = await h.userStore.get('/a');
    expect(record?.data).toEqual(new Uint8Array([1]));
    // The retry handed on the same committed batch (same zxid), not a second application.
    const creates = h.handed.filter((b) =>
      b.items.some((i) => i.type === 'txn' && i.writes.some((w) => w.path === '/a' && w.put)),
    );
    expect(creates.map((b) => b.zxid)).toEqual([creates[0]!.zxid, creates[0]!.zxid]);
    expect(record?.txZxid).toBe(creates[0]!.zxid);
  });

  it('reads no watermark for a batch committed just now, and reads it when a retry hands a batch on again', async () => {
    let fail = false;
    const h = await writerWithInlineDistributor(() => fail);
    await h.writer([request('m1', 1, open())], context);
    let reads = 0;
    const getWatermark = h.userStore.getWatermark.bind(h.userStore);
    h.userStore.getWatermark = () => {
      reads++;
      return getWatermark();
    };
    const create = {
      type: 'create' as const,
      path: '/a',
      data: new Uint8Array([1]),
      mode: 'PERSISTENT' as const,
    };
    await h.writer([request('m2', 2, create)], context);
    await h.writer([request('m3', 3, setData('/a', new Uint8Array([2])))], context);
    // Fresh commits: the writer says how far batches are applied, so there is nothing to ask.
    expect(reads).toBe(0);
    // A batch that adds no transaction (a watched read) leaves the watermark where it is.
    const before = await getWatermark();
    let puts = 0;
    const putWatermark = h.userStore.putWatermark.bind(h.userStore);
    h.userStore.putWatermark = (zxid) => {
      puts++;
      return putWatermark(zxid);
    };
    await h.writer([request('m3b', 4, { type: 'watchedRead', path: '/a', watch: 'data' })], context);
    expect(puts).toBe(0);
    expect(await getWatermark()).toBe(before);
    expect(reads).toBe(0);
    fail = true;
    const again = request('m4', 5, setData('/a', new Uint8Array([3])));
    await expect(h.writer([again], context)).rejects.toThrow(TransientError);
    fail = false;
    await h.writer([{ ...again, attempt: 2 }], context);
    // The retry's hand-off may be of a batch applied already: the distributor reads the watermark.
    expect(reads).toBe(1);
    const record = await h.userStore.get('/a');
    expect(record?.data).toEqual(new Uint8Array([3]));
    expect(record?.complete).toBe(true);
    // The create's parent record and the setData records stand in for the watermark.
    expect(await getWatermark()).toBeLessThan(record!.txZxid);
  });

  it('keeps node data as bytes in the writer state, not as base64 text (a store that keeps bytes raw bills them raw)', async () => {
    const h = await writerWithInlineDistributor(() => false);
    await h.writer([request('m1', 1, open())], context);
    const data = new Uint8Array(1024).fill(42);
    await h.writer(
      [request('m2', 2, { type: 'create', path: '/a', data: new Uint8Array(0), mode: 'PERSISTENT' })],
      context,
    );
    await h.writer([request('m3', 3, setData('/a', data))], context);
    const stored = (await h.systemStore.get<WriterState>({ kind: 'meta', id: 'writer' }))?.value;
    // Stored packed (the structure deflated), the data raw beside it.
    expect(stored?.packed?.b).toContainEqual(data);
    const state = stored === undefined ? undefined : unpackState(stored);
    expect(state?.last?.body).toBeUndefined();
    const item = state?.last?.output?.items[0];
    const write = item?.type === 'txn' ? item.writes[0] : undefined;
    expect(write?.put === true ? write.data : undefined).toEqual(data);
  });

  it('still goes through the distributor queue when asked to (distribution: queue)', async () => {
    const { service, sent } = countingDistributorQueue('queue');
    try {
      const zk = await service.connect();
      await zk.create('/a', 'one');
      expect(new TextDecoder().decode((await zk.getData('/a')).data)).toBe('one');
      expect(sent.length).toBeGreaterThan(0);
      await zk.close();
    } finally {
      await service.close();
    }
  });
});

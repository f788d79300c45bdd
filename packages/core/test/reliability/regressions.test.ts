import { describe, expect, it } from 'vitest';
import {
  bootstrap,
  createDistributor,
  createEmbeddedService,
  createWriter,
  type DistributorBatch,
  decodeMessage,
  encodeMessage,
  MemoryChannel,
  MemoryQueue,
  MemorySystemStore,
  MemoryUserStore,
  PROTOCOL_VERSION,
  type Queue,
  type ReceivedMessage,
  type RequestOp,
  rootStat,
  type Stat,
  TransientError,
  type UserStore,
} from '../../src/index.js';
import { encodeSessionKey, newSessionKey, signRequest } from '../../src/session/auth.js';
import {
  checkFinalState,
  drain,
  interceptPort,
  PORT_METHODS,
  yieldTurns,
} from '../../src/testkit/faults/index.js';

/** Bugs the reliability harness found, each pinned by a deterministic test. */

/** A distributor batch as the distributor's queue hands it out. */
const distributorMessage = (b: DistributorBatch, attempt = 1): ReceivedMessage => ({
  id: `b${b.batch}`,
  body: encodeMessage(b),
  group: 'distributor',
  attempt,
  receipt: `r${b.batch}`,
});
const distributorContext = { deadline: Number.MAX_SAFE_INTEGER, functionName: 'distributor' };

describe('regressions found by the reliability harness', () => {
  it('leaves no record write behind when a distributor invocation fails (no stale record after a later write)', async () => {
    // The first put of /a fails while the put of /b is still pending in the same invocation. The
    // runtime retries the batch at once; a later write then sets /b again. The first invocation's
    // pending put of /b must not land after all that (it would bring back the old /b).
    let failA = true;
    let holdB = true;
    let releaseB: () => void = () => {};
    const service = createEmbeddedService({
      wrap: {
        userStore: (inner: UserStore) =>
          interceptPort(inner, PORT_METHODS.userStore, async (method, args, call) => {
            if (method === 'put' && args[0] === '/a' && failA && !holdB) {
              failA = false;
              throw new TransientError('injected: put /a fails');
            }
            return call();
          }),
      },
      betweenDistributorWrites: async (path) => {
        if (path === '/b' && holdB) {
          holdB = false;
          // Held until the test lets go (or a long while, so that a fixed distributor is not stuck).
          await Promise.race([new Promise<void>((resolve) => (releaseB = resolve)), yieldTurns(300)]);
        }
      },
    });
    const zk = await service.connect();
    await zk.create('/a', 'a0');
    await zk.create('/b', 'b0');
    holdB = true;
    await zk.multi([
      { op: 'setData', path: '/a', data: 'a1' },
      { op: 'setData', path: '/b', data: 'b1' },
    ]);
    await zk.setData('/b', 'b2');
    releaseB();
    await drain(service);
    expect(new TextDecoder().decode((await zk.getData('/b')).data)).toBe('b2');
    expect(await checkFinalState(service)).toEqual([]);
    await zk.close();
    await service.close();
  });

  it('leaves no tombstone behind when a distributor invocation fails mid-batch', async () => {
    let failA = true;
    let holdB = true;
    let releaseB: () => void = () => {};
    const service = createEmbeddedService({
      wrap: {
        userStore: (inner: UserStore) =>
          interceptPort(inner, PORT_METHODS.userStore, async (method, args, call) => {
            if (method === 'put' && args[0] === '/a' && failA && !holdB) {
              failA = false;
              throw new TransientError('injected: put /a fails');
            }
            return call();
          }),
      },
      betweenDistributorWrites: async (path) => {
        if (path === '/b' && holdB) {
          holdB = false;
          await Promise.race([new Promise<void>((resolve) => (releaseB = resolve)), yieldTurns(300)]);
        }
      },
    });
    const zk = await service.connect();
    await zk.create('/a', 'a0');
    await zk.create('/b', 'b0');
    holdB = true;
    await zk.multi([
      { op: 'setData', path: '/a', data: 'a1' },
      { op: 'delete', path: '/b' },
    ]);
    releaseB();
    await drain(service);
    expect(await zk.exists('/b')).toBeNull();
    expect(await checkFinalState(service)).toEqual([]);
    await zk.close();
    await service.close();
  });

  it('hands on a committed batch whose forward failed, even when the retry holds only earlier requests', async () => {
    // Attempt 1 handles [open]; its ack is lost. Attempt 2 gets [open, create /a, create /b]: it
    // re-forwards the first batch, commits the creates, and fails to forward them. Attempt 3 gets
    // only [open] (the batch split): none of its requests is in the last batch, yet that batch
    // must still reach the distributor, or the creates are committed but never applied or answered.
    const systemStore = new MemorySystemStore();
    await bootstrap(systemStore, new MemoryUserStore());
    const inner = new MemoryQueue('distributor');
    const distributorQueue: Queue = {
      name: inner.name,
      capabilities: inner.capabilities,
      send: (m) => inner.send(m),
      receive: (o) => inner.receive(o),
      ack: (r) => inner.ack(r),
      release: (r) => inner.release(r),
    };
    const writer = createWriter({ systemStore, distributorQueue });
    const key = newSessionKey();
    const request = (id: string, seq: number, op: RequestOp) => ({
      id,
      body: signRequest(key, encodeMessage({ v: PROTOCOL_VERSION, id: `7:${seq}`, session: 7, seq, op })),
      group: 'writer',
      receipt: id,
      attempt: 1,
    });
    const open = request('m1', 1, { type: 'openSession', timeoutMs: 10_000, key: encodeSessionKey(key) });
    const createA = request('m2', 2, {
      type: 'create',
      path: '/a',
      data: new Uint8Array(0),
      mode: 'PERSISTENT',
    });
    const createB = request('m3', 3, {
      type: 'create',
      path: '/b',
      data: new Uint8Array(0),
      mode: 'PERSISTENT',
    });
    const context = { deadline: Number.MAX_SAFE_INTEGER, functionName: 'writer' };
    const again = (m: ReceivedMessage, attempt: number): ReceivedMessage => ({ ...m, attempt });

    await writer([open], context);
    // The re-forward of the first batch goes through; the forward of the new batch is throttled.
    const attempt2 = writer([again(open, 2), createA, createB], context);
    let sends = 0;
    const send = distributorQueue.send;
    distributorQueue.send = async (m) => {
      sends++;
      if (sends === 2) throw new TransientError('injected: send throttled');
      return send(m);
    };
    await expect(attempt2).rejects.toThrow(TransientError);
    distributorQueue.send = send;
    await writer([again(open, 3)], context);

    const batches = (await inner.receive({ max: 100, visibilityTimeoutMs: 1000 })).map((m) =>
      decodeMessage<DistributorBatch>(m.body),
    );
    const created = batches.flatMap((b) =>
      b.items.flatMap((i) => (i.type === 'txn' ? i.writes.filter((w) => w.put).map((w) => w.path) : [])),
    );
    expect(created).toContain('/a');
    expect(created).toContain('/b');
  });

  it('never rolls the user store or the watermark back when an already applied batch comes again', async () => {
    // [B1, B2] are applied together and their ack is lost; the redelivery is split and B1 comes
    // alone. Rewriting B1's records would show readers /a as of zxid 1 after B2 was acknowledged.
    const userStore = new MemoryUserStore();
    const distributor = createDistributor({ userStore, channel: new MemoryChannel() });
    const stat = (zxid: number, version: number): Stat => ({
      ...rootStat(),
      czxid: 1,
      mzxid: zxid,
      pzxid: 1,
      version,
      dataLength: 1,
    });
    const batch = (n: number, data: string): DistributorBatch => ({
      v: PROTOCOL_VERSION,
      batch: n,
      zxid: n,
      ev: 0,
      items: [
        {
          type: 'txn',
          zxid: n,
          writes: [
            {
              path: '/a',
              put: true,
              stat: stat(n, n - 1),
              data: new TextEncoder().encode(data),
            },
          ],
          events: [],
        },
      ],
    });
    const b1 = distributorMessage(batch(1, 'x'));
    const b2 = distributorMessage(batch(2, 'y'));
    await distributor([b1, b2], distributorContext);
    await distributor([{ ...b1, attempt: 2 }], distributorContext);
    const record = await userStore.get('/a');
    expect(new TextDecoder().decode(record?.data)).toBe('y');
    expect(record?.stat.version).toBe(1);
    expect(await userStore.getWatermark()).toBe(2);
  });

  it('applies batches in batch order when one receive hands them out of order', async () => {
    // A deletes /a (zxid 2), B re-creates it (zxid 3); a redelivery after a failed run hands out
    // [B, A]. Applied as they came, A's tombstone would remove the node B's reply says exists.
    const userStore = new MemoryUserStore();
    const distributor = createDistributor({ userStore, channel: new MemoryChannel() });
    const stat: Stat = { ...rootStat(), czxid: 3, mzxid: 3, pzxid: 3, dataLength: 1 };
    const a: DistributorBatch = {
      v: PROTOCOL_VERSION,
      batch: 2,
      zxid: 2,
      ev: 0,
      items: [{ type: 'txn', zxid: 2, writes: [{ path: '/a', put: false }], events: [] }],
    };
    const b: DistributorBatch = {
      v: PROTOCOL_VERSION,
      batch: 3,
      zxid: 3,
      ev: 0,
      items: [
        {
          type: 'txn',
          zxid: 3,
          writes: [{ path: '/a', put: true, stat, data: new TextEncoder().encode('again') }],
          events: [],
        },
      ],
    };
    await distributor([distributorMessage(b, 2), distributorMessage(a, 2)], distributorContext);
    const record = await userStore.get('/a');
    expect(record?.deleted).toBeUndefined();
    expect(new TextDecoder().decode(record?.data)).toBe('again');
    expect(await userStore.getWatermark()).toBe(3);
  });
});

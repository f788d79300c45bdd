// A direct read of a record newer than the watermark waits, polling the watermark on the client's
// clock, until its transaction is visible; past the operation timeout it fails with OPERATIONTIMEOUT.
import { describe, expect, it } from 'vitest';
import { ConsistentReader } from '../../src/client/consistent-reader.js';
import { FifoOrder } from '../../src/client/fifo-order.js';
import { WatchRegistry } from '../../src/client/watch-registry.js';
import { type Clock, isFaaSKeeperError } from '../../src/index.js';
import type { UserStore } from '../../src/ports/user-store.js';
import type { NodeRecord } from '../../src/protocol/messages.js';
import { WaitRecordingClock } from '../../src/testkit/index.js';

const record: NodeRecord = {
  data: new Uint8Array([1]),
  stat: {
    czxid: 7,
    mzxid: 7,
    pzxid: 7,
    ctime: 0,
    mtime: 0,
    version: 0,
    cversion: 0,
    aversion: 0,
    ephemeralOwner: 0,
    dataLength: 1,
    numChildren: 0,
  },
  txZxid: 7,
};

/** A user store holding `record` at /a whose watermark reads come from `watermark` (a throw fails the read). */
function store(watermark: (read: number) => number): { userStore: UserStore; reads: () => number } {
  let reads = 0;
  const userStore = {
    get: async (path: string) => (path === '/a' ? record : undefined),
    getWatermark: async () => watermark(++reads),
  } as unknown as UserStore;
  return { userStore, reads: () => reads };
}

function reader(userStore: UserStore, clock: Clock, opTimeoutMs: number): ConsistentReader {
  return new ConsistentReader(
    userStore,
    clock,
    opTimeoutMs,
    's1',
    new FifoOrder(),
    new WatchRegistry(),
    () => {
      throw new Error('no watched reads here');
    },
  );
}

describe('consistent reads wait for the watermark', () => {
  it('returns the record once the watermark covers its transaction, failed watermark reads polled again', async () => {
    const clock = new WaitRecordingClock();
    const { userStore, reads } = store((n) => {
      if (n === 2) throw new Error('watermark read failed');
      return n < 6 ? 3 : 7;
    });
    const r = reader(userStore, clock, 10_000);
    await expect(r.read('/a', 'data', undefined)).resolves.toBe(record);
    expect(reads()).toBe(6);
    expect(r.watermark).toBe(7);
    // Three polls at once, then back-off on the client's clock.
    expect(clock.waits).toEqual([4, 8]);
  });

  it('fails with OPERATIONTIMEOUT once the clock passes the operation timeout', async () => {
    const clock = new WaitRecordingClock();
    const { userStore, reads } = store(() => 3);
    const r = reader(userStore, clock, 100);
    const failure = await r.read('/a', 'data', undefined).catch((error: unknown) => error);
    expect(isFaaSKeeperError(failure, 'OPERATIONTIMEOUT')).toBe(true);
    expect(String(failure)).toMatch(/\/a stayed ahead of the watermark/);
    // The waits cover the timeout: at most 20 ms apart, and the last poll came past the deadline.
    expect(clock.waits.every((ms) => ms <= 20)).toBe(true);
    expect(clock.waits.reduce((a, b) => a + b, 0)).toBeGreaterThan(100);
    expect(reads()).toBe(clock.waits.length + 4);
  });
});

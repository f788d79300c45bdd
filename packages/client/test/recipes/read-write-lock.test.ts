import { afterEach, describe, expect, it } from 'vitest';
import { ReadWriteLock } from '../../src/recipes/index.js';
import { eventually, type Harness, harness, isSettled } from './harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe('ReadWriteLock', () => {
  it('lets readers share the lock', async () => {
    h = await harness(3);
    const locks = h.clients.map((zk) => new ReadWriteLock(zk, '/locks/rw'));
    const held = await Promise.all(locks.map((l) => l.readLock.acquire()));
    expect(held).toEqual([true, true, true]);
    expect(locks.every((l) => l.readLock.isAcquired())).toBe(true);
    await Promise.all(locks.map((l) => l.readLock.release()));
  });

  it('keeps writers exclusive: a writer waits for readers, readers after a writer wait for it', async () => {
    h = await harness(4);
    const [r1, w, r2, r3] = h.clients.map((zk) => new ReadWriteLock(zk, '/locks/rw')) as [
      ReadWriteLock,
      ReadWriteLock,
      ReadWriteLock,
      ReadWriteLock,
    ];
    expect(await r1.readLock.acquire()).toBe(true);
    const writer = w.writeLock.acquire();
    await eventually(() => (h!.traffic.watchedReads.get(h!.clients[1]!.sessionNumber) ?? 0) >= 1);
    // Fair queueing: readers arriving after a waiting writer wait behind it.
    const reader2 = r2.readLock.acquire();
    const reader3 = r3.readLock.acquire();
    await eventually(() => (h!.traffic.watchedReads.get(h!.clients[3]!.sessionNumber) ?? 0) >= 1);
    expect(await isSettled(writer)).toBe(false);
    expect(await isSettled(reader2)).toBe(false);
    await r1.readLock.release();
    expect(await writer).toBe(true);
    expect(await isSettled(reader2)).toBe(false);
    expect(await isSettled(reader3)).toBe(false);
    await w.writeLock.release();
    // Both readers behind the writer watched it, and both go in together.
    expect(await Promise.all([reader2, reader3])).toEqual([true, true]);
    await r2.readLock.release();
    await r3.readLock.release();
  });

  it('never lets a writer in with anybody else under contention', async () => {
    h = await harness(4);
    let readers = 0;
    let writers = 0;
    let violations = 0;
    const check = () => {
      if (writers > 1 || (writers === 1 && readers > 0)) violations++;
    };
    await Promise.all(
      h.clients.map(async (zk, i) => {
        const lock = new ReadWriteLock(zk, '/locks/rw-contention');
        for (let round = 0; round < 4; round++) {
          const write = (i + round) % 2 === 0;
          const half = write ? lock.writeLock : lock.readLock;
          await half.acquire();
          if (write) writers++;
          else readers++;
          check();
          await zk.exists('/locks'); // let others run while holding
          check();
          if (write) writers--;
          else readers--;
          await half.release();
        }
      }),
    );
    expect(violations).toBe(0);
    expect((await h.clients[0]!.getChildren('/locks/rw-contention')).children).toEqual([]);
  });

  it('allows the write lock holder to take the read lock (downgrade)', async () => {
    h = await harness(1);
    // #region downgrade
    const lock = new ReadWriteLock(h.clients[0]!, '/locks/downgrade');
    await lock.writeLock.acquire();
    expect(await lock.readLock.acquire()).toBe(true);
    await lock.writeLock.release();
    expect(lock.readLock.isAcquired()).toBe(true);
    await lock.readLock.release();
    // #endregion downgrade
  });

  it('passes the lock to waiting readers when the writer’s session expires', async () => {
    h = await harness(3);
    const [w, r1, r2] = h.clients.map((zk) => new ReadWriteLock(zk, '/locks/rw-expiry')) as [
      ReadWriteLock,
      ReadWriteLock,
      ReadWriteLock,
    ];
    await w.writeLock.acquire();
    const readers = [r1.readLock.acquire(), r2.readLock.acquire()];
    await eventually(() => (h!.traffic.watchedReads.get(h!.clients[2]!.sessionNumber) ?? 0) >= 1);
    expect(await isSettled(readers[0]!)).toBe(false);
    await h.expire(h.clients[0]!);
    expect(await Promise.all(readers)).toEqual([true, true]);
    expect(w.writeLock.isAcquired()).toBe(false);
  });
});

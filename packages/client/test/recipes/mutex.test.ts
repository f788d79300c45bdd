import { type Channel, type ChannelMessage, decodeMessage } from '@faaskeeper/core';
import { afterEach, describe, expect, it } from 'vitest';
import { type FaaSKeeperClient, FaaSKeeperError } from '../../src/index.js';
import { Mutex } from '../../src/recipes/index.js';
import { eventually, type Harness, harness, isSettled } from './harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const decoder = new TextDecoder();

/** Starts `acquire()` on each mutex in turn, each only once the one before is queued. */
async function queueUp(mutexes: Mutex[], h: Harness, clients: FaaSKeeperClient[]) {
  const pending: Promise<boolean>[] = [];
  for (const [i, m] of mutexes.entries()) {
    pending.push(m.acquire());
    // The first one holds the lock; each later one is queued once it has set its watch.
    if (i === 0) await pending[0];
    else await eventually(() => (h.traffic.watchedReads.get(clients[i]!.sessionNumber) ?? 0) >= 1);
  }
  return pending;
}

describe('Mutex', () => {
  it('admits one holder at a time and serves every contender (5 clients, shared counter)', async () => {
    h = await harness(5);
    const { clients } = h;
    await clients[0]!.create('/counter', '0');
    let holders = 0;
    let maxHolders = 0;
    const served: number[] = [];
    await Promise.all(
      clients.map(async (zk, i) => {
        const mutex = new Mutex(zk, '/locks/counter');
        for (let round = 0; round < 3; round++) {
          expect(await mutex.acquire()).toBe(true);
          holders++;
          maxHolders = Math.max(maxHolders, holders);
          served.push(i);
          // A read-modify-write without a version check: only the lock makes it safe.
          const value = Number(decoder.decode((await zk.getData('/counter')).data));
          await zk.setData('/counter', String(value + 1));
          holders--;
          await mutex.release();
        }
      }),
    );
    expect(maxHolders).toBe(1);
    expect(decoder.decode((await clients[0]!.getData('/counter')).data)).toBe('15');
    for (let i = 0; i < 5; i++) expect(served.filter((s) => s === i)).toHaveLength(3);
    expect((await clients[0]!.getChildren('/locks/counter')).children).toEqual([]);
  });

  it('wakes only the successor on release (no herd effect) and serves waiters in FIFO order', async () => {
    h = await harness(5);
    const { clients, traffic } = h;
    const mutexes = clients.map((zk) => new Mutex(zk, '/locks/herd'));
    const pending = await queueUp(mutexes, h, clients);
    expect(await pending[0]).toBe(true);
    expect(traffic.events.size).toBe(0);
    for (let holder = 0; holder < 4; holder++) {
      const next = holder + 1;
      for (let later = next + 1; later < 5; later++) expect(await isSettled(pending[later]!)).toBe(false);
      await mutexes[holder]!.release();
      expect(await pending[next]).toBe(true);
      // Exactly one event per release, and it went to the next waiter only.
      for (let i = 0; i < 5; i++)
        expect(traffic.events.get(clients[i]!.sessionNumber) ?? 0).toBe(i >= 1 && i <= next ? 1 : 0);
    }
    await mutexes[4]!.release();
  });

  it('is re-entrant per instance and exclusive between instances of one client', async () => {
    h = await harness(1);
    const zk = h.clients[0]!;
    const a = new Mutex(zk, '/locks/re');
    const b = new Mutex(zk, '/locks/re');
    expect(await a.acquire()).toBe(true);
    expect(await a.acquire()).toBe(true);
    const bWaits = b.acquire();
    await a.release();
    expect(await isSettled(bWaits)).toBe(false);
    expect(a.isAcquired()).toBe(true);
    await a.release();
    expect(await bWaits).toBe(true);
    await b.release();
    await expect(b.release()).rejects.toMatchObject({ code: 'APIERROR' });
  });

  it('gives up after timeoutMs and leaves no node behind', async () => {
    h = await harness(2);
    const [zk0, zk1] = h.clients as [FaaSKeeperClient, FaaSKeeperClient];
    const holder = new Mutex(zk0, '/locks/t', { clock: h.clock });
    const waiter = new Mutex(zk1, '/locks/t', { clock: h.clock });
    await holder.acquire();
    const attempt = waiter.acquire({ timeoutMs: 1000 });
    await eventually(() => (h!.traffic.watchedReads.get(zk1.sessionNumber) ?? 0) >= 1);
    await h.advance(1000);
    expect(await attempt).toBe(false);
    expect(waiter.isAcquired()).toBe(false);
    expect(await holder.participantNodes()).toHaveLength(1);
    await holder.release();
    expect(await waiter.acquire({ timeoutMs: 1000 })).toBe(true);
    await waiter.release();
  });

  it('passes the lock on when the holder’s session expires', async () => {
    h = await harness(3);
    const { clients, traffic } = h;
    const mutexes = clients.map((zk) => new Mutex(zk, '/locks/expiry'));
    const pending = await queueUp(mutexes, h, clients);
    expect(await pending[0]).toBe(true);
    await h.expire(clients[0]!);
    expect(mutexes[0]!.isAcquired()).toBe(false);
    expect(await pending[1]).toBe(true);
    expect(await isSettled(pending[2]!)).toBe(false);
    expect(traffic.events.get(clients[2]!.sessionNumber) ?? 0).toBe(0);
    await mutexes[1]!.release();
    expect(await pending[2]).toBe(true);
  });

  it('fails a waiter whose own session expires with SESSIONEXPIRED and lets the next one through', async () => {
    h = await harness(3);
    const { clients } = h;
    const mutexes = clients.map((zk) => new Mutex(zk, '/locks/waiter-expiry'));
    const pending = await queueUp(mutexes, h, clients);
    expect(await pending[0]).toBe(true);
    const failed = expect(pending[1]).rejects.toMatchObject({ code: 'SESSIONEXPIRED' });
    await h.expire(clients[1]!);
    await failed;
    await mutexes[0]!.release();
    expect(await pending[2]).toBe(true);
  });

  it('recovers from a lost create reply without leaving an orphan node (protection mode)', async () => {
    const LOST_SESSION = 1000;
    let dropped = 0;
    const dropFirstCreateReply = (channel: Channel): Channel => ({
      maxMessageBytes: channel.maxMessageBytes,
      subscribe: (s, on, inc, tag) => channel.subscribe(s, on, inc, tag),
      remove: (s, inc, tag) => channel.remove(s, inc, tag),
      send: (session, messages, inc, tag) =>
        channel.send(
          session,
          messages.filter((m) => {
            const body = decodeMessage<ChannelMessage>(m).body;
            const lost =
              session === LOST_SESSION &&
              dropped === 0 &&
              body.type === 'reply' &&
              body.result?.type === 'create' &&
              body.result.path.includes('-lock-');
            if (lost) dropped++;
            return !lost;
          }),
          inc,
          tag,
        ),
    });
    h = await harness(2, { operationTimeoutMs: 2000, wrap: { channel: dropFirstCreateReply } });
    const [zk0, zk1] = h.clients as [FaaSKeeperClient, FaaSKeeperClient];
    expect(zk0.sessionNumber).toBe(LOST_SESSION);
    const mutex = new Mutex(zk0, '/locks/lost');
    const attempt = mutex.acquire();
    await eventually(() => dropped === 1);
    expect(await isSettled(attempt)).toBe(false);
    let acquired: boolean | undefined;
    void attempt.then((ok) => {
      acquired = ok;
    });
    await h.advance(2500); // the create times out (OPERATIONTIMEOUT); the mutex finds its node
    // Without protection the mutex would now wait forever behind its own orphan node.
    await eventually(() => acquired !== undefined);
    expect(acquired).toBe(true);
    const { children } = await zk1.getChildren('/locks/lost');
    expect(children).toHaveLength(1);
    expect(`/locks/lost/${children[0]}`).toBe(mutex.nodePath);
    // Another contender is not blocked by an orphan once the lock is released.
    const other = new Mutex(zk1, '/locks/lost');
    const otherAttempt = other.acquire();
    await mutex.release();
    expect(await otherAttempt).toBe(true);
    expect(await other.participantNodes()).toHaveLength(1);
    await other.release();
    expect((await zk1.getChildren('/locks/lost')).children).toEqual([]);
  });

  it('rejects a release of a lock it does not hold', async () => {
    h = await harness(1);
    await expect(new Mutex(h.clients[0]!, '/locks/none').release()).rejects.toBeInstanceOf(FaaSKeeperError);
  });
});

import { afterEach, describe, expect, it } from 'vitest';
import { LeaderLatch } from '../../src/recipes/index.js';
import { eventually, eventuallyAfterBackoff, type Harness, harness } from './harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

/** Latches on every client, with a log of leadership changes and a count of simultaneous leaders. */
async function startLatches(h: Harness, path: string) {
  const log: string[] = [];
  let leaders = 0;
  let maxLeaders = 0;
  const latches = h.clients.map((zk, i) => {
    const latch = new LeaderLatch(zk, path, { id: `p${i}`, clock: h.clock });
    latch.on('isLeader', () => {
      leaders++;
      maxLeaders = Math.max(maxLeaders, leaders);
      log.push(`p${i}+`);
    });
    latch.on('notLeader', () => {
      leaders--;
      log.push(`p${i}-`);
    });
    return latch;
  });
  // One after the other, so that the sequence order is the start order.
  for (const latch of latches) await latch.start();
  return { latches, log, maxLeaders: () => maxLeaders };
}

describe('LeaderLatch', () => {
  it('elects exactly one leader, the first to start', async () => {
    h = await harness(3);
    const { latches, log } = await startLatches(h, '/election/one');
    expect(latches.map((l) => l.hasLeadership())).toEqual([true, false, false]);
    expect(log).toEqual(['p0+']);
    expect(await latches[2]!.leaderId()).toBe('p0');
    expect(await latches[0]!.participants()).toHaveLength(3);
  });

  it('passes leadership on in start order as leaders close, one leader at a time', async () => {
    h = await harness(3);
    const { latches, log, maxLeaders } = await startLatches(h, '/election/close');
    const second = latches[1]!.await();
    await latches[0]!.close();
    expect(await second).toBe(true);
    await latches[1]!.close();
    expect(await latches[2]!.await()).toBe(true);
    expect(log).toEqual(['p0+', 'p0-', 'p1+', 'p1-', 'p2+']);
    expect(maxLeaders()).toBe(1);
    // Only the successor checked again on each change: p2 got one event (when p1 left), not two.
    expect(h.traffic.events.get(h.clients[2]!.sessionNumber)).toBe(1);
  });

  it('tells a leader whose session expires notLeader and elects the next participant', async () => {
    h = await harness(3);
    const { latches, log, maxLeaders } = await startLatches(h, '/election/expiry');
    await h.expire(h.clients[0]!);
    expect(latches[0]!.hasLeadership()).toBe(false);
    expect(await latches[0]!.await()).toBe(false);
    await eventually(() => latches[1]!.hasLeadership());
    // With these timings (timeout 3 s, skew 1 s) the old leader gave up (DISCONNECTED) before the
    // service expired it and elected p1: never two leaders at once.
    expect(log).toEqual(['p0+', 'p0-', 'p1+']);
    expect(maxLeaders()).toBe(1);
    expect(latches[2]!.hasLeadership()).toBe(false);
    expect(await latches[2]!.leaderId()).toBe('p1');
  });

  it('gives up leadership while disconnected and takes it back when the session survives', async () => {
    // A generous skew: the service waits well past the point where the client notices the silence.
    h = await harness(2, { clockSkewMs: 3000 });
    const { latches, log } = await startLatches(h, '/election/blip');
    const zk0 = h.clients[0]!;
    h.service.partition(zk0);
    await h.advanceUntil(() => zk0.state === 'DISCONNECTED');
    expect(latches[0]!.hasLeadership()).toBe(false);
    h.service.heal(zk0);
    // The clock stands still: the service cannot expire the session while the client's next ping goes out.
    await eventuallyAfterBackoff(() => latches[0]!.hasLeadership());
    expect(zk0.state).toBe('CONNECTED');
    expect(latches[1]!.hasLeadership()).toBe(false);
    expect(log).toEqual(['p0+', 'p0-', 'p0+']);
  });

  it('times out await() when another participant keeps the lead', async () => {
    h = await harness(2);
    const { latches } = await startLatches(h, '/election/await');
    const waiting = latches[1]!.await({ timeoutMs: 1000 });
    await h.advance(1000);
    expect(await waiting).toBe(false);
  });

  it('steps down and re-joins when its node is deleted from outside (never two leaders)', async () => {
    h = await harness(2);
    const { latches, log, maxLeaders } = await startLatches(h, '/election/rejoin');
    const before = latches[0]!.nodePath!;
    await h.clients[1]!.delete(before);
    await eventually(() => latches[1]!.hasLeadership());
    await eventually(() => latches[0]!.nodePath !== before);
    expect(await latches[0]!.participants()).toHaveLength(2);
    expect(latches[0]!.hasLeadership()).toBe(false);
    expect(log).toEqual(['p0+', 'p0-', 'p1+']);
    expect(maxLeaders()).toBe(1);
  });
});

import { afterEach, describe, expect, it } from 'vitest';
import { Barrier, DoubleBarrier } from '../../src/recipes/index.js';
import { eventually, type Harness, harness, isSettled } from './harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe('Barrier', () => {
  it('holds every waiter until the barrier is removed, then releases them all', async () => {
    h = await harness(4);
    const [admin, ...workers] = h.clients;
    // #region set
    await new Barrier(admin!, '/barriers/start').setBarrier();
    const waits = workers.map((zk) => new Barrier(zk, '/barriers/start').waitOnBarrier());
    // #endregion set
    for (const zk of workers)
      await eventually(() => (h!.traffic.watchedReads.get(zk.sessionNumber) ?? 0) >= 1);
    for (const w of waits) expect(await isSettled(w)).toBe(false);
    // #region remove
    await new Barrier(admin!, '/barriers/start').removeBarrier();
    expect(await Promise.all(waits)).toEqual([true, true, true]);
    // #endregion remove
  });

  it('lets a waiter through at once when no barrier is set', async () => {
    h = await harness(1);
    expect(await new Barrier(h.clients[0]!, '/barriers/none').waitOnBarrier()).toBe(true);
  });

  it('returns false from waitOnBarrier after timeoutMs', async () => {
    h = await harness(1);
    const barrier = new Barrier(h.clients[0]!, '/barriers/t', { clock: h.clock });
    await barrier.setBarrier();
    const wait = barrier.waitOnBarrier({ timeoutMs: 1000 });
    await eventually(() => (h!.traffic.watchedReads.get(h!.clients[0]!.sessionNumber) ?? 0) >= 1);
    await h.advance(1000);
    expect(await wait).toBe(false);
  });

  it('fails a waiter whose session expires with SESSIONEXPIRED', async () => {
    h = await harness(2);
    await new Barrier(h.clients[0]!, '/barriers/x').setBarrier();
    const wait = new Barrier(h.clients[1]!, '/barriers/x').waitOnBarrier();
    const failed = expect(wait).rejects.toMatchObject({ code: 'SESSIONEXPIRED' });
    await h.expire(h.clients[1]!);
    await failed;
  });
});

describe('DoubleBarrier', () => {
  it('lets nobody start before all N have entered, and nobody finish before all N have left', async () => {
    h = await harness(3);
    const barriers = h.clients.map(
      (zk, i) => new DoubleBarrier(zk, '/barriers/double', 3, { memberId: `m${i}` }),
    );
    const entering = [barriers[0]!.enter(), barriers[1]!.enter()];
    for (const zk of h.clients.slice(0, 2))
      await eventually(() => (h!.traffic.watchedReads.get(zk.sessionNumber) ?? 0) >= 1);
    for (const e of entering) expect(await isSettled(e)).toBe(false);
    expect(await barriers[2]!.enter()).toBe(true);
    expect(await Promise.all(entering)).toEqual([true, true]);

    const leaving = [barriers[0]!.leave(), barriers[1]!.leave()];
    await eventually(() => (h!.traffic.watchedReads.get(h!.clients[1]!.sessionNumber) ?? 0) >= 2);
    for (const l of leaving) expect(await isSettled(l)).toBe(false);
    expect(await barriers[2]!.leave()).toBe(true);
    expect(await Promise.all(leaving)).toEqual([true, true]);
    expect((await h.clients[0]!.getChildren('/barriers/double')).children).toEqual([]);
  });

  it('lets the others leave when a member’s session expires inside the barrier', async () => {
    h = await harness(3);
    // #region double
    const barriers = h.clients.map((zk, i) => new DoubleBarrier(zk, '/double', 3, { memberId: `m${i}` }));
    expect(await Promise.all(barriers.map((b) => b.enter()))).toEqual([true, true, true]);
    const leaving = [barriers[0]!.leave(), barriers[1]!.leave()];
    // #endregion double
    for (const l of leaving) expect(await isSettled(l)).toBe(false);
    await h.expire(h.clients[2]!); // its ephemeral member node goes with its session
    expect(await Promise.all(leaving)).toEqual([true, true]);
  });

  it('steps out again when enter() times out, so it is not counted', async () => {
    h = await harness(2);
    const [a, b] = h.clients.map(
      (zk, i) => new DoubleBarrier(zk, '/barriers/t', 2, { memberId: `m${i}`, clock: h!.clock }),
    ) as [DoubleBarrier, DoubleBarrier];
    const first = a.enter({ timeoutMs: 1000 });
    await eventually(() => (h!.traffic.watchedReads.get(h!.clients[0]!.sessionNumber) ?? 0) >= 1);
    await h.advance(1000);
    expect(await first).toBe(false);
    expect((await h.clients[1]!.getChildren('/barriers/t')).children).toEqual([]);
    const second = b.enter();
    expect(await isSettled(second)).toBe(false);
    expect(await a.enter()).toBe(true);
    expect(await second).toBe(true);
  });
});

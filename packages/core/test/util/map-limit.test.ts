import { describe, expect, it } from 'vitest';
import { mapLimit } from '../../src/util/map-limit.js';

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

/** A call that records how many calls are in flight and ends after `turns` event-loop turns. */
function tracked(turns: (i: number) => number, failAt?: number) {
  let inFlight = 0;
  let most = 0;
  const started: number[] = [];
  const settled: number[] = [];
  const fn = async (item: number, i: number) => {
    started.push(i);
    inFlight++;
    most = Math.max(most, inFlight);
    for (let t = 0; t < turns(i); t++) await tick();
    inFlight--;
    settled.push(i);
    if (i === failAt) throw new Error(`item ${i} failed`);
    return item * 10;
  };
  return { fn, started, settled, most: () => most };
}

describe('mapLimit', () => {
  it('returns the results in item order for none, one, up to the limit and more than the limit', async () => {
    for (const n of [0, 1, 2, 4, 5, 23]) {
      const items = Array.from({ length: n }, (_, i) => i);
      const { fn } = tracked((i) => (i * 7) % 3);
      expect(await mapLimit(items, 4, fn)).toEqual(items.map((i) => i * 10));
    }
  });

  it('never has more than the limit of calls in flight, and one at a time with a limit of 1', async () => {
    const items = Array.from({ length: 30 }, (_, i) => i);
    const pooled = tracked((i) => 1 + (i % 4));
    await mapLimit(items, 5, pooled.fn);
    expect(pooled.most()).toBe(5);
    const serial = tracked(() => 2);
    await mapLimit(items.slice(0, 6), 1, serial.fn);
    expect(serial.most()).toBe(1);
  });

  it('rejects with the first error only after every call in flight has settled', async () => {
    for (const [n, limit] of [
      [3, 8],
      [20, 4],
    ] as const) {
      const items = Array.from({ length: n }, (_, i) => i);
      // Item 1 fails at once; the others take a few turns, so they are still running then.
      const t = tracked((i) => (i === 1 ? 0 : 3), 1);
      await expect(mapLimit(items, limit, t.fn)).rejects.toThrow('item 1 failed');
      expect([...t.settled].sort((a, b) => a - b)).toEqual([...t.started].sort((a, b) => a - b));
      // Past the limit, no call starts after the failure was seen.
      if (n > limit) expect(t.started.length).toBeLessThan(n);
    }
  });

  it('turns a synchronous throw of the function into a rejection', async () => {
    const boom = (): Promise<number> => {
      throw new Error('sync');
    };
    for (const n of [1, 3, 12]) {
      const result = mapLimit(
        Array.from({ length: n }, (_, i) => i),
        4,
        boom,
      );
      await expect(result).rejects.toThrow('sync');
    }
  });
});

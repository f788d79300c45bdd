import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/memory/manual-clock.js';

type Step = { kind: 'set'; ms: number } | { kind: 'clear'; pick: number } | { kind: 'advance'; ms: number };

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ kind: fc.constant('set' as const), ms: fc.integer({ min: -5, max: 50 }) }),
  fc.record({ kind: fc.constant('clear' as const), pick: fc.nat() }),
  fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 40 }) }),
);

describe('ManualClock', () => {
  it('fires every live timer once, in due order (ties in the order set), and never a cleared one', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { maxLength: 120 }), async (steps) => {
        const clock = new ManualClock(0);
        // The model: every timer set, with its due time and whether it was cleared or fired.
        const model: { n: number; at: number; cleared: boolean; fired: boolean }[] = [];
        const handles: ReturnType<ManualClock['setTimeout']>[] = [];
        const fired: number[] = [];
        for (const s of steps) {
          if (s.kind === 'set') {
            const n = model.length;
            model.push({ n, at: clock.now() + Math.max(0, s.ms), cleared: false, fired: false });
            handles.push(clock.setTimeout(() => fired.push(n), s.ms));
          } else if (s.kind === 'clear' && model.length > 0) {
            const n = s.pick % model.length;
            clock.clearTimeout(handles[n]!);
            if (!model[n]!.fired) model[n]!.cleared = true;
          } else if (s.kind === 'advance') {
            const target = clock.now() + s.ms;
            const due = model
              .filter((t) => !t.cleared && !t.fired && t.at <= target)
              .sort((a, b) => a.at - b.at || a.n - b.n);
            const start = fired.length;
            await clock.advance(s.ms);
            expect(fired.slice(start)).toEqual(due.map((t) => t.n));
            for (const t of due) t.fired = true;
            expect(clock.now()).toBe(target);
          }
          expect(clock.pending).toBe(model.filter((t) => !t.cleared && !t.fired).length);
        }
      }),
      { seed: 20261205, numRuns: 300 },
    );
  });

  it('fires only the live timers among 50,000 waiting after 20,000 set-and-cleared ones', async () => {
    const clock = new ManualClock(0);
    const waiting = Array.from({ length: 50_000 }, () => clock.setTimeout(() => undefined, 60_000));
    let fired = 0;
    // Each request's timeout: set and cleared before it is due, 20,000 times.
    for (let i = 0; i < 20_000; i++) clock.clearTimeout(clock.setTimeout(() => fired++, 1_000));
    for (const h of waiting.slice(0, 25_000)) clock.clearTimeout(h);
    clock.setTimeout(() => fired++, 10);
    expect(clock.pending).toBe(25_001);
    await clock.advance(60_000);
    expect(fired).toBe(1);
    expect(clock.pending).toBe(0);
  });
});

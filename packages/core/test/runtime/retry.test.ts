// The one retry helper: transient failures retried with back-off on the injected clock, anything
// else (or the last failure past the attempts or the deadline) rethrown as it was.
import { describe, expect, it } from 'vitest';
import {
  backoffDelay,
  ManualClock,
  PortError,
  pause,
  retry,
  systemClock,
  TransientError,
} from '../../src/index.js';

describe('retry', () => {
  it('retries transient failures until the call succeeds', async () => {
    let calls = 0;
    const failures: number[] = [];
    const result = await retry(
      async (attempt) => {
        calls++;
        if (attempt < 3) throw new TransientError('throttled');
        return 'done';
      },
      { clock: systemClock, backoff: { baseMs: 1, maxMs: 2 }, onFailure: (_e, n) => failures.push(n) },
    );
    expect(result).toBe('done');
    expect(calls).toBe(3);
    expect(failures).toEqual([1, 2]);
  });

  it('rethrows a failure that is not transient at once', async () => {
    let calls = 0;
    const fatal = new PortError('access denied');
    await expect(
      retry(
        async () => {
          calls++;
          throw fatal;
        },
        { clock: systemClock, backoff: { baseMs: 1, maxMs: 1 } },
      ),
    ).rejects.toBe(fatal);
    expect(calls).toBe(1);
  });

  it('gives up after maxAttempts with the last failure', async () => {
    let calls = 0;
    await expect(
      retry(
        async () => {
          calls++;
          throw new TransientError(`throttled ${calls}`);
        },
        { clock: systemClock, maxAttempts: 4, backoff: { baseMs: 0, maxMs: 0 } },
      ),
    ).rejects.toThrow('throttled 4');
    expect(calls).toBe(4);
  });

  it('gives up once the injected clock passes the deadline', async () => {
    const clock = new ManualClock(0);
    let calls = 0;
    await expect(
      retry(
        async () => {
          calls++;
          // Each attempt takes 40 ms of the deployment's time.
          await clock.advance(40);
          throw new TransientError('contention');
        },
        { clock, deadline: 100, backoff: { baseMs: 0, maxMs: 0 } },
      ),
    ).rejects.toThrow('contention');
    // Failures at 40 and 80 are retried; the one at 120 is past the deadline.
    expect(calls).toBe(3);
  });

  it('uses a custom transient predicate', async () => {
    let calls = 0;
    const value = await retry(
      async () => {
        if (calls++ === 0) throw Object.assign(new Error('reset'), { code: 'ECONNRESET' });
        return calls;
      },
      {
        clock: systemClock,
        isTransient: (e) => (e as { code?: string }).code === 'ECONNRESET',
        backoff: { baseMs: 1, maxMs: 1 },
      },
    );
    expect(value).toBe(2);
  });
});

describe('back-off', () => {
  it('doubles from baseMs up to maxMs after the immediate retries', () => {
    const policy = { baseMs: 2, maxMs: 50, immediate: 2 };
    expect([1, 2, 3, 4, 5, 6, 7, 8, 100].map((f) => backoffDelay(policy, f))).toEqual([
      0, 0, 2, 4, 8, 16, 32, 50, 50,
    ]);
    expect(backoffDelay({ baseMs: 20, maxMs: 1000 }, 1)).toBe(20);
  });

  it('with half jitter draws from half to all of the wait', () => {
    const policy = { baseMs: 100, maxMs: 100, jitter: 'half' as const };
    expect(backoffDelay(policy, 1, () => 0)).toBe(50);
    expect(backoffDelay(policy, 1, () => 1)).toBe(100);
  });

  it('a pause on a manual clock ends when the clock is advanced, before real time would', async () => {
    const clock = new ManualClock(0);
    let done = false;
    const started = Date.now();
    const waiting = pause(clock, 60_000).then(() => {
      done = true;
    });
    await clock.advance(60_000);
    await waiting;
    expect(done).toBe(true);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(clock.pending).toBe(0);
  });

  it('a pause on a manual clock nobody advances still ends in real time', async () => {
    const clock = new ManualClock(0);
    await pause(clock, 10);
    // Its timer on the manual clock was cleared, so it does not fire later.
    expect(clock.pending).toBe(0);
  });
});

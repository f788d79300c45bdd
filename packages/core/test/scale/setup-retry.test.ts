// The scale bench's session setup on a slow, shared cloud emulator (bench/scale-setup.ts): a step
// that timed out or lost its connection is tried again after a back-off, a real error is not, and
// the pool never has more setups in flight than it was given.
import { describe, expect, it } from 'vitest';
import { openMany, seededRandom, withSetupRetry } from '../../src/bench/scale-setup.js';
import { FaaSKeeperError } from '../../src/index.js';

const quick = { attempts: 4, baseDelayMs: 1, random: seededRandom(1) };

describe('scale bench session setup', () => {
  it('tries a step again after OPERATIONTIMEOUT and CONNECTIONLOSS until it succeeds', async () => {
    const failures = [new FaaSKeeperError('OPERATIONTIMEOUT'), new FaaSKeeperError('CONNECTIONLOSS')];
    const lines: string[] = [];
    let calls = 0;
    const out = await withSetupRetry(
      'connect',
      async () => {
        calls++;
        const f = failures.shift();
        if (f !== undefined) throw f;
        return 'ok';
      },
      { ...quick, progress: (l) => lines.push(l) },
    );
    expect(out).toBe('ok');
    expect(calls).toBe(3);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toContain('retry 1/3 of connect');
  });

  it('does not retry an error that is an answer (NONODE) and gives up after the last attempt', async () => {
    let calls = 0;
    await expect(
      withSetupRetry(
        'create',
        async () => {
          calls++;
          throw new FaaSKeeperError('NONODE');
        },
        quick,
      ),
    ).rejects.toMatchObject({ code: 'NONODE' });
    expect(calls).toBe(1);
    calls = 0;
    await expect(
      withSetupRetry(
        'create',
        async () => {
          calls++;
          throw Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
        },
        quick,
      ),
    ).rejects.toThrow('Rate exceeded');
    expect(calls).toBe(4);
  });

  it('opens every session with at most the given number in flight, in order', async () => {
    let inFlight = 0;
    let most = 0;
    const out = await openMany(
      50,
      3,
      'sessions',
      () => {},
      async (i) => {
        inFlight++;
        most = Math.max(most, inFlight);
        await new Promise((r) => setTimeout(r, 1));
        inFlight--;
        return i * 2;
      },
    );
    expect(out).toEqual(Array.from({ length: 50 }, (_, i) => i * 2));
    expect(most).toBe(3);
  });
});

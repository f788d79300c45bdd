/*
 * Opening the many sessions of the watchers and sessions dimensions without drowning the target:
 * a bounded pool of setups in flight, a retry with back-off of a step that timed out or lost its
 * connection (the local cloud stacks answer slowly when other jobs share the machine), and
 * progress lines with the rate, so that a 10,000-session setup that takes half an hour shows where
 * it is.
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { FaaSKeeperError } from '../model/errors.js';
import { mapLimit } from '../util/map-limit.js';

/** Error codes a setup step is retried on: the deployment was slow, not wrong. */
const TRANSIENT = new Set(['OPERATIONTIMEOUT', 'CONNECTIONLOSS']);

/** Whether `error` is worth another attempt of the same setup step. */
export function transientSetupError(error: unknown): boolean {
  if (error instanceof FaaSKeeperError) return TRANSIENT.has(error.code);
  // SDK throttling or socket errors that outlived the SDK's own retries.
  const name = error instanceof Error ? error.name : '';
  return /Throttl|TimeoutError|ECONNRESET|ETIMEDOUT|RequestLimitExceeded|ProvisionedThroughput/i.test(
    `${name} ${error instanceof Error ? error.message : ''}`,
  );
}

/** Options of {@link withSetupRetry}. */
export interface SetupRetryOptions {
  /** Attempts in all, the first included. */
  attempts: number;
  /** First back-off; doubled per retry, with jitter from `random`. */
  baseDelayMs: number;
  /** Where a retry is reported. */
  progress?: (line: string) => void;
  /** A seeded generator in [0, 1) for the jitter. */
  random?: () => number;
}

/**
 * Runs `step`, and again after a back-off while it fails with a {@link transientSetupError}, at
 * most `attempts` times. `step` must be safe to repeat (the caller makes a repeated create accept
 * NODEEXISTS, for instance); any other error, or the last transient one, is thrown.
 */
export async function withSetupRetry<T>(
  what: string,
  step: () => Promise<T>,
  options: SetupRetryOptions,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await step();
    } catch (error) {
      if (attempt >= options.attempts || !transientSetupError(error)) throw error;
      const delay = options.baseDelayMs * 2 ** (attempt - 1) * (0.5 + (options.random?.() ?? 0.5));
      options.progress?.(
        `  retry ${attempt}/${options.attempts - 1} of ${what} in ${Math.round(delay)} ms: ${
          error instanceof Error ? error.message : String(error)
        }`.slice(0, 300),
      );
      await sleep(delay);
    }
  }
}

/** A generator of numbers in [0, 1) from `seed`: the same jitter at every run. */
export function seededRandom(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    // Mulberry32.
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Runs `open(i)` for `i` in `[0, count)`, at most `inFlight` at a time, and reports progress about
 * every 5% with the elapsed time and the rate. Resolves with the results in order; rejects with the
 * first error once every setup in flight has settled (see `mapLimit`).
 */
export async function openMany<T>(
  count: number,
  inFlight: number,
  what: string,
  progress: (line: string) => void,
  open: (i: number) => Promise<T>,
): Promise<T[]> {
  const t0 = performance.now();
  const step = Math.max(1, Math.ceil(count / 20));
  let done = 0;
  return mapLimit(
    Array.from({ length: count }, (_, i) => i),
    inFlight,
    async (i) => {
      const out = await open(i);
      done++;
      if (done % step === 0 || done === count) {
        const s = (performance.now() - t0) / 1000;
        progress(`  ${what} ${done}/${count} after ${Math.round(s)} s (${(done / s).toFixed(1)}/s)`);
      }
      return out;
    },
  );
}

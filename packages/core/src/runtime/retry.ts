import { type Clock, systemClock } from '../ports/clock.js';
import { isRetryable } from '../ports/errors.js';

/**
 * How long to wait between attempts: `baseMs` after the first failure past the `immediate` ones,
 * doubling per failure up to `maxMs`.
 */
export interface Backoff {
  baseMs: number;
  maxMs: number;
  /** Failures retried at once, without a wait (a redelivery that usually succeeds). Default 0. */
  immediate?: number;
  /**
   * `'half'`: each wait is drawn from [½, 1] of its value, so that many callers failing together
   * (contention on one entity) do not retry in lockstep. Default `'none'`.
   */
  jitter?: 'none' | 'half';
}

/**
 * The wait after the `failures`th failure in a row (1 for the first) under `policy`:
 * 0 while `failures ≤ immediate`, then `baseMs · 2^(failures − immediate − 1)`, at most `maxMs`.
 */
export function backoffDelay(policy: Backoff, failures: number, random: () => number = Math.random): number {
  const immediate = policy.immediate ?? 0;
  if (failures <= immediate) return 0;
  // The exponent is bounded so that a long outage does not overflow to Infinity.
  const ms = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.min(failures - immediate - 1, 30));
  return policy.jitter === 'half' ? ms * (0.5 + random() / 2) : ms;
}

/**
 * Waits `ms` on `clock`, or in real time, whichever ends first. On the system clock the two are
 * the same; a manual clock a test advances moves a back-off along with it, and one that is never
 * advanced does not stall a retry (the back-offs were in real time before there was this helper).
 * A wait of 0 still yields to I/O, so that a retry loop cannot starve the event loop.
 */
export function pause(clock: Clock, ms: number): Promise<void> {
  if (ms <= 0) return new Promise((resolve) => setImmediate(resolve));
  return new Promise((resolve) => {
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(real);
      if (onClock !== undefined) clock.clearTimeout(onClock);
      resolve();
    };
    const real = setTimeout(finish, ms);
    const onClock = clock === systemClock ? undefined : clock.setTimeout(finish, ms);
  });
}

/** Options of {@link retry}. */
export interface RetryOptions {
  /** The deadline is read, and back-offs wait, on this clock (see {@link pause}). */
  clock: Clock;
  /** Whether a failure is worth another attempt. Default: the core's {@link isRetryable} (a transient {@link PortError}). */
  isTransient?: (error: unknown) => boolean;
  /** Attempts in all, the first included. Default unbounded (then give a `deadline`). */
  maxAttempts?: number;
  /** Clock time after which a failure is not retried. */
  deadline?: number;
  backoff: Backoff;
  /** Told of every failure, the last included, with the count of failures so far (logging). */
  onFailure?: (error: unknown, failures: number) => void;
}

/**
 * Runs `fn` until it succeeds, retrying transient failures with back-off on the injected clock;
 * rethrows the first failure that is not transient, or the last one once `maxAttempts` or
 * `deadline` is reached. `fn` gets the attempt's number (1 for the first).
 */
export async function retry<T>(fn: (attempt: number) => Promise<T>, options: RetryOptions): Promise<T> {
  const isTransient = options.isTransient ?? isRetryable;
  const maxAttempts = options.maxAttempts ?? Number.POSITIVE_INFINITY;
  for (let failures = 0; ; ) {
    try {
      return await fn(failures + 1);
    } catch (error) {
      failures++;
      options.onFailure?.(error, failures);
      if (
        !isTransient(error) ||
        failures >= maxAttempts ||
        (options.deadline !== undefined && options.clock.now() > options.deadline)
      )
        throw error;
      await pause(options.clock, backoffDelay(options.backoff, failures));
    }
  }
}

/** Waits `ms` of real time (not the injected clock): for back-off between retries only. */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => (ms <= 0 ? setImmediate(resolve) : setTimeout(resolve, ms)));
}

/**
 * A settled promise, shared: what a function that usually has nothing to wait for returns in that
 * case instead of being `async` (a frame and a promise per call on a hot path). Awaiting it
 * changes nothing, so one serves every caller.
 */
export const DONE: Promise<void> = Promise.resolve();

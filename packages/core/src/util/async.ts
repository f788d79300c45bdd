/** Waits `ms` of real time (not the injected clock): for back-off between retries only. */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => (ms <= 0 ? setImmediate(resolve) : setTimeout(resolve, ms)));
}

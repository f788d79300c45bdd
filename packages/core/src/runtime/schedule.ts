import type { Clock, TimerHandle } from '../ports/clock.js';
import { errorFields, type Logger } from '../ports/logger.js';
import type { Binding, ScheduledHandler } from '../ports/runtime.js';

/**
 * Runs `handler` every `intervalMs` on `clock` (a ManualClock moves it only when advanced), one run
 * at a time: the next run is timed from the end of the previous one, as a scheduler that never
 * overlaps invocations. An error is logged at `warn` (the next run tries again), also given to
 * `onError`, and the schedule goes on. `stop()` waits for a run in progress.
 */
export function scheduleOnClock(
  clock: Clock,
  name: string,
  intervalMs: number,
  handler: ScheduledHandler,
  report: { logger: Logger; onError?: ((functionName: string, error: unknown) => void) | undefined },
): Binding {
  let running = true;
  let timer: TimerHandle | undefined;
  let current: Promise<void> = Promise.resolve();
  const tick = () => {
    if (!running) return;
    current = handler({ deadline: clock.now() + intervalMs, functionName: name })
      .catch((error) => {
        report.logger.warn('scheduled run failed; the next run tries again', {
          function: name,
          ...errorFields(error),
        });
        report.onError?.(name, error);
      })
      .finally(() => {
        if (running) timer = clock.setTimeout(tick, intervalMs);
      });
  };
  timer = clock.setTimeout(tick, intervalMs);
  return {
    stop: async () => {
      running = false;
      if (timer !== undefined) clock.clearTimeout(timer);
      await current;
    },
  };
}

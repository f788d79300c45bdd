import type { Clock, TimerHandle } from '../ports/clock.js';
import type { Binding, ScheduledHandler } from '../ports/runtime.js';

/**
 * Runs `handler` every `intervalMs` on `clock` (a ManualClock moves it only when advanced), one run
 * at a time: the next run is timed from the end of the previous one, as a scheduler that never
 * overlaps invocations. An error goes to `onError` and the schedule goes on. `stop()` waits for a
 * run in progress.
 */
export function scheduleOnClock(
  clock: Clock,
  name: string,
  intervalMs: number,
  handler: ScheduledHandler,
  onError?: (functionName: string, error: unknown) => void,
): Binding {
  let running = true;
  let timer: TimerHandle | undefined;
  let current: Promise<void> = Promise.resolve();
  const tick = () => {
    if (!running) return;
    current = handler({ deadline: clock.now() + intervalMs, functionName: name })
      .catch((error) => onError?.(name, error))
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

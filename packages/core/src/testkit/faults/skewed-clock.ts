import type { Clock, TimerHandle } from '../../ports/clock.js';

/**
 * A function's view of time: another clock plus a fixed offset (DESIGN.md §5: clocks of different
 * functions differ by up to a second). Timers run on the base clock, so they fire in step with it.
 */
export class SkewedClock implements Clock {
  constructor(
    private readonly base: Clock,
    readonly offsetMs: number,
  ) {}

  now(): number {
    return this.base.now() + this.offsetMs;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    return this.base.setTimeout(fn, ms);
  }

  clearTimeout(handle: TimerHandle): void {
    this.base.clearTimeout(handle);
  }
}

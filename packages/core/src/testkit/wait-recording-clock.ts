import { ManualClock } from '../memory/manual-clock.js';
import type { TimerHandle } from '../ports/clock.js';

/**
 * A manual clock that records the delay of every timer set on it and lets each pass at once (its
 * time moves with it): for tests that pin a retry or poll policy's waits without waiting them.
 */
export class WaitRecordingClock extends ManualClock {
  /** The delay of each timer set, in order. */
  readonly waits: number[] = [];

  override setTimeout(fn: () => void, ms: number): TimerHandle {
    this.waits.push(ms);
    const handle = super.setTimeout(fn, ms);
    void this.advance(ms);
    return handle;
  }
}

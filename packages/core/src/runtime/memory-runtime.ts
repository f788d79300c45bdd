import { type Clock, systemClock } from '../ports/clock.js';
import { jsonLogger, type Logger } from '../ports/logger.js';
import type { Queue } from '../ports/queue.js';
import type {
  BatchHandler,
  Binding,
  QueueBindingOptions,
  Runtime,
  ScheduledHandler,
} from '../ports/runtime.js';
import { BindingSet } from './binding-set.js';
import { pollQueue } from './poll-queue.js';
import { scheduleOnClock } from './schedule.js';

/** Called with every error a handler throws (the runtime retries; this is for logs and tests). */
export type RuntimeErrorListener = (functionName: string, error: unknown) => void;

/**
 * An in-process function runtime: a poller per queue binding that behaves like an event source
 * mapping (batches, partial batch failures, redelivery with back-off) and timers for schedules.
 */
export class MemoryRuntime implements Runtime {
  private readonly clock: Clock;
  private readonly bindings = new BindingSet();
  private readonly onError: RuntimeErrorListener | undefined;
  private readonly logger: Logger;

  /**
   * @param options.logger where failed polls (`error`) and failed invocations (`warn`) are logged;
   *   default JSON lines on stderr at level `error`.
   */
  constructor(options: { clock?: Clock; onError?: RuntimeErrorListener; logger?: Logger } = {}) {
    this.clock = options.clock ?? systemClock;
    this.onError = options.onError;
    this.logger = options.logger ?? jsonLogger({ level: 'error' });
  }

  bindQueue(queue: Queue, handler: BatchHandler, options: QueueBindingOptions): Binding {
    const inner = pollQueue(queue, handler, {
      ...options,
      clock: this.clock,
      waitMs: 60_000,
      logger: this.logger,
      onError: this.onError,
    });
    return this.bindings.track(inner);
  }

  schedule(name: string, intervalMs: number, handler: ScheduledHandler): Binding {
    const inner = scheduleOnClock(this.clock, name, intervalMs, handler, {
      logger: this.logger,
      onError: this.onError,
    });
    return this.bindings.track(inner);
  }

  async close(): Promise<void> {
    await this.bindings.stopAll();
  }
}

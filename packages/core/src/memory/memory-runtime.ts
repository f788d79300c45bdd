import { type Clock, systemClock } from '../ports/clock.js';
import type { Queue, ReceivedMessage } from '../ports/queue.js';
import type {
  BatchHandler,
  Binding,
  QueueBindingOptions,
  Runtime,
  ScheduledHandler,
} from '../ports/runtime.js';
import { delay } from '../util/async.js';
import { scheduleOnClock } from './schedule.js';

/** Called with every error a handler throws (the runtime retries; this is for logs and tests). */
export type RuntimeErrorListener = (functionName: string, error: unknown) => void;

/**
 * Which messages of a batch to hand out again after a partial failure: the failed ones and, to
 * keep each group's order, every later message of the same group (as SQS FIFO event source
 * mappings do).
 */
export function messagesToRetry(messages: ReceivedMessage[], failed: ReadonlySet<string>): Set<string> {
  const out = new Set<string>();
  const stoppedGroups = new Set<string>();
  for (const m of messages) {
    if (failed.has(m.id) || stoppedGroups.has(m.group)) {
      out.add(m.id);
      stoppedGroups.add(m.group);
    }
  }
  return out;
}

/**
 * An in-process function runtime: a poller per queue binding that behaves like an event source
 * mapping (batches, partial batch failures, redelivery with back-off) and timers for schedules.
 */
export class MemoryRuntime implements Runtime {
  private readonly clock: Clock;
  private readonly bindings = new Set<Binding>();
  private readonly onError: RuntimeErrorListener | undefined;

  constructor(options: { clock?: Clock; onError?: RuntimeErrorListener } = {}) {
    this.clock = options.clock ?? systemClock;
    this.onError = options.onError;
  }

  bindQueue(queue: Queue, handler: BatchHandler, options: QueueBindingOptions): Binding {
    let running = true;
    // While the loop only waits for messages, stop() need not wait for it (a wrapped queue may not
    // offer interrupt(), and a long poll on a ManualClock never times out by itself).
    let waiting = false;
    const loop = (async () => {
      let failures = 0;
      while (running) {
        waiting = true;
        const messages = await queue.receive({
          max: options.batchSize,
          visibilityTimeoutMs: options.timeoutMs,
          waitMs: 60_000,
        });
        waiting = false;
        if (!running) {
          if (messages.length > 0) await queue.release(messages.map((m) => m.receipt));
          break;
        }
        if (messages.length === 0) continue;
        let failed: Set<string>;
        try {
          const result = await handler(messages, {
            deadline: this.clock.now() + options.timeoutMs,
            functionName: options.functionName,
          });
          failed = messagesToRetry(messages, new Set(result.failed));
        } catch (error) {
          this.onError?.(options.functionName, error);
          failed = new Set(messages.map((m) => m.id));
        }
        const ok = messages.filter((m) => !failed.has(m.id)).map((m) => m.receipt);
        const retry = messages.filter((m) => failed.has(m.id)).map((m) => m.receipt);
        if (ok.length > 0) await queue.ack(ok);
        if (retry.length > 0) {
          await queue.release(retry);
          failures++;
          await delay(Math.min(50, failures <= 2 ? 0 : 2 ** (failures - 2)));
        } else {
          failures = 0;
        }
      }
    })();
    const binding: Binding = {
      stop: async () => {
        running = false;
        (queue as { interrupt?: () => void }).interrupt?.();
        if (!waiting) await loop;
        this.bindings.delete(binding);
      },
    };
    this.bindings.add(binding);
    return binding;
  }

  schedule(name: string, intervalMs: number, handler: ScheduledHandler): Binding {
    const inner = scheduleOnClock(this.clock, name, intervalMs, handler, this.onError);
    const binding: Binding = {
      stop: async () => {
        await inner.stop();
        this.bindings.delete(binding);
      },
    };
    this.bindings.add(binding);
    return binding;
  }

  async close(): Promise<void> {
    await Promise.all([...this.bindings].map((b) => b.stop()));
  }
}

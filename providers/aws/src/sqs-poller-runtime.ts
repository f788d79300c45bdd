import {
  type BatchHandler,
  type Binding,
  type Clock,
  type Meter,
  messagesToRetry,
  noMeter,
  type Queue,
  type QueueBindingOptions,
  type ReceivedMessage,
  type Runtime,
  type ScheduledHandler,
  scheduleOnClock,
  systemClock,
} from '@faaskeeper/core';
import { METER_KEYS } from './meter.js';

/** Options of {@link SqsPollerRuntime}. */
export interface SqsPollerRuntimeOptions {
  /** Clock for deadlines and schedules (a ManualClock in tests). Queue waits stay in real time. */
  clock?: Clock;
  /** Called with every error a handler throws (the runtime retries it). */
  onError?: (functionName: string, error: unknown) => void;
  /** Long-poll wait of each receive. Default 20 s, as Lambda's event source mapping polls. */
  pollWaitMs?: number;
  /** Counts invocations and GB-seconds (duration × `memoryMb`), as Lambda bills them. */
  meter?: Meter;
  /** Memory size the GB-seconds are counted for. Default 512 MB. */
  memoryMb?: number;
  /**
   * The queues' redrive policies: a message received more than `maxReceiveCount` times goes to
   * `deadLetter` instead of the handler, as SQS moves it to a dead-letter queue.
   */
  redrive?: (queue: Queue) => { deadLetter: Queue; maxReceiveCount: number } | undefined;
}

/** Lambda's SQS event source mapping takes batches of at most 10 from a FIFO queue. */
const MAX_FIFO_BATCH = 10;

/**
 * An in-process function runtime that behaves like Lambda's SQS event source mapping and an
 * EventBridge schedule: one poller per binding long-polls its queue, invokes the handler with
 * batches of at most `batchSize` (≤ 10) whose messages stay hidden for `timeoutMs` (the
 * visibility timeout), deletes what succeeded, and hands a failed message back together with the
 * later messages of its group in that batch (partial batch failure); a handler that throws gets the
 * whole batch again. Unlike Lambda, failed messages come back at once (with a short back-off)
 * rather than after the visibility timeout, which keeps local runs fast; order is the same.
 */
export class SqsPollerRuntime implements Runtime {
  private readonly clock: Clock;
  private readonly onError: ((functionName: string, error: unknown) => void) | undefined;
  private readonly pollWaitMs: number;
  private readonly bindings = new Set<Binding>();
  private readonly meter: Meter;
  private readonly memoryMb: number;
  private readonly redrive: SqsPollerRuntimeOptions['redrive'];

  constructor(options: SqsPollerRuntimeOptions = {}) {
    this.clock = options.clock ?? systemClock;
    this.onError = options.onError;
    this.pollWaitMs = options.pollWaitMs ?? 20_000;
    this.meter = options.meter ?? noMeter;
    this.memoryMb = options.memoryMb ?? 512;
    this.redrive = options.redrive;
  }

  /** Moves messages past the redrive policy's receive count to the dead-letter queue; returns the rest. */
  private async redriven(queue: Queue, messages: ReceivedMessage[]): Promise<ReceivedMessage[]> {
    const policy = this.redrive?.(queue);
    if (policy === undefined) return messages;
    const dead = messages.filter((m) => m.attempt > policy.maxReceiveCount);
    if (dead.length === 0) return messages;
    await policy.deadLetter.send(
      dead.map((m) => ({ body: m.body, group: m.group, dedupId: `dead-${m.id}` })),
    );
    await queue.ack(dead.map((m) => m.receipt));
    return messages.filter((m) => m.attempt <= policy.maxReceiveCount);
  }

  /** Runs one invocation, metering it as Lambda bills: a request, and GB-seconds per started ms. */
  private async invoke<T>(run: () => Promise<T>): Promise<T> {
    const start = performance.now();
    try {
      return await run();
    } finally {
      const ms = Math.max(1, Math.ceil(performance.now() - start));
      this.meter.add(METER_KEYS.lambdaInvocation);
      this.meter.add(METER_KEYS.lambdaGbSeconds, (ms / 1000) * (this.memoryMb / 1024));
    }
  }

  bindQueue(queue: Queue, handler: BatchHandler, options: QueueBindingOptions): Binding {
    let running = true;
    let waiting = false;
    const max = Math.max(1, Math.min(MAX_FIFO_BATCH, options.batchSize));
    const loop = (async () => {
      let failures = 0;
      while (running) {
        waiting = true;
        let messages: ReceivedMessage[];
        try {
          messages = await queue.receive({
            max,
            visibilityTimeoutMs: options.timeoutMs,
            waitMs: this.pollWaitMs,
          });
        } catch (error) {
          // The queue is unreachable (or gone): the mapping keeps polling, backing off.
          waiting = false;
          this.onError?.(options.functionName, error);
          failures++;
          await pause(Math.min(1000, 10 * 2 ** Math.min(failures, 7)));
          continue;
        }
        waiting = false;
        if (!running) {
          if (messages.length > 0) await queue.release(messages.map((m) => m.receipt)).catch(() => {});
          break;
        }
        try {
          messages = await this.redriven(queue, messages);
        } catch (error) {
          this.onError?.(options.functionName, error);
        }
        if (messages.length === 0) continue;
        let failed: Set<string>;
        try {
          const result = await this.invoke(() =>
            handler(messages, {
              deadline: this.clock.now() + options.timeoutMs,
              functionName: options.functionName,
            }),
          );
          failed = messagesToRetry(messages, new Set(result.failed));
        } catch (error) {
          this.onError?.(options.functionName, error);
          failed = new Set(messages.map((m) => m.id));
        }
        const ok = messages.filter((m) => !failed.has(m.id)).map((m) => m.receipt);
        const retry = messages.filter((m) => failed.has(m.id)).map((m) => m.receipt);
        try {
          if (ok.length > 0) await queue.ack(ok);
          if (retry.length > 0) await queue.release(retry);
        } catch (error) {
          // Undeleted messages come back after their visibility timeout; handlers are idempotent.
          this.onError?.(options.functionName, error);
        }
        if (retry.length > 0) {
          failures++;
          await pause(Math.min(100, failures <= 2 ? 0 : 2 ** (failures - 2)));
        } else failures = 0;
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
    const inner = scheduleOnClock(
      this.clock,
      name,
      intervalMs,
      (context) => this.invoke(() => handler(context)),
      this.onError,
    );
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

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => (ms <= 0 ? setImmediate(resolve) : setTimeout(resolve, ms)));
}

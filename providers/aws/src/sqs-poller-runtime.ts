import {
  type BatchHandler,
  type Binding,
  BindingSet,
  type Clock,
  jsonLogger,
  type Logger,
  type Meter,
  noMeter,
  pollQueue,
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
  /**
   * Where failed polls (`error`) and failed invocations (`warn`) are logged. Default JSON lines on
   * stderr at level `error`.
   */
  logger?: Logger;
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
  private readonly bindings = new BindingSet();
  private readonly meter: Meter;
  private readonly memoryMb: number;
  private readonly redrive: SqsPollerRuntimeOptions['redrive'];
  private readonly logger: Logger;

  constructor(options: SqsPollerRuntimeOptions = {}) {
    this.clock = options.clock ?? systemClock;
    this.onError = options.onError;
    this.pollWaitMs = options.pollWaitMs ?? 20_000;
    this.meter = options.meter ?? noMeter;
    this.memoryMb = options.memoryMb ?? 512;
    this.redrive = options.redrive;
    this.logger = options.logger ?? jsonLogger({ level: 'error' });
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
    const inner = pollQueue(queue, handler, {
      ...options,
      batchSize: Math.max(1, Math.min(MAX_FIFO_BATCH, options.batchSize)),
      clock: this.clock,
      waitMs: this.pollWaitMs,
      retryBackoffCapMs: 100,
      logger: this.logger,
      onError: this.onError,
      invoke: (run) => this.invoke(run),
      prepare: (messages) => this.redriven(queue, messages),
    });
    return this.bindings.track(inner);
  }

  schedule(name: string, intervalMs: number, handler: ScheduledHandler): Binding {
    const inner = scheduleOnClock(
      this.clock,
      name,
      intervalMs,
      (context) => this.invoke(() => handler(context)),
      { logger: this.logger, onError: this.onError },
    );
    return this.bindings.track(inner);
  }

  async close(): Promise<void> {
    await this.bindings.stopAll();
  }
}

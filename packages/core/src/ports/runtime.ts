import type { Queue, ReceivedMessage } from './queue.js';

/** What a function invocation knows about itself. */
export interface InvocationContext {
  /** Absolute time (clock ms) by which the invocation must finish. */
  deadline: number;
  /** The function's name (`writer`, `distributor`, `heartbeat`). */
  functionName: string;
  /**
   * Inline distribution only, for a batch the writer committed in this invocation just now: the
   * writer's zxid before that commit. Every batch up to it has been applied (the writer distributes
   * a batch before it commits the next), and none after it, so the distributor need not read the
   * watermark to tell. A retry's hand-off of a batch committed earlier leaves it out.
   */
  appliedThrough?: number;
}

/** Ids of the messages of a batch to hand out again (partial batch failure). */
export interface BatchResult {
  failed: string[];
}

export type BatchHandler = (messages: ReceivedMessage[], context: InvocationContext) => Promise<BatchResult>;
export type ScheduledHandler = (context: InvocationContext) => Promise<void>;

export interface QueueBindingOptions {
  functionName: string;
  batchSize: number;
  /** How long a batch may run; also the visibility timeout of the queue messages it holds. */
  timeoutMs: number;
}

export interface Binding {
  stop(): Promise<void>;
}

/**
 * The function runtime (Lambda + event source mapping + EventBridge, Cloud Functions + push
 * subscription + Scheduler, or in-process). It invokes a handler with batches from a queue,
 * redelivers failed messages, and runs scheduled handlers.
 */
export interface Runtime {
  bindQueue(queue: Queue, handler: BatchHandler, options: QueueBindingOptions): Binding;
  schedule(name: string, intervalMs: number, handler: ScheduledHandler): Binding;
  /** Stops every binding and waits for running invocations. */
  close(): Promise<void>;
}

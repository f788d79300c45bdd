import type { Clock } from '../ports/clock.js';
import { errorFields, type Logger } from '../ports/logger.js';
import type { Queue, ReceivedMessage } from '../ports/queue.js';
import type { BatchHandler, Binding, QueueBindingOptions } from '../ports/runtime.js';
import { type Backoff, backoffDelay, pause } from './retry.js';

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

/** No message to retry (never added to). */
const NONE: ReadonlySet<string> = new Set();

/** How a runtime's poller behaves; see {@link pollQueue}. */
export interface PollQueueOptions extends QueueBindingOptions {
  /** Deadlines of invocations. */
  clock: Clock;
  /** Long-poll wait of each receive. */
  waitMs: number;
  /** Longest back-off between redeliveries of a failing batch. Default 50 ms. */
  retryBackoffCapMs?: number;
  /** Logs every error once with its cause: a failed poll at `error`, a failed invocation at `warn`. */
  logger: Logger;
  /** Also told of every error: a handler's, or a queue call's (the poller carries on). */
  onError?: ((functionName: string, error: unknown) => void) | undefined;
  /** Wraps each invocation (e.g. to meter it as the provider bills). */
  invoke?: <T>(run: () => Promise<T>) => Promise<T>;
  /** Sees each received batch before the handler and returns what the handler gets (e.g. redrive to a dead-letter queue). */
  prepare?: (messages: ReceivedMessage[]) => Promise<ReceivedMessage[]>;
}

/**
 * The poller of an event source mapping, shared by the runtimes: long-polls `queue`, invokes
 * `handler` with a batch, deletes what succeeded and hands back a failed message together with the
 * later messages of its group (partial batch failure; a handler that throws gets the whole batch
 * again, after a short back-off). Errors of the queue itself are reported and the poller goes on,
 * backing off, as a mapping keeps polling an unreachable queue. Messages it holds when stopped go
 * back at once.
 */
export function pollQueue(queue: Queue, handler: BatchHandler, options: PollQueueOptions): Binding {
  const fields = { function: options.functionName, queue: queue.name };
  const report = (what: string, error: unknown, level: 'warn' | 'error' = 'error') => {
    options.logger[level](what, { ...fields, ...errorFields(error) });
    options.onError?.(options.functionName, error);
  };
  const invoke = options.invoke ?? ((run) => run());
  // A queue that cannot be reached is polled again from 20 ms up to once a second; a failing batch
  // is redelivered twice at once, then after 2, 4, … ms up to the cap.
  const pollBackoff: Backoff = { baseMs: 20, maxMs: 1000 };
  const redeliveryBackoff: Backoff = { baseMs: 2, maxMs: options.retryBackoffCapMs ?? 50, immediate: 2 };
  let running = true;
  // While the loop only waits for messages, stop() need not wait for it (a wrapped queue may not
  // offer interrupt(), and a long poll on a ManualClock never times out by itself).
  let waiting = false;
  const loop = (async () => {
    let failures = 0;
    while (running) {
      waiting = true;
      let messages: ReceivedMessage[];
      try {
        messages = await queue.receive({
          max: options.batchSize,
          visibilityTimeoutMs: options.timeoutMs,
          waitMs: options.waitMs,
        });
      } catch (error) {
        waiting = false;
        report('poll failed: receiving from the queue; polling again after a back-off', error);
        failures++;
        await pause(options.clock, backoffDelay(pollBackoff, failures));
        continue;
      }
      waiting = false;
      if (!running) {
        // They would come back after their visibility timeout anyway; released, they come back now.
        if (messages.length > 0)
          await queue
            .release(messages.map((m) => m.receipt))
            .catch((error) => report('poll stopped: could not release held messages', error, 'warn'));
        break;
      }
      if (options.prepare !== undefined)
        messages = await options.prepare(messages).catch((error) => {
          report('poll: preparing the batch failed; the handler gets it as received', error);
          return messages;
        });
      if (messages.length === 0) continue;
      let failed: ReadonlySet<string>;
      try {
        const result = await invoke(() =>
          handler(messages, {
            deadline: options.clock.now() + options.timeoutMs,
            functionName: options.functionName,
          }),
        );
        failed = result.failed.length === 0 ? NONE : messagesToRetry(messages, new Set(result.failed));
      } catch (error) {
        report('invocation failed: its whole batch is handed out again', error, 'warn');
        failed = new Set(messages.map((m) => m.id));
      }
      // The usual case, every message handled, without the sets and filters (per batch: the
      // embedded deployment's writer runs a batch for every few requests).
      const ok =
        failed.size === 0
          ? messages.map((m) => m.receipt)
          : messages.filter((m) => !failed.has(m.id)).map((m) => m.receipt);
      const retry = failed.size === 0 ? [] : messages.filter((m) => failed.has(m.id)).map((m) => m.receipt);
      try {
        if (ok.length > 0) await queue.ack(ok);
        if (retry.length > 0) await queue.release(retry);
      } catch (error) {
        // Undeleted messages come back after their visibility timeout; handlers are idempotent.
        report('poll failed: acknowledging the batch; it comes back after its visibility timeout', error);
      }
      if (retry.length > 0) {
        failures++;
        await pause(options.clock, backoffDelay(redeliveryBackoff, failures));
      } else failures = 0;
    }
  })();
  return {
    stop: async () => {
      running = false;
      (queue as { interrupt?: () => void }).interrupt?.();
      if (!waiting) await loop;
    },
  };
}

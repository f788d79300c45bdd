import {
  type BatchHandler,
  type Clock,
  type DistributorBatch,
  decodeMessage,
  decodeSessionKey,
  errorFields,
  jsonLogger,
  type Logger,
  type Meter,
  type ReceivedMessage,
  retry,
  type ScheduledHandler,
  type SessionItem,
  type SystemStore,
  splitSignature,
  systemClock,
  verifySignature,
  type WriteRequest,
} from '@faaskeeper/core';
import type { Datastore, Key } from '@google-cloud/datastore';
import type { HttpFunction } from '@google-cloud/functions-framework';
import { BoundedMap } from '../bounded-map.js';
import { int } from '../datastore-client.js';
import { guard } from '../errors.js';

/** The body Pub/Sub POSTs to a push endpoint (JSON). It carries no ordering key. */
export interface PushEnvelope {
  message?: {
    data?: string;
    attributes?: Record<string, string>;
    messageId?: string;
    message_id?: string;
    orderingKey?: string;
  };
  subscription?: string;
  deliveryAttempt?: number;
}

/**
 * What an ordered function does with one pushed message: `apply` it, `skip` it (a duplicate of one
 * already applied: acknowledge), or `wait` (a predecessor has not been applied yet: a redelivery
 * overtook it, so refuse it and let Pub/Sub push it again later).
 */
export type OrderVerdict = 'apply' | 'skip' | 'wait';

/** Decides, before a pushed message is handled, whether its turn has come; and records progress. */
export interface OrderGuard {
  check(message: ReceivedMessage): Promise<OrderVerdict>;
  /** Called after the message was applied. */
  applied?(message: ReceivedMessage): Promise<void>;
}

/** Options of {@link pushFunction}. */
export interface PushFunctionOptions {
  functionName: string;
  /** How long one invocation may run (Cloud Functions' timeout). */
  timeoutMs: number;
  clock?: Clock;
  /** Detects a redelivery that overtook its predecessor (Pub/Sub does not keep order after a nack). */
  order?: OrderGuard;
  /** Told of every error an invocation swallows into a retry or a refusal. */
  onError?: (functionName: string, error: unknown) => void;
  /**
   * Logs each refused message once with its cause (`warn`) and each failure retried inside the
   * invocation (`debug`). Default JSON lines on stderr, which Cloud Logging parses.
   */
  logger?: Logger;
  /** Counts what the push delivery bills (`pubsub.subscribe-bytes`). */
  meter?: Meter;
  /** Counts the invocation and its compute (see {@link meterInvocation}). Default: `meter`. */
  functionMeter?: Meter;
  /** The instance size the compute is counted for. Default {@link DEFAULT_FUNCTION_SIZE}. */
  size?: FunctionSize;
}

/**
 * The resources of one function instance, what Cloud Run functions (2nd gen) bill compute for:
 * the configured memory and vCPU, whatever the code uses.
 */
export interface FunctionSize {
  memoryMiB: number;
  vcpu: number;
}

/** Cloud Run functions' default instance: 256 MiB with 0.167 vCPU (the CPU that size comes with). */
export const DEFAULT_FUNCTION_SIZE: FunctionSize = { memoryMiB: 256, vcpu: 0.167 };

/** Meter keys of function invocations and compute. */
export const FUNCTION_METER_KEYS = {
  /** Requests (invocations), each billed once. */
  invocations: 'functions.invocations',
  /** vCPU-seconds: billed duration × configured vCPU. */
  vcpuSeconds: 'functions.vcpu-seconds',
  /** GiB-seconds: billed duration × configured memory. */
  gibSeconds: 'functions.gib-seconds',
} as const;

/** Cloud Run rounds each billable instance time up to the next 100 ms. */
export const BILLING_GRANULARITY_MS = 100;

/**
 * Counts one invocation that ran `ms` of wall time as Cloud Run functions bill it (request-based
 * billing, concurrency 1): one request, and vCPU- and GiB-seconds of the duration rounded up to
 * {@link BILLING_GRANULARITY_MS} at the instance's configured size.
 */
export function meterInvocation(meter: Meter, ms: number, size: FunctionSize = DEFAULT_FUNCTION_SIZE): void {
  const billedSeconds = (Math.max(1, Math.ceil(ms / BILLING_GRANULARITY_MS)) * BILLING_GRANULARITY_MS) / 1000;
  meter.add(FUNCTION_METER_KEYS.invocations, 1);
  meter.add(FUNCTION_METER_KEYS.vcpuSeconds, billedSeconds * size.vcpu);
  meter.add(FUNCTION_METER_KEYS.gibSeconds, (billedSeconds * size.memoryMiB) / 1024);
}

/** Runs `run` as one metered invocation (counted also when it throws: a failed invocation is billed). */
export async function metered<T>(meter: Meter, size: FunctionSize, run: () => Promise<T>): Promise<T> {
  const start = performance.now();
  try {
    return await run();
  } finally {
    meterInvocation(meter, performance.now() - start, size);
  }
}

/** A batch handler whose every call is metered as one function invocation (the pull path's functions). */
export function meteredHandler(
  handler: BatchHandler,
  meter: Meter,
  size: FunctionSize = DEFAULT_FUNCTION_SIZE,
): BatchHandler {
  return (messages, context) => metered(meter, size, () => handler(messages, context));
}

/** HTTP status of a refused push: Pub/Sub counts any non-2xx as a nack and pushes the message again. */
const RETRY_LATER = 503;

/**
 * Wraps a core batch handler (the writer or the distributor) as an HTTP Cloud Function for an
 * ordered Pub/Sub push subscription. Pub/Sub pushes one message per request and, with message
 * ordering, the next message of a key only after this one was acknowledged — so the function answers
 * 2xx only once the message is handled. Transient failures are retried inside the invocation until
 * its deadline, because a nack may let later messages of the key overtake this one; what still
 * fails is refused (503) and pushed again. The `order` guard then refuses an overtaking message
 * until its predecessor was applied.
 */
export function pushFunction(handler: BatchHandler, options: PushFunctionOptions): HttpFunction {
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? jsonLogger();
  const fields = { function: options.functionName };
  const attempts = new Map<string, number>();
  const functionMeter = options.functionMeter ?? options.meter;
  const size = options.size ?? DEFAULT_FUNCTION_SIZE;
  const invocation: HttpFunction = async (req, res) => {
    const message = toReceivedMessage(req.body as PushEnvelope, attempts);
    // A push delivery is billed as subscribe throughput, at least 1000 bytes.
    if (message !== undefined)
      options.meter?.add('pubsub.subscribe-bytes', Math.max(1000, Buffer.byteLength(message.body) + 64));
    if (message === undefined) {
      // Not a push body: acknowledge, or it would be pushed forever.
      res.status(204).end();
      return;
    }
    const deadline = clock.now() + options.timeoutMs;
    // The handler's errors are reported where they happen; the refusal below reports only others.
    let reported: unknown;
    try {
      const verdict = options.order === undefined ? 'apply' : await options.order.check(message);
      if (verdict === 'wait') {
        res.status(RETRY_LATER).end();
        return;
      }
      if (verdict === 'apply') {
        // Half of the invocation's time is spent retrying transient failures; past it the message
        // is refused.
        await retry(
          async () => {
            const result = await handler([message], { deadline, functionName: options.functionName });
            if (result.failed.length > 0)
              throw new Error(`${options.functionName} reported the message failed`);
          },
          {
            clock,
            deadline: deadline - options.timeoutMs / 2,
            backoff: { baseMs: 5, maxMs: 200 },
            onFailure: (error, failures) => {
              options.onError?.(options.functionName, error);
              reported = error;
              logger.debug('invocation failed', { ...fields, failures, ...errorFields(error) });
            },
          },
        );
        await options.order?.applied?.(message);
      }
      attempts.delete(message.id);
      res.status(204).end();
    } catch (error) {
      // A crashed or failed invocation: refused, so Pub/Sub pushes the message again, as it does
      // when a Cloud Functions instance dies mid-request.
      if (error !== reported) options.onError?.(options.functionName, error);
      logger.warn('refused a pushed message: Pub/Sub pushes it again', {
        ...fields,
        messageId: message.id,
        ...errorFields(error),
      });
      res.status(RETRY_LATER).end();
    }
  };
  if (functionMeter === undefined) return invocation;
  return (req, res) => metered(functionMeter, size, async () => invocation(req, res));
}

/** A scheduled function (Cloud Scheduler calls it over HTTP). Errors are logged and answered 500. */
export function scheduledFunction(
  handler: ScheduledHandler,
  options: {
    functionName: string;
    timeoutMs: number;
    clock?: Clock;
    onError?: (name: string, e: unknown) => void;
    /** Logs a failed run with its cause (`warn`: the next scheduled run tries again). Default JSON lines on stderr. */
    logger?: Logger;
    /** Counts the invocation and its compute. */
    functionMeter?: Meter;
    size?: FunctionSize;
  },
): HttpFunction {
  const clock = options.clock ?? systemClock;
  const invocation: HttpFunction = async (_req, res) => {
    try {
      await handler({ deadline: clock.now() + options.timeoutMs, functionName: options.functionName });
      res.status(204).end();
    } catch (error) {
      options.onError?.(options.functionName, error);
      (options.logger ?? jsonLogger()).warn('scheduled run failed; the next run tries again', {
        function: options.functionName,
        ...errorFields(error),
      });
      res.status(500).end();
    }
  };
  const meter = options.functionMeter;
  if (meter === undefined) return invocation;
  return (req, res) =>
    metered(meter, options.size ?? DEFAULT_FUNCTION_SIZE, async () => invocation(req, res));
}

/** The core's view of a pushed message; `attempt` from Pub/Sub when it counts, else this instance's count. */
export function toReceivedMessage(
  envelope: PushEnvelope | undefined,
  attempts: Map<string, number>,
): ReceivedMessage | undefined {
  const m = envelope?.message;
  if (m === undefined) return undefined;
  const id = m.messageId ?? m.message_id ?? '';
  const counted = (attempts.get(id) ?? 0) + 1;
  attempts.set(id, counted);
  if (attempts.size > 10_000) attempts.delete(attempts.keys().next().value as string);
  return {
    id,
    body: Buffer.from(m.data ?? '', 'base64').toString('utf8'),
    // Push bodies omit the ordering key: the queue adapter repeats the group as an attribute.
    group: m.orderingKey ?? m.attributes?.group ?? '',
    attempt: envelope?.deliveryAttempt && envelope.deliveryAttempt > 0 ? envelope.deliveryAttempt : counted,
    receipt: id,
  };
}

/**
 * Keeps each session's requests in order on the writer's push subscription: a request whose `seq`
 * is beyond the session's `lastSeq + 1` overtook a predecessor (a redelivery after a nack) and
 * waits. A resume, and a request of an incarnation other than the session's current one (see
 * core's session/resume.ts), go through: neither uses up a seq.
 *
 * Costs one system-store read per client request, except where this instance already knows the
 * answer: it remembers, per session, the incarnation, key and a lower bound of `lastSeq` it read,
 * raised when a request it found in order was applied (the writer then used up its seq: `admit`
 * or `useUpSeq`, or the session ended or moved to another incarnation). A request of that
 * incarnation, signed with that key, at or below the bound + 1 is let through without a read:
 * `lastSeq` never falls while the session lives, so a read would let it through too (and an
 * ended or replaced session lets everything through). Anything else is read as before. With one
 * writer instance (Pub/Sub pushes a key's next message after the ack), a session's requests after
 * its first read cost no read.
 */
export function writerOrderGuard(systemStore: SystemStore): OrderGuard {
  const known = new BoundedMap<number, KnownSession>(MAX_KNOWN_SESSIONS);
  /** Requests found in order, by message id: applied, they raise their session's bound. */
  const inOrder = new BoundedMap<string, { session: number; inc: number; seq: number }>(MAX_KNOWN_SESSIONS);
  return {
    async check(message) {
      let request: WriteRequest;
      try {
        request = decodeMessage<WriteRequest>(message.body);
      } catch {
        return 'apply'; // the writer answers malformed input itself
      }
      if (
        typeof request !== 'object' ||
        request === null ||
        typeof request.session !== 'number' ||
        typeof request.seq !== 'number' ||
        request.session === 0 ||
        request.op?.type === 'openSession' ||
        // A resume takes no seq: the writer answers it with the lastSeq the resumer numbers on from.
        request.op?.type === 'resumeSession'
      )
        return 'apply';
      const inc = request.inc ?? 0;
      const signed = splitSignature(message.body);
      const memo = known.get(request.session);
      if (
        memo !== undefined &&
        memo.inc === inc &&
        request.seq <= memo.lastSeq + 1 &&
        verifySignature(memo.key, signed)
      ) {
        inOrder.set(message.id, { session: request.session, inc, seq: request.seq });
        return 'apply';
      }
      const session = await systemStore.get<SessionItem>({ kind: 'session', id: String(request.session) });
      if (session === undefined) {
        known.delete(request.session);
        return 'apply'; // the writer answers SESSIONEXPIRED
      }
      const current = session.value.incarnation ?? 0;
      const key = session.value.key === undefined ? undefined : decodeSessionKey(session.value.key);
      // Only a keyed session is remembered: without a key no request verifies, and all go through.
      if (key !== undefined)
        known.set(request.session, { inc: current, key, lastSeq: session.value.lastSeq });
      // A request of a replaced incarnation (or of one the writer has not seen resume yet) is
      // refused by the writer without using a seq: waiting for its seq could wait for good.
      if (inc !== current) return 'apply';
      // A request not signed by the session's client (forged by another) is dropped by the writer
      // without using a seq: were it to wait for its seq, any client could stall the ordered queue.
      if (!verifySignature(key, signed)) return 'apply';
      if (request.seq > session.value.lastSeq + 1) return 'wait';
      inOrder.set(message.id, { session: request.session, inc, seq: request.seq });
      return 'apply';
    },
    async applied(message) {
      const applied = inOrder.get(message.id);
      if (applied === undefined) return;
      inOrder.delete(message.id);
      const memo = known.get(applied.session);
      if (memo !== undefined && memo.inc === applied.inc && applied.seq > memo.lastSeq)
        known.set(applied.session, { ...memo, lastSeq: applied.seq });
    },
  };
}

/** What {@link writerOrderGuard} knows of a session: a lower bound of its `lastSeq` in an incarnation. */
interface KnownSession {
  inc: number;
  key: Uint8Array;
  lastSeq: number;
}

/** Sessions (and in-order requests) a writer instance remembers: about 100 bytes each. */
const MAX_KNOWN_SESSIONS = 10_000;

/**
 * Keeps the distributor's batches in order on its push subscription: batches are numbered one by
 * one by the writer; the number of the last applied batch is kept in a Datastore entity. A batch at
 * or below it is a duplicate (skipped), one beyond the next waits. Costs one entity read and one
 * write per batch.
 */
export function distributorOrderGuard(options: {
  datastore: Datastore;
  namespace?: string;
  kindPrefix?: string;
  meter?: Meter;
}): OrderGuard {
  const path = [`${options.kindPrefix ?? 'fk_'}progress`, 'distributor'];
  const key: Key = options.datastore.key(
    options.namespace === undefined ? { path } : { namespace: options.namespace, path },
  );
  const numberOf = (message: ReceivedMessage): number | undefined => {
    try {
      const batch = decodeMessage<DistributorBatch>(message.body);
      return typeof batch?.batch === 'number' ? batch.batch : undefined;
    } catch {
      return undefined;
    }
  };
  const last = async (): Promise<number> => {
    const [entity] = (await guard('read distributor progress', () => options.datastore.get(key))) as [
      Record<string, unknown> | undefined,
    ];
    options.meter?.add('datastore.entity-reads', 1);
    return entity === undefined ? 0 : int(entity.batch);
  };
  return {
    async check(message) {
      const n = numberOf(message);
      if (n === undefined) return 'apply'; // the distributor drops what it cannot read
      const done = await last();
      if (n <= done) return 'skip';
      return n === done + 1 ? 'apply' : 'wait';
    },
    async applied(message) {
      const n = numberOf(message);
      if (n === undefined) return;
      await guard('write distributor progress', () =>
        options.datastore.upsert({ key, data: { batch: n }, excludeFromIndexes: ['batch'] }),
      );
      options.meter?.add('datastore.entity-writes', 1);
    },
  };
}

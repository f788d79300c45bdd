import {
  type BatchHandler,
  type Clock,
  createDistributor,
  createHeartbeat,
  createWriter,
  type InvocationContext,
  type Meter,
  messagesToRetry,
  systemClock,
} from '@faaskeeper/core';
import { createAwsClients } from '../aws-clients.js';
import { type AwsDeploymentConfig, type AwsPorts, configFromEnv, createAwsPorts } from '../config.js';
import { BodyOffload } from '../sqs-offload.js';
import type { LambdaContext, ScheduledEvent, SqsBatchResponse, SqsEvent } from './lambda-types.js';
import { recordsToMessages } from './sqs-event.js';

/** What a handler factory takes; everything defaults to the Lambda environment. */
export interface HandlerOptions {
  /** The deployment; default: read from environment variables on the first invocation. */
  config?: AwsDeploymentConfig;
  /** Ready ports (local runs, tests); default: built from the config. */
  ports?: AwsPorts;
  /** Resolves offloaded SQS bodies; default: the config's bucket. */
  offload?: BodyOffload;
  clock?: Clock;
  meter?: Meter;
  /** Test hook: awaited by the distributor between two record writes. */
  betweenDistributorWrites?: (path: string) => Promise<void>;
  /** Default function timeout when the context gives none. Default 30 s. */
  timeoutMs?: number;
}

interface Resolved {
  ports: AwsPorts;
  offload: BodyOffload | undefined;
  config: AwsDeploymentConfig | undefined;
}

/** Builds the ports once per container (Lambda reuses it across invocations). */
function lazyPorts(options: HandlerOptions): () => Resolved {
  let resolved: Resolved | undefined;
  return () => {
    if (resolved !== undefined) return resolved;
    if (options.ports !== undefined) {
      resolved = { ports: options.ports, offload: options.offload, config: options.config };
      return resolved;
    }
    const config = options.config ?? configFromEnv();
    const clients = createAwsClients(config);
    resolved = {
      ports: createAwsPorts(config, clients, options.meter),
      offload:
        options.offload ??
        new BodyOffload({ client: clients.s3, bucket: config.bucket, prefix: 'sqs-bodies/' }),
      config,
    };
    return resolved;
  };
}

function invocation(
  clock: Clock,
  name: string,
  context: LambdaContext | undefined,
  timeoutMs: number,
): InvocationContext {
  const remaining = context?.getRemainingTimeInMillis?.() ?? timeoutMs;
  return { deadline: clock.now() + remaining, functionName: context?.functionName ?? name };
}

/** Wraps a core batch handler as an SQS Lambda handler with partial batch failure responses. */
function sqsHandler(
  name: string,
  options: HandlerOptions,
  make: (resolved: Resolved, clock: Clock) => BatchHandler,
): (event: SqsEvent, context?: LambdaContext) => Promise<SqsBatchResponse> {
  const clock = options.clock ?? systemClock;
  const resolve = lazyPorts(options);
  let handler: BatchHandler | undefined;
  return async (event, context) => {
    const resolved = resolve();
    handler ??= make(resolved, clock);
    const messages = await recordsToMessages(event.Records, resolved.offload);
    const result = await handler(messages, invocation(clock, name, context, options.timeoutMs ?? 30_000));
    // FIFO: a failed message's later group members must come back too, or the group reorders.
    const retry = messagesToRetry(messages, new Set(result.failed));
    return {
      batchItemFailures: messages.filter((m) => retry.has(m.id)).map((m) => ({ itemIdentifier: m.id })),
    };
  };
}

/**
 * The writer Lambda: an SQS event from the writer queue → `{ batchItemFailures }`. Commits each
 * batch in one DynamoDB transaction and forwards it to the distributor queue (core `createWriter`).
 */
export function createWriterHandler(options: HandlerOptions = {}) {
  return sqsHandler('writer', options, ({ ports, config }, clock) =>
    createWriter({
      systemStore: ports.systemStore,
      distributorQueue: ports.distributorQueue,
      clock,
      clockSkewMs: config?.clockSkewMs ?? 1000,
    }),
  );
}

/**
 * The distributor Lambda: an SQS event from the distributor queue → `{ batchItemFailures }`.
 * Applies committed batches to the user store and answers on the session channels.
 */
export function createDistributorHandler(options: HandlerOptions = {}) {
  return sqsHandler('distributor', options, ({ ports }) =>
    createDistributor({
      userStore: ports.userStore,
      channel: ports.channel,
      ...(options.betweenDistributorWrites === undefined
        ? {}
        : { betweenWrites: options.betweenDistributorWrites }),
    }),
  );
}

/**
 * The heartbeat Lambda, run by an EventBridge schedule: expires silent sessions and TTL nodes
 * through the writer queue.
 */
export function createHeartbeatHandler(options: HandlerOptions = {}) {
  const clock = options.clock ?? systemClock;
  const resolve = lazyPorts(options);
  let heartbeat: ((context: InvocationContext) => Promise<void>) | undefined;
  return async (_event: ScheduledEvent, context?: LambdaContext): Promise<void> => {
    const { ports, config } = resolve();
    heartbeat ??= createHeartbeat({
      systemStore: ports.systemStore,
      writerQueue: ports.writerQueue,
      clock,
      clockSkewMs: config?.clockSkewMs ?? 1000,
    });
    await heartbeat(invocation(clock, 'heartbeat', context, options.timeoutMs ?? 30_000));
  };
}

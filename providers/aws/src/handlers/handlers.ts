import {
  type BatchHandler,
  type Clock,
  createFunctions,
  errorFields,
  type FunctionSecrets,
  type Functions,
  type InvocationContext,
  type Logger,
  type Meter,
  messagesToRetry,
  secretsFromEnv,
  systemClock,
} from '@faaskeeper/core';
import { createAwsClients } from '../aws-clients.js';
import { type AwsDeploymentConfig, type AwsPorts, configFromEnv, createAwsPorts } from '../config.js';
import { BodyOffload } from '../sqs-offload.js';
import type { LambdaContext, ScheduledEvent, SqsBatchResponse, SqsEvent } from './lambda-types.js';
import { type LambdaLogger, powertoolsLogger } from './logger.js';
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
  /**
   * Where the functions log what they drop or retry, and a failed start-up. Default: Powertools'
   * Lambda logger (JSON on stdout, level from `POWERTOOLS_LOG_LEVEL`, default INFO).
   */
  logger?: Logger;
  /** Test hook: awaited by the distributor between two record writes. */
  betweenDistributorWrites?: (path: string) => Promise<void>;
  /**
   * The deployment's secrets (channel secret, super digest, gateway key). Default: from the
   * function's environment (`FAASKEEPER_CHANNEL_SECRET`, ..., set by the stack).
   */
  secrets?: FunctionSecrets;
  /**
   * How the writer hands committed batches on: in its own invocation (`inline`, the default, see
   * docs/cost.md) or through the distributor queue (`queue`).
   */
  distribution?: 'inline' | 'queue';
  /** Default function timeout when the context gives none. Default 30 s. */
  timeoutMs?: number;
}

interface Resolved {
  functions: Functions;
  offload: BodyOffload | undefined;
}

/**
 * Builds the ports and the functions once per container (Lambda reuses it across invocations). A
 * failed start-up (configuration missing, clients that cannot be made) is logged with its cause and
 * thrown: Lambda reports the invocation failed, and the next one tries again.
 */
function lazyFunctions(options: HandlerOptions, clock: Clock, logger: Logger): () => Resolved {
  let resolved: Resolved | undefined;
  return () => {
    if (resolved !== undefined) return resolved;
    try {
      let ports: AwsPorts;
      let offload = options.offload;
      let config = options.config;
      if (options.ports !== undefined) ports = options.ports;
      else {
        config ??= configFromEnv();
        const clients = createAwsClients(config);
        ports = createAwsPorts(config, clients, options.meter);
        offload ??= new BodyOffload({ client: clients.s3, bucket: config.bucket, prefix: 'sqs-bodies/' });
      }
      const functions = createFunctions(ports, {
        clock,
        logger,
        clockSkewMs: config?.clockSkewMs ?? 1000,
        ...(options.secrets ?? secretsFromEnv(process.env)),
        ...(options.distribution === undefined ? {} : { distribution: options.distribution }),
        ...(options.betweenDistributorWrites === undefined
          ? {}
          : { betweenDistributorWrites: options.betweenDistributorWrites }),
      });
      resolved = { functions, offload };
      return resolved;
    } catch (error) {
      logger.error('start-up failed: the function could not open its ports', errorFields(error));
      throw error;
    }
  };
}

/**
 * What one Lambda container keeps across invocations: its clock, its functions (built on the first
 * invocation) and its logger — the given one, or Powertools' stamped with each invocation's context.
 */
function container(options: HandlerOptions): {
  clock: Clock;
  resolve: () => Resolved;
  stamp: (context: LambdaContext | undefined) => void;
} {
  const clock = options.clock ?? systemClock;
  const lambda: LambdaLogger | undefined = options.logger === undefined ? powertoolsLogger() : undefined;
  return {
    clock,
    resolve: lazyFunctions(options, clock, options.logger ?? (lambda as LambdaLogger)),
    stamp: (context) => {
      if (context !== undefined) lambda?.addContext(context);
    },
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
  name: 'writer' | 'distributor',
  options: HandlerOptions,
): (event: SqsEvent, context?: LambdaContext) => Promise<SqsBatchResponse> {
  const { clock, resolve, stamp } = container(options);
  return async (event, context) => {
    stamp(context);
    const resolved = resolve();
    const handler: BatchHandler = resolved.functions[name];
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
 * batch in one DynamoDB transaction and distributes it in the same invocation (core `createWriter`).
 */
export function createWriterHandler(options: HandlerOptions = {}) {
  return sqsHandler('writer', options);
}

/**
 * The distributor Lambda: an SQS event from the distributor queue → `{ batchItemFailures }`.
 * Applies committed batches to the user store and answers on the session channels.
 */
export function createDistributorHandler(options: HandlerOptions = {}) {
  return sqsHandler('distributor', options);
}

/**
 * The heartbeat Lambda, run by an EventBridge schedule: expires silent sessions and TTL nodes
 * through the writer queue.
 */
export function createHeartbeatHandler(options: HandlerOptions = {}) {
  const { clock, resolve, stamp } = container(options);
  return async (_event: ScheduledEvent, context?: LambdaContext): Promise<void> => {
    stamp(context);
    await resolve().functions.heartbeat(invocation(clock, 'heartbeat', context, options.timeoutMs ?? 30_000));
  };
}

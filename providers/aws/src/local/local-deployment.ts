import { randomBytes, randomUUID } from 'node:crypto';
import {
  type BatchHandler,
  type Binding,
  bootstrap,
  ClientPool,
  type Clock,
  type Deployment,
  type DeploymentOptions,
  errorFields,
  FaaSKeeperError,
  jsonLogger,
  type Meter,
  systemClock,
} from '@faaskeeper/core';
import { type AwsClients, createAwsClients } from '../aws-clients.js';
import { type AwsDeploymentConfig, type AwsPorts, createAwsPorts, type UserStoreKind } from '../config.js';
import type { AwsConnectOptions } from '../connect.js';
import {
  createDistributorHandler,
  createHeartbeatHandler,
  createWriterHandler,
} from '../handlers/handlers.js';
import type { LambdaContext, SqsBatchResponse, SqsEvent } from '../handlers/lambda-types.js';
import { messagesToEvent } from '../handlers/sqs-event.js';
import { SqsPollerRuntime } from '../sqs-poller-runtime.js';
import { type LocalAwsStack, startLocalAwsStack } from './local-stack.js';
import { destroyAwsDeployment, provisionAwsDeployment } from './provision.js';

/** Options of {@link createLocalAwsDeployment}. */
export interface LocalAwsDeploymentOptions extends DeploymentOptions {
  /** A running stack to deploy on (kept running at close); default: start one (stopped at close). */
  stack?: LocalAwsStack;
  /** Deployment name; default: a fresh random one, so that deployments can share a stack. */
  deployment?: string;
  /** The user store service. Default `dynamodb`, as a deployed stack. */
  userStore?: UserStoreKind;
  /** Lambda batch size of the writer's event source mapping (≤ 10). Default 10. */
  writerBatchSize?: number;
  /** Lambda batch size of the distributor's event source mapping (≤ 10). Default 10. */
  distributorBatchSize?: number;
  /**
   * Long-poll wait of the functions' receives (SQS counts whole seconds). Default 20 s, as Lambda's
   * event source mapping polls; a test that holds a poller sets it short, so that a long poll it
   * interrupts ends on the emulator's side soon too.
   */
  pollWaitMs?: number;
  /** Counts the billable requests of the functions and of every client. */
  meter?: Meter;
  /** Counts the functions' invocations and GB-seconds. Default: `meter`. */
  functionMeter?: Meter;
  /** Counts the billable requests of the clients (apart from the deployment's). Default: `meter`. */
  clientMeter?: Meter /** The super digest, `super:<base64 sha1>`, as a deployed stack's `superDigest`. Default: no super user. */;
  superDigest?: string;
  /** The key gateways attest client addresses with, as a deployed stack's `gatewayKey`. Default: none. */
  gatewayKey?: string;
}

/**
 * A FaaSKeeper deployment on the local AWS emulators, functions run in-process by a poller.
 * `ready` resolves at once (it is bootstrapped before it is returned); `close` also deletes the
 * deployment's resources, and stops a stack it started.
 */
export interface LocalAwsDeployment extends Deployment {
  readonly config: AwsDeploymentConfig;
  readonly stack: LocalAwsStack;
  readonly ports: AwsPorts & { runtime: SqsPollerRuntime };
  /** What another process passes to `connect()` from `@faaskeeper/aws` to reach this deployment. */
  readonly connectOptions: AwsConnectOptions;
}

type LambdaSqsHandler = (event: SqsEvent, context?: LambdaContext) => Promise<SqsBatchResponse>;

/**
 * Runs a Lambda SQS handler the way the event source mapping does: the batch becomes an SQS event,
 * the partial batch response becomes the failed ids.
 */
function throughLambda(handler: LambdaSqsHandler, clock: Clock): BatchHandler {
  return async (messages, context) => {
    const response = await handler(messagesToEvent(messages), {
      functionName: context.functionName,
      getRemainingTimeInMillis: () => context.deadline - clock.now(),
    });
    return { failed: response.batchItemFailures.map((f) => f.itemIdentifier) };
  };
}

/**
 * Deploys FaaSKeeper on the local AWS stack: creates the tables, bucket and FIFO queues, bootstraps
 * the tree, and runs the real writer, distributor and heartbeat Lambda handlers in-process through
 * {@link SqsPollerRuntime} (batches, visibility timeout, partial batch failures, retries). The
 * returned object has the embedded deployment's shape, so the same guarantee tests run on it.
 */
export async function createLocalAwsDeployment(
  options: LocalAwsDeploymentOptions = {},
): Promise<LocalAwsDeployment> {
  const clock = options.clock ?? systemClock;
  // A test deployment: only what is lost (a dropped batch, a failed poll) is printed by default.
  const logger = options.logger ?? jsonLogger({ level: 'error' });
  const ownStack = options.stack === undefined;
  const stack = options.stack ?? (await startLocalAwsStack());
  const clients: AwsClients = createAwsClients(stack.endpoints);
  const deployment = options.deployment ?? `local-${randomUUID().slice(0, 8)}`;
  let config: AwsDeploymentConfig;
  try {
    config = {
      ...(await provisionAwsDeployment(clients, {
        deployment,
        region: stack.endpoints.region,
        credentials: stack.endpoints.credentials,
        endpoints: { dynamodb: stack.endpoints.dynamodb, sqs: stack.endpoints.sqs, s3: stack.endpoints.s3 },
        ...(options.userStore === undefined ? {} : { userStore: options.userStore }),
      })),
      ...(options.clockSkewMs === undefined ? {} : { clockSkewMs: options.clockSkewMs }),
    };
  } catch (error) {
    logger.error('start-up failed: provisioning the local deployment', errorFields(error));
    clients.destroy();
    if (ownStack) await stack.stop();
    throw error;
  }
  const raw = createAwsPorts(config, clients, options.meter);
  const wrap = options.wrap ?? {};
  const ports: AwsPorts = {
    systemStore: wrap.systemStore?.(raw.systemStore) ?? raw.systemStore,
    userStore: wrap.userStore?.(raw.userStore) ?? raw.userStore,
    writerQueue: wrap.writerQueue?.(raw.writerQueue) ?? raw.writerQueue,
    distributorQueue: wrap.distributorQueue?.(raw.distributorQueue) ?? raw.distributorQueue,
    channel: wrap.channel?.(raw.channel) ?? raw.channel,
    lease: raw.lease,
  };
  await bootstrap(ports.systemStore, ports.userStore);

  const runtime = new SqsPollerRuntime({
    clock,
    logger,
    ...(options.pollWaitMs === undefined ? {} : { pollWaitMs: options.pollWaitMs }),
    ...(options.onFunctionError === undefined ? {} : { onError: options.onFunctionError }),
    ...((options.functionMeter ?? options.meter) === undefined
      ? {}
      : { meter: (options.functionMeter ?? options.meter) as Meter }),
  });
  const handlerOptions = {
    config,
    ports,
    clock,
    logger,
    // As the stack generates one per deployment: channels sealed, the same secret in both functions.
    secrets: {
      channelSecret: randomBytes(32).toString('base64'),
      ...(options.superDigest === undefined ? {} : { superDigest: options.superDigest }),
      ...(options.gatewayKey === undefined ? {} : { gatewayKey: options.gatewayKey }),
    },
    ...(options.betweenDistributorWrites === undefined
      ? {}
      : { betweenDistributorWrites: options.betweenDistributorWrites }),
  };
  const heartbeatHandler = createHeartbeatHandler(handlerOptions);
  const wrapHandler = options.wrapHandler ?? ((_name, handler) => handler);
  const bindings: Binding[] = [
    runtime.bindQueue(
      ports.writerQueue,
      wrapHandler('writer', throughLambda(createWriterHandler(handlerOptions), clock)),
      {
        functionName: 'writer',
        batchSize: options.writerBatchSize ?? 10,
        timeoutMs: 30_000,
      },
    ),
    runtime.bindQueue(
      ports.distributorQueue,
      wrapHandler('distributor', throughLambda(createDistributorHandler(handlerOptions), clock)),
      {
        functionName: 'distributor',
        batchSize: options.distributorBatchSize ?? 10,
        timeoutMs: 30_000,
      },
    ),
    runtime.schedule('heartbeat', options.heartbeatIntervalMs ?? 1000, (context) =>
      heartbeatHandler(
        { source: 'aws.events', 'detail-type': 'Scheduled Event' },
        {
          functionName: context.functionName,
          getRemainingTimeInMillis: () => context.deadline - clock.now(),
        },
      ),
    ),
  ];

  const clientMeter = options.clientMeter ?? options.meter;
  const pool = new ClientPool('local deployment', logger);
  let closed = false;

  return {
    clock,
    config,
    stack,
    ports: { ...ports, runtime },
    connectOptions: {
      deployment: config.deployment,
      region: config.region,
      endpoints: { dynamodb: stack.endpoints.dynamodb, sqs: stack.endpoints.sqs, s3: stack.endpoints.s3 },
      // A copy with the documented fields only: the SDK marks the credential objects it is given
      // (`$source`), and these options are written to files (`faaskeeper dev`).
      credentials: {
        accessKeyId: stack.endpoints.credentials.accessKeyId,
        secretAccessKey: stack.endpoints.credentials.secretAccessKey,
      },
      userStore: config.userStore,
      config: {
        writerQueueUrl: config.writerQueueUrl,
        bucket: config.bucket,
        channelPrefix: config.channelPrefix,
      },
    },
    ready: Promise.resolve(),
    async connect(clientOptions = {}) {
      if (closed)
        throw new FaaSKeeperError('CONNECTIONLOSS', 'CONNECTIONLOSS: the local deployment is closed');
      // Each client has its own ports, as a user's process would (it shares only the SDK clients).
      const own = createAwsPorts(config, clients, clientMeter);
      const channel =
        options.wrapClientChannel === undefined
          ? own.channel
          : options.wrapClientChannel(
              own.channel,
              clientOptions.sessionId === undefined ? {} : { sessionId: clientOptions.sessionId },
            );
      return pool.connect(
        { writerQueue: own.writerQueue, userStore: own.userStore, channel, lease: own.lease },
        {
          clock,
          sessionTimeoutMs: options.sessionTimeoutMs ?? 10_000,
          operationTimeoutMs: options.operationTimeoutMs ?? 30_000,
          ...clientOptions,
        },
      );
    },
    partition: (client) => pool.partition(client),
    heal: (client) => pool.heal(client),
    heartbeat: () =>
      heartbeatHandler(
        { source: 'aws.events' },
        { functionName: 'heartbeat', getRemainingTimeInMillis: () => 10_000 },
      ),
    async close() {
      if (closed) return;
      closed = true;
      await pool.close(2000);
      await Promise.all(bindings.map((b) => b.stop()));
      await runtime.close();
      if (ownStack) {
        clients.destroy();
        await stack.stop();
      } else {
        // The stack stays up for other deployments; what is left of this one costs nothing there.
        await destroyAwsDeployment(clients, config).catch((error) =>
          logger.warn('close: deleting the local deployment failed', errorFields(error)),
        );
        clients.destroy();
      }
    },
  };
}

import { AsyncLocalStorage } from 'node:async_hooks';
import { randomBytes } from 'node:crypto';
import {
  type Binding,
  bootstrap,
  ClientPool,
  createFunctions,
  type Deployment,
  type DeploymentOptions,
  errorFields,
  FaaSKeeperError,
  jsonLogger,
  MemoryRuntime,
  type Meter,
  noMeter,
  QueueLeaseRenewer,
  type Runtime,
  systemClock,
} from '@faaskeeper/core';
import type { HttpFunction } from '@google-cloud/functions-framework';
import {
  type GcpDeploymentConfig,
  type GcpPorts,
  openGcpPorts,
  resourceNames,
  subscriptionNames,
  userStoreOf,
} from '../deployment.js';
import { createGcpFunctions } from '../functions/gcp-functions.js';
import { DEFAULT_FUNCTION_SIZE, type FunctionSize, metered, meteredHandler } from '../functions/handlers.js';
import { PubSubChannel } from '../pubsub-channel.js';
import { ensurePushSubscription, pubsubClients, subscriptionPath } from '../pubsub-client.js';
import { PubSubQueue } from '../pubsub-queue.js';
import { type ServedFunctions, serveFunctions } from './functions-server.js';
import { type LocalGcpStack, startLocalGcpStack } from './local-stack.js';

/**
 * Options of {@link createLocalGcpDeployment}. Every {@link DeploymentOptions} field keeps its
 * meaning on both invocation paths, except the batch sizes, which push invocation ignores.
 */
export interface LocalGcpDeploymentOptions extends DeploymentOptions {
  /** Emulators to run on; default: start a stack and stop it on close. */
  stack?: LocalGcpStack;
  /** Deployment name (namespace and topic prefix). Default a fresh one. */
  deployment?: string;
  /** Most requests per writer invocation. Default 100. Pull only: a push invocation takes one message. */
  writerBatchSize?: number;
  /** Most batches per distributor invocation. Default 100. Pull only: a push invocation takes one message. */
  distributorBatchSize?: number;
  /** Counts every billable operation of the functions and clients. */
  meter?: Meter;
  /** Counts the functions' invocations, vCPU-seconds and GiB-seconds (both invocation paths). Default: `meter`. */
  functionMeter?: Meter;
  /** Counts the billable operations of the clients (apart from the deployment's). Default: `meter`. */
  clientMeter?: Meter;
  /** The functions' configured memory and vCPU, what compute is counted for. Default 256 MiB, 0.167 vCPU. */
  functionSize?: FunctionSize;
  /**
   * How the writer and distributor are invoked. `'pull'` (default): in-process pollers on ordered
   * pull subscriptions, batching many messages per invocation. `'push'`: the real Cloud Functions
   * path — the functions served over HTTP by the functions framework on 127.0.0.1 and invoked by
   * ordered push subscriptions of the Pub/Sub emulator, one message per invocation; the heartbeat
   * is POSTed on schedule as Cloud Scheduler would. `wrapHandler` (crash injection) applies to
   * both: on push, what the wrapped handler throws is answered 503 and pushed again.
   */
  invocation?: 'pull' | 'push';
  /** Where node records live. Default `'datastore'`; `'gcs'` needs the stack's Cloud Storage emulator. */
  userStore?:
    | 'datastore'
    | 'gcs' /** The super digest, `super:<base64 sha1>`, as a deployed stack's `superDigest`. Default: no super user. */;
  superDigest?: string;
  /** The key gateways attest client addresses with, as a deployed stack's `gatewayKey`. Default: none. */
  gatewayKey?: string;
}

/** The ports of a local GCP deployment and the runtime that drives its functions. */
export interface LocalGcpPorts extends GcpPorts {
  runtime: Runtime;
}

/**
 * A FaaSKeeper deployment on the local GCP emulators, a {@link Deployment} like core's embedded one
 * so that the same guarantee tests run on it. `ready` resolves at once (it is bootstrapped before
 * it is returned); each client has its own Pub/Sub subscription; `close` also stops the emulators
 * when this deployment started them.
 */
export interface LocalGcpDeployment extends Deployment {
  readonly deployment: string;
  readonly stack: LocalGcpStack;
  readonly ports: LocalGcpPorts;
  /** What a client passes to `connect()` from `@faaskeeper/gcp` to reach this deployment (as another process would). */
  readonly connectOptions: GcpDeploymentConfig;
}

let deployments = 0;

/** Names a call of the scheduler stand-in, so that the heartbeat function's failure is matched to it. */
const HEARTBEAT_CALL_HEADER = 'x-faaskeeper-scheduler-call';

/**
 * Starts FaaSKeeper on the local GCP stack: the system and user stores in the Datastore emulator,
 * the writer and distributor queues and the session channels in the Pub/Sub emulator, and the real
 * writer, distributor and heartbeat functions driven in this process (a poller per ordered pull
 * subscription, the heartbeat on `clock`).
 */
export async function createLocalGcpDeployment(
  options: LocalGcpDeploymentOptions = {},
): Promise<LocalGcpDeployment> {
  // A test deployment: only what is lost (a dropped batch, a failed poll) is printed by default.
  const logger = options.logger ?? jsonLogger({ level: 'error' });
  const ownStack = options.stack === undefined;
  const stack = options.stack ?? (await startLocalGcpStack());
  const clock = options.clock ?? systemClock;
  const meter = options.meter ?? noMeter;
  const clientMeter = options.clientMeter ?? meter;
  const deployment = options.deployment ?? `local-${process.pid}-${++deployments}-${Date.now().toString(36)}`;
  try {
    const push = options.invocation === 'push';
    if (options.userStore === 'gcs' && stack.storageClient === undefined)
      throw new Error('a GCS user store needs the Cloud Storage emulator: start the stack with storage');
    const config: GcpDeploymentConfig = {
      deployment,
      datastore: stack.datastoreClient,
      pubsub: stack.pubsubClient,
      meter,
      // As the Terraform configuration draws one: clients may consume any subscription they can name.
      subscriptionSuffix: randomBytes(16).toString('hex'),
      ...(options.userStore === 'gcs' && stack.storageClient !== undefined
        ? { userStore: { type: 'gcs' as const, bucket: 'faaskeeper-local', storage: stack.storageClient } }
        : {}),
    };
    // The distributor times the channels it leaves, and the heartbeat their grace, on `clock`.
    const opened = await openGcpPorts(config, push ? 'push' : 'pull', { clock });
    // The functions' ports, wrapped for fault injection (clients keep their own, unwrapped).
    const wrap = options.wrap ?? {};
    const ports: GcpPorts = {
      systemStore: wrap.systemStore?.(opened.systemStore) ?? opened.systemStore,
      userStore: wrap.userStore?.(opened.userStore) ?? opened.userStore,
      writerQueue: wrap.writerQueue?.(opened.writerQueue) ?? opened.writerQueue,
      distributorQueue: wrap.distributorQueue?.(opened.distributorQueue) ?? opened.distributorQueue,
      channel: wrap.channel?.(opened.channel) ?? opened.channel,
      leaseQueue: opened.leaseQueue,
    };
    const { systemStore, userStore, writerQueue, distributorQueue } = ports;
    const wrapHandler = options.wrapHandler ?? ((_name, h) => h);
    const functionMeter = options.functionMeter ?? meter;
    const functionSize = options.functionSize ?? DEFAULT_FUNCTION_SIZE;
    const runtime = new MemoryRuntime({
      clock,
      logger,
      ...(options.onFunctionError === undefined ? {} : { onError: options.onFunctionError }),
    });
    const skew = options.clockSkewMs ?? 1000;
    // As the Terraform configuration generates one: channels sealed, one secret for both functions.
    const secrets = {
      channelSecret: randomBytes(32).toString('base64'),
      ...(options.superDigest === undefined ? {} : { superDigest: options.superDigest }),
      ...(options.gatewayKey === undefined ? {} : { gatewayKey: options.gatewayKey }),
    };
    const { writer, distributor, heartbeat } = createFunctions(ports, {
      clock,
      logger,
      ...secrets,
      clockSkewMs: skew,
      wrapHandler,
      ...(options.betweenDistributorWrites
        ? { betweenDistributorWrites: options.betweenDistributorWrites }
        : {}),
    });
    await bootstrap(systemStore, userStore);
    const names = resourceNames(deployment);
    const subscriptions = subscriptionNames(deployment, config.subscriptionSuffix);
    const pushSubscriptions = [
      [names.writerTopic, subscriptions.writerPush, 'writer'],
      [names.distributorTopic, subscriptions.distributorPush, 'distributor'],
    ] as const;
    const bindings: Binding[] = [];
    let served: ServedFunctions | undefined;
    let runHeartbeat: () => Promise<void>;
    if (push) {
      const onError = options.onFunctionError;
      // What the heartbeat function failed with, per call of the scheduler stand-in (see runHeartbeat).
      const heartbeatCalls = new Map<string, { error?: unknown }>();
      const heartbeatCall = new AsyncLocalStorage<{ error?: unknown }>();
      const functions = createGcpFunctions(ports, {
        datastore: stack.datastoreClient,
        deployment,
        clock,
        clockSkewMs: skew,
        secrets,
        timeoutMs: 30_000,
        meter,
        functionMeter,
        functionSize,
        wrapHandler,
        logger,
        onError: (fn, error) => {
          const call = fn === 'heartbeat' ? heartbeatCall.getStore() : undefined;
          // A failed scheduled run is reported once, by the stand-in, with this error.
          if (call !== undefined) call.error ??= error;
          else onError?.(fn, error);
        },
        ...(options.betweenDistributorWrites
          ? { betweenDistributorWrites: options.betweenDistributorWrites }
          : {}),
      });
      const heartbeatFunction = functions.heartbeat;
      served = await serveFunctions(deployment, {
        writer: functions.writer,
        distributor: functions.distributor,
        heartbeat: (req, res) => {
          const call = heartbeatCalls.get(req.get(HEARTBEAT_CALL_HEADER) ?? '');
          return call === undefined
            ? heartbeatFunction(req, res)
            : heartbeatCall.run(call, () => heartbeatFunction(req, res));
        },
      } satisfies Record<string, HttpFunction>);
      const clients = await pubsubClients({ pubsub: stack.pubsubClient });
      const urls = served; // a const: the callbacks below see it as served, not possibly undefined
      await Promise.all(
        pushSubscriptions.map(([topic, subscription, fn]) =>
          ensurePushSubscription(clients, topic, subscription, urls.url(fn)),
        ),
      );
      const heartbeatUrl = served.url('heartbeat');
      let heartbeatCallCount = 0;
      // Cloud Scheduler's part: an HTTP call on schedule. A failed run rejects with what the function
      // failed with (as on pull, so that an injected transient fault reads as one), else with the status.
      runHeartbeat = async () => {
        const id = String(++heartbeatCallCount);
        const call: { error?: unknown } = {};
        heartbeatCalls.set(id, call);
        try {
          const res = await fetch(heartbeatUrl, { method: 'POST', headers: { [HEARTBEAT_CALL_HEADER]: id } });
          if (res.ok) return;
          throw call.error ?? new Error(`heartbeat answered ${res.status}`);
        } finally {
          heartbeatCalls.delete(id);
        }
      };
      bindings.push(runtime.schedule('heartbeat', options.heartbeatIntervalMs ?? 1000, runHeartbeat));
    } else {
      runHeartbeat = () =>
        metered(functionMeter, functionSize, () =>
          heartbeat({ deadline: clock.now() + 10_000, functionName: 'heartbeat' }),
        );
      bindings.push(
        runtime.bindQueue(writerQueue, meteredHandler(writer, functionMeter, functionSize), {
          functionName: 'writer',
          batchSize: options.writerBatchSize ?? 100,
          timeoutMs: 30_000,
        }),
        runtime.bindQueue(distributorQueue, meteredHandler(distributor, functionMeter, functionSize), {
          functionName: 'distributor',
          batchSize: options.distributorBatchSize ?? 100,
          timeoutMs: 30_000,
        }),
        runtime.schedule('heartbeat', options.heartbeatIntervalMs ?? 1000, (context) =>
          metered(functionMeter, functionSize, () => heartbeat(context)),
        ),
      );
    }
    // Every client behind a link a test can cut and heal (partition faults), as in the embedded deployment.
    const pool = new ClientPool('local GCP deployment', logger);
    let closed = false;
    return {
      clock,
      deployment,
      stack,
      ports: { ...ports, runtime },
      // The deployment's own config without its meter (a client made from it counts nothing here)
      // and without the subscription suffix, which no client is given.
      connectOptions: (({ meter: _meter, subscriptionSuffix: _suffix, ...where }) => where)(config),
      ready: Promise.resolve(),
      async connect(clientOptions = {}) {
        if (closed)
          throw new FaaSKeeperError('CONNECTIONLOSS', 'CONNECTIONLOSS: the local GCP deployment is closed');
        // Each client has its own transport objects, as a separate process would.
        const [clientQueue, clientChannel, leaseQueue] = await Promise.all([
          PubSubQueue.create({
            pubsub: stack.pubsubClient,
            topic: names.writerTopic,
            meter: clientMeter,
            create: false,
          }),
          PubSubChannel.create({
            pubsub: stack.pubsubClient,
            prefix: names.channelPrefix,
            meter: clientMeter,
          }),
          PubSubQueue.create({
            pubsub: stack.pubsubClient,
            topic: names.leaseTopic,
            meter: clientMeter,
            create: false,
          }),
        ]);
        const channel =
          options.wrapClientChannel === undefined
            ? clientChannel
            : options.wrapClientChannel(
                clientChannel,
                clientOptions.sessionId === undefined ? {} : { sessionId: clientOptions.sessionId },
              );
        const clientStore = userStoreOf(config, stack.datastoreClient, clientMeter);
        return pool.connect(
          {
            writerQueue: clientQueue,
            userStore: clientStore,
            channel,
            lease: new QueueLeaseRenewer(leaseQueue),
          },
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
      heartbeat: () => runHeartbeat(),
      async close() {
        if (closed) return;
        closed = true;
        await pool.close(2000);
        await Promise.all(bindings.map((b) => b.stop()));
        await runtime.close();
        if (push) {
          // Detach the push subscriptions before the servers go, so nothing is pushed into the void.
          const c = await pubsubClients({ pubsub: stack.pubsubClient });
          await Promise.all(
            pushSubscriptions.map(([, subscription]) =>
              c.subscriber
                .deleteSubscription({ subscription: subscriptionPath(c, subscription) })
                // The emulator forgets it at stop; on a shared stack it then pushes to a closed port.
                .catch((error: unknown) =>
                  logger.warn('close: deleting a push subscription failed', {
                    subscription,
                    ...errorFields(error),
                  }),
                ),
            ),
          );
          await served?.close();
        }
        if (ownStack) await stack.stop();
      },
    };
  } catch (error) {
    logger.error('start-up failed: deploying on the local GCP stack', errorFields(error));
    if (ownStack) await stack.stop();
    throw error;
  }
}

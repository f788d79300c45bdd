import {
  type BatchHandler,
  type Binding,
  bootstrap,
  type ClientOptions,
  type Clock,
  createDistributor,
  createHeartbeat,
  createWriter,
  type DeploymentOptions,
  FaaSKeeperClient,
  MemoryRuntime,
  type Meter,
  noMeter,
  type Runtime,
  systemClock,
} from '@faaskeeper/core';
import type { HttpFunction } from '@google-cloud/functions-framework';
import {
  type GcpDeploymentConfig,
  type GcpPorts,
  openGcpPorts,
  resourceNames,
  userStoreOf,
} from '../deployment.js';
import { createGcpFunctions } from '../functions/gcp-functions.js';
import { PubSubChannel } from '../pubsub-channel.js';
import { ensurePushSubscription, pubsubClients, subscriptionPath } from '../pubsub-client.js';
import { PubSubQueue } from '../pubsub-queue.js';
import { type ServedFunctions, serveFunctions } from './functions-server.js';
import { type LocalGcpStack, startLocalGcpStack } from './local-stack.js';

/** Options of {@link createLocalGcpDeployment}. */
export interface LocalGcpDeploymentOptions extends DeploymentOptions {
  /** Emulators to run on; default: start a stack and stop it on close. */
  stack?: LocalGcpStack;
  /** Deployment name (namespace and topic prefix). Default a fresh one. */
  deployment?: string;
  /** Most requests per writer invocation. Default 100. */
  writerBatchSize?: number;
  /** Most batches per distributor invocation. Default 100. */
  distributorBatchSize?: number;
  /** Counts every billable operation of the functions and clients. */
  meter?: Meter;
  /**
   * How the writer and distributor are invoked. `'pull'` (default): in-process pollers on ordered
   * pull subscriptions, batching many messages per invocation. `'push'`: the real Cloud Functions
   * path — the functions served over HTTP by the functions framework on 127.0.0.1 and invoked by
   * ordered push subscriptions of the Pub/Sub emulator, one message per invocation; the heartbeat
   * is POSTed on schedule as Cloud Scheduler would. `wrapHandler` (crash injection) applies to
   * pull invocation only.
   */
  invocation?: 'pull' | 'push';
  /** Where node records live. Default `'datastore'`; `'gcs'` needs the stack's Cloud Storage emulator. */
  userStore?: 'datastore' | 'gcs';
}

/** The ports of a local GCP deployment and the runtime that drives its functions. */
export interface LocalGcpPorts extends GcpPorts {
  runtime: Runtime;
}

/**
 * A FaaSKeeper deployment on the local GCP emulators, shaped like core's EmbeddedService so that the
 * same guarantee tests run on it: `connect`, `ports`, `heartbeat`, `close`.
 */
export interface LocalGcpDeployment {
  readonly clock: Clock;
  readonly deployment: string;
  readonly stack: LocalGcpStack;
  readonly ports: LocalGcpPorts;
  /** Opens a session; resolves a CONNECTED client (its own Pub/Sub subscription, Datastore reads). */
  connect(options?: ClientOptions): Promise<FaaSKeeperClient>;
  /** Runs the heartbeat once now. */
  heartbeat(): Promise<void>;
  /** Stops every client and function, and the emulators when this deployment started them. */
  close(): Promise<void>;
}

let deployments = 0;

/**
 * Starts FaaSKeeper on the local GCP stack: the system and user stores in the Datastore emulator,
 * the writer and distributor queues and the session channels in the Pub/Sub emulator, and the real
 * writer, distributor and heartbeat functions driven in this process (a poller per ordered pull
 * subscription, the heartbeat on `clock`).
 */
export async function createLocalGcpDeployment(
  options: LocalGcpDeploymentOptions = {},
): Promise<LocalGcpDeployment> {
  const ownStack = options.stack === undefined;
  const stack = options.stack ?? (await startLocalGcpStack());
  const clock = options.clock ?? systemClock;
  const meter = options.meter ?? noMeter;
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
      ...(options.userStore === 'gcs' && stack.storageClient !== undefined
        ? { userStore: { type: 'gcs' as const, bucket: 'faaskeeper-local', storage: stack.storageClient } }
        : {}),
    };
    const opened = await openGcpPorts(config, push ? 'push' : 'pull');
    // The functions' ports, wrapped for fault injection (clients keep their own, unwrapped).
    const wrap = options.wrap ?? {};
    const ports: GcpPorts = {
      systemStore: wrap.systemStore?.(opened.systemStore) ?? opened.systemStore,
      userStore: wrap.userStore?.(opened.userStore) ?? opened.userStore,
      writerQueue: wrap.writerQueue?.(opened.writerQueue) ?? opened.writerQueue,
      distributorQueue: wrap.distributorQueue?.(opened.distributorQueue) ?? opened.distributorQueue,
      channel: wrap.channel?.(opened.channel) ?? opened.channel,
    };
    const { systemStore, userStore, writerQueue, distributorQueue } = ports;
    const wrapHandler = options.wrapHandler ?? ((_name, h) => h);
    const runtime = new MemoryRuntime(
      options.onFunctionError === undefined ? { clock } : { clock, onError: options.onFunctionError },
    );
    const skew = options.clockSkewMs ?? 1000;
    const heartbeat = createHeartbeat({ systemStore, writerQueue, clock, clockSkewMs: skew });
    const writer: BatchHandler = wrapHandler(
      'writer',
      createWriter({ systemStore, distributorQueue, clock, clockSkewMs: skew }),
    );
    const distributor: BatchHandler = wrapHandler(
      'distributor',
      createDistributor({
        userStore,
        channel: ports.channel,
        ...(options.betweenDistributorWrites ? { betweenWrites: options.betweenDistributorWrites } : {}),
      }),
    );
    await bootstrap(systemStore, userStore);
    const names = resourceNames(deployment);
    const bindings: Binding[] = [];
    let served: ServedFunctions | undefined;
    let runHeartbeat: () => Promise<void>;
    if (push) {
      const onError = options.onFunctionError;
      served = await serveFunctions(
        deployment,
        createGcpFunctions(ports, {
          datastore: stack.datastoreClient,
          deployment,
          clock,
          clockSkewMs: skew,
          timeoutMs: 30_000,
          meter,
          ...(onError ? { onError } : {}),
          ...(options.betweenDistributorWrites
            ? { betweenDistributorWrites: options.betweenDistributorWrites }
            : {}),
        }) as unknown as Record<string, HttpFunction>,
      );
      const clients = await pubsubClients({ pubsub: stack.pubsubClient });
      await Promise.all([
        ensurePushSubscription(clients, names.writerTopic, `${names.writerTopic}-push`, served.url('writer')),
        ensurePushSubscription(
          clients,
          names.distributorTopic,
          `${names.distributorTopic}-push`,
          served.url('distributor'),
        ),
      ]);
      const heartbeatUrl = served.url('heartbeat');
      // Cloud Scheduler's part: an HTTP call on schedule.
      runHeartbeat = async () => {
        const res = await fetch(heartbeatUrl, { method: 'POST' });
        if (!res.ok) throw new Error(`heartbeat answered ${res.status}`);
      };
      bindings.push(runtime.schedule('heartbeat', options.heartbeatIntervalMs ?? 1000, runHeartbeat));
    } else {
      runHeartbeat = () => heartbeat({ deadline: clock.now() + 10_000, functionName: 'heartbeat' });
      bindings.push(
        runtime.bindQueue(writerQueue, writer, {
          functionName: 'writer',
          batchSize: options.writerBatchSize ?? 100,
          timeoutMs: 30_000,
        }),
        runtime.bindQueue(distributorQueue, distributor, {
          functionName: 'distributor',
          batchSize: options.distributorBatchSize ?? 100,
          timeoutMs: 30_000,
        }),
        runtime.schedule('heartbeat', options.heartbeatIntervalMs ?? 1000, heartbeat),
      );
    }
    const clients = new Set<FaaSKeeperClient>();
    let closed = false;
    return {
      clock,
      deployment,
      stack,
      ports: { ...ports, runtime },
      async connect(clientOptions = {}) {
        // Each client has its own transport objects, as a separate process would.
        const [clientQueue, channel] = await Promise.all([
          PubSubQueue.create({ pubsub: stack.pubsubClient, topic: names.writerTopic, meter, create: false }),
          PubSubChannel.create({ pubsub: stack.pubsubClient, prefix: names.channelPrefix, meter }),
        ]);
        const clientStore = userStoreOf(config, stack.datastoreClient, meter);
        const client = await FaaSKeeperClient.connect(
          { writerQueue: clientQueue, userStore: clientStore, channel },
          {
            clock,
            sessionTimeoutMs: options.sessionTimeoutMs ?? 10_000,
            operationTimeoutMs: options.operationTimeoutMs ?? 30_000,
            ...clientOptions,
          },
        );
        clients.add(client);
        return client;
      },
      heartbeat: () => runHeartbeat(),
      async close() {
        if (closed) return;
        closed = true;
        await Promise.all(
          [...clients].map((c) =>
            Promise.race([c.close().catch(() => undefined), new Promise((r) => setTimeout(r, 2000).unref())]),
          ),
        );
        await Promise.all(bindings.map((b) => b.stop()));
        await runtime.close();
        if (push) {
          // Detach the push subscriptions before the servers go, so nothing is pushed into the void.
          const c = await pubsubClients({ pubsub: stack.pubsubClient });
          await Promise.all(
            [names.writerTopic, names.distributorTopic].map((t) =>
              c.subscriber
                .deleteSubscription({ subscription: subscriptionPath(c, `${t}-push`) })
                .catch(() => undefined),
            ),
          );
          await served?.close();
        }
        if (ownStack) await stack.stop();
      },
    };
  } catch (error) {
    if (ownStack) await stack.stop();
    throw error;
  }
}

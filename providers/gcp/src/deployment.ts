import { createHash } from 'node:crypto';
import {
  type Channel,
  type ClientOptions,
  type Clock,
  FaaSKeeperClient,
  type Meter,
  noMeter,
  type Queue,
  QueueLeaseRenewer,
  type SystemStore,
  type UserStore,
} from '@faaskeeper/core';
import { Datastore, type DatastoreOptions } from '@google-cloud/datastore';
import { type ClientConfig, PubSub } from '@google-cloud/pubsub';
import { Storage, type StorageOptions } from '@google-cloud/storage';
import { ChannelReapRecords } from './channel-reap.js';
import { DatastoreSystemStore } from './datastore-system-store.js';
import { DatastoreUserStore } from './datastore-user-store.js';
import { GcsUserStore } from './gcs-user-store.js';
import { PubSubChannel } from './pubsub-channel.js';
import { PubSubQueue } from './pubsub-queue.js';

/**
 * Where a FaaSKeeper deployment on GCP lives: what `faaskeeper deploy gcp` writes for clients, or
 * what a local stack hands out. Clients are given ready or made from their config.
 */
export interface GcpDeploymentConfig {
  /** The deployment's name: Datastore namespace `fk-<name>` and topic prefix `fk-<name>`. */
  deployment: string;
  /** A ready Datastore client, or its config (`projectId`, `apiEndpoint` for the emulator). */
  datastore: Datastore | DatastoreOptions;
  /** A ready Pub/Sub client, or its config (`projectId`, `apiEndpoint` for the emulator). */
  pubsub: PubSub | ClientConfig;
  /**
   * Where node records live: Datastore (default; same namespace) or a Cloud Storage bucket (objects
   * under `fk-<name>/`).
   */
  userStore?:
    | {
        type: 'datastore';
        /**
         * The bucket of the protected zone (records of nodes without world READ), which no client
         * is granted; absent: kinds of the same database (local stacks; Datastore IAM cannot keep
         * clients off them).
         */
        protectedBucket?: { bucket: string; storage: Storage | StorageOptions };
      }
    | { type: 'gcs'; bucket: string; storage: Storage | StorageOptions };
  /** Where billable operations are counted. */
  meter?: Meter;
  /**
   * The secret suffix of the deployment's fixed subscriptions ({@link subscriptionNames}): the
   * functions' configuration only, never a client's. Clients hold project-wide
   * `pubsub.subscriptions.consume` (Pub/Sub evaluates no IAM condition on a resource name), so an
   * unguessable name is what keeps them from pulling the heartbeat's lease renewals or the dead
   * letters. Absent: the unsuffixed names (in-process tests that create their own subscriptions).
   */
  subscriptionSuffix?: string;
  /**
   * The functions' configuration: how long a channel a session left (its end, a refused resume) is
   * kept for its client to read the last messages before the heartbeat deletes it. Default 10
   * minutes (`DEFAULT_CHANNEL_GRACE_MS`); clients ignore it.
   */
  channelGraceMs?: number;
  /**
   * Whether opening the ports may create the writer and distributor topics when missing (default
   * true). A deployment made by `faaskeeper deploy gcp` sets `false`: Terraform made the topics, and
   * the functions' service accounts may not create topics.
   */
  createTopics?: boolean;
  /**
   * The project (informational; each client config names its own): what `faaskeeper deploy gcp`
   * writes into the client configuration file. {@link connect} ignores it.
   */
  projectId?: string;
  /**
   * The service account the deployment made for clients (informational): run clients as it (attached
   * to the VM or service, or impersonated) so that they have exactly its roles. {@link connect} ignores it.
   */
  serviceAccount?: string;
}

/** The ports of a GCP deployment, named as core's embedded deployment names them. */
export interface GcpPorts {
  systemStore: SystemStore;
  userStore: UserStore;
  writerQueue: Queue;
  distributorQueue: Queue;
  channel: Channel;
  /** The queue clients publish lease renewals to; the heartbeat folds them (docs/guarantees.md "Sessions"). */
  leaseQueue: Queue;
}

/** Names of a deployment's cloud resources (one place, so that functions, clients and IaC agree). */
export function resourceNames(deployment: string) {
  const base = `fk-${deployment}`;
  return {
    namespace: base,
    writerTopic: `${base}-writer`,
    distributorTopic: `${base}-distributor`,
    /** Clients publish session lease renewals here; the heartbeat pulls them (`subscriptionNames(…).lease`). */
    leaseTopic: `${base}-leases`,
    channelPrefix: base,
  };
}

/** The function environment variable that carries {@link GcpDeploymentConfig.subscriptionSuffix}. */
export const SUBSCRIPTION_SUFFIX_ENV = 'FAASKEEPER_SUBSCRIPTION_SUFFIX';

/**
 * The deployment's fixed subscriptions, each `<topic>-<kind>-<suffix>` with the deployment's secret
 * `suffix` (see {@link GcpDeploymentConfig.subscriptionSuffix}); without a suffix `<topic>-<kind>`.
 */
export function subscriptionNames(deployment: string, suffix?: string) {
  const n = resourceNames(deployment);
  const name = (topic: string, kind: string) =>
    suffix === undefined ? `${topic}-${kind}` : `${topic}-${kind}-${suffix}`;
  return {
    /** Ordered pull subscriptions of the queues (pull invocation: the local stack's default). */
    writerPull: name(n.writerTopic, 'pull'),
    distributorPull: name(n.distributorTopic, 'pull'),
    /** Ordered push subscriptions that invoke the writer and distributor functions. */
    writerPush: name(n.writerTopic, 'push'),
    distributorPush: name(n.distributorTopic, 'push'),
    /** Pull subscriptions of the dead-letter topics (a topic without one drops what is published). */
    writerDeadLetter: name(n.writerTopic, 'dead'),
    distributorDeadLetter: name(n.distributorTopic, 'dead'),
    /** The heartbeat's pull subscription of the lease topic. */
    lease: name(n.leaseTopic, 'pull'),
  };
}

function datastoreOf(config: GcpDeploymentConfig): Datastore {
  return config.datastore instanceof Datastore ? config.datastore : new Datastore(config.datastore);
}

/** GCS's limit on a bucket name without dots. */
const MAX_BUCKET_NAME = 63;

/**
 * The bucket of the GCS user store's protected zone, beside the data bucket `bucket`: `…-data`
 * becomes `…-prot` (the same length), any other name gains `-prot`. A name that would pass GCS's
 * 63 characters keeps its first characters and a hash of the whole data bucket name, so two long
 * data buckets sharing a prefix still get different protected buckets.
 * A bucket of its own because GCS IAM conditions on object names do not narrow a listing: a
 * prefix in the data bucket would show clients the protected nodes' and children's names.
 */
export function protectedBucketOf(bucket: string): string {
  const name = bucket.endsWith('-data') ? `${bucket.slice(0, -'-data'.length)}-prot` : `${bucket}-prot`;
  if (name.length <= MAX_BUCKET_NAME) return name;
  const hash = createHash('sha256').update(bucket).digest('hex').slice(0, 8);
  const keep = bucket.slice(0, MAX_BUCKET_NAME - '-prot'.length - hash.length - 1).replace(/[-_.]+$/, '');
  return `${keep}-${hash}-prot`;
}

/** The user store a deployment's config names (Datastore unless a bucket is given). */
export function userStoreOf(config: GcpDeploymentConfig, datastore: Datastore, meter: Meter): UserStore {
  const names = resourceNames(config.deployment);
  const u = config.userStore;
  if (u?.type === 'gcs') {
    const storage = u.storage instanceof Storage ? u.storage : new Storage(u.storage);
    return new GcsUserStore({
      bucket: storage.bucket(u.bucket),
      protectedBucket: storage.bucket(protectedBucketOf(u.bucket)),
      prefix: `${names.namespace}/`,
      meter,
    });
  }
  const elsewhere = u?.type === 'datastore' ? u.protectedBucket : undefined;
  if (elsewhere === undefined)
    return new DatastoreUserStore({ datastore, namespace: names.namespace, meter });
  const storage = elsewhere.storage instanceof Storage ? elsewhere.storage : new Storage(elsewhere.storage);
  return new DatastoreUserStore({
    datastore,
    namespace: names.namespace,
    meter,
    protectedZone: new GcsUserStore({
      bucket: storage.bucket(elsewhere.bucket),
      prefix: `${names.namespace}/`,
      meter,
    }),
  });
}

function pubsubOf(config: GcpDeploymentConfig): PubSub {
  return config.pubsub instanceof PubSub ? config.pubsub : new PubSub(config.pubsub);
}

/**
 * Opens every port of a deployment for the functions (writer, distributor, heartbeat): creates the
 * queues' topics when missing, and their ordered pull subscriptions unless `consumers` is `'push'`
 * (the functions are then invoked by push subscriptions, see `pushFunction`).
 */
export async function openGcpPorts(
  config: GcpDeploymentConfig,
  consumers: 'pull' | 'push' = 'pull',
  options: { clock?: Clock } = {},
): Promise<GcpPorts> {
  const names = resourceNames(config.deployment);
  const subscriptions = subscriptionNames(config.deployment, config.subscriptionSuffix);
  const meter = config.meter ?? noMeter;
  const datastore = datastoreOf(config);
  const pubsub = pubsubOf(config);
  const create = config.createTopics === false ? false : consumers === 'pull' || 'topic';
  // The heartbeat pulls renewals in either mode: the lease topic always has its pull subscription.
  const [writerQueue, distributorQueue, channel, leaseQueue] = await Promise.all([
    PubSubQueue.create({
      pubsub,
      topic: names.writerTopic,
      subscription: subscriptions.writerPull,
      meter,
      create,
    }),
    PubSubQueue.create({
      pubsub,
      topic: names.distributorTopic,
      subscription: subscriptions.distributorPull,
      meter,
      create,
    }),
    // The channels sessions leave are recorded beside the system store, for the heartbeat to reap.
    PubSubChannel.create({
      pubsub,
      prefix: names.channelPrefix,
      meter,
      reapRecords: new ChannelReapRecords({ datastore, namespace: names.namespace, meter }),
      ...(config.channelGraceMs === undefined ? {} : { graceMs: config.channelGraceMs }),
      ...(options.clock === undefined ? {} : { clock: options.clock }),
    }),
    PubSubQueue.create({
      pubsub,
      topic: names.leaseTopic,
      subscription: subscriptions.lease,
      meter,
      create: config.createTopics !== false,
    }),
  ]);
  return {
    systemStore: new DatastoreSystemStore({ datastore, namespace: names.namespace, meter }),
    userStore: userStoreOf(config, datastore, meter),
    writerQueue,
    distributorQueue,
    channel,
    leaseQueue: patientPulls(leaseQueue, LEASE_PULL_WAIT_MS),
  };
}

/**
 * How long the heartbeat's pulls of lease renewals wait for messages. A pull that returns at once
 * (`returnImmediately`) may come back empty while renewals are waiting, and a run that missed
 * them could expire a live session; so the drain's pulls wait this long, and only its last,
 * empty one waits it out (≈ 0.5 s of function time a run).
 */
const LEASE_PULL_WAIT_MS = 500;

/** `queue` with every receive waiting at least `minWaitMs` for messages. */
function patientPulls(queue: Queue, minWaitMs: number): Queue {
  return {
    name: queue.name,
    capabilities: queue.capabilities,
    send: (messages) => queue.send(messages),
    receive: (options) => queue.receive({ ...options, waitMs: Math.max(options.waitMs ?? 0, minWaitMs) }),
    ack: (receipts) => queue.ack(receipts),
    release: (receipts) => queue.release(receipts),
  };
}

/** Options of {@link connect}: where the deployment is, and the client's own options. */
export type GcpConnectOptions = GcpDeploymentConfig & ClientOptions;

/**
 * Opens a session on a FaaSKeeper deployment on GCP and resolves a CONNECTED client. The client
 * publishes to the writer topic, reads the user store in Datastore directly, pulls its replies
 * and events from its own Pub/Sub subscription, and publishes its session's lease renewals to the
 * lease topic when idle (no public address needed).
 */
export async function connect(options: GcpConnectOptions): Promise<FaaSKeeperClient> {
  const {
    deployment,
    datastore,
    pubsub,
    meter,
    userStore: where,
    createTopics: _createTopics,
    projectId: _projectId,
    serviceAccount: _serviceAccount,
    // A client never pulls a fixed subscription: a suffix passed here is dropped, not used.
    subscriptionSuffix: _subscriptionSuffix,
    channelGraceMs: _channelGraceMs,
    ...clientOptions
  } = options;
  const config: GcpDeploymentConfig = {
    deployment,
    datastore,
    pubsub,
    ...(meter ? { meter } : {}),
    ...(where ? { userStore: where } : {}),
  };
  const names = resourceNames(deployment);
  const ds = datastoreOf(config);
  const ps = pubsubOf(config);
  const m = meter ?? noMeter;
  const [writerQueue, channel, leaseQueue] = await Promise.all([
    PubSubQueue.create({ pubsub: ps, topic: names.writerTopic, meter: m, create: false }),
    PubSubChannel.create({ pubsub: ps, prefix: names.channelPrefix, meter: m }),
    PubSubQueue.create({ pubsub: ps, topic: names.leaseTopic, meter: m, create: false }),
  ]);
  const userStore = userStoreOf(config, ds, m);
  return FaaSKeeperClient.connect(
    { writerQueue, userStore, channel, lease: new QueueLeaseRenewer(leaseQueue) },
    clientOptions,
  );
}

// Every core contract suite against the GCP adapters on the local emulators (Datastore and Pub/Sub
// emulators started by this file, bound to 127.0.0.1). Each test gets its own namespace or topic.
import { CountingMeter, MemoryRuntime } from '@faaskeeper/core';
import {
  describeChannelContract,
  describeQueueContract,
  describeRuntimeContract,
  describeSystemStoreContract,
  describeUserStoreContract,
  requireOrSkip,
} from '@faaskeeper/core/testkit';
import { it } from 'vitest';
import {
  DatastoreSystemStore,
  DatastoreUserStore,
  GcsUserStore,
  PubSubChannel,
  PubSubQueue,
} from '../src/index.js';
import { missingStorageEmulator } from '../src/local/index.js';
import { unique, whenEmulators } from './support.js';

/**
 * A test of a user store on Cloud Storage: Firebase's Storage emulator runs in this test process and
 * shares its CPU, and the 2,500-entry child index test took 12.9 s here on a loaded machine (43% of
 * the 30 s the Datastore stores get).
 */
const GCS_TEST_TIMEOUT_MS = 60_000;

whenEmulators((stack) => {
  describeSystemStoreContract(
    'DatastoreSystemStore',
    async () => ({
      store: new DatastoreSystemStore({ datastore: stack().datastoreClient, namespace: unique('sys') }),
    }),
    { concurrency: 10, timeoutMs: 30_000 },
  );

  describeUserStoreContract(
    'DatastoreUserStore',
    async () => ({
      store: new DatastoreUserStore({ datastore: stack().datastoreClient, namespace: unique('user') }),
    }),
    { timeoutMs: 30_000 },
  );

  const storageMissing = missingStorageEmulator();
  if (storageMissing === undefined) {
    describeUserStoreContract(
      'GcsUserStore',
      async () => ({
        store: new GcsUserStore({
          bucket: stack().storageClient!.bucket('fk-contract'),
          prefix: `${unique('user')}/`,
        }),
      }),
      { timeoutMs: GCS_TEST_TIMEOUT_MS },
    );
    describeUserStoreContract(
      'DatastoreUserStore (protected zone in a Cloud Storage bucket, as deployed)',
      async () => {
        const namespace = unique('user');
        return {
          store: new DatastoreUserStore({
            datastore: stack().datastoreClient,
            namespace,
            protectedZone: new GcsUserStore({
              bucket: stack().storageClient!.bucket('fk-contract-prot'),
              prefix: `${namespace}/`,
            }),
          }),
        };
      },
      { timeoutMs: 30_000 },
    );
    describeUserStoreContract(
      'GcsUserStore (protected zone in a bucket of its own)',
      async () => ({
        store: new GcsUserStore({
          bucket: stack().storageClient!.bucket('fk-contract'),
          protectedBucket: stack().storageClient!.bucket('fk-contract-protected'),
          prefix: `${unique('user')}/`,
        }),
      }),
      { timeoutMs: GCS_TEST_TIMEOUT_MS },
    );
  } else {
    it('runs the GcsUserStore contract on the Cloud Storage emulator', (ctx) => {
      requireOrSkip(ctx, storageMissing, 'the GcsUserStore contract');
    });
  }

  describeQueueContract(
    'PubSubQueue',
    async () => {
      const queue = await PubSubQueue.create({
        pubsub: stack().pubsubClient,
        topic: unique('queue'),
        meter: new CountingMeter(),
      });
      return { queue, cleanup: () => queue.destroy() };
    },
    { visibilityTimeoutMs: 1000, waitMs: 300, deliveryTimeoutMs: 20_000, timeoutMs: 60_000 },
  );

  // The pull invocation path: the in-process runtime polling ordered pull subscriptions.
  describeRuntimeContract(
    'MemoryRuntime on PubSubQueue',
    async () => {
      const runtime = new MemoryRuntime();
      const queues: PubSubQueue[] = [];
      return {
        runtime,
        createQueue: async (name) => {
          const queue = await PubSubQueue.create({
            pubsub: stack().pubsubClient,
            topic: unique(`rt-${name}`),
          });
          queues.push(queue);
          return queue;
        },
        cleanup: async () => {
          await runtime.close();
          await Promise.all(queues.map((q) => q.destroy()));
        },
      };
    },
    { scheduleIntervalMs: 50, deliveryTimeoutMs: 20_000, quietMs: 300, timeoutMs: 60_000 },
  );

  describeChannelContract(
    'PubSubChannel',
    async () => ({
      channel: await PubSubChannel.create({
        pubsub: stack().pubsubClient,
        prefix: unique('chan'),
        pollMs: 2000,
      }),
    }),
    { deliveryTimeoutMs: 20_000, quietMs: 300, timeoutMs: 60_000 },
  );
});

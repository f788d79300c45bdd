// Every core contract suite against the AWS adapters on the local emulators (DynamoDB Local and
// fauxqs): a fresh table, bucket prefix or queue per test, dropped after it.

import {
  describeChannelContract,
  describeQueueContract,
  describeRuntimeContract,
  describeSystemStoreContract,
  describeUserStoreContract,
  requireOrSkip,
} from '@faaskeeper/core/testkit';
import { it } from 'vitest';
import { DynamoDbSystemStore } from '../src/dynamodb-system-store.js';
import { DynamoDbUserStore } from '../src/dynamodb-user-store.js';
import { localAwsStackMissing } from '../src/local/local-stack.js';
import { S3UserStore } from '../src/s3-user-store.js';
import { SqsChannel } from '../src/sqs-channel.js';
import { SqsPollerRuntime } from '../src/sqs-poller-runtime.js';
import { SqsQueue } from '../src/sqs-queue.js';
import { uniqueName, useLocalStack } from './support.js';

const stack = useLocalStack();
// Where an emulator is missing, the suites are not registered and one test skips naming what is
// missing (and fails on CI, where the emulators must be present).
const missing = localAwsStackMissing();
const BUCKET = 'contracts';
let bucketReady: Promise<void> | undefined;

async function bucket(): Promise<void> {
  const { clients } = await stack();
  bucketReady ??= S3UserStore.createBucket(clients.s3, BUCKET);
  return bucketReady;
}

if (missing !== undefined) {
  it('runs the AWS contract suites on the local emulators', (ctx) => {
    requireOrSkip(ctx, missing, 'the AWS contract suites');
  });
} else {
  describeSystemStoreContract(
    'DynamoDbSystemStore (DynamoDB Local)',
    async () => {
      const { clients } = await stack();
      const table = uniqueName('system');
      await DynamoDbSystemStore.createTable(clients.dynamodb, table);
      const store = new DynamoDbSystemStore({ client: clients.dynamodb, table });
      return { store, cleanup: () => store.dropTable() };
    },
    { timeoutMs: 30_000 },
  );

  // Every value over 2 KiB goes through S3: the offload path meets the whole contract.
  describeSystemStoreContract(
    'DynamoDbSystemStore (DynamoDB Local, values over 2 KiB offloaded to S3)',
    async () => {
      const { clients } = await stack();
      await bucket();
      const table = uniqueName('system');
      await DynamoDbSystemStore.createTable(clients.dynamodb, table);
      const store = new DynamoDbSystemStore({
        client: clients.dynamodb,
        table,
        offload: { client: clients.s3, bucket: BUCKET },
        inlineItemBytes: 2048,
      });
      return { store, cleanup: () => store.dropTable() };
    },
    { timeoutMs: 30_000 },
  );

  describeUserStoreContract(
    'S3UserStore (fauxqs S3)',
    async () => {
      const { clients } = await stack();
      await bucket();
      const store = new S3UserStore({ client: clients.s3, bucket: BUCKET, prefix: `${uniqueName('user')}/` });
      return { store, cleanup: () => store.drop() };
    },
    { timeoutMs: 30_000 },
  );

  describeUserStoreContract(
    'DynamoDbUserStore (DynamoDB Local, S3 offload)',
    async () => {
      const { clients } = await stack();
      await bucket();
      const table = uniqueName('user');
      await DynamoDbUserStore.createTable(clients.dynamodb, table);
      const store = new DynamoDbUserStore({
        client: clients.dynamodb,
        table,
        offload: { client: clients.s3, bucket: BUCKET, prefix: `${table}/` },
      });
      return { store, cleanup: () => store.dropTable() };
    },
    { timeoutMs: 30_000 },
  );

  describeQueueContract(
    'SqsQueue (fauxqs SQS, S3 offload)',
    async () => {
      const { clients } = await stack();
      await bucket();
      const queue = await SqsQueue.create({
        client: clients.sqs,
        name: `${uniqueName('queue')}.fifo`,
        offload: { client: clients.s3, bucket: BUCKET },
      });
      return { queue, cleanup: () => queue.destroy() };
    },
    { visibilityTimeoutMs: 1000, waitMs: 1000, deliveryTimeoutMs: 15_000 },
  );

  describeChannelContract(
    'SqsChannel (fauxqs SQS, S3 offload)',
    async () => {
      const { clients } = await stack();
      await bucket();
      const channel = new SqsChannel({
        client: clients.sqs,
        prefix: uniqueName('channel'),
        offload: { client: clients.s3, bucket: BUCKET },
        pollWaitSeconds: 1,
      });
      return {
        channel,
        cleanup: async () => {
          for (const session of [1, 2, 3, 5, 7, 404, 405]) await channel.remove(session);
        },
      };
    },
    { deliveryTimeoutMs: 15_000, quietMs: 300 },
  );

  describeRuntimeContract(
    'SqsPollerRuntime (fauxqs SQS)',
    async () => {
      const { clients } = await stack();
      const runtime = new SqsPollerRuntime();
      const queues: SqsQueue[] = [];
      return {
        runtime,
        createQueue: async (name) => {
          const queue = await SqsQueue.create({ client: clients.sqs, name: `${uniqueName(name)}.fifo` });
          queues.push(queue);
          return queue;
        },
        cleanup: async () => {
          await runtime.close();
          await Promise.all(queues.map((q) => q.destroy()));
        },
      };
    },
    { deliveryTimeoutMs: 15_000, quietMs: 300 },
  );
}

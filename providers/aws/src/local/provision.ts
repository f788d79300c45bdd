import { CreateQueueCommand, DeleteQueueCommand, ListQueuesCommand } from '@aws-sdk/client-sqs';
import type { AwsClients } from '../aws-clients.js';
import { awsCall } from '../aws-errors.js';
import { type AwsDeploymentConfig, resourceNames, type UserStoreKind } from '../config.js';
import { DynamoDbSystemStore } from '../dynamodb-system-store.js';
import { DynamoDbUserStore } from '../dynamodb-user-store.js';
import { emptyPrefix, S3UserStore } from '../s3-user-store.js';
import { SQS_MESSAGE_LIMIT } from '../sqs-queue.js';

async function createFifoQueue(clients: AwsClients, name: string): Promise<string> {
  const out = await awsCall('SQS CreateQueue', () =>
    clients.sqs.send(
      new CreateQueueCommand({
        QueueName: name,
        Attributes: {
          FifoQueue: 'true',
          ContentBasedDeduplication: 'false',
          MaximumMessageSize: String(SQS_MESSAGE_LIMIT),
          VisibilityTimeout: '30',
        },
      }),
    ),
  );
  return out.QueueUrl as string;
}

/**
 * Creates a deployment's resources on an AWS-compatible endpoint (the local emulators; the cloud
 * uses the CDK stack instead): the system table, the user store, the bucket and both FIFO queues.
 * Returns the deployment's config.
 */
export async function provisionAwsDeployment(
  clients: AwsClients,
  options: {
    deployment: string;
    region: string;
    userStore?: UserStoreKind;
    endpoints?: { dynamodb?: string; sqs?: string; s3?: string };
    credentials?: { accessKeyId: string; secretAccessKey: string };
  },
): Promise<AwsDeploymentConfig> {
  const names = resourceNames(options.deployment);
  const userStore = options.userStore ?? 'dynamodb';
  await Promise.all([
    DynamoDbSystemStore.createTable(clients.dynamodb, names.systemTable),
    userStore === 'dynamodb' ? DynamoDbUserStore.createTable(clients.dynamodb, names.userTable) : undefined,
    S3UserStore.createBucket(clients.s3, names.bucket),
  ]);
  const [writerQueueUrl, distributorQueueUrl] = await Promise.all([
    createFifoQueue(clients, names.writerQueue),
    createFifoQueue(clients, names.distributorQueue),
  ]);
  return {
    deployment: options.deployment,
    region: options.region,
    ...(options.credentials === undefined ? {} : { credentials: options.credentials }),
    ...(options.endpoints ?? {}),
    systemTable: names.systemTable,
    bucket: names.bucket,
    userStore,
    ...(userStore === 'dynamodb' ? { userTable: names.userTable } : {}),
    writerQueueUrl,
    distributorQueueUrl,
    channelPrefix: names.channelPrefix,
  };
}

/** Deletes what {@link provisionAwsDeployment} created, and every channel queue of the deployment. */
export async function destroyAwsDeployment(clients: AwsClients, config: AwsDeploymentConfig): Promise<void> {
  const channels = await awsCall('SQS ListQueues', () =>
    clients.sqs.send(new ListQueuesCommand({ QueueNamePrefix: config.channelPrefix, MaxResults: 1000 })),
  );
  const urls = [...(channels.QueueUrls ?? []), config.writerQueueUrl, config.distributorQueueUrl];
  await Promise.all(
    urls.map((url) => clients.sqs.send(new DeleteQueueCommand({ QueueUrl: url })).catch(() => undefined)),
  );
  await new DynamoDbSystemStore({ client: clients.dynamodb, table: config.systemTable })
    .dropTable()
    .catch(() => undefined);
  if (config.userTable !== undefined)
    await new DynamoDbUserStore({ client: clients.dynamodb, table: config.userTable })
      .dropTable()
      .catch(() => undefined);
  await emptyPrefix(clients.s3, config.bucket, '').catch(() => undefined);
}

// Production code (connect) needs it too: it lives with the queue adapter, the local stack re-exports it.
export { queueUrlOf } from '../sqs-queue.js';

import { type ClientOptions, FaaSKeeperClient, type Meter } from '@faaskeeper/core';
import { createAwsClients } from './aws-clients.js';
import { type AwsDeploymentConfig, createAwsPorts, resourceNames, type UserStoreKind } from './config.js';
import { queueUrlOf } from './sqs-queue.js';

/** Options of {@link connect}: which deployment, where, and the client's own options. */
export interface AwsConnectOptions extends ClientOptions {
  /** The deployment's name (`faaskeeper deploy aws --name`). */
  deployment: string;
  region: string;
  /** Emulator endpoints (the local stack); omit for AWS itself. */
  endpoints?: { dynamodb?: string; sqs?: string; s3?: string };
  /** Credentials; default: the SDK's default provider chain. */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** What `faaskeeper deploy aws` wrote (queue URLs, bucket, user store); the rest derives from the name. */
  config?: Partial<AwsDeploymentConfig>;
  /** The user store service of the deployment. Default `dynamodb` (as the stack). */
  userStore?: UserStoreKind;
  /** Counts the billable requests this client makes. */
  meter?: Meter;
}

/**
 * Connects to a FaaSKeeper deployment on AWS (or on the local emulators): opens a session and
 * resolves a CONNECTED client. The client sends to the writer queue, reads the user store
 * directly, long-polls its own channel queue and renews its session's lease item in the system
 * table when idle — it needs no public address.
 *
 * @throws FaaSKeeperError CONNECTIONLOSS / OPERATIONTIMEOUT when the deployment does not answer.
 */
export async function connect(options: AwsConnectOptions): Promise<FaaSKeeperClient> {
  const {
    deployment,
    region,
    endpoints,
    credentials,
    config: given,
    userStore,
    meter,
    ...clientOptions
  } = options;
  const clients = createAwsClients({
    region,
    ...(credentials === undefined ? {} : { credentials }),
    ...(endpoints ?? {}),
  });
  const names = resourceNames(deployment);
  const config: AwsDeploymentConfig = {
    deployment,
    region,
    systemTable: names.systemTable,
    bucket: names.bucket,
    userStore: userStore ?? 'dynamodb',
    userTable: names.userTable,
    writerQueueUrl: given?.writerQueueUrl ?? (await queueUrlOf(clients, names.writerQueue)),
    distributorQueueUrl: '', // a client never touches it
    channelPrefix: names.channelPrefix,
    ...given,
  };
  const ports = createAwsPorts(config, clients, meter);
  try {
    const client = await FaaSKeeperClient.connect(
      {
        writerQueue: ports.writerQueue,
        userStore: ports.userStore,
        channel: ports.channel,
        lease: ports.lease,
      },
      clientOptions,
    );
    client.on('state', (state) => {
      if (state === 'CLOSED') clients.destroy();
    });
    return client;
  } catch (error) {
    clients.destroy();
    throw error;
  }
}

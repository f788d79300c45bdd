import type { Channel, LeaseRenewer, Meter, Queue, SystemStore, UserStore } from '@faaskeeper/core';
import type { AwsClients, AwsEndpoints } from './aws-clients.js';
import { DynamoDbLeaseRenewer } from './dynamodb-lease.js';
import { DynamoDbSystemStore } from './dynamodb-system-store.js';
import { DynamoDbUserStore } from './dynamodb-user-store.js';
import { S3UserStore } from './s3-user-store.js';
import { SqsChannel } from './sqs-channel.js';
import { SqsQueue } from './sqs-queue.js';

/** Which service holds the user store (the paper's "persistent" and "key-value" options). */
export type UserStoreKind = 's3' | 'dynamodb';

/**
 * Everything a function or a client needs to reach one deployment. `faaskeeper deploy aws`
 * writes it; the Lambda functions get it as environment variables ({@link configToEnv}).
 */
export interface AwsDeploymentConfig extends AwsEndpoints {
  /** Deployment name (resource names derive from it). */
  deployment: string;
  /** DynamoDB table of the system store. */
  systemTable: string;
  /** S3 bucket: the user store (when `userStore` is `s3`) and offloaded message bodies. */
  bucket: string;
  userStore: UserStoreKind;
  /** DynamoDB table of the user store when `userStore` is `dynamodb`. */
  userTable?: string;
  writerQueueUrl: string;
  distributorQueueUrl: string;
  /** Prefix of the per-session channel queues. */
  channelPrefix: string;
  /** Largest SQS body sent inline (1 MiB; 256 KiB for old accounts). */
  inlineMessageBytes?: number;
  /** Clock skew functions allow for, in ms. Default 1000. */
  clockSkewMs?: number;
}

/** Resource names of a deployment, derived from its name. */
export function resourceNames(deployment: string) {
  const base = `faaskeeper-${deployment}`;
  return {
    systemTable: `${base}-system`,
    userTable: `${base}-user`,
    bucket: base.toLowerCase(),
    writerQueue: `${base}-writer.fifo`,
    distributorQueue: `${base}-distributor.fifo`,
    channelPrefix: `${base}-session`,
  };
}

const ENV = {
  deployment: 'FAASKEEPER_DEPLOYMENT',
  region: 'AWS_REGION',
  systemTable: 'FAASKEEPER_SYSTEM_TABLE',
  bucket: 'FAASKEEPER_BUCKET',
  userStore: 'FAASKEEPER_USER_STORE',
  userTable: 'FAASKEEPER_USER_TABLE',
  writerQueueUrl: 'FAASKEEPER_WRITER_QUEUE_URL',
  distributorQueueUrl: 'FAASKEEPER_DISTRIBUTOR_QUEUE_URL',
  channelPrefix: 'FAASKEEPER_CHANNEL_PREFIX',
  inlineMessageBytes: 'FAASKEEPER_INLINE_MESSAGE_BYTES',
  clockSkewMs: 'FAASKEEPER_CLOCK_SKEW_MS',
  dynamodb: 'FAASKEEPER_ENDPOINT_DYNAMODB',
  sqs: 'FAASKEEPER_ENDPOINT_SQS',
  s3: 'FAASKEEPER_ENDPOINT_S3',
} as const;

/** The environment variables that carry a config to a Lambda function. */
export function configToEnv(config: AwsDeploymentConfig): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [field, name] of Object.entries(ENV)) {
    const value = (config as unknown as Record<string, unknown>)[field];
    if (value !== undefined) env[name] = String(value);
  }
  return env;
}

/**
 * Reads a config from environment variables (what the Lambda functions get).
 * @throws Error naming the first missing variable.
 */
export function configFromEnv(env: Record<string, string | undefined> = process.env): AwsDeploymentConfig {
  const need = (name: string) => {
    const v = env[name];
    if (v === undefined || v === '') throw new Error(`environment variable ${name} is not set`);
    return v;
  };
  const optional = (name: string) => (env[name] === undefined || env[name] === '' ? undefined : env[name]);
  const userStore = (optional(ENV.userStore) ?? 's3') as UserStoreKind;
  if (userStore !== 's3' && userStore !== 'dynamodb')
    throw new Error(`${ENV.userStore} must be s3 or dynamodb`);
  const config: AwsDeploymentConfig = {
    deployment: need(ENV.deployment),
    region: optional(ENV.region) ?? optional('AWS_DEFAULT_REGION') ?? 'us-east-1',
    systemTable: need(ENV.systemTable),
    bucket: need(ENV.bucket),
    userStore,
    writerQueueUrl: need(ENV.writerQueueUrl),
    distributorQueueUrl: need(ENV.distributorQueueUrl),
    channelPrefix: need(ENV.channelPrefix),
  };
  if (userStore === 'dynamodb') config.userTable = need(ENV.userTable);
  const inline = optional(ENV.inlineMessageBytes);
  if (inline !== undefined) config.inlineMessageBytes = Number(inline);
  const skew = optional(ENV.clockSkewMs);
  if (skew !== undefined) config.clockSkewMs = Number(skew);
  for (const service of ['dynamodb', 'sqs', 's3'] as const) {
    const endpoint = optional(ENV[service]);
    if (endpoint !== undefined) config[service] = endpoint;
  }
  return config;
}

/** The ports of a deployment, over the given SDK clients. */
export interface AwsPorts {
  systemStore: SystemStore;
  userStore: UserStore;
  writerQueue: Queue;
  distributorQueue: Queue;
  channel: Channel;
  /** Clients renew their sessions' leases with it (docs/guarantees.md "Sessions"). */
  lease: LeaseRenewer;
}

/**
 * Key prefix of distributor batches over the SQS limit (`distribution: 'queue'`): a prefix of
 * their own, which no client grant names. A batch carries node data in clear (protected nodes'
 * too), where clients' and channel bodies (`sqs-bodies/`, readable by clients) are sealed.
 */
export const FUNCTION_BODIES_PREFIX = 'function-bodies/';

/** Largest user-store record kept inline in its DynamoDB item; larger ones go to S3 (cost crossover). */
export const USER_ITEM_INLINE_BYTES = 8 * 1024;

/** Builds every port of a deployment from its config (one meter counts all of them). */
export function createAwsPorts(config: AwsDeploymentConfig, clients: AwsClients, meter?: Meter): AwsPorts {
  const m = meter === undefined ? {} : { meter };
  const offload = { client: clients.s3, bucket: config.bucket, prefix: 'sqs-bodies/' };
  const inline =
    config.inlineMessageBytes === undefined ? {} : { inlineMessageBytes: config.inlineMessageBytes };
  return {
    systemStore: new DynamoDbSystemStore({
      client: clients.dynamodb,
      table: config.systemTable,
      offload: { client: clients.s3, bucket: config.bucket, prefix: 'system-items/' },
      ...m,
    }),
    userStore:
      config.userStore === 'dynamodb'
        ? new DynamoDbUserStore({
            client: clients.dynamodb,
            table: config.userTable ?? resourceNames(config.deployment).userTable,
            offload: { client: clients.s3, bucket: config.bucket, prefix: 'user-data/' },
            // Tiered by cost: an item costs one write unit per KB, an S3 object one PUT (= 8 write
            // units at list prices) plus a pointer item; from about 8 KiB on, S3 is cheaper.
            inlineItemBytes: USER_ITEM_INLINE_BYTES,
            ...m,
          })
        : new S3UserStore({ client: clients.s3, bucket: config.bucket, prefix: 'user/', ...m }),
    writerQueue: new SqsQueue({
      client: clients.sqs,
      queueUrl: config.writerQueueUrl,
      offload,
      ...inline,
      ...m,
    }),
    distributorQueue: new SqsQueue({
      client: clients.sqs,
      queueUrl: config.distributorQueueUrl,
      offload: { ...offload, prefix: FUNCTION_BODIES_PREFIX },
      ...inline,
      ...m,
    }),
    channel: new SqsChannel({ client: clients.sqs, prefix: config.channelPrefix, offload, ...inline, ...m }),
    lease: new DynamoDbLeaseRenewer({ client: clients.dynamodb, table: config.systemTable, ...m }),
  };
}

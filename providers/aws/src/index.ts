/**
 * @faaskeeper/aws — FaaSKeeper on AWS: the DynamoDB, S3 and SQS adapters of the core's ports, an
 * in-process runtime that behaves like Lambda's SQS event source mapping, `connect()`, and a
 * local deployment on emulators. The Lambda handlers are in `@faaskeeper/aws/handlers`, the
 * emulator stack in `@faaskeeper/aws/local`.
 * @packageDocumentation
 */

export { type AwsClients, type AwsEndpoints, type ClientOrConfig, createAwsClients } from './aws-clients.js';
export { isTransientAwsError, translateAwsError } from './aws-errors.js';
export {
  type AwsDeploymentConfig,
  type AwsPorts,
  configFromEnv,
  configToEnv,
  createAwsPorts,
  resourceNames,
  type UserStoreKind,
} from './config.js';
export { type AwsConnectOptions, connect } from './connect.js';
export { DynamoDbLeaseRenewer, type DynamoDbLeaseRenewerOptions } from './dynamodb-lease.js';
export {
  DYNAMODB_ITEM_LIMIT,
  DynamoDbSystemStore,
  type DynamoDbSystemStoreOptions,
} from './dynamodb-system-store.js';
export { DynamoDbUserStore, type DynamoDbUserStoreOptions } from './dynamodb-user-store.js';
export { METER_KEYS, readUnits, sqsRequests, writeUnits } from './meter.js';
export { AWS_PRICES, dollarsOf } from './pricing.js';
export { childIndexPrefix, nodeObjectKey, S3UserStore, type S3UserStoreOptions } from './s3-user-store.js';
export { SqsChannel, type SqsChannelOptions } from './sqs-channel.js';
export { BodyOffload, type OffloadOptions } from './sqs-offload.js';
export { SqsPollerRuntime, type SqsPollerRuntimeOptions } from './sqs-poller-runtime.js';
export {
  OFFLOADED_MESSAGE_LIMIT,
  SQS_MESSAGE_LIMIT,
  SqsQueue,
  type SqsQueueCreateOptions,
  type SqsQueueOptions,
  type SqsQueueSettings,
} from './sqs-queue.js';

import {
  MemoryChannel,
  MemoryLeaseRenewer,
  MemoryQueue,
  MemorySystemStore,
  MemoryUserStore,
} from '@faaskeeper/core';
import type { AwsDeploymentConfig, AwsPorts } from '../src/config.js';

/** The ports of the Lambda handlers on in-memory adapters with DynamoDB's limits: handler tests without emulators. */
export function memoryAwsPorts(): AwsPorts {
  const systemStore = new MemorySystemStore({ maxTransactionItems: 100, maxItemBytes: 400 * 1024 });
  return {
    systemStore,
    userStore: new MemoryUserStore(),
    writerQueue: new MemoryQueue('writer'),
    distributorQueue: new MemoryQueue('distributor'),
    channel: new MemoryChannel(),
    lease: new MemoryLeaseRenewer(systemStore),
  };
}

/** A deployment's configuration as its functions read it (the handler and port tests share it; nothing listens there). */
export const prodConfig: AwsDeploymentConfig = {
  deployment: 'prod',
  region: 'eu-west-1',
  systemTable: 'faaskeeper-prod-system',
  bucket: 'faaskeeper-prod',
  userStore: 'dynamodb',
  userTable: 'faaskeeper-prod-user',
  writerQueueUrl: 'https://sqs.eu-west-1.amazonaws.com/1/faaskeeper-prod-writer.fifo',
  distributorQueueUrl: 'https://sqs.eu-west-1.amazonaws.com/1/faaskeeper-prod-distributor.fifo',
  channelPrefix: 'faaskeeper-prod-session',
  clockSkewMs: 500,
  sqs: 'http://127.0.0.1:9324',
};

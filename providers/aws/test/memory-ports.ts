import {
  MemoryChannel,
  MemoryLeaseRenewer,
  MemoryQueue,
  MemorySystemStore,
  MemoryUserStore,
} from '@faaskeeper/core';
import type { AwsPorts } from '../src/config.js';

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

import { MemoryChannel, MemoryQueue, MemorySystemStore, MemoryUserStore } from '@faaskeeper/core';
import type { AwsPorts } from '../src/config.js';

/** The ports of the Lambda handlers on in-memory adapters with DynamoDB's limits: handler tests without emulators. */
export function memoryAwsPorts(): AwsPorts {
  return {
    systemStore: new MemorySystemStore({ maxTransactionItems: 100, maxItemBytes: 400 * 1024 }),
    userStore: new MemoryUserStore(),
    writerQueue: new MemoryQueue('writer'),
    distributorQueue: new MemoryQueue('distributor'),
    channel: new MemoryChannel(),
  };
}

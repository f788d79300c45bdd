// The in-memory adapters run every port's contract suite: this file is the pattern an adapter
// package copies (one call per port, a factory that makes a fresh instance). Adapter packages import
// the suites from '@faaskeeper/core/testkit'; inside core they come from their folder directly.
import {
  MemoryChannel,
  MemoryQueue,
  MemoryRuntime,
  MemorySystemStore,
  MemoryUserStore,
} from '../../src/index.js';
import {
  describeChannelContract,
  describeQueueContract,
  describeRuntimeContract,
  describeSystemStoreContract,
  describeUserStoreContract,
} from '../../src/testkit/contracts/index.js';

describeSystemStoreContract('MemorySystemStore (unlimited)', async () => ({
  store: new MemorySystemStore(),
}));

// DynamoDB's limits, so that the finite-limit cases run too.
describeSystemStoreContract('MemorySystemStore (DynamoDB limits)', async () => ({
  store: new MemorySystemStore({ maxTransactionItems: 100, maxItemBytes: 400 * 1024 }),
}));

describeUserStoreContract('MemoryUserStore', async () => ({ store: new MemoryUserStore() }));

describeQueueContract(
  'MemoryQueue',
  async ({ clock }) => ({
    queue: new MemoryQueue('contract', {
      ...(clock ? { clock } : {}),
      capabilities: { maxMessageBytes: 256 * 1024 },
    }),
  }),
  { manualClock: true },
);

// Once on real time as well, as a cloud queue runs: short timeouts keep it fast.
describeQueueContract('MemoryQueue', async () => ({ queue: new MemoryQueue('contract-real') }), {
  visibilityTimeoutMs: 100,
  waitMs: 50,
});

describeChannelContract('MemoryChannel', async () => ({ channel: new MemoryChannel() }));

describeRuntimeContract(
  'MemoryRuntime',
  async ({ clock }) => {
    const runtime = new MemoryRuntime(clock ? { clock } : {});
    return {
      runtime,
      createQueue: async (name) => new MemoryQueue(name, clock ? { clock } : {}),
      cleanup: () => runtime.close(),
    };
  },
  { manualClock: true },
);

describeRuntimeContract(
  'MemoryRuntime',
  async () => {
    const runtime = new MemoryRuntime();
    return { runtime, createQueue: async (name) => new MemoryQueue(name), cleanup: () => runtime.close() };
  },
  { scheduleIntervalMs: 20 },
);

// SqsPollerRuntime behaviours beyond the runtime contract, on in-memory queues (no emulator).
import { MemoryQueue, type ReceivedMessage } from '@faaskeeper/core';
import { expect, it } from 'vitest';
import { SqsPollerRuntime } from '../src/sqs-poller-runtime.js';

async function until(done: () => boolean, what: string): Promise<void> {
  const start = Date.now();
  while (!done()) {
    if (Date.now() - start > 10_000) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

it('moves a message that keeps failing to the dead-letter queue after maxReceiveCount, unblocking its group', async () => {
  const queue = new MemoryQueue('work');
  const deadLetter = new MemoryQueue('work-dlq');
  const runtime = new SqsPollerRuntime({
    pollWaitMs: 50,
    redrive: (q) => (q === queue ? { deadLetter, maxReceiveCount: 2 } : undefined),
  });
  const seen: ReceivedMessage[] = [];
  runtime.bindQueue(
    queue,
    async (messages) => {
      seen.push(...messages);
      return { failed: messages.filter((m) => m.body === 'poison').map((m) => m.id) };
    },
    // Batches of one: 'after' never shares the failing batch, so its receive count stays 1.
    { functionName: 'worker', batchSize: 1, timeoutMs: 1000 },
  );
  await queue.send([
    { body: 'poison', group: 'A', dedupId: 'p' },
    { body: 'after', group: 'A', dedupId: 'a' },
  ]);
  await until(() => seen.some((m) => m.body === 'after'), 'the group to flow again');
  await runtime.close();
  expect(seen.filter((m) => m.body === 'poison').map((m) => m.attempt)).toEqual([1, 2]);
  expect(seen.filter((m) => m.body === 'after').map((m) => m.attempt)).toEqual([1]);
  const dead = await deadLetter.receive({ max: 10, visibilityTimeoutMs: 1000 });
  expect(dead.map((m) => m.body)).toEqual(['poison']);
  expect(await queue.receive({ max: 10, visibilityTimeoutMs: 1000 })).toEqual([]);
});

it('counts invocations and GB-seconds on its meter, as Lambda bills them', async () => {
  const totals = new Map<string, number>();
  const meter = { add: (k: string, n = 1) => totals.set(k, (totals.get(k) ?? 0) + n) };
  const queue = new MemoryQueue('metered');
  const runtime = new SqsPollerRuntime({ pollWaitMs: 50, meter, memoryMb: 1024 });
  let handled = 0;
  runtime.bindQueue(
    queue,
    async (messages) => {
      handled += messages.length;
      return { failed: [] };
    },
    { functionName: 'worker', batchSize: 10, timeoutMs: 1000 },
  );
  await queue.send([{ body: 'x', group: 'A', dedupId: 'x' }]);
  await until(() => handled === 1, 'the message to be handled');
  await runtime.close();
  expect(totals.get('lambda.invocations')).toBe(1);
  // At least one billed millisecond at 1 GB.
  expect(totals.get('lambda.gb-seconds')).toBeGreaterThanOrEqual(0.001);
});

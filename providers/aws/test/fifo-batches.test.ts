// The local SQS hands out FIFO batches as SQS does (fauxqs, patched: pnpm-workspace.yaml): up to 10
// messages of one group per receive, in order, the group blocked while any is in flight, and
// released messages back in their group's order. The batch-10 cost figures (cost.test.ts) rest on it.
import { afterAll, expect, it } from 'vitest';
import { SqsPollerRuntime } from '../src/sqs-poller-runtime.js';
import { SqsQueue } from '../src/sqs-queue.js';
import { requireLocalStack, uniqueName, useLocalStack } from './support.js';

const stack = useLocalStack();
const queues: SqsQueue[] = [];
afterAll(async () => {
  await Promise.all(queues.map((q) => q.destroy()));
});

const bodies = (messages: { body: string }[]) => messages.map((m) => m.body);
const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => `m${from + i}`);

it('a FIFO receive returns up to 10 messages of one group in order, and the group waits while they are in flight', async (ctx) => {
  if (!requireLocalStack(ctx)) return;
  const { clients } = await stack();
  const queue = await SqsQueue.create({ client: clients.sqs, name: `${uniqueName('batches')}.fifo` });
  queues.push(queue);
  await queue.send(range(0, 12).map((body) => ({ body, group: 'g', dedupId: body })));

  const first = await queue.receive({ max: 10, visibilityTimeoutMs: 30_000 });
  expect(bodies(first)).toEqual(range(0, 10));
  // m10 and m11 wait: their group has messages in flight.
  expect(await queue.receive({ max: 10, visibilityTimeoutMs: 30_000 })).toEqual([]);

  // The first three done, the other seven handed back (a partial batch failure): they come back
  // before m10 and m11, in the order they were sent.
  await queue.ack(first.slice(0, 3).map((m) => m.receipt));
  await queue.release(first.slice(3).map((m) => m.receipt));
  const second = await queue.receive({ max: 10, visibilityTimeoutMs: 30_000 });
  expect(bodies(second)).toEqual(range(3, 12));
  await queue.ack(second.map((m) => m.receipt));
  expect(await queue.receive({ max: 10, visibilityTimeoutMs: 30_000 })).toEqual([]);
}, 60_000);

it('messages whose visibility timeout ran out come back in their group order', async (ctx) => {
  if (!requireLocalStack(ctx)) return;
  const { clients } = await stack();
  const queue = await SqsQueue.create({ client: clients.sqs, name: `${uniqueName('expiry')}.fifo` });
  queues.push(queue);
  await queue.send(range(0, 5).map((body) => ({ body, group: 'g', dedupId: body })));
  const first = await queue.receive({ max: 4, visibilityTimeoutMs: 1000 });
  expect(bodies(first)).toEqual(range(0, 4));
  // Long-polls past the 1 s visibility timeout: all five are there again, m0 first.
  const again = await queue.receive({ max: 10, visibilityTimeoutMs: 30_000, waitMs: 3000 });
  expect(bodies(again)).toEqual(range(0, 5));
  expect(again.every((m, i) => m.attempt === (i < 4 ? 2 : 1))).toBe(true);
  await queue.ack(again.map((m) => m.receipt));
}, 60_000);

it('the poller runtime hands the function everything one receive returns: ten queued messages, one invocation', async (ctx) => {
  if (!requireLocalStack(ctx)) return;
  const { clients } = await stack();
  const queue = await SqsQueue.create({ client: clients.sqs, name: `${uniqueName('poller')}.fifo` });
  queues.push(queue);
  await queue.send(range(0, 12).map((body) => ({ body, group: 'g', dedupId: body })));
  const runtime = new SqsPollerRuntime({ pollWaitMs: 1000 });
  const batches: string[][] = [];
  let done: () => void = () => {};
  const all = new Promise<void>((resolve) => {
    done = resolve;
  });
  runtime.bindQueue(
    queue,
    async (messages) => {
      batches.push(bodies(messages));
      if (batches.flat().length === 12) done();
      return { failed: [] };
    },
    { functionName: 'f', batchSize: 10, timeoutMs: 30_000 },
  );
  try {
    await all;
  } finally {
    await runtime.close();
  }
  // Lambda's event source mapping takes at most 10 of a FIFO queue per invocation.
  expect(batches).toEqual([range(0, 10), range(10, 12)]);
}, 60_000);

import { describe, expect, it } from 'vitest';
import { ManualClock, settle } from '../../memory/manual-clock.js';
import type { OutgoingMessage, Queue, ReceivedMessage } from '../../ports/queue.js';
import type { BatchResult, InvocationContext, Runtime } from '../../ports/runtime.js';
import { type FixtureCleanup, sleep, waitUntil, withFixture } from './support.js';

/** What the suite hands a {@link describeRuntimeContract} factory. */
export interface RuntimeFactoryOptions {
  /** Set when the contract was told the runtime takes an injected clock (timers and deadlines). */
  clock?: ManualClock;
}

/** What a {@link describeRuntimeContract} factory returns. */
export interface RuntimeFixture extends FixtureCleanup {
  runtime: Runtime;
  /** A fresh, empty queue the runtime can bind (on the same clock). */
  createQueue(name: string): Promise<Queue>;
}

/** How the runtime suite drives time. */
export interface RuntimeContractOptions {
  /** The factory honours {@link RuntimeFactoryOptions.clock}: schedules run by advancing it. */
  manualClock?: boolean;
  /** Interval of the scheduled handler under test. Default 1000 ms on a manual clock, 50 ms in real time. */
  scheduleIntervalMs?: number;
  /** How long to wait for expected invocations before failing. Default 10 s. */
  deliveryTimeoutMs?: number;
  /** How long to watch for invocations that must not happen, in real time. Default 100 ms. */
  quietMs?: number;
  /** Per-test timeout in ms. Default 30 s. */
  timeoutMs?: number;
}

/** One delivery the handler saw: which invocation, and the message. */
interface Delivery {
  invocation: number;
  message: ReceivedMessage;
}

const msg = (body: string, group: string): OutgoingMessage => ({ body, group, dedupId: `${group}:${body}` });

/**
 * Which deliveries the runtime must treat as done: those of a batch not reported failed and not
 * after a failed message of their group in that batch (the rest are handed out again).
 */
function accepted(batch: ReceivedMessage[], failed: ReadonlySet<string>): ReceivedMessage[] {
  const stopped = new Set<string>();
  return batch.filter((m) => {
    if (failed.has(m.id)) stopped.add(m.group);
    return !stopped.has(m.group);
  });
}

/**
 * The {@link Runtime} contract: registers a vitest `describe` block that runs, against a fresh
 * runtime and queues per test, what the core's functions rely on.
 *
 * Pins: a bound handler gets batches of at most `batchSize` with its function name and a future
 * deadline, each group in order; a message reported failed (partial batch failure), and the later
 * messages of its group in that batch, are handed out again while the rest are not; a handler that
 * throws gets its whole batch again; a schedule runs repeatedly; `binding.stop()` stops one
 * binding; `close()` waits for running invocations and stops everything.
 */
export function describeRuntimeContract(
  name: string,
  factory: (options: RuntimeFactoryOptions) => Promise<RuntimeFixture>,
  options: RuntimeContractOptions = {},
): void {
  const manual = options.manualClock === true;
  const interval = options.scheduleIntervalMs ?? (manual ? 1000 : 50);
  const deliveryTimeoutMs = options.deliveryTimeoutMs ?? 10_000;
  const quietMs = options.quietMs ?? 100;

  interface Env extends RuntimeFixture {
    clock: ManualClock | undefined;
    now(): number;
    /** Waits for `done()`, advancing a manual clock a little each round so that timers can fire. */
    until(done: () => boolean, what: string): Promise<void>;
    /** Lets time pass in which nothing must happen. */
    quiet(): Promise<void>;
  }

  const test = (title: string, body: (env: Env) => Promise<void>) =>
    it(
      title,
      () => {
        const clock = manual ? new ManualClock() : undefined;
        return withFixture(
          () => factory(clock === undefined ? {} : { clock }),
          (f) =>
            body({
              ...f,
              clock,
              now: () => clock?.now() ?? Date.now(),
              until: async (done, what) => {
                if (clock === undefined) return waitUntil(done, what, deliveryTimeoutMs);
                // Timers of a manual-clock runtime (polls, back-off) fire only as the clock moves.
                const start = Date.now();
                while (!done()) {
                  if (Date.now() - start > deliveryTimeoutMs)
                    throw new Error(`timed out after ${deliveryTimeoutMs} ms waiting for ${what}`);
                  await clock.advance(1);
                  if (!done()) await sleep(1);
                }
              },
              quiet: async () => {
                if (clock !== undefined) await clock.advance(interval * 5);
                await settle();
                await sleep(quietMs);
              },
            }),
        );
      },
      options.timeoutMs ?? 30_000,
    );

  describe(`Runtime contract: ${name}${manual ? ' (manual clock)' : ' (real time)'}`, () => {
    test('invokes a bound handler with batches of at most batchSize, in group order, with name and deadline', async (env) => {
      const queue = await env.createQueue('batches');
      const batches: ReceivedMessage[][] = [];
      const contexts: { context: InvocationContext; at: number }[] = [];
      env.runtime.bindQueue(
        queue,
        async (messages, context) => {
          batches.push(messages);
          contexts.push({ context, at: env.now() });
          return { failed: [] };
        },
        { functionName: 'worker', batchSize: 3, timeoutMs: 5000 },
      );
      const sent = Array.from({ length: 12 }, (_, i) => msg(`m${i}`, `g${i % 3}`));
      await queue.send(sent);
      await env.until(() => batches.flat().length >= sent.length, 'every message handled');
      await env.quiet();
      const all = batches.flat();
      expect(all.map((m) => m.body).sort()).toEqual(sent.map((m) => m.body).sort());
      expect(all.every((m) => m.attempt === 1)).toBe(true);
      for (const b of batches) expect(b.length).toBeGreaterThanOrEqual(1);
      for (const b of batches) expect(b.length).toBeLessThanOrEqual(3);
      for (const g of ['g0', 'g1', 'g2'])
        expect(all.filter((m) => m.group === g).map((m) => m.body)).toEqual(
          sent.filter((m) => m.group === g).map((m) => m.body),
        );
      for (const { context, at } of contexts) {
        expect(context.functionName).toBe('worker');
        expect(context.deadline).toBeGreaterThan(at);
        expect(context.deadline).toBeLessThanOrEqual(at + 5000);
      }
      await env.runtime.close();
    });

    test('hands out a failed message and the later messages of its group again, and nothing else', async (env) => {
      const queue = await env.createQueue('partial');
      const deliveries: Delivery[] = [];
      const done: ReceivedMessage[] = [];
      let invocation = 0;
      env.runtime.bindQueue(
        queue,
        async (messages): Promise<BatchResult> => {
          invocation++;
          for (const message of messages) deliveries.push({ invocation, message });
          const failed = new Set(messages.filter((m) => m.body === 'a2' && m.attempt === 1).map((m) => m.id));
          done.push(...accepted(messages, failed));
          return { failed: [...failed] };
        },
        { functionName: 'worker', batchSize: 10, timeoutMs: 5000 },
      );
      await queue.send([msg('a1', 'A'), msg('a2', 'A'), msg('a3', 'A'), msg('b1', 'B'), msg('b2', 'B')]);
      await env.until(() => done.length >= 5, 'every message handled');
      await env.quiet();
      const count = (body: string) => deliveries.filter((d) => d.message.body === body).length;
      // Each group's messages are done exactly once, in send order, the failed one included.
      expect(done.filter((m) => m.group === 'A').map((m) => m.body)).toEqual(['a1', 'a2', 'a3']);
      expect(done.filter((m) => m.group === 'B').map((m) => m.body)).toEqual(['b1', 'b2']);
      expect(count('a2')).toBe(2);
      expect(deliveries.find((d) => d.message.body === 'a2' && d.message.attempt === 2)).toBeDefined();
      // What was done before the failure, or in another group, is not handed out again.
      expect(count('a1')).toBe(1);
      expect(count('b1')).toBe(1);
      expect(count('b2')).toBe(1);
      // a3, if it shared the failing batch, came again.
      const failing = deliveries.find((d) => d.message.body === 'a2')!.invocation;
      if (deliveries.some((d) => d.message.body === 'a3' && d.invocation === failing)) {
        expect(count('a3')).toBe(2);
        expect(
          deliveries.find((d) => d.message.body === 'a3' && d.invocation > failing)?.message.attempt,
        ).toBe(2);
      } else expect(count('a3')).toBe(1);
      await env.runtime.close();
    });

    test('gives a handler that throws its whole batch again, attempt incremented', async (env) => {
      const queue = await env.createQueue('throwing');
      const batches: ReceivedMessage[][] = [];
      env.runtime.bindQueue(
        queue,
        async (messages) => {
          batches.push(messages);
          if (batches.length === 1) throw new Error('handler crashed');
          return { failed: [] };
        },
        { functionName: 'worker', batchSize: 10, timeoutMs: 5000 },
      );
      await queue.send([msg('a1', 'A'), msg('a2', 'A'), msg('b1', 'B')]);
      const firstIds = () => new Set(batches[0]?.map((m) => m.id) ?? []);
      const seenAgain = () => batches.slice(1).flat();
      await env.until(
        () => batches.length > 0 && [...firstIds()].every((id) => seenAgain().some((m) => m.id === id)),
        'the thrown batch handed out again',
      );
      for (const m of batches[0]!) {
        const again = seenAgain().find((x) => x.id === m.id)!;
        expect(again.body).toBe(m.body);
        expect(again.attempt).toBe(m.attempt + 1);
      }
      await env.runtime.close();
    });

    test('runs a scheduled handler repeatedly, with its name', async (env) => {
      const runs: InvocationContext[] = [];
      env.runtime.schedule('ticker', interval, async (context) => {
        runs.push(context);
      });
      if (env.clock !== undefined) {
        await env.clock.advance(interval * 3.5);
        expect(runs.length).toBeGreaterThanOrEqual(2);
        expect(runs.length).toBeLessThanOrEqual(4);
      } else {
        await env.until(() => runs.length >= 3, 'three scheduled runs');
      }
      expect(runs.every((r) => r.functionName === 'ticker')).toBe(true);
      await env.runtime.close();
    });

    test('keeps a schedule running after its handler throws', async (env) => {
      let runs = 0;
      env.runtime.schedule('flaky', interval, async () => {
        runs++;
        throw new Error('scheduled handler failed');
      });
      if (env.clock !== undefined) await env.clock.advance(interval * 3.5);
      await env.until(() => runs >= 2, 'a second scheduled run');
      await env.runtime.close();
    });

    test('binding.stop() stops that binding only', async (env) => {
      const q1 = await env.createQueue('one');
      const q2 = await env.createQueue('two');
      const seen: string[] = [];
      const handler = async (messages: ReceivedMessage[]) => {
        seen.push(...messages.map((m) => m.body));
        return { failed: [] };
      };
      const b1 = env.runtime.bindQueue(q1, handler, { functionName: 'one', batchSize: 10, timeoutMs: 5000 });
      env.runtime.bindQueue(q2, handler, { functionName: 'two', batchSize: 10, timeoutMs: 5000 });
      await b1.stop();
      await q1.send([msg('to-stopped', 'A')]);
      await q2.send([msg('to-running', 'A')]);
      await env.until(() => seen.includes('to-running'), 'the running binding to handle its message');
      await env.quiet();
      expect(seen).toEqual(['to-running']);
      await env.runtime.close();
    });

    test('close() waits for running invocations, then nothing runs any more', async (env) => {
      const queue = await env.createQueue('closing');
      let release!: () => void;
      const gate = new Promise<void>((resolve) => {
        release = resolve;
      });
      const seen: string[] = [];
      let finished = false;
      let ticks = 0;
      env.runtime.bindQueue(
        queue,
        async (messages) => {
          seen.push(...messages.map((m) => m.body));
          if (messages.some((m) => m.body === 'slow')) {
            await gate;
            finished = true;
          }
          return { failed: [] };
        },
        { functionName: 'worker', batchSize: 10, timeoutMs: 60_000 },
      );
      env.runtime.schedule('ticker', interval, async () => {
        ticks++;
      });
      await queue.send([msg('slow', 'A')]);
      await env.until(() => seen.includes('slow'), 'the slow invocation to start');
      let closed = false;
      const closing = env.runtime.close().then(() => {
        closed = true;
      });
      await settle();
      await sleep(10);
      expect(closed).toBe(false);
      release();
      await closing;
      expect(finished).toBe(true);
      const ticksAtClose = ticks;
      await queue.send([msg('after-close', 'B')]);
      await env.quiet();
      expect(seen).toEqual(['slow']);
      expect(ticks).toBe(ticksAtClose);
    });
  });
}

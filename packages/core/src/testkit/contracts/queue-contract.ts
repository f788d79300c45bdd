import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../memory/manual-clock.js';
import { LimitExceededError } from '../../ports/errors.js';
import type { OutgoingMessage, Queue, ReceivedMessage } from '../../ports/queue.js';
import { type FixtureCleanup, sleep, withFixture } from './support.js';

/** What the suite hands a {@link describeQueueContract} factory. */
export interface QueueFactoryOptions {
  /**
   * Set when the contract was told the adapter takes an injected clock: the queue must run its
   * visibility timeouts and de-duplication window on it.
   */
  clock?: ManualClock;
}

/** What a {@link describeQueueContract} factory returns: a fresh, empty queue. */
export interface QueueFixture extends FixtureCleanup {
  queue: Queue;
}

/** How the queue suite drives time. */
export interface QueueContractOptions {
  /**
   * The factory honours {@link QueueFactoryOptions.clock}: timeouts are tested by advancing a
   * {@link ManualClock}, without waiting. Otherwise the suite waits real (short) timeouts.
   */
  manualClock?: boolean;
  /** Visibility timeout the suite asks for. Default 1000 ms (SQS counts whole seconds). */
  visibilityTimeoutMs?: number;
  /** Long-poll wait of each receive in real time. Default 500 ms. */
  waitMs?: number;
  /** How long to wait for expected messages in real time before failing. Default 10 s. */
  deliveryTimeoutMs?: number;
  /** Per-test timeout in ms. Default 30 s. */
  timeoutMs?: number;
}

const msg = (body: string, group: string, dedupId = `${group}:${body}`): OutgoingMessage => ({
  body,
  group,
  dedupId,
});

/** Drives one queue with the suite's notion of time. */
class QueueDriver {
  constructor(
    readonly queue: Queue,
    private readonly clock: ManualClock | undefined,
    private readonly o: Required<Omit<QueueContractOptions, 'manualClock'>>,
  ) {}

  get visibility(): number {
    return this.o.visibilityTimeoutMs;
  }

  /** One receive; a quiet receive long-polls briefly in real time, and not at all on a manual clock. */
  receive(max = 10, visibilityTimeoutMs = this.o.visibilityTimeoutMs): Promise<ReceivedMessage[]> {
    return this.queue.receive({ max, visibilityTimeoutMs, waitMs: this.clock ? 0 : this.o.waitMs });
  }

  /** One receive that does not wait: for checks that nothing is deliverable now. */
  receiveNow(max = 10): Promise<ReceivedMessage[]> {
    return this.queue.receive({ max, visibilityTimeoutMs: this.o.visibilityTimeoutMs, waitMs: 0 });
  }

  /**
   * Receives until `count` messages came (acknowledging each batch when `ack`), or until nothing
   * more can come: at once on a manual clock, after the delivery timeout in real time.
   */
  async collect(count: number, ack: boolean, max = 10): Promise<ReceivedMessage[]> {
    const out: ReceivedMessage[] = [];
    const start = Date.now();
    while (out.length < count) {
      const got = await this.receive(max);
      out.push(...got);
      if (ack && got.length > 0) await this.queue.ack(got.map((m) => m.receipt));
      if (got.length === 0 && (this.clock !== undefined || Date.now() - start > this.o.deliveryTimeoutMs))
        break;
    }
    return out;
  }

  /** Lets `ms` pass: advances the manual clock, or waits real time. */
  async pass(ms: number): Promise<void> {
    if (this.clock !== undefined) await this.clock.advance(ms);
    else await sleep(ms);
  }

  /** Time after which a message received with the suite's visibility timeout is surely visible again. */
  get expiry(): number {
    return this.clock !== undefined ? this.o.visibilityTimeoutMs + 1 : this.o.visibilityTimeoutMs * 1.5;
  }
}

const bodies = (ms: ReceivedMessage[]) => ms.map((m) => m.body);

/**
 * The {@link Queue} contract: registers a vitest `describe` block that runs, against a fresh queue
 * per test, every behaviour the writer, distributor and runtime rely on.
 *
 * Pins: an empty queue answers `[]`; per-group send order, kept across redelivery; a group is
 * blocked while one of its messages is in flight while other groups flow; duplicate sends (same
 * `dedupId`) are dropped; a released or timed-out message comes back with `attempt` incremented
 * and the same `id`; a body over `capabilities.maxMessageBytes` (UTF-8 bytes) throws
 * {@link LimitExceededError} naming its size and sends nothing of the call; acknowledging an
 * expired receipt is harmless.
 */
export function describeQueueContract(
  name: string,
  factory: (options: QueueFactoryOptions) => Promise<QueueFixture>,
  options: QueueContractOptions = {},
): void {
  const o = {
    visibilityTimeoutMs: options.visibilityTimeoutMs ?? 1000,
    waitMs: options.waitMs ?? 500,
    deliveryTimeoutMs: options.deliveryTimeoutMs ?? 10_000,
    timeoutMs: options.timeoutMs ?? 30_000,
  };
  const test = (title: string, body: (q: QueueDriver) => Promise<void>) =>
    it(
      title,
      () => {
        const clock = options.manualClock ? new ManualClock() : undefined;
        return withFixture(
          () => factory(clock === undefined ? {} : { clock }),
          (f) => body(new QueueDriver(f.queue, clock, o)),
        );
      },
      o.timeoutMs,
    );

  describe(`Queue contract: ${name}${options.manualClock ? ' (manual clock)' : ' (real time)'}`, () => {
    test('an empty queue answers an empty list', async (q) => {
      expect(await q.receive()).toEqual([]);
    });

    test('delivers each group in send order, every message once, attempt 1', async (q) => {
      const sentA = Array.from({ length: 15 }, (_, i) => `a${i}`);
      const sentB = Array.from({ length: 5 }, (_, i) => `b${i}`);
      await q.queue.send([...sentA.slice(0, 8).map((b) => msg(b, 'A')), ...sentB.map((b) => msg(b, 'B'))]);
      await q.queue.send(sentA.slice(8).map((b) => msg(b, 'A')));
      const got = await q.collect(20, true);
      expect(bodies(got.filter((m) => m.group === 'A'))).toEqual(sentA);
      expect(bodies(got.filter((m) => m.group === 'B'))).toEqual(sentB);
      expect(got.every((m) => m.attempt === 1)).toBe(true);
      expect(new Set(got.map((m) => m.id)).size).toBe(20);
      expect(await q.receiveNow()).toEqual([]);
    });

    test('never hands out more than max messages', async (q) => {
      await q.queue.send(Array.from({ length: 6 }, (_, i) => msg(`m${i}`, `g${i % 2}`)));
      const got = await q.receive(2);
      expect(got.length).toBeGreaterThan(0);
      expect(got.length).toBeLessThanOrEqual(2);
    });

    test('round-trips bodies exactly (JSON, unicode, escapes)', async (q) => {
      const body = JSON.stringify({ s: 'ä 日本 \u{1F600} "q" \\ \n\t', b: { $b: 'AAEC/w==' }, n: [1, 2.5] });
      await q.queue.send([msg(body, 'A')]);
      const [got] = await q.collect(1, true);
      expect(got?.body).toBe(body);
      expect(got?.group).toBe('A');
    });

    test('blocks a group while one of its messages is in flight; other groups still flow', async (q) => {
      await q.queue.send([msg('a1', 'A'), msg('a2', 'A')]);
      const first = await q.receive(1);
      expect(bodies(first)).toEqual(['a1']);
      expect(await q.receiveNow()).toEqual([]);
      await q.queue.send([msg('b1', 'B')]);
      const other = await q.collect(1, false);
      expect(bodies(other)).toEqual(['b1']);
      await q.queue.ack([first[0]!.receipt, other[0]!.receipt]);
      expect(bodies(await q.collect(1, true))).toEqual(['a2']);
    });

    test('drops a duplicate send with the same dedupId, also after the first was acknowledged', async (q) => {
      await q.queue.send([msg('x', 'A', 'd1')]);
      await q.queue.send([msg('x', 'A', 'd1')]);
      await q.queue.send([msg('y', 'A', 'd2')]);
      expect(bodies(await q.collect(2, true))).toEqual(['x', 'y']);
      expect(await q.receiveNow()).toEqual([]);
      await q.queue.send([msg('x', 'A', 'd1'), msg('z', 'A', 'd3')]);
      expect(bodies(await q.collect(1, true))).toEqual(['z']);
      expect(await q.receiveNow()).toEqual([]);
    });

    test('redelivers released messages with attempt incremented, same id, group order kept', async (q) => {
      await q.queue.send([msg('a1', 'A'), msg('a2', 'A'), msg('a3', 'A')]);
      const first = await q.receive(10);
      expect(first.length).toBeGreaterThan(0);
      expect(bodies(first)).toEqual(['a1', 'a2', 'a3'].slice(0, first.length));
      await q.queue.release(first.map((m) => m.receipt));
      const again = await q.collect(3, true);
      expect(bodies(again)).toEqual(['a1', 'a2', 'a3']);
      expect(again[0]!.attempt).toBe(2);
      expect(again[0]!.id).toBe(first[0]!.id);
      for (const m of again.slice(first.length)) expect(m.attempt).toBe(1);
      expect(await q.receiveNow()).toEqual([]);
    });

    test('redelivers after the visibility timeout, attempt incremented, before later messages of its group', async (q) => {
      await q.queue.send([msg('a1', 'A'), msg('a2', 'A')]);
      const first = await q.receive(1);
      expect(bodies(first)).toEqual(['a1']);
      await q.pass(Math.floor(q.visibility / 4));
      expect(await q.receiveNow()).toEqual([]);
      await q.pass(q.expiry - Math.floor(q.visibility / 4));
      const again = await q.collect(2, true);
      expect(bodies(again)).toEqual(['a1', 'a2']);
      expect(again[0]!.attempt).toBe(2);
      expect(again[0]!.id).toBe(first[0]!.id);
      expect(again[0]!.receipt).not.toBe(first[0]!.receipt);
    });

    test('acknowledging or releasing an expired receipt is harmless', async (q) => {
      await q.queue.send([msg('a1', 'A'), msg('a2', 'A')]);
      const [stale] = await q.receive(1);
      expect(stale?.body).toBe('a1');
      await q.pass(q.expiry);
      const [fresh] = await q.collect(1, false, 1);
      expect(fresh?.body).toBe('a1');
      await q.queue.ack([stale!.receipt]);
      await q.queue.release([stale!.receipt]);
      await q.queue.ack([fresh!.receipt]);
      await q.queue.ack([fresh!.receipt]);
      // The group is not left blocked: its next message flows.
      expect(bodies(await q.collect(1, true))).toEqual(['a2']);
    });

    test('refuses a body over maxMessageBytes with LimitExceededError naming the size, sending nothing', async (q) => {
      const max = q.queue.capabilities.maxMessageBytes;
      expect(Number.isFinite(max)).toBe(true);
      const error = await q.queue.send([msg('ok', 'A'), msg('x'.repeat(max + 1), 'A', 'big')]).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(LimitExceededError);
      expect((error as LimitExceededError).actual).toBe(max + 1);
      expect((error as LimitExceededError).limit).toBe(max);
      expect((error as Error).message).toContain(String(max + 1));
      expect(await q.receiveNow()).toEqual([]);
    });

    test('counts the size limit in UTF-8 bytes and accepts a body of exactly the limit', async (q) => {
      const max = q.queue.capabilities.maxMessageBytes;
      const wide = 'é'.repeat(Math.floor(max / 2) + 1); // under the limit in characters, over in bytes
      await expect(q.queue.send([msg(wide, 'A', 'wide')])).rejects.toBeInstanceOf(LimitExceededError);
      const exact = 'z'.repeat(max);
      await q.queue.send([msg(exact, 'A', 'exact')]);
      const [got] = await q.collect(1, true);
      expect(got?.body.length).toBe(max);
      expect(got?.body).toBe(exact);
    });
  });
}

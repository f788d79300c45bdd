/**
 * Writes at a given batch size on the local AWS deployment: the writer's and distributor's pollers
 * can be held (they make no SQS call at all), so that writes queue up before the writer polls, as
 * under load Lambda's event source mapping finds them; then the writer is let make exactly one
 * receive, which hands out up to ten messages of the FIFO group (fauxqs is patched to do so, as
 * SQS does: `patches/fauxqs@1.9.2.patch`). The cost test and `faaskeeper cost --measure` measure
 * the batch-10 figures with it.
 */
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import {
  type CountingMeter,
  type OutgoingMessage,
  type Queue,
  type QueueCapabilities,
  quietMeter,
  type ReceivedMessage,
  type ReceiveOptions,
} from '@faaskeeper/core';
import type { SqsQueue } from '../sqs-queue.js';
import {
  createLocalAwsDeployment,
  type LocalAwsDeployment,
  type LocalAwsDeploymentOptions,
} from './local-deployment.js';

/** A queue that may be able to end its long polls at once (as {@link SqsQueue} can). */
type InterruptibleQueue = Queue & { interrupt?: () => void };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A queue whose receives can be held: while held, a poller's receive waits without any call to the
 * queue (so no idle long poll is billed or lands in a measurement) until {@link pollOnce} lets
 * exactly one receive through, or {@link open} lets all through again.
 */
export class HoldableQueue implements Queue {
  readonly name: string;
  readonly capabilities: QueueCapabilities;
  private held = false;
  private passes = 0;
  private wake: (() => void)[] = [];
  private inFlight: Promise<unknown> | undefined;

  constructor(private readonly inner: InterruptibleQueue) {
    this.name = inner.name;
    this.capabilities = inner.capabilities;
  }

  /**
   * Holds the poller. A long poll under way is interrupted, and `serverWaitMs` (its wait) is let
   * pass: fauxqs keeps an interrupted long poll open on its side until then, and would hand it the
   * next message, which the interrupted poller never sees.
   */
  async hold(serverWaitMs: number): Promise<void> {
    this.held = true;
    const polling = this.inFlight;
    if (polling === undefined) return;
    this.inner.interrupt?.();
    await polling;
    await sleep(serverWaitMs + 500);
  }

  /** Stops holding: the poller polls as before. */
  open(): void {
    this.held = false;
    for (const w of this.wake.splice(0)) w();
  }

  /** Lets exactly one receive through (one poll of the event source mapping), then holds again. */
  pollOnce(): void {
    this.passes++;
    for (const w of this.wake.splice(0)) w();
  }

  async receive(options: ReceiveOptions): Promise<ReceivedMessage[]> {
    if (this.held) {
      if (this.passes === 0) {
        // Woken by pollOnce, open or interrupt; an interrupt (the poller stopping) answers nothing.
        await new Promise<void>((r) => this.wake.push(r));
        if (this.held && this.passes === 0) return [];
      }
      if (this.held) this.passes--;
    }
    const polling = this.inner.receive(options);
    this.inFlight = polling;
    try {
      return await polling;
    } finally {
      this.inFlight = undefined;
    }
  }

  interrupt(): void {
    for (const w of this.wake.splice(0)) w();
    this.inner.interrupt?.();
  }

  send(messages: OutgoingMessage[]): Promise<void> {
    return this.inner.send(messages);
  }
  ack(receipts: string[]): Promise<void> {
    return this.inner.ack(receipts);
  }
  release(receipts: string[]): Promise<void> {
    return this.inner.release(receipts);
  }
}

/** What {@link BatchingAwsDeployment.meterQueued} counted. */
export interface MeteredBatch {
  /** Each meter key's total over the batch divided by its writes, rounded to 6 decimals. */
  readonly perWrite: Record<string, number>;
  /** The sizes of the writer invocations that ran: `[count]` (the helper throws otherwise). */
  readonly invocations: readonly number[];
}

/** A local AWS deployment whose function pollers can be held ({@link createBatchingAwsDeployment}). */
export interface BatchingAwsDeployment {
  readonly deployment: LocalAwsDeployment;
  /** The writer queue as the writer's poller sees it. */
  readonly writerQueue: HoldableQueue;
  /** The distributor queue as the distributor's poller sees it. */
  readonly distributorQueue: HoldableQueue;
  /** Holds both pollers: from then on the writer polls only when a batch is run. */
  hold(): Promise<void>;
  /** Lets both pollers poll freely again. */
  open(): void;
  /** Messages waiting in the writer queue, as SQS reports them (ApproximateNumberOfMessages). */
  queuedWrites(): Promise<number>;
  /**
   * With the pollers held: starts `count` writes (`write(i)`, all at once), waits until all of
   * them are in the writer queue, lets the writer make one receive, and waits for the writes.
   * Returns the sizes of the writer invocations that ran meanwhile.
   */
  runQueued(count: number, write: (i: number) => Promise<unknown>): Promise<number[]>;
  /**
   * {@link runQueued} on a quiet `meter` (earlier work settled, then reset), and the meter's
   * totals per write. Throws unless the writer ran once with all `count` writes: a batch that came
   * out split would be measured as a smaller one.
   */
  meterQueued(
    meter: CountingMeter,
    count: number,
    write: (i: number) => Promise<unknown>,
  ): Promise<MeteredBatch>;
  /** Opens the pollers and closes the deployment. */
  close(): Promise<void>;
}

/** The writer queue must show a batch's writes within this. */
const QUEUED_WITHIN_MS = 15_000;

/**
 * Deploys on the local AWS stack (as {@link createLocalAwsDeployment}, with `options`) with the
 * writer's and distributor's queues wrapped in {@link HoldableQueue}s. The pollers long-poll for
 * `options.pollWaitMs` (default 1 s here, so that a long poll interrupted by {@link
 * BatchingAwsDeployment.hold} also ends soon on the emulator's side). Hold the pollers after the
 * set-up writes, then run batches with {@link BatchingAwsDeployment.meterQueued}.
 */
export async function createBatchingAwsDeployment(
  options: LocalAwsDeploymentOptions = {},
): Promise<BatchingAwsDeployment> {
  const pollWaitMs = options.pollWaitMs ?? 1000;
  let writerRaw: SqsQueue | undefined;
  let writerQueue: HoldableQueue | undefined;
  let distributorQueue: HoldableQueue | undefined;
  const invocations: number[] = [];
  const wrap = options.wrap ?? {};
  const userWrapHandler = options.wrapHandler ?? ((_name, handler) => handler);
  const deployment = await createLocalAwsDeployment({
    ...options,
    pollWaitMs,
    wrap: {
      ...wrap,
      writerQueue: (q) => {
        writerRaw = q as SqsQueue;
        writerQueue = new HoldableQueue(wrap.writerQueue?.(q) ?? q);
        return writerQueue;
      },
      distributorQueue: (q) => {
        distributorQueue = new HoldableQueue(wrap.distributorQueue?.(q) ?? q);
        return distributorQueue;
      },
    },
    wrapHandler: (name, handler) => {
      const inner = userWrapHandler(name, handler);
      if (name !== 'writer') return inner;
      return (messages, context) => {
        invocations.push(messages.length);
        return inner(messages, context);
      };
    },
  });
  if (writerRaw === undefined || writerQueue === undefined || distributorQueue === undefined)
    throw new Error('the local deployment did not hand its queues to the wrappers');
  const raw = writerRaw;
  const writer = writerQueue;
  const distributor = distributorQueue;

  const queuedWrites = async () => {
    const out = await raw.client.send(
      new GetQueueAttributesCommand({
        QueueUrl: raw.queueUrl,
        AttributeNames: ['ApproximateNumberOfMessages'],
      }),
    );
    return Number(out.Attributes?.ApproximateNumberOfMessages ?? 0);
  };

  const runQueued = async (count: number, write: (i: number) => Promise<unknown>) => {
    invocations.length = 0;
    const writes = Promise.all(Array.from({ length: count }, (_, i) => write(i)));
    // A write that fails before it is queued would leave the wait below to time out: end it now.
    let failed: unknown;
    writes.catch((error: unknown) => {
      failed = error;
    });
    for (let waited = 0; (await queuedWrites()) < count; waited += 20) {
      if (failed !== undefined) throw failed;
      if (waited > QUEUED_WITHIN_MS)
        throw new Error(`only ${await queuedWrites()} of ${count} writes reached the writer queue`);
      await sleep(20);
    }
    writer.pollOnce();
    await writes;
    return [...invocations];
  };

  return {
    deployment,
    writerQueue: writer,
    distributorQueue: distributor,
    hold: async () => {
      await Promise.all([writer.hold(pollWaitMs), distributor.hold(pollWaitMs)]);
    },
    open: () => {
      writer.open();
      distributor.open();
    },
    queuedWrites,
    runQueued,
    async meterQueued(meter, count, write) {
      await quietMeter(meter);
      meter.reset();
      const ran = await runQueued(count, write);
      await quietMeter(meter);
      if (ran.length !== 1 || ran[0] !== count)
        throw new Error(
          `${count} queued writes ran in writer invocations of [${ran.join(', ')}], not in one of ${count}`,
        );
      const perWrite: Record<string, number> = {};
      for (const [key, total] of Object.entries(meter.snapshot()))
        perWrite[key] = Math.round((total / count) * 1e6) / 1e6;
      return { perWrite, invocations: ran };
    },
    async close() {
      // The pollers go on as before, so that closing the sessions and the deployment is not held up.
      writer.open();
      distributor.open();
      await deployment.close();
    },
  };
}

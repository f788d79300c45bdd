import {
  byteLength,
  LimitExceededError,
  type Meter,
  noMeter,
  type OutgoingMessage,
  type Queue,
  type QueueCapabilities,
  type ReceivedMessage,
  type ReceiveOptions,
} from '@faaskeeper/core';
import { GrpcStatus, guard } from './errors.js';
import {
  billableBytes,
  ensureTopic,
  ensureTopicAndSubscription,
  idempotent,
  type PubSubClientOption,
  type PubSubClients,
  type PulledMessage,
  pubsubClients,
  pull,
  subscriptionPath,
  topicPath,
} from './pubsub-client.js';

/** Options of {@link PubSubQueue.create}. */
export type PubSubQueueOptions = PubSubClientOption & {
  /** Topic name; the pull subscription is `<topic>-pull` unless `subscription` is given. */
  topic: string;
  subscription?: string;
  /** Largest body in UTF-8 bytes. Default 4 MiB (Pub/Sub allows 10 MB per message and per publish). */
  maxMessageBytes?: number;
  /** How long a de-duplication id is remembered. Default 10 minutes. */
  dedupWindowMs?: number;
  /** Where billable operations are counted (`pubsub.publish-bytes`, `pubsub.subscribe-bytes`). */
  meter?: Meter;
  /**
   * What to create when missing: `true` (default) the topic and its pull subscription, `'topic'` the
   * topic only (its consumer is a push subscription), `false` nothing (a client that only sends
   * needs no admin permission).
   */
  create?: boolean | 'topic';
};

/** Pub/Sub's limits: 1000 messages and 10 MB per publish request; keep a margin for attributes. */
const MAX_PUBLISH_MESSAGES = 1000;
const MAX_PUBLISH_BYTES = 9 * 1024 * 1024;

/**
 * A {@link Queue} on a Pub/Sub topic with one ordered pull subscription: the group is the ordering
 * key, `receive` is a synchronous pull, `ack` acknowledges, `release` sets the ack deadline to 0,
 * and the visibility timeout is the ack deadline (set per receive with ModifyAckDeadline, so
 * whole seconds). With message ordering the service hands out a key's messages in publish order
 * and (on the emulator, measured) holds the key back while any of them is outstanding.
 *
 * Pub/Sub has no de-duplication: the adapter drops a send whose `dedupId` it published within the
 * window, and a received message whose `dedupId` it already handed out under another message id
 * (acknowledging the copy). Both records live in this adapter instance, so a duplicate sent by
 * another process and received by another consumer instance is not caught — the core tolerates
 * that (the writer de-duplicates by session sequence, the distributor by batch number).
 *
 * Deliberately no shared (Datastore) de-duplication record: it would cost one conditional entity
 * write per message (on send or on first receipt) and a read on receipt — two hops per client
 * write, so about +2 writes and +2 reads, ~$4.80 per million writes on top of ~$19–24 (+20–25 %),
 * and a Datastore round trip of latency per hop — to catch what is already harmless:
 * - writer queue: a request at or below its session's `lastSeq` is dropped by the writer (applied
 *   and answered before); a retried batch whose commit took effect is recognised by the writer
 *   state's `last.ids` and only its output is re-sent; heartbeat requests (session 0) re-check
 *   their condition (an expired session or TTL node already gone is a no-op);
 * - distributor queue: the push order guard skips a batch at or below the applied batch number;
 *   in the distributor itself a batch at or below the watermark only re-sends its messages;
 * - channels: clients drop messages at or below the last order key they took.
 * `test/push-crashes.test.ts` publishes such copies from other queue instances and checks them.
 * `attempt` is Pub/Sub's `deliveryAttempt` when the subscription has a dead-letter policy, else a
 * count kept by this instance.
 */
export class PubSubQueue implements Queue {
  readonly name: string;
  readonly capabilities: QueueCapabilities;
  private readonly meter: Meter;
  private readonly dedupWindowMs: number;
  /** dedupId → [message id that carried it, expiry]. */
  private readonly delivered = new Map<string, [string, number]>();
  /** dedupIds published by this instance → expiry. */
  private readonly sent = new Map<string, number>();
  /** message id → deliveries seen by this instance (the attempt without a dead-letter policy). */
  private readonly attempts = new Map<string, number>();
  /** receipt (ack id) → message id, to forget attempt counts once acknowledged. */
  private readonly receipts = new Map<string, string>();
  private readonly pulls = new Set<{ cancel(): void }>();

  private constructor(
    private readonly clients: PubSubClients,
    readonly topic: string,
    readonly subscription: string,
    options: PubSubQueueOptions,
  ) {
    this.name = topic;
    this.meter = options.meter ?? noMeter;
    this.dedupWindowMs = options.dedupWindowMs ?? 10 * 60_000;
    this.capabilities = { maxMessageBytes: options.maxMessageBytes ?? 4 * 1024 * 1024, maxBatch: 100 };
  }

  /** Opens a queue, creating its topic and ordered pull subscription when they do not exist. */
  static async create(options: PubSubQueueOptions): Promise<PubSubQueue> {
    const clients = await pubsubClients(options);
    const subscription = options.subscription ?? `${options.topic}-pull`;
    if (options.create === 'topic') await ensureTopic(clients, options.topic);
    else if (options.create !== false) await ensureTopicAndSubscription(clients, options.topic, subscription);
    return new PubSubQueue(clients, options.topic, subscription, options);
  }

  async send(messages: OutgoingMessage[]): Promise<void> {
    for (const m of messages) {
      const size = byteLength(m.body);
      if (size > this.capabilities.maxMessageBytes)
        throw new LimitExceededError(`message to ${this.name}`, size, this.capabilities.maxMessageBytes);
    }
    const now = Date.now();
    this.prune(now);
    const fresh = messages.filter((m) => {
      const until = this.sent.get(m.dedupId);
      return until === undefined || until <= now;
    });
    // One publish request keeps the order of its messages per ordering key; requests go one by one.
    let request: { data: Buffer; orderingKey: string; attributes: Record<string, string> }[] = [];
    let requestBytes = 0;
    const flush = async () => {
      if (request.length === 0) return;
      const batch = request;
      request = [];
      requestBytes = 0;
      await guard(`publish to ${this.topic}`, () =>
        this.clients.publisher.publish({ topic: topicPath(this.clients, this.topic), messages: batch }),
      );
      this.meter.add('pubsub.publish-bytes', billableBytes(batch.map(messageBytes)));
      this.meter.add('pubsub.publish-requests', 1);
    };
    for (const m of fresh) {
      const message = {
        data: Buffer.from(m.body, 'utf8'),
        orderingKey: m.group,
        attributes: { dedupId: m.dedupId },
      };
      const size = messageBytes(message);
      if (request.length >= MAX_PUBLISH_MESSAGES || requestBytes + size > MAX_PUBLISH_BYTES) await flush();
      request.push(message);
      requestBytes += size;
    }
    await flush();
    for (const m of fresh) {
      this.sent.delete(m.dedupId);
      this.sent.set(m.dedupId, now + this.dedupWindowMs);
    }
  }

  async receive(options: ReceiveOptions): Promise<ReceivedMessage[]> {
    const wait = options.waitMs ?? 0;
    const pulled = await this.pull(Math.max(1, Math.min(options.max, 1000)), wait);
    if (pulled.length === 0) return [];
    this.meter.add(
      'pubsub.subscribe-bytes',
      billableBytes(pulled.map((r: PulledMessage) => messageBytes(r.message ?? {}))),
    );
    const now = Date.now();
    this.prune(now);
    const out: ReceivedMessage[] = [];
    const duplicates: string[] = [];
    for (const r of pulled) {
      const id = r.message?.messageId ?? '';
      const receipt = r.ackId ?? '';
      const dedupId = r.message?.attributes?.dedupId;
      if (dedupId !== undefined) {
        const first = this.delivered.get(dedupId);
        if (first !== undefined && first[0] !== id && first[1] > now) {
          duplicates.push(receipt);
          continue;
        }
        // Delete first so that the Map stays in expiry order (prune stops at the first live entry).
        this.delivered.delete(dedupId);
        this.delivered.set(dedupId, [id, now + this.dedupWindowMs]);
      }
      const counted = (this.attempts.get(id) ?? 0) + 1;
      this.attempts.set(id, counted);
      this.receipts.set(receipt, id);
      const data = r.message?.data;
      out.push({
        id,
        body: data === undefined || data === null ? '' : Buffer.from(data as Uint8Array).toString('utf8'),
        group: r.message?.orderingKey ?? '',
        attempt: r.deliveryAttempt && r.deliveryAttempt > 0 ? r.deliveryAttempt : counted,
        receipt,
      });
    }
    if (duplicates.length > 0) await this.ack(duplicates);
    // The subscription's ack deadline is its default; the caller's visibility timeout replaces it.
    if (out.length > 0)
      await this.setDeadline(
        out.map((m) => m.receipt),
        Math.ceil(options.visibilityTimeoutMs / 1000),
      );
    return out;
  }

  async ack(receipts: string[]): Promise<void> {
    if (receipts.length === 0) return;
    // Acknowledging an expired ack id is accepted and changes nothing.
    await guard(`ack on ${this.subscription}`, () =>
      this.clients.subscriber.acknowledge({ subscription: this.subscriptionPath, ackIds: receipts }),
    );
    for (const r of receipts) {
      const id = this.receipts.get(r);
      this.receipts.delete(r);
      if (id !== undefined) this.attempts.delete(id);
    }
  }

  async release(receipts: string[]): Promise<void> {
    if (receipts.length === 0) return;
    await this.setDeadline(receipts, 0);
    for (const r of receipts) this.receipts.delete(r);
  }

  /** Ends every long poll in progress (a runtime stopping its poller). */
  interrupt(): void {
    for (const p of this.pulls) p.cancel();
  }

  /** Deletes the subscription and the topic (tests and teardown). */
  async destroy(): Promise<void> {
    this.interrupt();
    await idempotent(
      `delete subscription ${this.subscription}`,
      () => this.clients.subscriber.deleteSubscription({ subscription: this.subscriptionPath }),
      GrpcStatus.NOT_FOUND,
    );
    await idempotent(
      `delete topic ${this.topic}`,
      () => this.clients.publisher.deleteTopic({ topic: topicPath(this.clients, this.topic) }),
      GrpcStatus.NOT_FOUND,
    );
  }

  private get subscriptionPath(): string {
    return subscriptionPath(this.clients, this.subscription);
  }

  private async setDeadline(receipts: string[], seconds: number): Promise<void> {
    await guard(`modify ack deadline on ${this.subscription}`, () =>
      this.clients.subscriber.modifyAckDeadline({
        subscription: this.subscriptionPath,
        ackIds: receipts,
        ackDeadlineSeconds: Math.min(600, seconds),
      }),
    );
  }

  /** One pull (a long poll when `waitMs` > 0), cancelled by {@link interrupt}. */
  private async pull(max: number, waitMs: number): Promise<PulledMessage[]> {
    const call = pull(this.clients, this.subscriptionPath, max, waitMs);
    this.pulls.add(call);
    try {
      return await call.result;
    } finally {
      this.pulls.delete(call);
    }
  }

  private prune(now: number): void {
    for (const [k, [, until]] of this.delivered) {
      if (until > now) break;
      this.delivered.delete(k);
    }
    for (const [k, until] of this.sent) {
      if (until > now) break;
      this.sent.delete(k);
    }
  }
}

/** Billable size of a Pub/Sub message: data, attribute keys and values, ordering key. */
function messageBytes(m: {
  data?: Uint8Array | string | null;
  attributes?: Record<string, string> | null;
  orderingKey?: string | null;
}): number {
  let n =
    m.data === undefined || m.data === null
      ? 0
      : typeof m.data === 'string'
        ? m.data.length
        : m.data.byteLength;
  for (const [k, v] of Object.entries(m.attributes ?? {})) n += Buffer.byteLength(k) + Buffer.byteLength(v);
  return n + Buffer.byteLength(m.orderingKey ?? '');
}

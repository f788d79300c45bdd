import {
  type Backoff,
  backoffDelay,
  byteLength,
  type Channel,
  type ChannelSubscription,
  type Clock,
  LimitExceededError,
  type Meter,
  noMeter,
  pause,
  retry,
  systemClock,
} from '@faaskeeper/core';
import { GCP_BACKOFF, GrpcStatus, grpcCode, guard, translateError } from './errors.js';
import {
  billableBytes,
  ensureTopicAndSubscription,
  idempotent,
  type PubSubClientOption,
  type PubSubClients,
  type PullCall,
  type PulledMessage,
  pubsubClients,
  pull,
  subscriptionPath,
  topicPath,
} from './pubsub-client.js';

/** Options of {@link PubSubChannel.create}. */
export type PubSubChannelOptions = PubSubClientOption & {
  /**
   * Prefix of the per-session topic and subscription names (`<prefix>-session-<id>` for the
   * bootstrap channel, `<prefix>-channel-<tag>` for the secret one).
   */
  prefix: string;
  /** Largest message in UTF-8 bytes. Default 4 MiB. */
  maxMessageBytes?: number;
  /** Long-poll wait of the subscriber's pulls. Default 10 s (a close cancels it). */
  pollMs?: number;
  /** Where billable operations are counted (`pubsub.publish-bytes`, `pubsub.subscribe-bytes`). */
  meter?: Meter;
  /** Clock the back-offs of a failing pull or callback wait on. Default the system clock. */
  clock?: Clock;
};

/** Back-off of a failing pull (or after a failed ack): 10–20 ms, doubling up to 0.5–1 s, jittered. */
const POLL_BACKOFF: Backoff = { baseMs: 20, maxMs: 1000, jitter: 'half' };

/** The subscription closed while a pull or a delivery was being retried: stop. */
class SubscriptionClosed extends Error {}

/** Whether a pull failed because the subscription is gone (the session was removed). */
function subscriptionGone(error: unknown): boolean {
  return grpcCode((error as Error).cause) === GrpcStatus.NOT_FOUND;
}

const ORDERING_KEY = 's';
/** gRPC's PERMISSION_DENIED: a client deleting a topic (see `remove`). */
const PERMISSION_DENIED = 7;
const DELETED_TOPIC = '_deleted-topic_';

/**
 * A {@link Channel} on Pub/Sub: one topic and one ordered pull subscription per session channel
 * (the bootstrap one, named after the session, and the one named by the secret tag, which only the
 * session's client and the functions can name: clients hold no list permission, ports/channel.ts),
 * so a client needs no public address (it pulls). Both are created by whichever comes first, `subscribe` or a
 * `send` that finds no topic, so messages sent before the client listens wait in the subscription.
 * A callback that throws is given the same batch again (its messages stay outstanding, which holds
 * the session's ordering key back) before anything newer. `remove` deletes the topic only: the subscription keeps what
 * the client has not read yet (its EXPIRED notice), and the subscriber deletes it when it closes;
 * one nobody reads expires after a day without activity (Pub/Sub's shortest expiration policy).
 *
 * Gap: a send that creates the topic for a session whose subscriber is being created at the same
 * moment is safe (creation is idempotent), but a send after `remove` creates the session's topic
 * again; the core sends nothing to a session after removing it.
 */
export class PubSubChannel implements Channel {
  readonly maxMessageBytes: number;
  private readonly meter: Meter;
  private readonly pollMs: number;
  private readonly clock: Clock;
  /** Channel names (session and incarnation) removed by this process. */
  private readonly removed = new Set<string>();
  /** Channel names whose subscriber in this process has closed (see `remove`). */
  private readonly closedHere = new Set<string>();

  private constructor(
    private readonly clients: PubSubClients,
    private readonly prefix: string,
    options: PubSubChannelOptions,
  ) {
    this.maxMessageBytes = options.maxMessageBytes ?? 4 * 1024 * 1024;
    this.meter = options.meter ?? noMeter;
    this.pollMs = options.pollMs ?? 10_000;
    this.clock = options.clock ?? systemClock;
  }

  /** Opens the channel (nothing is created until a session is used). */
  static async create(options: PubSubChannelOptions): Promise<PubSubChannel> {
    return new PubSubChannel(await pubsubClients(options), options.prefix, options);
  }

  async send(session: number, messages: string[], incarnation = 0, tag?: string): Promise<void> {
    for (const m of messages) {
      const size = byteLength(m);
      if (size > this.maxMessageBytes)
        throw new LimitExceededError(`channel message to session ${session}`, size, this.maxMessageBytes);
    }
    if (messages.length === 0) return;
    const batch = messages.map((m) => ({ data: Buffer.from(m, 'utf8'), orderingKey: ORDERING_KEY }));
    const publish = () =>
      this.clients.publisher.publish({
        topic: topicPath(this.clients, this.name(session, incarnation, tag)),
        messages: batch,
      });
    await guard(`send to session ${session}`, async () => {
      try {
        await publish();
      } catch (error) {
        if (grpcCode(error) !== GrpcStatus.NOT_FOUND) throw error;
        // Nobody subscribed yet: make the session's subscription so that the messages wait there.
        await this.ensure(session, incarnation, tag);
        await publish();
      }
    });
    this.meter.add('pubsub.publish-bytes', billableBytes(batch.map((m) => m.data.byteLength + 1)));
    this.meter.add('pubsub.publish-requests', 1);
  }

  async subscribe(
    session: number,
    onMessages: (messages: string[]) => void,
    incarnation = 0,
    tag?: string,
  ): Promise<ChannelSubscription> {
    await this.ensure(session, incarnation, tag);
    const subscription = subscriptionPath(this.clients, this.name(session, incarnation, tag));
    let closed = false;
    let current: PullCall | undefined;
    const loop = (async () => {
      // Failed acks in a row: each one is followed by a pause before the next pull.
      let ackFailures = 0;
      while (!closed) {
        let received: PulledMessage[];
        try {
          // The subscription's pull, retried with back-off while it is open (the library retries
          // none of a pull: it is made with `retry: null`).
          received = await retry(
            async () => {
              if (closed) throw new SubscriptionClosed();
              current = pull(this.clients, subscription, 100, this.pollMs);
              try {
                return await current.result;
              } finally {
                current = undefined;
              }
            },
            {
              clock: this.clock,
              isTransient: (error) => !closed && !subscriptionGone(error),
              backoff: POLL_BACKOFF,
            },
          );
        } catch (error) {
          // Closed, or the subscription was deleted (the session is gone): nothing more will come.
          if (closed || subscriptionGone(error)) break;
          throw error;
        }
        if (received.length === 0) continue;
        const ackIds = received.map((r) => r.ackId ?? '');
        this.meter.add(
          'pubsub.subscribe-bytes',
          billableBytes(received.map((r) => byteLengthOf(r.message?.data) + 1)),
        );
        if (closed) {
          await this.nack(subscription, ackIds);
          break;
        }
        const texts = received.map((r) => textOf(r.message?.data));
        const delivered = await this.deliver(subscription, ackIds, texts, () => closed, onMessages);
        try {
          if (delivered) await this.clients.subscriber.acknowledge({ subscription, ackIds });
          else await this.nack(subscription, ackIds); // closed before the callback took it
          ackFailures = 0;
        } catch {
          // Safe to drop: the ack deadline runs out and the batch comes again (delivery is at least
          // once). Not retried here (the library retried the ack); the next pull waits a little.
          await pause(this.clock, backoffDelay(POLL_BACKOFF, ++ackFailures));
        }
      }
    })();
    return {
      close: async () => {
        closed = true;
        current?.cancel();
        await loop;
        this.closedHere.add(this.name(session, incarnation, tag));
        await this.dropIfRemoved(session, incarnation, tag);
      },
    };
  }

  async remove(session: number, incarnation = 0, tag?: string): Promise<void> {
    const name = this.name(session, incarnation, tag);
    this.removed.add(name);
    // A channel this process's subscriber has finished with (a client removing its bootstrap
    // channel once it has its key, or its channel once moved): its subscription goes now, which a
    // client may delete. Its topic is the distributor's to delete (at the session's end): a client
    // holds no topic deletion, so a refusal of that is expected here.
    const subscriberDone = this.closedHere.delete(name);
    if (subscriberDone)
      await idempotent(
        `remove the subscription of session ${session}`,
        () =>
          this.clients.subscriber.deleteSubscription({ subscription: subscriptionPath(this.clients, name) }),
        GrpcStatus.NOT_FOUND,
      );
    try {
      await idempotent(
        `remove session ${session}`,
        () => this.clients.publisher.deleteTopic({ topic: topicPath(this.clients, name) }),
        GrpcStatus.NOT_FOUND,
      );
    } catch (error) {
      if (!(subscriberDone && grpcCode((error as Error).cause) === PERMISSION_DENIED)) throw error;
    }
  }

  /**
   * Hands a batch to the callback; one that throws gets the same batch again, with back-off, until
   * it takes it or the subscription closes (not through a nack: Pub/Sub keeps no order after a
   * nack, while an outstanding batch holds its ordering key back).
   * @returns whether the callback took the batch.
   */
  private async deliver(
    subscription: string,
    ackIds: string[],
    texts: string[],
    isClosed: () => boolean,
    onMessages: (messages: string[]) => void,
  ): Promise<boolean> {
    try {
      await retry(
        async (attempt) => {
          if (isClosed()) throw new SubscriptionClosed();
          try {
            onMessages(texts);
          } catch (error) {
            // Keep the batch ours while the callback is tried again.
            if (attempt === 1)
              await this.clients.subscriber
                .modifyAckDeadline({ subscription, ackIds, ackDeadlineSeconds: 600 })
                // Safe to drop: the batch may then come again meanwhile (delivery is at least once).
                .catch((_atLeastOnce: unknown) => undefined);
            throw error;
          }
        },
        { clock: this.clock, isTransient: () => !isClosed(), backoff: GCP_BACKOFF },
      );
      return true;
    } catch (error) {
      if (isClosed()) return false;
      throw error;
    }
  }

  private async dropIfRemoved(session: number, incarnation: number, tag: string | undefined): Promise<void> {
    const name = this.name(session, incarnation, tag);
    const subscription = subscriptionPath(this.clients, name);
    try {
      const [meta] = await this.clients.subscriber.getSubscription({ subscription });
      if (!this.removed.has(name) && meta.topic !== DELETED_TOPIC) return;
      await this.clients.subscriber.deleteSubscription({ subscription });
    } catch (error) {
      if (grpcCode(error) !== GrpcStatus.NOT_FOUND) throw translateError(error, `close session ${session}`);
    }
  }

  private async nack(subscription: string, ackIds: string[]): Promise<void> {
    await this.clients.subscriber.modifyAckDeadline({ subscription, ackIds, ackDeadlineSeconds: 0 });
  }

  private ensure(session: number, incarnation: number, tag: string | undefined): Promise<void> {
    const name = this.name(session, incarnation, tag);
    return ensureTopicAndSubscription(this.clients, name, name, {
      expireAfterDays: 1,
    });
  }

  /**
   * The topic and subscription name of a session's channel: one per incarnation (a resumed
   * session's new client pulls a subscription of its own, so the replaced one cannot take its
   * messages), and per incarnation the bootstrap one (no `tag`, named after the session: its client
   * creates it before it has the channel key) and the secret one, named after the tag alone.
   */
  name(session: number, incarnation = 0, tag?: string): string {
    if (tag !== undefined) return `${this.prefix}-channel-${tag}`;
    return incarnation === 0
      ? `${this.prefix}-session-${session}`
      : `${this.prefix}-session-${session}-${incarnation.toString(36)}`;
  }
}

function textOf(data: Uint8Array | string | null | undefined): string {
  if (data === undefined || data === null) return '';
  if (typeof data === 'string') return Buffer.from(data, 'base64').toString('utf8');
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8');
}

function byteLengthOf(data: Uint8Array | string | null | undefined): number {
  if (data === undefined || data === null) return 0;
  return typeof data === 'string' ? data.length : data.byteLength;
}

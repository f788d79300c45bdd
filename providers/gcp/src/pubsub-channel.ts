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
import { type ChannelReapRecords, DEFAULT_CHANNEL_GRACE_MS, MAX_REAPS_PER_RUN } from './channel-reap.js';
import { GCP_BACKOFF, GrpcStatus, grpcCode, guard } from './errors.js';
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
  /**
   * Clock the back-offs of a failing pull or callback wait on, and the functions' side times the
   * channels it leaves and their grace by. Default the system clock.
   */
  clock?: Clock;
  /**
   * The functions' side: where the channels that sessions leave are remembered until
   * {@link PubSubChannel.reap} deletes them. Absent (a client's channel, or functions that leave
   * them to Pub/Sub's one-day expiration): nothing is remembered or reaped.
   */
  reapRecords?: ChannelReapRecords;
  /**
   * How long a left channel is kept for its client to read the last messages (the close reply, the
   * EXPIRED notice, a refused resume's SESSIONEXPIRED) before it is reaped. Default
   * {@link DEFAULT_CHANNEL_GRACE_MS}.
   */
  graceMs?: number;
};

/** Back-off of a failing pull (or after a failed ack): 10–20 ms, doubling up to 0.5–1 s, jittered. */
const POLL_BACKOFF: Backoff = { baseMs: 20, maxMs: 1000, jitter: 'half' };
/**
 * Back-off of a pull of a subscription that does not exist yet (the distributor creates it with
 * its first send, e.g. the open reply): 20 ms doubling to 250 ms, so the reply is taken within
 * about a quarter of a second of its sending, for a few small failed calls while waiting.
 */
const ABSENT_BACKOFF: Backoff = { baseMs: 20, maxMs: 250 };

/** The subscription closed while a pull or a delivery was being retried: stop. */
class SubscriptionClosed extends Error {}

/** Whether a pull failed because the subscription does not exist (yet). */
function subscriptionAbsent(error: unknown): boolean {
  return grpcCode((error as Error).cause) === GrpcStatus.NOT_FOUND;
}

const ORDERING_KEY = 's';

/**
 * A {@link Channel} on Pub/Sub: one topic and one ordered pull subscription per session channel
 * (the bootstrap one, named after the session, and the one named by the secret tag, which only the
 * session's client and the functions can name: clients hold no list permission, ports/channel.ts),
 * so a client needs no public address (it pulls).
 *
 * Only the functions' side creates and deletes (docs/providers/gcp.md "Channel permissions"): a
 * client holds `pubsub.subscriptions.consume` alone, since the right to create a subscription (or
 * attach one to a topic) would let it attach one to the writer, distributor or lease topic, whose
 * names follow from the deployment's, and read every request. So `send` makes a channel's topic
 * and subscription (idempotently) the first time it finds no topic, the subscription before the
 * publish (Pub/Sub drops a message published to a topic without subscriptions), and `subscribe`
 * creates nothing: it pulls, and while the subscription does not exist yet it pulls again after a
 * short back-off until it appears or the subscription is closed.
 *
 * A callback that throws is given the same batch again (its messages stay outstanding, which holds
 * the session's ordering key back) before anything newer. The functions' `remove` deletes the
 * topic only: the subscription, detached, keeps what the client has not read yet (the close reply,
 * the EXPIRED notice) — no client deletes it (that permission would reach the deployment's fixed
 * subscriptions), and the functions cannot tell when its client has read it. So `remove` (and
 * `abandon`, for a refused resume's bootstrap channel) records it (`reapRecords`), and the
 * heartbeat's `reap` deletes it once its grace has passed; without records it expires after a day
 * without activity (Pub/Sub's shortest expiration policy, which every channel has). A client's `remove`
 * (of its bootstrap channel once it has its key, of its channel once moved; an object that has
 * subscribed is a client's) deletes nothing: its subscription is closed by then.
 *
 * Gaps: two processes sending the first messages of a channel at the same moment race: one may
 * publish after the other created the topic but before it created the subscription, and that
 * message is dropped (sends in one process wait for the same creation). The core sends a
 * session's messages from one function at a time. And a send after `remove` creates the topic
 * again; the core sends nothing to a session after removing it.
 */
export class PubSubChannel implements Channel {
  readonly maxMessageBytes: number;
  private readonly meter: Meter;
  private readonly pollMs: number;
  private readonly clock: Clock;
  private readonly reapRecords: ChannelReapRecords | undefined;
  private readonly graceMs: number;
  /**
   * Whether this object has subscribed: then it is a client's (the functions only send and
   * remove), and its `remove` deletes nothing.
   */
  private subscriber = false;
  /** Creations of a channel under way in this process, so a concurrent send waits for them. */
  private readonly creating = new Map<string, Promise<void>>();

  private constructor(
    private readonly clients: PubSubClients,
    private readonly prefix: string,
    options: PubSubChannelOptions,
  ) {
    this.maxMessageBytes = options.maxMessageBytes ?? 4 * 1024 * 1024;
    this.meter = options.meter ?? noMeter;
    this.pollMs = options.pollMs ?? 10_000;
    this.clock = options.clock ?? systemClock;
    this.reapRecords = options.reapRecords;
    this.graceMs = options.graceMs ?? DEFAULT_CHANNEL_GRACE_MS;
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
    const name = this.name(session, incarnation, tag);
    const publish = () =>
      this.clients.publisher.publish({ topic: topicPath(this.clients, name), messages: batch });
    await guard(`send to session ${session}`, async () => {
      // A creation under way in this process: its topic may have no subscription yet.
      await this.creating.get(name);
      try {
        await publish();
      } catch (error) {
        if (grpcCode(error) !== GrpcStatus.NOT_FOUND) throw error;
        // The channel's first message: make its topic and subscription, so that the messages
        // wait there for the client (which creates nothing), then publish.
        await this.ensure(name);
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
    const name = this.name(session, incarnation, tag);
    this.subscriber = true;
    const subscription = subscriptionPath(this.clients, name);
    let closed = false;
    let current: PullCall | undefined;
    const loop = (async () => {
      // Failed acks in a row: each one is followed by a pause before the next pull.
      let ackFailures = 0;
      // Pulls in a row that found no subscription (the distributor has not sent yet).
      let absent = 0;
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
              isTransient: (error) => !closed && !subscriptionAbsent(error),
              backoff: POLL_BACKOFF,
            },
          );
        } catch (error) {
          if (closed) break;
          if (!subscriptionAbsent(error)) throw error;
          // Not created yet (its first message is not sent yet): pull again shortly. Only the
          // caller's close ends this, as it ends a wait for messages that do not come.
          await pause(this.clock, backoffDelay(ABSENT_BACKOFF, ++absent));
          continue;
        }
        absent = 0;
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
      },
    };
  }

  /**
   * The functions' side (the distributor, at a session's end): deletes the channel's topic; its
   * subscription keeps what the client has not read and expires (see the class). The client's side
   * (an object that has subscribed): deletes nothing, its subscription being closed already.
   */
  async remove(
    session: number,
    incarnation = 0,
    tag?: string,
    options: { drained?: boolean } = {},
  ): Promise<void> {
    const name = this.name(session, incarnation, tag);
    if (this.subscriber) return;
    // Nothing left to read on it (a bootstrap channel once the session has its secret one): its
    // subscription goes too, rather than count against the project's subscriptions for a day.
    if (options.drained === true) await this.deleteSubscription(name);
    // Recorded before the topic goes: a failure in between leaves a record, never a channel without one.
    else await this.reapRecords?.mark(name, this.clock.now());
    await this.deleteTopic(name);
  }

  /**
   * The functions' side: a refused resume's bootstrap channel, just sent its SESSIONEXPIRED answer.
   * Kept whole (a redelivered answer still reaches the subscription) and recorded, so that `reap`
   * deletes it after the grace; without records it is left as before (see the class).
   */
  async abandon(session: number, incarnation: number): Promise<void> {
    await this.reapRecords?.mark(this.name(session, incarnation), this.clock.now());
  }

  /**
   * The heartbeat's run: deletes the subscription and topic of each recorded channel whose grace
   * has passed (at most {@link MAX_REAPS_PER_RUN}), then its record. A run with nothing due costs
   * one keys-only Datastore query and no Pub/Sub call.
   */
  async reap(): Promise<void> {
    const records = this.reapRecords;
    if (records === undefined) return;
    await records.reap(this.clock.now() - this.graceMs, async (name) => {
      await this.deleteSubscription(name);
      // Deleted at the session's end already, unless abandoned or made again by a late send.
      await this.deleteTopic(name);
    });
  }

  /** Creates the channel named by `tag` ahead of its first message (the distributor, with the open reply). */
  async prepare(session: number, incarnation: number, tag: string): Promise<void> {
    await guard(`create the channel of session ${session}`, () =>
      this.ensure(this.name(session, incarnation, tag)),
    );
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

  private async deleteSubscription(name: string): Promise<void> {
    await idempotent(
      `remove subscription ${name}`,
      () =>
        this.clients.subscriber.deleteSubscription({ subscription: subscriptionPath(this.clients, name) }),
      GrpcStatus.NOT_FOUND,
    );
  }

  private async deleteTopic(name: string): Promise<void> {
    await idempotent(
      `remove topic ${name}`,
      () => this.clients.publisher.deleteTopic({ topic: topicPath(this.clients, name) }),
      GrpcStatus.NOT_FOUND,
    );
  }

  private async nack(subscription: string, ackIds: string[]): Promise<void> {
    await this.clients.subscriber.modifyAckDeadline({ subscription, ackIds, ackDeadlineSeconds: 0 });
  }

  /** Creates a channel's topic and then its subscription, once at a time per name in this process. */
  private ensure(name: string): Promise<void> {
    let creation = this.creating.get(name);
    if (creation === undefined) {
      creation = ensureTopicAndSubscription(this.clients, name, name, { expireAfterDays: 1 }).finally(() =>
        this.creating.delete(name),
      );
      this.creating.set(name, creation);
    }
    return creation;
  }

  /**
   * The topic and subscription name of a session's channel: one per incarnation (a resumed
   * session's new client pulls a subscription of its own, so the replaced one cannot take its
   * messages), and per incarnation the bootstrap one (no `tag`, named after the session: its client
   * pulls it before it has the channel key) and the secret one, named after the tag alone.
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

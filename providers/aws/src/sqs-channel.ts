import { randomUUID } from 'node:crypto';
import {
  ChangeMessageVisibilityBatchCommand,
  CreateQueueCommand,
  DeleteMessageCommand,
  DeleteQueueCommand,
  GetQueueUrlCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  type SendMessageBatchRequestEntry,
  type SQSClient,
  type SQSClientConfig,
} from '@aws-sdk/client-sqs';
import {
  type Backoff,
  byteLength,
  type Channel,
  type ChannelSubscription,
  type Clock,
  errorFields,
  jsonLogger,
  LimitExceededError,
  type Logger,
  type Meter,
  noMeter,
  PortError,
  retry,
  systemClock,
} from '@faaskeeper/core';
import { type ClientOrConfig, sqsClientOf } from './aws-clients.js';
import { awsCall, awsErrorName, translateAwsError } from './aws-errors.js';
import { METER_KEYS, sqsRequests } from './meter.js';
import {
  BODY_ATTRIBUTES,
  BodyOffload,
  type OffloadOptions,
  outgoingBody,
  resolveBody,
} from './sqs-offload.js';
import { OFFLOADED_MESSAGE_LIMIT, SQS_MESSAGE_LIMIT } from './sqs-queue.js';

/** Options of {@link SqsChannel}. */
export type SqsChannelOptions = ClientOrConfig<SQSClient, SQSClientConfig> & {
  /** Prefix of the per-session queue names (letters, digits, `-`, `_`; the deployment's name). */
  prefix: string;
  /** Offload messages over `inlineMessageBytes` to S3; the channel then takes up to `maxMessageBytes`. */
  offload?: OffloadOptions;
  /** Largest SQS body sent inline. Default 1 MiB. */
  inlineMessageBytes?: number;
  /** Largest message accepted with offload. Default 4 MiB. */
  maxMessageBytes?: number;
  /** Where a failing poll is reported (once per run of failures). Default: JSON lines on stderr at `warn`. */
  logger?: Logger;
  /**
   * How long a received batch stays hidden before it is handed out again. Short, so that a batch
   * caught by a subscription closing mid-poll comes back soon. Default 3 s.
   */
  visibilityTimeoutSeconds?: number;
  /**
   * Long-poll wait of each receive, in seconds (≤ 20). Default 20, SQS's longest: a subscribed
   * client waiting for a watch event costs one request per wait (4,320 a day; an idle client owed
   * nothing pauses its subscription, docs/guarantees.md "Sessions"); a message ends the wait at
   * once, closing the subscription aborts it, and pausing it lets it run out.
   */
  pollWaitSeconds?: number;
  meter?: Meter;
  /** Clock the back-off of a failing poll waits on. Default the system clock. */
  clock?: Clock;
};

/** Back-off of a failing poll: 40 ms after the first failure, doubling up to a second. */
const POLL_BACKOFF: Backoff = { baseMs: 40, maxMs: 1000 };

/** The group every message of a session's queue uses: one ordered stream. */
const GROUP = 'session';

/**
 * The client channel on SQS: FIFO queues per session incarnation, created on first use and deleted
 * by `remove`: the bootstrap one (`<prefix>-<session>.fifo`), and the one named by the secret tag
 * (`<prefix>-c<tag>.fifo`), which only the session's client and the functions can name
 * (ports/channel.ts; clients hold no `sqs:ListQueues`). The client long-polls its own queue, so it needs no public
 * address. A `send` packs as many messages as fit into each SQS message (a JSON array) to save
 * requests; messages over the SQS limit go to S3 when `offload` is set. Delivery is in send
 * order; a batch whose callback throws is made visible again and delivered before anything newer.
 *
 * No `abandon` or `reap` (ports/channel.ts): nothing is left for a heartbeat to remove. `remove`
 * deletes the queue at once, and a refused resume's bootstrap queue is deleted by its client, which
 * may delete its own queues (they are named by the prefix its grant holds).
 */
export class SqsChannel implements Channel {
  readonly maxMessageBytes: number;
  readonly client: SQSClient;
  readonly prefix: string;
  private readonly meter: Meter;
  private readonly offload: BodyOffload | undefined;
  private readonly inlineLimit: number;
  private readonly visibility: number;
  /**
   * Paused while idle through the subscription's `pause`, which lets the long poll under way run out
   * rather than abort it: the queue keeps its messages while nobody polls, but an aborted receive
   * can still take the next one on the service's side (hidden for the visibility timeout, or lost
   * with the queue: a closeSession's reply, which the distributor sends just before it removes the
   * queue). Saves an idle client its 4,320 receives a day.
   */
  readonly pausable = true;
  private readonly pollWait: number;
  private readonly logger: Logger;
  private readonly clock: Clock;
  /** Queue URLs by `session:incarnation:tag`. */
  private readonly urls = new Map<string, Promise<string>>();

  constructor(options: SqsChannelOptions) {
    this.client = sqsClientOf(options);
    this.prefix = options.prefix;
    this.meter = options.meter ?? noMeter;
    this.offload = options.offload === undefined ? undefined : new BodyOffload(options.offload, this.meter);
    this.inlineLimit = options.inlineMessageBytes ?? SQS_MESSAGE_LIMIT;
    // The JSON array around one message adds at most its escapes; an inline-only channel keeps
    // room for them by offering a little less than SQS takes.
    this.maxMessageBytes =
      this.offload === undefined
        ? Math.floor(this.inlineLimit / 2)
        : (options.maxMessageBytes ?? OFFLOADED_MESSAGE_LIMIT);
    this.visibility = options.visibilityTimeoutSeconds ?? 3;
    this.pollWait = options.pollWaitSeconds ?? 20;
    this.logger = options.logger ?? jsonLogger({ level: 'warn' });
    this.clock = options.clock ?? systemClock;
  }

  /**
   * The SQS queue name of a session's channel: one per incarnation (a resumed session's new client
   * polls a queue of its own, so the replaced client's long poll cannot take its messages), and per
   * incarnation the bootstrap queue (no `tag`, named after the session: its client creates it before
   * it has the channel key) and the secret one, named after the tag alone. The `c` keeps the two
   * kinds apart (a bootstrap name has digits there).
   */
  queueName(session: number, incarnation = 0, tag?: string): string {
    if (tag !== undefined) return `${this.prefix}-c${tag}.fifo`;
    return incarnation === 0
      ? `${this.prefix}-${session}.fifo`
      : `${this.prefix}-${session}-${incarnation.toString(36)}.fifo`;
  }

  private queueUrl(session: number, incarnation: number, tag: string | undefined): Promise<string> {
    const key = `${session}:${incarnation}:${tag ?? ''}`;
    let url = this.urls.get(key);
    if (url === undefined) {
      // CreateQueue is idempotent: it returns the URL of an existing queue with these attributes.
      url = awsCall('SQS CreateQueue (channel)', async () => {
        const out = await this.client.send(
          new CreateQueueCommand({
            QueueName: this.queueName(session, incarnation, tag),
            Attributes: {
              FifoQueue: 'true',
              ContentBasedDeduplication: 'false',
              MaximumMessageSize: String(SQS_MESSAGE_LIMIT),
            },
          }),
        );
        this.meter.add(METER_KEYS.sqsRequest);
        if (out.QueueUrl === undefined)
          throw new PortError(`SQS CreateQueue returned no URL for session ${session}`);
        return out.QueueUrl;
      });
      url.catch(() => this.urls.delete(key));
      this.urls.set(key, url);
    }
    return url;
  }

  async send(session: number, messages: string[], incarnation = 0, tag?: string): Promise<void> {
    for (const m of messages) {
      const bytes = byteLength(m);
      if (bytes > this.maxMessageBytes)
        throw new LimitExceededError(`channel message to session ${session}`, bytes, this.maxMessageBytes);
    }
    if (messages.length === 0) return;
    // Pack messages into SQS bodies (JSON arrays) of at most the inline limit.
    const bodies: string[] = [];
    let current: string[] = [];
    let currentBytes = 2;
    for (const m of messages) {
      const bytes = byteLength(JSON.stringify(m)) + 1;
      if (current.length > 0 && currentBytes + bytes > this.inlineLimit) {
        bodies.push(JSON.stringify(current));
        current = [];
        currentBytes = 2;
      }
      current.push(m);
      currentBytes += bytes;
    }
    bodies.push(JSON.stringify(current));
    const url = await this.queueUrl(session, incarnation, tag);
    let entries: SendMessageBatchRequestEntry[] = [];
    let entriesBytes = 0;
    const flush = async () => {
      if (entries.length === 0) return;
      const batch = entries;
      const bytes = entriesBytes;
      entries = [];
      entriesBytes = 0;
      const out = await awsCall('SQS SendMessageBatch (channel)', () =>
        this.client.send(new SendMessageBatchCommand({ QueueUrl: url, Entries: batch })),
      );
      this.meter.add(METER_KEYS.sqsRequest, sqsRequests(bytes));
      if ((out.Failed ?? []).length > 0)
        throw translateAwsError('SQS SendMessageBatch (channel)', {
          name: out.Failed?.[0]?.Code,
          message: out.Failed?.[0]?.Message,
        });
    };
    for (const [i, raw] of bodies.entries()) {
      const dedupId = randomUUID();
      const out = await outgoingBody(this.offload, this.inlineLimit, raw);
      if (out === undefined)
        throw new LimitExceededError(
          `channel message to session ${session}`,
          byteLength(raw),
          this.inlineLimit,
        );
      const body = out.body;
      const entry: SendMessageBatchRequestEntry = {
        Id: `m${i}`,
        MessageBody: body,
        MessageGroupId: GROUP,
        MessageDeduplicationId: dedupId,
        ...(out.attributes === undefined ? {} : { MessageAttributes: out.attributes }),
      };
      const bytes = byteLength(body) + 64;
      if (entries.length === 10 || entriesBytes + bytes > SQS_MESSAGE_LIMIT) await flush();
      entries.push(entry);
      entriesBytes += bytes;
    }
    await flush();
  }

  async subscribe(
    session: number,
    onMessages: (messages: string[]) => void,
    incarnation = 0,
    tag?: string,
  ): Promise<ChannelSubscription> {
    const url = await this.queueUrl(session, incarnation, tag);
    let open = true;
    // Paused: no new poll starts; the one under way (never aborted, see `pause`) runs out.
    let paused = false;
    /** Ends the wait of a paused loop (resume or close). */
    let wake: (() => void) | undefined;
    let controller = new AbortController();
    const loop = (async () => {
      while (open) {
        if (paused) {
          await new Promise<void>((resolve) => {
            wake = resolve;
          });
          continue;
        }
        let received: Message[];
        try {
          // The subscription's poll: the SDK retried each receive; a receive that still fails (the
          // queue was removed, the service is unreachable) is polled again with back-off, for as
          // long as the subscription is open and not paused. The first failure of a run is logged
          // with its cause; the retries that follow are not.
          received = await retry(
            async () => {
              // Closed or paused during a back-off: no new poll.
              if (!open || paused) throw new Error('subscription closed or paused');
              return this.receive(url, (c) => {
                controller = c;
              });
            },
            {
              clock: this.clock,
              isTransient: () => open && !paused,
              backoff: POLL_BACKOFF,
              onFailure: (error, failures) => {
                if (failures === 1 && open && !paused)
                  this.logger.warn('channel poll failed; polling again with back-off', {
                    queue: url,
                    ...errorFields(error),
                  });
              },
            },
          );
        } catch (error) {
          // Only a failure after close (the abort of the poll) or pause is not retried: nothing to
          // report; a paused loop polls again once resumed.
          if (!open || paused) continue;
          throw error;
        }
        // Delivered even if paused meanwhile: the client takes any message at any time.
        await this.deliver(url, received, () => open, onMessages);
      }
    })();
    const release = () => {
      const w = wake;
      wake = undefined;
      w?.();
    };
    return {
      close: async () => {
        open = false;
        controller.abort();
        release();
        await loop;
      },
      pause: () => {
        // Not aborted: SQS may already have picked the next message for this receive, and a
        // receive whose caller hung up keeps it hidden for the visibility timeout — or loses it,
        // when the session's queue is removed meanwhile (a closeSession's reply). The poll under
        // way is paid for anyway; it runs out (≤ `pollWaitSeconds`) and none follows.
        paused = true;
      },
      resume: () => {
        paused = false;
        release();
      },
    };
  }

  /** One long poll of a session's queue; `setController` gets the controller that aborts it. */
  private async receive(url: string, setController: (c: AbortController) => void): Promise<Message[]> {
    const controller = new AbortController();
    setController(controller);
    const out = await this.client.send(
      new ReceiveMessageCommand({
        QueueUrl: url,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: this.pollWait,
        VisibilityTimeout: this.visibility,
        MessageAttributeNames: BODY_ATTRIBUTES,
      }),
      { abortSignal: controller.signal },
    );
    const received = out.Messages ?? [];
    this.meter.add(
      METER_KEYS.sqsRequest,
      sqsRequests(received.reduce((n, m) => n + byteLength(m.Body ?? ''), 0)),
    );
    return received;
  }

  /** Delivers received SQS messages in order; on a throw (or a close) hands the rest back at once. */
  private async deliver(
    url: string,
    received: Message[],
    isOpen: () => boolean,
    onMessages: (messages: string[]) => void,
  ): Promise<void> {
    for (const [i, m] of received.entries()) {
      let delivered = false;
      let key: string | undefined;
      if (isOpen()) {
        let messages: string[] | undefined;
        let loaded = false;
        try {
          const resolved = await resolveBody(this.offload, m.Body ?? '', m.MessageAttributes);
          key = resolved.key;
          messages = parseBatch(resolved.body);
          loaded = true;
        } catch {
          // S3 unreachable: hand it back for the next poll.
        }
        if (loaded && messages === undefined)
          delivered = true; // unreadable: dropped, never blocking
        else if (messages !== undefined) {
          try {
            onMessages(messages);
            delivered = true;
          } catch {
            delivered = false;
          }
        }
      }
      if (delivered) {
        await this.client
          .send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: m.ReceiptHandle }))
          .then(() => this.meter.add(METER_KEYS.sqsRequest))
          .catch(() => {}); // an undeleted message comes back: the client drops duplicates
        if (key !== undefined) await this.offload?.remove(key);
        continue;
      }
      // Hand this one and every later one back, in order, before anything newer.
      const rest = received.slice(i);
      await this.client
        .send(
          new ChangeMessageVisibilityBatchCommand({
            QueueUrl: url,
            Entries: rest.map((r, j) => ({
              Id: `m${j}`,
              ReceiptHandle: r.ReceiptHandle,
              VisibilityTimeout: 0,
            })),
          }),
        )
        .then(() => this.meter.add(METER_KEYS.sqsRequest))
        .catch(() => {}); // they come back after the visibility timeout anyway
      return;
    }
  }

  async remove(session: number, incarnation = 0, tag?: string): Promise<void> {
    const name = this.queueName(session, incarnation, tag);
    const key = `${session}:${incarnation}:${tag ?? ''}`;
    const known = this.urls.get(key);
    this.urls.delete(key);
    try {
      let url = await known?.catch(() => undefined);
      if (url === undefined) {
        this.meter.add(METER_KEYS.sqsRequest);
        url = (await this.client.send(new GetQueueUrlCommand({ QueueName: name }))).QueueUrl;
      }
      if (url === undefined) return;
      this.meter.add(METER_KEYS.sqsRequest);
      await this.client.send(new DeleteQueueCommand({ QueueUrl: url }));
    } catch (error) {
      if (
        awsErrorName(error) === 'QueueDoesNotExist' ||
        awsErrorName(error) === 'AWS.SimpleQueueService.NonExistentQueue'
      )
        return;
      throw translateAwsError(`SQS DeleteQueue ${name}`, error);
    }
  }
}

/** The messages an SQS body carries; `undefined` when it is not a JSON array of strings. */
function parseBatch(body: string): string[] | undefined {
  try {
    const parsed: unknown = JSON.parse(body);
    return Array.isArray(parsed) && parsed.every((m) => typeof m === 'string') ? parsed : undefined;
  } catch {
    return undefined;
  }
}

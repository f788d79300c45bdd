import {
  ChangeMessageVisibilityBatchCommand,
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  DeleteQueueCommand,
  GetQueueUrlCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  type SendMessageBatchRequestEntry,
  type SQSClient,
  type SQSClientConfig,
} from '@aws-sdk/client-sqs';
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
  TransientError,
} from '@faaskeeper/core';
import { type AwsClients, type ClientOrConfig, sqsClientOf } from './aws-clients.js';
import { awsCall, awsErrorName, translateAwsError } from './aws-errors.js';
import { METER_KEYS, sqsRequests } from './meter.js';
import {
  BODY_ATTRIBUTES,
  BodyOffload,
  fitsInline,
  type OffloadOptions,
  outgoingBody,
  resolveBody,
} from './sqs-offload.js';

/** SQS's message (and batch payload) size limit: 1 MiB. */
export const SQS_MESSAGE_LIMIT = 1024 * 1024;
/** Largest body offered when bodies can be offloaded to S3 (memory bound, as the embedded deployment). */
export const OFFLOADED_MESSAGE_LIMIT = 4 * 1024 * 1024;

/** Settings of an {@link SqsQueue} besides its client and URL. */
export interface SqsQueueSettings {
  /**
   * Offload bodies over `inlineMessageBytes` to S3 (carried by reference); the queue then takes
   * bodies up to `maxMessageBytes`.
   */
  offload?: OffloadOptions;
  /** Largest body sent inline. Default 1 MiB (set 256 KiB for queues created before 2025). */
  inlineMessageBytes?: number;
  /** Largest body accepted with offload. Default 4 MiB. */
  maxMessageBytes?: number;
  meter?: Meter;
}

/** Options of {@link SqsQueue}: a FIFO queue URL, and a ready client or its config. */
export type SqsQueueOptions = ClientOrConfig<SQSClient, SQSClientConfig> &
  SqsQueueSettings & {
    queueUrl: string;
    /** Name for logs; default: the URL's last segment. */
    name?: string;
  };

/** Creation options of {@link SqsQueue.create}. */
export type SqsQueueCreateOptions = ClientOrConfig<SQSClient, SQSClientConfig> &
  SqsQueueSettings & {
    /** Queue name, ending in `.fifo`. */
    name: string;
    /** Default visibility timeout, in seconds. Default 30. */
    visibilityTimeoutSeconds?: number;
  };

const entryId = (i: number) => `m${i}`;

/**
 * An SQS FIFO queue as the core's {@link Queue}: groups map to MessageGroupId, `dedupId` to
 * MessageDeduplicationId (a 5-minute window), `attempt` to ApproximateReceiveCount; `ack` is
 * DeleteMessageBatch and `release` ChangeMessageVisibility to 0. Bodies over the SQS limit go to
 * S3 when `offload` is set, else they are refused with {@link LimitExceededError}. SQS counts
 * visibility timeouts and long polls in whole seconds: shorter ones are rounded up.
 */
export class SqsQueue implements Queue {
  readonly name: string;
  readonly capabilities: QueueCapabilities;
  readonly queueUrl: string;
  readonly client: SQSClient;
  private readonly meter: Meter;
  private readonly offload: BodyOffload | undefined;
  private readonly inlineLimit: number;
  private readonly receiving = new Set<AbortController>();

  constructor(options: SqsQueueOptions) {
    this.client = sqsClientOf(options);
    this.queueUrl = options.queueUrl;
    this.name = options.name ?? options.queueUrl.split('/').pop() ?? options.queueUrl;
    this.meter = options.meter ?? noMeter;
    this.offload = options.offload === undefined ? undefined : new BodyOffload(options.offload, this.meter);
    this.inlineLimit = options.inlineMessageBytes ?? SQS_MESSAGE_LIMIT;
    const inlineLimit = this.inlineLimit;
    this.capabilities = {
      maxMessageBytes:
        this.offload === undefined ? this.inlineLimit : (options.maxMessageBytes ?? OFFLOADED_MESSAGE_LIMIT),
      maxBatch: 10,
      // Offloaded bodies are S3 objects every client may read (the client policy grants reads of
      // `sqs-bodies/`): senders seal what would go there (core's `sealRequest`).
      ...(this.offload === undefined ? {} : { offloads: (body: string) => !fitsInline(inlineLimit, body) }),
    };
  }

  /** Creates (or finds) a FIFO queue and returns it as a {@link SqsQueue}. */
  static async create(options: SqsQueueCreateOptions): Promise<SqsQueue> {
    const client = sqsClientOf(options);
    const out = await awsCall('SQS CreateQueue', () =>
      client.send(
        new CreateQueueCommand({
          QueueName: options.name,
          Attributes: {
            FifoQueue: 'true',
            ContentBasedDeduplication: 'false',
            MaximumMessageSize: String(SQS_MESSAGE_LIMIT),
            VisibilityTimeout: String(options.visibilityTimeoutSeconds ?? 30),
          },
        }),
      ),
    );
    if (out.QueueUrl === undefined)
      throw new TransientError(`SQS CreateQueue returned no URL for ${options.name}`);
    return new SqsQueue({
      client,
      queueUrl: out.QueueUrl,
      name: options.name,
      ...(options.offload === undefined ? {} : { offload: options.offload }),
      ...(options.inlineMessageBytes === undefined ? {} : { inlineMessageBytes: options.inlineMessageBytes }),
      ...(options.maxMessageBytes === undefined ? {} : { maxMessageBytes: options.maxMessageBytes }),
      ...(options.meter === undefined ? {} : { meter: options.meter }),
    });
  }

  /** Deletes the queue (tests and `destroy`). */
  async destroy(): Promise<void> {
    this.interrupt();
    await awsCall('SQS DeleteQueue', () =>
      this.client.send(new DeleteQueueCommand({ QueueUrl: this.queueUrl })),
    );
  }

  /** Ends the long polls in flight at once (they answer `[]`): lets a poller stop without waiting. */
  interrupt(): void {
    for (const controller of this.receiving) controller.abort();
    this.receiving.clear();
  }

  async send(messages: OutgoingMessage[]): Promise<void> {
    for (const m of messages) {
      const bytes = byteLength(m.body);
      if (bytes > this.capabilities.maxMessageBytes)
        throw new LimitExceededError(
          `message body for ${this.name}`,
          bytes,
          this.capabilities.maxMessageBytes,
        );
    }
    // Batches of at most 10 entries and 1 MiB of payload; sent one after another to keep order.
    let batch: SendMessageBatchRequestEntry[] = [];
    let batchBytes = 0;
    const flush = async () => {
      if (batch.length === 0) return;
      const entries = batch;
      const bytes = batchBytes;
      batch = [];
      batchBytes = 0;
      const out = await awsCall('SQS SendMessageBatch', () =>
        this.client.send(new SendMessageBatchCommand({ QueueUrl: this.queueUrl, Entries: entries })),
      );
      this.meter.add(METER_KEYS.sqsRequest, sqsRequests(bytes));
      const failed = out.Failed ?? [];
      if (failed.length > 0) {
        // The caller retries the whole send with the same dedup ids: the sent ones are dropped then.
        const f = failed[0];
        const what = `SQS SendMessageBatch: ${failed.length} of ${entries.length} failed (${f?.Code}: ${f?.Message})`;
        if (failed.some((x) => x.SenderFault))
          throw translateAwsError(what, { name: f?.Code, message: f?.Message });
        throw new TransientError(what);
      }
    };
    for (const [i, m] of messages.entries()) {
      const out = await outgoingBody(this.offload, this.inlineLimit, m.body);
      if (out === undefined)
        throw new LimitExceededError(`message body for ${this.name}`, byteLength(m.body), this.inlineLimit);
      const body = out.body;
      const attributes = out.attributes;
      const bytes = byteLength(body) + (attributes === undefined ? 0 : 64);
      if (batch.length === 10 || batchBytes + bytes > SQS_MESSAGE_LIMIT) await flush();
      batch.push({
        Id: entryId(i),
        MessageBody: body,
        MessageGroupId: m.group,
        MessageDeduplicationId: m.dedupId,
        ...(attributes === undefined ? {} : { MessageAttributes: attributes }),
      });
      batchBytes += bytes;
    }
    await flush();
  }

  async receive(options: ReceiveOptions): Promise<ReceivedMessage[]> {
    const controller = new AbortController();
    this.receiving.add(controller);
    try {
      const out = await this.client.send(
        new ReceiveMessageCommand({
          QueueUrl: this.queueUrl,
          MaxNumberOfMessages: Math.max(1, Math.min(10, options.max)),
          VisibilityTimeout: Math.ceil(options.visibilityTimeoutMs / 1000),
          WaitTimeSeconds: Math.min(20, Math.ceil((options.waitMs ?? 0) / 1000)),
          MessageSystemAttributeNames: ['ApproximateReceiveCount', 'MessageGroupId'],
          MessageAttributeNames: BODY_ATTRIBUTES,
        }),
        { abortSignal: controller.signal },
      );
      const messages = out.Messages ?? [];
      this.meter.add(
        METER_KEYS.sqsRequest,
        sqsRequests(messages.reduce((n, m) => n + byteLength(m.Body ?? ''), 0)),
      );
      return await Promise.all(
        messages.map(async (m): Promise<ReceivedMessage> => {
          const resolved = await resolveBody(this.offload, m.Body ?? '', m.MessageAttributes);
          const receipt = m.ReceiptHandle ?? '';
          return {
            id: m.MessageId ?? '',
            body: resolved.body,
            group: m.Attributes?.MessageGroupId ?? '',
            attempt: Number(m.Attributes?.ApproximateReceiveCount ?? 1),
            // The receipt carries the offloaded object's key, so that ack can delete it.
            receipt: resolved.key === undefined ? receipt : `${receipt}\n${resolved.key}`,
          };
        }),
      );
    } catch (error) {
      if (controller.signal.aborted || awsErrorName(error) === 'AbortError') return [];
      throw translateAwsError('SQS ReceiveMessage', error);
    } finally {
      this.receiving.delete(controller);
    }
  }

  async ack(receipts: string[]): Promise<void> {
    for (let i = 0; i < receipts.length; i += 10) {
      const chunk = receipts.slice(i, i + 10).map((r) => splitReceipt(r));
      const out = await awsCall('SQS DeleteMessageBatch', () =>
        this.client.send(
          new DeleteMessageBatchCommand({
            QueueUrl: this.queueUrl,
            Entries: chunk.map((r, j) => ({ Id: entryId(j), ReceiptHandle: r.handle })),
          }),
        ),
      );
      this.meter.add(METER_KEYS.sqsRequest);
      // A failed entry is an expired receipt: the message was handed out again, harmless here.
      const deleted = new Set((out.Successful ?? []).map((s) => s.Id));
      if (this.offload !== undefined) {
        const offload = this.offload;
        await Promise.all(
          chunk.map((r, j) =>
            r.key !== undefined && deleted.has(entryId(j)) ? offload.remove(r.key) : undefined,
          ),
        );
      }
    }
  }

  async release(receipts: string[]): Promise<void> {
    for (let i = 0; i < receipts.length; i += 10) {
      const chunk = receipts.slice(i, i + 10).map((r) => splitReceipt(r));
      await awsCall('SQS ChangeMessageVisibilityBatch', () =>
        this.client.send(
          new ChangeMessageVisibilityBatchCommand({
            QueueUrl: this.queueUrl,
            Entries: chunk.map((r, j) => ({ Id: entryId(j), ReceiptHandle: r.handle, VisibilityTimeout: 0 })),
          }),
        ),
      );
      this.meter.add(METER_KEYS.sqsRequest);
    }
  }
}

/** A receipt this queue handed out: the SQS receipt handle, and the offloaded object's key if any. */
export function splitReceipt(receipt: string): { handle: string; key?: string } {
  const nl = receipt.indexOf('\n');
  return nl < 0 ? { handle: receipt } : { handle: receipt.slice(0, nl), key: receipt.slice(nl + 1) };
}

/** The URL of a queue by name (a client that knows only the deployment's name). */
export async function queueUrlOf(clients: AwsClients, name: string): Promise<string> {
  const out = await awsCall('SQS GetQueueUrl', () =>
    clients.sqs.send(new GetQueueUrlCommand({ QueueName: name })),
  );
  return out.QueueUrl as string;
}

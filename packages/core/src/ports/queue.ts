/**
 * An ordered, at-least-once queue (SQS FIFO, Pub/Sub with ordering keys, or memory). Messages of
 * one group are delivered in send order, one batch of a group in flight at a time; duplicates
 * (same `dedupId`) are dropped within the queue's de-duplication window.
 */
export interface OutgoingMessage {
  body: string;
  group: string;
  dedupId: string;
}

export interface ReceivedMessage {
  id: string;
  body: string;
  group: string;
  /** How many times it has been handed out, this one included. */
  attempt: number;
  /** Opaque token for {@link Queue.ack} / {@link Queue.release}. */
  receipt: string;
}

export interface QueueCapabilities {
  /** Largest message body, in UTF-8 bytes (SQS 1 MiB, Pub/Sub 10 MB). */
  maxMessageBytes: number;
  /** Most messages in one send or receive call. */
  maxBatch: number;
  /**
   * The queue is in this process's memory and passes a message made with `inProcessMessage` on
   * with its value (protocol/in-process.ts): a sender may skip encoding and signing it. Absent:
   * every message crosses as its text.
   */
  inProcess?: boolean;
  /**
   * Whether the queue would carry `body` through object storage that every client can read (AWS:
   * an S3 object, for a body over SQS's limit) rather than inside the message, which only the
   * receiving function reads. A client seals such a request body under its session key
   * (`sealRequest` in `session/auth.ts`); the writer opens it. Absent: no body leaves the queue.
   */
  offloads?(body: string): boolean;
}

export interface ReceiveOptions {
  max: number;
  /** How long a received message stays hidden before it is handed out again. */
  visibilityTimeoutMs: number;
  /** Long-poll: wait up to this long for a message (0: answer at once). */
  waitMs?: number;
}

export interface Queue {
  readonly name: string;
  readonly capabilities: QueueCapabilities;
  /**
   * Sends messages in order. Throws {@link LimitExceededError} for a body over the limit (sending
   * nothing) and {@link TransientError} when the caller should retry.
   */
  send(messages: OutgoingMessage[]): Promise<void>;
  /** Receives up to `max` messages, in order within each group, never two batches of one group at once. */
  receive(options: ReceiveOptions): Promise<ReceivedMessage[]>;
  /** Deletes handled messages. */
  ack(receipts: string[]): Promise<void>;
  /** Makes messages visible again at once (a failed handling). */
  release(receipts: string[]): Promise<void>;
}

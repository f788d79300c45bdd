/*
 * The request pipeline (docs/guarantees.md "FIFO client order" and "Failure model"): a client's
 * requests are numbered in issue order (the writer applies each `(session, seq)` once) and reach
 * the writer queue in that order, in batches, retried while the queue cannot be reached. A request
 * past its deadline fails alone; one given up unsent still goes, as a ping of its seq, so the
 * writer sees every seq of an open session (GCP's push order guard waits for each one).
 */

import { FaaSKeeperError } from '../model/errors.js';
import type { Clock, TimerHandle } from '../ports/clock.js';
import { LimitExceededError } from '../ports/errors.js';
import type { OutgoingMessage, Queue } from '../ports/queue.js';
import { byteLength, encodeMessage } from '../protocol/codec.js';
import { inProcessMessage } from '../protocol/in-process.js';
import {
  type ChannelBody,
  PROTOCOL_VERSION,
  type ReplyResult,
  type WriteRequest,
} from '../protocol/messages.js';
import { sealRequest, signRequest } from '../session/auth.js';
import { delay } from '../util/async.js';
import { clone } from '../util/clone.js';
import { WRITER_GROUP } from '../writer/writer.js';
import type { FifoOrder } from './fifo-order.js';
import { type ClientOp, type ClientOpType, type ReplyFor, replyError, replyFor } from './replies.js';

/** What the pipeline needs of the rest of the client. */
export interface PipelineContext {
  writerQueue: Queue;
  clock: Clock;
  opTimeoutMs: number;
  sessionNumber: number;
  /** The session key every request is signed with (session/auth.ts). */
  sessionKey: Uint8Array;
  /** The session's incarnation this client is (0: it opened the session; see session/resume.ts). */
  incarnation: number;
  order: FifoOrder;
  /** The highest zxid taken from the channel, sent as `ack` with every request. */
  ack(): number;
  /** @throws FaaSKeeperError SESSIONEXPIRED when the session can take no more requests. */
  checkUsable(): void;
  /** Whether the session is open; a closed client sends nothing more. */
  open(): boolean;
  closed(): boolean;
  /** A request was issued (it renews the session). */
  sent(): void;
  /** The writer queue could not be reached. */
  sendFailed(): void;
  /** A reply said the session has expired. */
  expired(): void;
}

interface Pending {
  /** Checks a successful reply against the request, runs its `onReply`, and resolves it. */
  settle: (result: ReplyResult | undefined) => void;
  reject: (error: FaaSKeeperError) => void;
  /** Clock time after which the request fails (OPERATIONTIMEOUT, or CONNECTIONLOSS if never sent). */
  deadline: number;
  sent: boolean;
}

interface Outgoing {
  seq: number;
  message: OutgoingMessage;
  id: string;
}

/** Numbers, sends and answers a client's requests. */
export class RequestPipeline {
  private seq = 0;
  private readonly pending = new Map<number, Pending>();
  private outbox: Outgoing[] = [];
  private flushing = false;
  /** One timer for all operation deadlines. */
  private sweeper: TimerHandle | undefined;

  constructor(private readonly ctx: PipelineContext) {}

  /**
   * A resumed session numbers on from `lastSeq`, the last seq the writer took from the session
   * (of any incarnation). Called once the resume is answered, before any other request.
   */
  continueAfter(lastSeq: number): void {
    this.seq = Math.max(this.seq, lastSeq);
  }

  /** Whether a request is unsent or unanswered: its reply may come on the channel. */
  get busy(): boolean {
    return this.pending.size > 0 || this.outbox.length > 0;
  }

  /**
   * Sends `op` through the writer queue and resolves with its reply, of the kind `op` asks for.
   * `onReply` runs as the reply is taken from the channel, before any later message is handled.
   * @throws FaaSKeeperError the reply's error; SESSIONEXPIRED; MARSHALLINGERROR; BADARGUMENTS for a
   *   request too large for the queue; CONNECTIONLOSS or OPERATIONTIMEOUT past the deadline;
   *   SYSTEMERROR for a reply of the wrong kind.
   */
  request<T extends ClientOpType>(
    op: ClientOp & { type: T },
    onReply?: (result: ReplyFor<T>) => void,
  ): Promise<ReplyFor<T>> {
    try {
      if (op.type !== 'openSession' && op.type !== 'resumeSession' && op.type !== 'closeSession')
        this.ctx.checkUsable();
    } catch (error) {
      return Promise.reject(error);
    }
    // The seq is taken only once the request encodes: a request refused here never reaches the
    // writer, and a used-up seq would leave a gap that GCP's push order guard waits on for good.
    const seq = this.seq + 1;
    // A resumed client's ids name its incarnation: the replaced client used the same seqs, and a
    // queue that de-duplicates by id (SQS FIFO) would otherwise drop this client's requests.
    const inc = this.ctx.incarnation;
    const id = inc === 0 ? `${this.ctx.sessionNumber}:${seq}` : `${this.ctx.sessionNumber}.${inc}:${seq}`;
    let message: OutgoingMessage;
    try {
      message = this.encode(seq, id, op);
      this.seq = seq;
    } catch (error) {
      return Promise.reject(
        new FaaSKeeperError('MARSHALLINGERROR', 'MARSHALLINGERROR: request could not be encoded', {
          cause: error,
        }),
      );
    }
    const promise = new Promise<ReplyFor<T>>((resolve, reject) => {
      const settle = (result: ReplyResult | undefined): void => {
        let reply: ReplyFor<T>;
        try {
          // The one place a reply meets its request: a reply of another kind fails the request.
          reply = replyFor(op.type, result);
        } catch (error) {
          reject(error);
          return;
        }
        try {
          // Synchronous, before any later channel message (a watch is registered before its event).
          onReply?.(reply);
        } finally {
          resolve(reply);
        }
      };
      const deadline = this.ctx.clock.now() + this.ctx.opTimeoutMs;
      this.pending.set(seq, { settle, reject, deadline, sent: false });
    });
    this.armSweeper(this.ctx.opTimeoutMs);
    // The FIFO hold only waits for the request to end; its failure goes to the caller of request().
    this.ctx.order.issued(seq, promise);
    this.outbox.push({ seq, message, id });
    this.ctx.sent();
    void this.flush();
    return promise;
  }

  /** Settles the request a reply on the channel answers (a reply to nothing pending is a duplicate). */
  answer(reply: Extract<ChannelBody, { type: 'reply' }>): void {
    const p = this.pending.get(reply.seq);
    if (p === undefined) return;
    this.pending.delete(reply.seq);
    if (reply.error !== undefined) {
      const error = replyError(reply.error);
      if (error.code === 'SESSIONEXPIRED') this.ctx.expired();
      p.reject(error);
    } else p.settle(reply.result);
  }

  /** Fails every pending request with `error` and drops what was not sent (the session ended). */
  failAll(error: FaaSKeeperError): void {
    if (this.sweeper !== undefined) this.ctx.clock.clearTimeout(this.sweeper);
    this.sweeper = undefined;
    for (const p of this.pending.values()) p.reject(error);
    this.pending.clear();
    this.outbox = [];
  }

  /**
   * The request's queue message. A queue in this process's memory takes the request itself
   * (protocol/in-process.ts): the writer checks it against its schema but needs no text and no MAC,
   * and the signed text is made only if something reads the body. Any other queue gets the signed
   * text at once (an op that cannot be encoded fails here, MARSHALLINGERROR), sealed under the
   * session key when the queue would carry it through object storage other clients can read.
   */
  private encode(seq: number, id: string, op: WriteRequest['op']): OutgoingMessage {
    const capabilities = this.ctx.writerQueue.capabilities;
    const inProcess = capabilities.inProcess === true;
    const request: WriteRequest = {
      v: PROTOCOL_VERSION,
      id,
      session: this.ctx.sessionNumber,
      seq,
      ack: this.ctx.ack(),
      // In process, a copy of the op: the caller may reuse its data buffer once the call returns,
      // as with a text sent at once (the rest of the request is made here and shared with no one).
      op: inProcess ? clone(op) : op,
    };
    if (this.ctx.incarnation !== 0) request.inc = this.ctx.incarnation;
    const fields = { group: WRITER_GROUP, dedupId: id };
    const key = this.ctx.sessionKey;
    if (!inProcess) {
      const signed = signRequest(key, encodeMessage(request));
      // An offloaded body is readable by every client until the writer removes it: sealed, it
      // shows them nothing (docs/guarantees.md "Security model"). One AES-GCM pass, no request.
      const sealed = capabilities.offloads?.(signed) === true;
      return { ...fields, body: sealed ? sealRequest(key, this.ctx.sessionNumber, signed) : signed };
    }
    return inProcessMessage(fields, request, () => signRequest(key, encodeMessage(request)));
  }

  /** Fails requests past their deadline; one timer serves them all. */
  private armSweeper(ms: number): void {
    if (this.sweeper !== undefined) return;
    this.sweeper = this.ctx.clock.setTimeout(
      () => {
        this.sweeper = undefined;
        const now = this.ctx.clock.now();
        let next = Number.POSITIVE_INFINITY;
        for (const [seq, p] of this.pending) {
          if (p.deadline > now) {
            next = Math.min(next, p.deadline);
            continue;
          }
          this.pending.delete(seq);
          if (!p.sent) {
            this.giveUp((o) => o.seq === seq);
            p.reject(new FaaSKeeperError('CONNECTIONLOSS', 'CONNECTIONLOSS: the request could not be sent'));
          } else
            p.reject(
              new FaaSKeeperError(
                'OPERATIONTIMEOUT',
                `OPERATIONTIMEOUT: no reply within ${this.ctx.opTimeoutMs} ms`,
              ),
            );
        }
        if (next !== Number.POSITIVE_INFINITY) this.armSweeper(next - now);
      },
      Math.max(0, ms),
    );
  }

  /**
   * Gives up the unsent request `which` picks: in an open session it goes as a ping of the same seq
   * instead, so that the writer still sees every seq of the session while the request itself is
   * not applied; in an ended one it is dropped.
   */
  private giveUp(which: (o: Outgoing) => boolean): void {
    if (!this.ctx.open()) {
      this.outbox = this.outbox.filter((o) => !which(o));
      return;
    }
    this.outbox = this.outbox.map((o) =>
      which(o) ? { ...o, message: this.encode(o.seq, o.id, { type: 'ping' }) } : o,
    );
  }

  /** Sends the outbox in order, in batches; on failure keeps it and retries. */
  private async flush(): Promise<void> {
    if (this.flushing) return;
    this.flushing = true;
    const queue = this.ctx.writerQueue;
    let failures = 0;
    try {
      while (this.outbox.length > 0 && !this.ctx.closed()) {
        // Requests issued after a read still in flight wait for it (FIFO client order).
        const hold = this.ctx.order.hold();
        if (hold !== undefined && this.outbox[0]!.seq > hold.after) {
          await hold.done;
          continue;
        }
        const head = this.outbox.slice(0, queue.capabilities.maxBatch);
        const batch = hold === undefined ? head : head.filter((b) => b.seq <= hold.after);
        try {
          await queue.send(batch.map((b) => b.message));
          failures = 0;
          for (const b of batch) {
            const p = this.pending.get(b.seq);
            if (p !== undefined) p.sent = true;
          }
          // The batch was the outbox's head, and the outbox stays in seq order (requests are
          // added at the end; a give-up replaces or drops one in place): what was sent is every
          // entry up to the batch's last seq.
          const last = batch[batch.length - 1]!.seq;
          let sent = 0;
          while (sent < this.outbox.length && this.outbox[sent]!.seq <= last) sent++;
          this.outbox.splice(0, sent);
        } catch (error) {
          if (error instanceof LimitExceededError) {
            // One request is too large for the queue: refuse it alone, keep the rest going.
            const tooBig =
              batch.find((b) => byteLength(b.message.body) > queue.capabilities.maxMessageBytes) ?? batch[0]!;
            this.giveUp((o) => o === tooBig);
            const p = this.pending.get(tooBig.seq);
            this.pending.delete(tooBig.seq);
            p?.reject(
              new FaaSKeeperError('BADARGUMENTS', `BADARGUMENTS: ${error.message}`, { cause: error }),
            );
            continue;
          }
          failures++;
          this.ctx.sendFailed();
          await delay(Math.min(1000, 5 * 2 ** Math.min(failures, 8)));
        }
      }
    } finally {
      this.flushing = false;
    }
  }
}

import type { Channel, ChannelSubscription } from '../ports/channel.js';
import { LimitExceededError } from '../ports/errors.js';
import { byteLength } from '../protocol/codec.js';
import { type CarriedText, carriedTextsOf, carryTexts } from '../protocol/in-process.js';

/**
 * A mailbox per session incarnation and tag (see `Channel`): a subscriber reaches only the mailbox
 * it names, as a client reaches only the queue it can name on a cloud.
 */
const keyOf = (session: number, incarnation: number, tag: string | undefined): string =>
  tag === undefined ? `${session}:${incarnation}` : `${session}:${incarnation}:${tag}`;

interface Mailbox {
  pending: string[];
  /** The values `pending[i]` was encoded from, where the sender gave them (protocol/in-process.ts). */
  carried: (CarriedText | undefined)[];
  subscriber: ((messages: string[]) => void) | undefined;
  scheduled: boolean;
  held: boolean;
  /** The session ended; the mailbox goes once its subscriber leaves. */
  removed: boolean;
}

/**
 * Per-session channels in memory. Delivery is asynchronous and in send order; messages sent before
 * anyone subscribes wait in the mailbox. A session's delivery can be held (a partitioned client)
 * and resumed.
 */
export class MemoryChannel implements Channel {
  readonly maxMessageBytes: number;
  /** A mailbox keeps its messages while nobody subscribes. */
  readonly pausable = true;
  private readonly boxes = new Map<string, Mailbox>();

  constructor(options: { maxMessageBytes?: number } = {}) {
    this.maxMessageBytes = options.maxMessageBytes ?? 1024 * 1024;
  }

  async send(session: number, messages: string[], incarnation = 0, tag?: string): Promise<void> {
    await undefined;
    for (const m of messages) {
      const size = byteLength(m);
      if (size > this.maxMessageBytes)
        throw new LimitExceededError(`channel message to session ${session}`, size, this.maxMessageBytes);
    }
    const box = this.box(session, incarnation, tag);
    const carried = carriedTextsOf(messages);
    for (let i = 0; i < messages.length; i++) {
      box.pending.push(messages[i]!);
      box.carried.push(carried?.[i]);
    }
    this.schedule(box);
  }

  async subscribe(
    session: number,
    onMessages: (messages: string[]) => void,
    incarnation = 0,
    tag?: string,
  ): Promise<ChannelSubscription> {
    await undefined;
    const key = keyOf(session, incarnation, tag);
    const box = this.box(session, incarnation, tag);
    box.subscriber = onMessages;
    this.schedule(box);
    return {
      close: async () => {
        if (box.subscriber === onMessages) box.subscriber = undefined;
        if (box.removed && box.subscriber === undefined && this.boxes.get(key) === box)
          this.boxes.delete(key);
      },
    };
  }

  async remove(session: number, incarnation = 0, tag?: string): Promise<void> {
    await undefined;
    const key = keyOf(session, incarnation, tag);
    const box = this.boxes.get(key);
    // Keep undelivered messages for a live subscriber (the EXPIRED notice must still arrive).
    if (box === undefined) return;
    if (box.subscriber === undefined) this.boxes.delete(key);
    else box.removed = true;
  }

  /** Number of mailboxes held (tests: ended sessions leave none behind). */
  get size(): number {
    return this.boxes.size;
  }

  /** Stops delivering to `session` until {@link resume}. Messages keep arriving in the mailbox. */
  hold(session: number, incarnation = 0, tag?: string): void {
    this.box(session, incarnation, tag).held = true;
  }

  resume(session: number, incarnation = 0, tag?: string): void {
    const box = this.box(session, incarnation, tag);
    box.held = false;
    this.schedule(box);
  }

  private box(session: number, incarnation: number, tag?: string): Mailbox {
    const key = keyOf(session, incarnation, tag);
    let box = this.boxes.get(key);
    if (box === undefined) {
      box = {
        pending: [],
        carried: [],
        subscriber: undefined,
        scheduled: false,
        held: false,
        removed: false,
      };
      this.boxes.set(key, box);
    }
    return box;
  }

  private schedule(box: Mailbox): void {
    if (box.scheduled || box.held || box.subscriber === undefined || box.pending.length === 0) return;
    box.scheduled = true;
    queueMicrotask(() => {
      box.scheduled = false;
      if (box.held || box.subscriber === undefined || box.pending.length === 0) return;
      const batch = box.pending;
      const carried = box.carried;
      box.pending = [];
      box.carried = [];
      carryTexts(batch, carried);
      try {
        box.subscriber(batch);
      } catch {
        // A failing consumer gets the batch again, ahead of anything newer.
        box.pending = batch.concat(box.pending);
        box.carried = carried.concat(box.carried);
        setImmediate(() => this.schedule(box));
      }
    });
  }
}

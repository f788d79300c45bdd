/*
 * The session's channel, taken in order (docs/guarantees.md "Ordered notifications" and "Failure
 * model"): messages arrive in zxid order, a redelivered one is dropped by its order key, and each
 * is handled completely (its watchers fired, its request answered) before the client's channel
 * position moves past its zxid, which is what reads waiting for an owed event wait on.
 *
 * A reply that set a watch reaches its caller before any later event (ZooKeeper's client hands
 * over a read's reply before the events of the watch it set): settling a promise only queues its
 * continuations, so events after such a reply wait until the caller's promise has settled and its
 * continuations have run (see {@link EventHold}), and so does everything after them.
 */

import { Buffer } from 'node:buffer';
import { channelBody } from '../protocol/batches.js';
import { carriedTextValue } from '../protocol/in-process.js';
import {
  type ChannelBody,
  type ChannelMessage,
  ChannelMessageSchema,
  type WatchClass,
} from '../protocol/messages.js';
import { decodeChecked } from '../protocol/validate.js';
import { channelAad, leftUnsealed, unseal } from '../session/auth.js';
import type { WatchedEvent } from './types.js';

/** What the inbox hands each kind of channel message to. */
export interface InboxHandlers {
  /** A message was heard: the deployment is reachable. */
  heard(): void;
  watermark(wm: number): void;
  event(event: WatchedEvent, classes: WatchClass[]): void;
  expired(): void;
  /** Another client resumed the session: this one is replaced. */
  moved(): void;
  reply(reply: Extract<ChannelBody, { type: 'reply' }>): void;
  /** Every message up to `zxid` has been handled (zxids may repeat: several messages of one change). */
  taken(zxid: number): void;
  /** A message could not be decoded; it is skipped. */
  error(error: unknown): void;
}

const compareOrder = (a: [number, number], b: [number, number]) =>
  a[0] !== b[0] ? a[0] - b[0] : a[1] - b[1];

/**
 * The session's channel key, once the open (or resume) reply handed it over (a deployment without a
 * channel secret hands none). From then on every message but those {@link leftUnsealed} names must
 * be sealed with it (session/auth.ts).
 */
export interface ChannelSealing {
  readonly session: number;
  key?: Uint8Array;
}

type Message = { order: [number, number]; zxid: number; wm: number; body: ChannelBody };

/** The message's body, opened if sealed; a string says why it is not to be taken. */
function opened(m: Message, sealing: ChannelSealing | undefined): ChannelBody | string {
  const key = sealing?.key;
  if (m.body.type !== 'sealed')
    return key === undefined || leftUnsealed(m.body) ? m.body : 'an unsealed message on a sealed channel';
  if (key === undefined || sealing === undefined) return 'a sealed message before the channel key';
  let text: string;
  try {
    text = Buffer.from(unseal(key, m.body.box, channelAad(sealing.session, m.order, m.zxid, m.wm))).toString(
      'utf8',
    );
  } catch (error) {
    return `a sealed message that does not open: ${String(error)}`;
  }
  const inner = decodeChecked(channelBody, text);
  if (!inner.ok) return `a sealed message holding no body: ${inner.problem}`;
  return inner.value.type === 'sealed' ? 'a sealed message sealed twice' : inner.value;
}

/**
 * Holds a session's watch events back while the caller of a request that set a watch has not had
 * its reply: from the moment the reply is taken until the promise the caller holds has settled and
 * its continuations have run, as ZooKeeper's client delivers a read's reply before the events of
 * the watch it set. Events behind no such reply are delivered as they come; a read that waits for
 * an event it is owed lets that event (and those before it) through, since it cannot be answered
 * before them.
 */
export class EventHold {
  private open = 0;
  /** Events up to this zxid pass even while held (a read waits for them). */
  private through = Number.NEGATIVE_INFINITY;
  private release: (() => void) | undefined;

  /**
   * The reply of a request that set a watch was taken; `answered` is the promise its caller holds.
   * Events wait until it has settled and the reactions its caller attached to it have run.
   */
  until(answered: Promise<unknown>): void {
    this.open++;
    const end = (): void =>
      // A reaction of `answered`, attached after the caller's own: one more microtask and the
      // caller's continuation has run.
      queueMicrotask(() => {
        this.open--;
        if (this.open === 0) {
          this.through = Number.NEGATIVE_INFINITY;
          this.release?.();
        }
      });
    answered.then(end, end);
  }

  /** A read waits for the channel to reach `zxid`: events up to it pass. */
  letThrough(zxid: number): void {
    if (zxid <= this.through) return;
    this.through = zxid;
    this.release?.();
  }

  /** Whether an event of transaction `zxid` must wait. */
  holds(zxid: number): boolean {
    return this.open > 0 && zxid > this.through;
  }

  /** Runs `release` whenever held events may go on (the inbox takes its waiting messages then). */
  onRelease(release: () => void): void {
    this.release = release;
  }
}

/**
 * A channel subscriber handing each new message, in order and once, to `handlers`. With `hold`,
 * an event waits (and every message after it with it) while the hold lasts.
 */
export function channelInbox(
  handlers: InboxHandlers,
  sealing?: ChannelSealing,
  hold?: EventHold,
): (raw: string[]) => void {
  let lastOrder: [number, number] = [-1, -1];
  /** Messages not taken yet; `body` is the opened body of one that waits for the hold. */
  const waiting: { m: Message; body?: ChannelBody }[] = [];
  let draining = false;

  const take = (m: Message, body: ChannelBody): void => {
    lastOrder = m.order;
    handlers.watermark(m.wm);
    handlers.heard();
    try {
      if (body.type === 'event')
        handlers.event({ type: body.event.type, path: body.event.path }, body.classes);
      else if (body.type === 'session') {
        // CLOSED answers this client's own close, which ends the session by itself.
        if (body.state === 'EXPIRED') handlers.expired();
        else if (body.state === 'MOVED') handlers.moved();
      } else if (body.type === 'reply') handlers.reply(body);
    } catch (error) {
      // Messages are taken outside the channel's call (after a hold): a failing handler is
      // reported, and the message still counts as taken, so that reads waiting on it go on.
      handlers.error(error);
    }
    handlers.taken(m.zxid);
  };

  const drain = (): void => {
    if (draining) return;
    draining = true;
    try {
      while (waiting.length > 0) {
        const next = waiting[0]!;
        if (compareOrder(next.m.order, lastOrder) <= 0) {
          waiting.shift(); // a duplicate delivery
          continue;
        }
        // Nothing of a message that does not open is taken, not even its order or watermark.
        const body = next.body ?? opened(next.m, sealing);
        if (typeof body === 'string') {
          waiting.shift();
          handlers.error(new SyntaxError(`channel message refused: ${body}`));
          continue;
        }
        if (body.type === 'event' && hold?.holds(next.m.zxid) === true) {
          next.body = body;
          return;
        }
        waiting.shift();
        take(next.m, body);
      }
    } finally {
      draining = false;
    }
  };
  hold?.onRelease(drain);

  return (raw) => {
    for (let i = 0; i < raw.length; i++) {
      // Checked against its schema before any field is used: a malformed message is reported and
      // skipped, never thrown into the channel loop. One that an in-memory channel brought from the
      // distributor in this process comes with the value it was encoded from (protocol/in-process.ts).
      const local = carriedTextValue(raw, i) as ChannelMessage | undefined;
      const decoded =
        local !== undefined
          ? { ok: true as const, value: local }
          : decodeChecked(ChannelMessageSchema, raw[i]!);
      if (!decoded.ok) {
        handlers.error(new SyntaxError(`unreadable channel message: ${decoded.problem}`));
        continue;
      }
      waiting.push({ m: decoded.value });
    }
    drain();
  };
}

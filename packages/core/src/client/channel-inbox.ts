/*
 * The session's channel, taken in order (docs/guarantees.md "Ordered notifications" and "Failure
 * model"): messages arrive in zxid order, a redelivered one is dropped by its order key, and each
 * is handled completely (its watchers fired, its request answered) before the client's channel
 * position moves past its zxid, which is what reads waiting for an owed event wait on.
 */

import { type ChannelBody, ChannelMessageSchema, type WatchClass } from '../protocol/messages.js';
import { decodeChecked } from '../protocol/validate.js';
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

/** A channel subscriber handing each new message, in order and once, to `handlers`. */
export function channelInbox(handlers: InboxHandlers): (raw: string[]) => void {
  let lastOrder: [number, number] = [-1, -1];
  return (raw) => {
    for (const text of raw) {
      // Checked against its schema before any field is used: a malformed message is reported and
      // skipped, never thrown into the channel loop.
      const decoded = decodeChecked(ChannelMessageSchema, text);
      if (!decoded.ok) {
        handlers.error(new SyntaxError(`unreadable channel message: ${decoded.problem}`));
        continue;
      }
      const m = decoded.value;
      if (compareOrder(m.order, lastOrder) <= 0) continue; // a duplicate delivery
      lastOrder = m.order;
      handlers.watermark(m.wm);
      handlers.heard();
      const body = m.body;
      if (body.type === 'event')
        handlers.event({ type: body.event.type, path: body.event.path }, body.classes);
      else if (body.type === 'session') {
        // CLOSED answers this client's own close, which ends the session by itself.
        if (body.state === 'EXPIRED') handlers.expired();
        else if (body.state === 'MOVED') handlers.moved();
      } else handlers.reply(body);
      handlers.taken(m.zxid);
    }
  };
}

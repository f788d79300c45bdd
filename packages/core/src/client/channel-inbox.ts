/*
 * The session's channel, taken in order (docs/guarantees.md "Ordered notifications" and "Failure
 * model"): messages arrive in zxid order, a redelivered one is dropped by its order key, and each
 * is handled completely (its watchers fired, its request answered) before the client's channel
 * position moves past its zxid, which is what reads waiting for an owed event wait on.
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

/** A channel subscriber handing each new message, in order and once, to `handlers`. */
export function channelInbox(handlers: InboxHandlers, sealing?: ChannelSealing): (raw: string[]) => void {
  let lastOrder: [number, number] = [-1, -1];
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
      const m = decoded.value;
      if (compareOrder(m.order, lastOrder) <= 0) continue; // a duplicate delivery
      // Nothing of a message that does not open is taken, not even its order or watermark.
      const body = opened(m, sealing);
      if (typeof body === 'string') {
        handlers.error(new SyntaxError(`channel message refused: ${body}`));
        continue;
      }
      lastOrder = m.order;
      handlers.watermark(m.wm);
      handlers.heard();
      if (body.type === 'event')
        handlers.event({ type: body.event.type, path: body.event.path }, body.classes);
      else if (body.type === 'session') {
        // CLOSED answers this client's own close, which ends the session by itself.
        if (body.state === 'EXPIRED') handlers.expired();
        else if (body.state === 'MOVED') handlers.moved();
      } else if (body.type === 'reply') handlers.reply(body);
      handlers.taken(m.zxid);
    }
  };
}

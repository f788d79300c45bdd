/**
 * The distributor's outgoing channel messages (step 4 of `createDistributor`): collected per
 * channel while the batches are read, then sealed and sent, per channel in the order posted.
 *
 * Guarantees kept: ordered notifications (a session's messages go out in zxid order, on one channel
 * per incarnation); only the session can read them (every body but the few `leftUnsealed` is sealed
 * under the session's channel key, bound to its session, order, zxid and the watermark); and only
 * the session can receive them (the secret channel, see destination.ts).
 */
import { Buffer } from 'node:buffer';
import type { Channel } from '../ports/channel.js';
import { encodeMessage } from '../protocol/codec.js';
import { type CarriedText, carryTexts } from '../protocol/in-process.js';
import { type ChannelBody, type ChannelMessage, PROTOCOL_VERSION } from '../protocol/messages.js';
import { channelAad, leftUnsealed, seal } from '../session/auth.js';
import { mapLimit } from '../util/map-limit.js';
import { toBootstrap } from './destination.js';
import type { ChannelKeys } from './inputs.js';

/** One channel: a session's incarnation. */
export interface ChannelAddress {
  session: number;
  inc: number;
}

interface Box {
  to: ChannelAddress;
  boot: boolean;
  list: { order: [number, number]; zxid: number; body: ChannelBody }[];
}

/**
 * Messages per channel: a session's incarnation (0: the client that opened it; see
 * session/resume.ts), its bootstrap channel or its secret one (`refusedResume`: see toBootstrap).
 */
export class Outbox {
  private readonly boxes = new Map<string, Box>();

  post(
    to: ChannelAddress,
    order: [number, number],
    zxid: number,
    body: ChannelBody,
    refusedResume = false,
  ): void {
    const boot = toBootstrap(body, refusedResume);
    const key = `${to.session}:${to.inc}:${boot ? 'boot' : 'tag'}`;
    let box = this.boxes.get(key);
    if (box === undefined) {
      box = { to, boot, list: [] };
      this.boxes.set(key, box);
    }
    box.list.push({ order, zxid, body });
  }

  /**
   * The bootstrap channels that carry only the answers to refused resumes (SESSIONEXPIRED to an
   * incarnation of a session that is gone): no session end will remove them.
   */
  refusedResumes(): ChannelAddress[] {
    return [...this.boxes.values()]
      .filter((b) => b.boot && b.list.every((m) => m.body.type === 'reply' && m.body.error !== undefined))
      .map((b) => b.to);
  }

  /** Seals and sends every channel's messages, `concurrency` channels at a time. */
  async send(channel: Channel, keys: ChannelKeys, wm: number, concurrency: number): Promise<void> {
    await mapLimit([...this.boxes.values()], concurrency, async ({ to, boot, list }) => {
      const key = keys.of(to.session);
      // Unsealed messages go with their values too: an in-memory channel hands them to a client in
      // this process, which then needs no decoding (protocol/in-process.ts).
      const values: (CarriedText | undefined)[] = [];
      const encoded = list.map((m) => {
        const message: ChannelMessage = {
          v: PROTOCOL_VERSION,
          order: m.order,
          zxid: m.zxid,
          wm,
          body:
            key === undefined || leftUnsealed(m.body)
              ? m.body
              : {
                  type: 'sealed',
                  box: seal(
                    key,
                    Buffer.from(encodeMessage(m.body), 'utf8'),
                    channelAad(to.session, m.order, m.zxid, wm),
                  ),
                },
        };
        const text = encodeMessage(message);
        values.push(message.body.type === 'sealed' ? undefined : { text, value: message });
        return text;
      });
      carryTexts(encoded, values);
      // The reply that hands over the channel key: the channel the client moves to exists first.
      const tag = keys.tag(to.session, to.inc);
      if (
        boot &&
        tag !== undefined &&
        list.some((m) => m.body.type === 'reply' && m.body.error === undefined)
      )
        await channel.prepare?.(to.session, to.inc, tag);
      await channel.send(to.session, encoded, to.inc, boot ? undefined : tag);
    });
  }
}

import type { PortWrappers } from '../../deployment/deployment.js';
import type { Channel } from '../../ports/channel.js';
import { decodeMessage } from '../../protocol/codec.js';
import type { ChannelMessage } from '../../protocol/messages.js';
import { interceptPort, PORT_METHODS } from './intercept.js';

const compareOrder = (a: [number, number], b: [number, number]) =>
  a[0] !== b[0] ? a[0] - b[0] : a[1] - b[1];

/**
 * Records what each session's subscriber is handed on its channel, keeping (as the client does)
 * only messages whose order key is newer than the last one taken: what the application saw.
 */
export class ChannelLog {
  private readonly taken = new Map<number, ChannelMessage[]>();
  /** Called with every reply taken (duplicates excluded), also those its client no longer waits for. */
  onReply: ((session: number, message: ChannelMessage) => void) | undefined;

  /** The wrapper to put around the deployment's channel (outermost, so it sees final deliveries). */
  readonly wrap: NonNullable<PortWrappers['channel']> = (inner: Channel) =>
    interceptPort(inner, PORT_METHODS.channel, async (method, args, call) => {
      if (method !== 'subscribe') return call();
      const [session, onMessages] = args as [number, (messages: string[]) => void];
      return call([
        session,
        (messages: string[]) => {
          for (const text of messages) this.record(session, text);
          onMessages(messages);
        },
        // The incarnation and tag as the caller gave them (ports/channel.ts).
        ...args.slice(2),
      ]);
    });

  private record(session: number, text: string): void {
    let m: ChannelMessage;
    try {
      m = decodeMessage<ChannelMessage>(text);
    } catch {
      return;
    }
    let list = this.taken.get(session);
    if (list === undefined) {
      list = [];
      this.taken.set(session, list);
    }
    const last = list[list.length - 1];
    if (last !== undefined && compareOrder(m.order, last.order) <= 0) return; // a duplicate
    list.push(m);
    if (m.body.type === 'reply') this.onReply?.(session, m);
  }

  /** Messages taken by `session`, in order. */
  messages(session: number): ChannelMessage[] {
    return this.taken.get(session) ?? [];
  }

  /** Replies to request `seq` of `session` (exactly one is right). */
  replies(session: number, seq: number): ChannelMessage[] {
    return this.messages(session).filter((m) => m.body.type === 'reply' && m.body.seq === seq);
  }

  /** Watch events taken by `session`. */
  events(session: number): ChannelMessage[] {
    return this.messages(session).filter((m) => m.body.type === 'event');
  }

  /**
   * Problems with per-session order: every session's messages must come in zxid order, and each
   * request is answered at most once.
   */
  problems(): string[] {
    const out: string[] = [];
    for (const [session, list] of this.taken) {
      let zxid = 0;
      const answered = new Set<number>();
      for (const m of list) {
        if (m.zxid < zxid)
          out.push(
            `session ${session}: message at zxid ${m.zxid} after one at zxid ${zxid} (${m.body.type})`,
          );
        zxid = Math.max(zxid, m.zxid);
        if (m.body.type === 'reply') {
          if (answered.has(m.body.seq)) out.push(`session ${session}: request ${m.body.seq} answered twice`);
          answered.add(m.body.seq);
        }
      }
    }
    return out;
  }
}

// The channel inbox takes messages in order and once; after a reply that set a watch, the events
// behind it (and everything after them) wait one turn of the event loop, and the client's channel
// position does not pass a waiting event, so reads owed that event keep waiting for it.
import { describe, expect, it } from 'vitest';
import { channelInbox, EventHold, type InboxHandlers } from '../../src/client/channel-inbox.js';
import { encodeMessage } from '../../src/protocol/codec.js';
import { PROTOCOL_VERSION } from '../../src/protocol/messages.js';

type Body =
  | { type: 'reply'; seq: number; result: { type: 'ping' } }
  | { type: 'event'; event: { type: 'NodeDataChanged'; path: string }; classes: ['data'] };

const message = (index: number, zxid: number, body: Body): string =>
  encodeMessage({ v: PROTOCOL_VERSION, order: [1, index], zxid, wm: zxid, body });
const reply = (index: number, zxid: number, seq: number) =>
  message(index, zxid, { type: 'reply', seq, result: { type: 'ping' } });
const event = (index: number, zxid: number, path: string) =>
  message(index, zxid, { type: 'event', event: { type: 'NodeDataChanged', path }, classes: ['data'] });

/** An inbox whose handlers log what they are given; replies to `watchSetting` seqs set a watch. */
function inbox(watchSetting: number[]) {
  const log: string[] = [];
  let position = 0;
  const hold = new EventHold();
  const handlers: InboxHandlers = {
    heard: () => {},
    watermark: () => {},
    event: (e) => log.push(`event ${e.path}`),
    expired: () => log.push('expired'),
    moved: () => log.push('moved'),
    reply: (r) => {
      log.push(`reply ${r.seq}`);
      if (watchSetting.includes(r.seq)) hold.replySetWatch();
    },
    taken: (zxid) => {
      position = zxid;
    },
    error: (error) => log.push(`error ${String(error)}`),
  };
  return { deliver: channelInbox(handlers, undefined, hold), log, position: () => position };
}

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('the channel inbox', () => {
  it('takes events at once when no reply that set a watch is before them', () => {
    const { deliver, log, position } = inbox([]);
    deliver([event(0, 5, '/a'), reply(1, 6, 1), event(2, 7, '/b')]);
    expect(log).toEqual(['event /a', 'reply 1', 'event /b']);
    expect(position()).toBe(7);
  });

  it('holds the events after a watch-setting reply for a turn, in order, with the channel position', async () => {
    const { deliver, log, position } = inbox([2]);
    deliver([event(0, 5, '/a'), reply(1, 6, 2), reply(2, 6, 3), event(3, 7, '/b'), reply(4, 8, 4)]);
    // The reply after the watch-setting one is no event: it is taken; the event and all after it wait.
    expect(log).toEqual(['event /a', 'reply 2', 'reply 3']);
    expect(position()).toBe(6);
    // A later delivery in the same turn queues behind them; its duplicate of a waiting message is dropped.
    deliver([event(3, 7, '/b'), event(5, 9, '/c')]);
    expect(log).toHaveLength(3);
    await nextTurn();
    expect(log).toEqual(['event /a', 'reply 2', 'reply 3', 'event /b', 'reply 4', 'event /c']);
    expect(position()).toBe(9);
  });

  it('holds again behind a watch-setting reply taken once a hold has ended', async () => {
    const { deliver, log } = inbox([1, 2]);
    deliver([reply(0, 5, 1), event(1, 6, '/a'), reply(2, 7, 2), event(3, 8, '/b')]);
    expect(log).toEqual(['reply 1']);
    await nextTurn();
    expect(log).toEqual(['reply 1', 'event /a', 'reply 2']);
    await nextTurn();
    expect(log).toEqual(['reply 1', 'event /a', 'reply 2', 'event /b']);
  });

  it('reports a message that fails to be handled and still counts it as taken', () => {
    const log: string[] = [];
    const deliver = channelInbox({
      heard: () => {},
      watermark: () => {},
      event: () => {
        throw new Error('watcher broke');
      },
      expired: () => {},
      moved: () => {},
      reply: () => {},
      taken: (zxid) => log.push(`taken ${zxid}`),
      error: (error) => log.push(`error ${(error as Error).message}`),
    });
    deliver([event(0, 5, '/a'), event(1, 6, '/b')]);
    expect(log).toEqual(['error watcher broke', 'taken 5', 'error watcher broke', 'taken 6']);
  });
});

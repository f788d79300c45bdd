// The channel inbox takes messages in order and once; after a reply that set a watch, the events
// behind it (and everything after them) wait until the reply's caller has it, and the client's
// channel position does not pass a waiting event, so reads owed that event keep waiting for it.
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

/** An inbox whose handlers log what they are given; a reply to seq `seq` in `answers` sets a watch its caller awaits as that promise. */
function inbox(answers: Map<number, Promise<unknown>> = new Map()) {
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
      const answered = answers.get(r.seq);
      if (answered !== undefined) hold.until(answered);
    },
    taken: (zxid) => {
      position = zxid;
    },
    error: (error) => log.push(`error ${String(error)}`),
  };
  return { deliver: channelInbox(handlers, undefined, hold), hold, log, position: () => position };
}

/** A promise a test settles, as the promise a caller of a request awaits. */
function answer() {
  let settle!: () => void;
  const answered = new Promise<void>((resolve) => {
    settle = resolve;
  });
  return { answered, settle };
}

/** Lets every queued microtask run. */
const microtasks = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('the channel inbox', () => {
  it('takes events at once when no reply that set a watch is before them', () => {
    const { deliver, log, position } = inbox();
    deliver([event(0, 5, '/a'), reply(1, 6, 1), event(2, 7, '/b')]);
    expect(log).toEqual(['event /a', 'reply 1', 'event /b']);
    expect(position()).toBe(7);
  });

  it('holds the events after a watch-setting reply until its caller has it, in order, with the channel position', async () => {
    const read = answer();
    const { deliver, log, position } = inbox(new Map([[2, read.answered]]));
    void read.answered.then(() => log.push('caller'));
    deliver([event(0, 5, '/a'), reply(1, 6, 2), reply(2, 6, 3), event(3, 7, '/b'), reply(4, 8, 4)]);
    // The reply after the watch-setting one is no event: it is taken; the event and all after it wait.
    expect(log).toEqual(['event /a', 'reply 2', 'reply 3']);
    expect(position()).toBe(6);
    // A later delivery queues behind them; its duplicate of a waiting message is dropped.
    deliver([event(3, 7, '/b'), event(5, 9, '/c')]);
    await microtasks();
    expect(log).toHaveLength(3);
    read.settle();
    await microtasks();
    expect(log).toEqual(['event /a', 'reply 2', 'reply 3', 'caller', 'event /b', 'reply 4', 'event /c']);
    expect(position()).toBe(9);
  });

  it('lets the events a read waits for through while it holds the later ones', async () => {
    const read = answer();
    const { deliver, hold, log, position } = inbox(new Map([[1, read.answered]]));
    deliver([reply(0, 5, 1), event(1, 6, '/a'), event(2, 7, '/b')]);
    expect(log).toEqual(['reply 1']);
    hold.letThrough(6);
    expect(log).toEqual(['reply 1', 'event /a']);
    expect(position()).toBe(6);
    read.settle();
    await microtasks();
    expect(log).toEqual(['reply 1', 'event /a', 'event /b']);
  });

  it('holds events while any of several watch-setting replies is unanswered', async () => {
    const first = answer();
    const second = answer();
    const { deliver, log } = inbox(
      new Map([
        [1, first.answered],
        [2, second.answered],
      ]),
    );
    deliver([reply(0, 5, 1), reply(1, 6, 2), event(2, 7, '/a')]);
    first.settle();
    await microtasks();
    expect(log).toEqual(['reply 1', 'reply 2']);
    second.settle();
    await microtasks();
    expect(log).toEqual(['reply 1', 'reply 2', 'event /a']);
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

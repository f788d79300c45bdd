// A session's two channels (docs/guarantees.md "Availability of a session's channel"): the secret
// tag naming the one only its client can name, and which message goes where — the open (or resume)
// reply on the bootstrap channel, everything after it on the secret one, which the client moves to.
import { afterEach, describe, expect, it } from 'vitest';
import {
  CHANNEL_TAG_CHARS,
  type Channel,
  type ChannelMessage,
  channelTag,
  createEmbeddedService,
  decodeMessage,
  type FaaSKeeperClient,
  ManualClock,
  settle,
} from '../../src/index.js';
import { channelKey } from '../../src/session/auth.js';

const SECRET = 'channel-names test secret';
const KEY = new Uint8Array(32).fill(3);

/** One call of the channel port, with where it went. */
interface Call {
  method: 'send' | 'subscribe' | 'remove' | 'abandon' | 'reap';
  session: number;
  inc: number;
  tag: string | undefined;
  /** What a send carried: the message bodies' types (a sealed one as `sealed`). */
  bodies?: string[];
}

/** Every channel call of the deployment (functions' and clients'), in order. */
function recording(calls: Call[]): (inner: Channel) => Channel {
  return (inner) => ({
    maxMessageBytes: inner.maxMessageBytes,
    ...(inner.pausable === undefined ? {} : { pausable: inner.pausable }),
    send: (session, messages, inc, tag) => {
      const bodies = messages.map((m) => {
        const body = decodeMessage<ChannelMessage>(m).body;
        return body.type === 'reply' ? `reply:${body.result?.type ?? body.error?.code}` : body.type;
      });
      calls.push({ method: 'send', session, inc: inc ?? 0, tag, bodies });
      return inner.send(session, messages, inc, tag);
    },
    subscribe: (session, onMessages, inc, tag) => {
      calls.push({ method: 'subscribe', session, inc: inc ?? 0, tag });
      return inner.subscribe(session, onMessages, inc, tag);
    },
    remove: (session, inc, tag) => {
      calls.push({ method: 'remove', session, inc: inc ?? 0, tag });
      return inner.remove(session, inc, tag);
    },
    // The memory channel has neither (nothing leaks there): recorded, and passed on if present.
    abandon: async (session, inc) => {
      calls.push({ method: 'abandon', session, inc, tag: undefined });
      await inner.abandon?.(session, inc);
    },
    reap: async () => {
      calls.push({ method: 'reap', session: 0, inc: 0, tag: undefined });
      await inner.reap?.();
    },
  });
}

const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

function deploy(calls: Call[], clock?: ManualClock) {
  const service = createEmbeddedService({
    channelSecret: SECRET,
    wrap: { channel: recording(calls) },
    ...(clock === undefined ? {} : { clock }),
  });
  open.push(service);
  return service;
}

const tagOf = (zk: FaaSKeeperClient, inc = zk.incarnation) =>
  channelTag(channelKey(SECRET, zk.sessionNumber), zk.sessionNumber, inc);

/** The message types sent to one channel of `session`. */
const sentTo = (calls: Call[], session: number, inc: number, tag: string | undefined) =>
  calls
    .filter((c) => c.method === 'send' && c.session === session && c.inc === inc && c.tag === tag)
    .flatMap((c) => c.bodies!);

describe('the secret tag of a channel', () => {
  it('is 26 lowercase base32 characters (130 bits), the same for the same key, session and incarnation, and different for any other', () => {
    const key = channelKey(SECRET, 42);
    const tag = channelTag(key, 42, 0);
    expect(tag).toMatch(new RegExp(`^[a-z2-7]{${CHANNEL_TAG_CHARS}}$`));
    expect(CHANNEL_TAG_CHARS * 5).toBeGreaterThanOrEqual(128);
    expect(channelTag(channelKey(SECRET, 42), 42, 0)).toBe(tag);
    const others = [
      channelTag(key, 42, 1),
      channelTag(key, 43, 0),
      channelTag(channelKey('another secret', 42), 42, 0),
      channelTag(channelKey(SECRET, 43), 43, 0),
    ];
    expect(new Set([tag, ...others]).size).toBe(5);
  });

  it('spreads over the whole alphabet (a fixed character would cut the bits it holds)', () => {
    const seen = new Set<string>();
    for (let s = 1; s <= 200; s++) for (const c of channelTag(channelKey(SECRET, s), s, 0)) seen.add(c);
    expect(seen.size).toBe(32);
  });
});

describe("a session's bootstrap and secret channels", () => {
  it('the open reply goes to the bootstrap channel; the client then takes everything else from the secret one and removes the bootstrap one', async () => {
    const calls: Call[] = [];
    const service = deploy(calls);
    const zk = await service.connect({ sessionKey: KEY });
    const sid = zk.sessionNumber;
    const tag = tagOf(zk);
    const events: string[] = [];
    await zk.create('/n', 'a');
    await zk.getData('/n', { watch: (e) => events.push(e.type) });
    await zk.setData('/n', 'b');
    await settle(20);
    expect(events).toEqual(['NodeDataChanged']);
    expect(sentTo(calls, sid, 0, undefined)).toEqual(['reply:session']);
    const secret = sentTo(calls, sid, 0, tag);
    expect(secret.length).toBeGreaterThanOrEqual(4);
    expect(new Set(secret)).toEqual(new Set(['sealed']));
    // The client: the bootstrap channel first, the secret one once it had the reply, then the
    // bootstrap channel's removal.
    const own = calls.filter((c) => c.method !== 'send' && c.session === sid);
    expect(own).toEqual([
      { method: 'subscribe', session: sid, inc: 0, tag: undefined },
      { method: 'subscribe', session: sid, inc: 0, tag },
      { method: 'remove', session: sid, inc: 0, tag: undefined },
    ]);
    await zk.close();
    await settle(20);
    // The session's end removes both channels (the bootstrap one again: its client may have stopped before).
    const removed = calls.filter((c) => c.method === 'remove' && c.session === sid).map((c) => c.tag);
    expect(removed.slice(1).sort()).toEqual([tag, undefined].sort());
  });

  it('a resume: its reply on the bootstrap channel of the new incarnation, later messages on that incarnation’s secret channel, the MOVED notice on the old one’s', async () => {
    const calls: Call[] = [];
    const service = deploy(calls);
    const a = await service.connect({ sessionKey: KEY });
    const sid = a.sessionNumber;
    const b = await service.connect({ sessionId: sid, resume: true, sessionKey: KEY });
    await b.create('/r', 'x');
    await settle(20);
    expect(b.incarnation).not.toBe(0);
    expect(sentTo(calls, sid, b.incarnation, undefined)).toEqual(['reply:resumed']);
    expect(new Set(sentTo(calls, sid, b.incarnation, tagOf(b)))).toEqual(new Set(['sealed']));
    expect(sentTo(calls, sid, 0, tagOf(a))).toContain('sealed'); // the MOVED notice, sealed
    expect(a.state).toBe('EXPIRED');
    expect(
      calls.filter((c) => c.method === 'subscribe' && c.inc === b.incarnation).map((c) => c.tag),
    ).toEqual([undefined, tagOf(b)]);
    expect(tagOf(b)).not.toBe(tagOf(a));
  });

  it("a resume of a session that is gone is answered SESSIONEXPIRED on the resumer's bootstrap channel, which it can read without the key", async () => {
    const calls: Call[] = [];
    const service = deploy(calls);
    const refused = await service
      .connect({ sessionId: 987_654_321, resume: true, sessionKey: KEY })
      .catch((e: unknown) => e);
    expect((refused as { code?: string }).code).toBe('SESSIONEXPIRED');
    const sends = calls.filter((c) => c.method === 'send' && c.session === 987_654_321);
    expect(sends).toHaveLength(1);
    expect(sends[0]).toMatchObject({ tag: undefined, bodies: ['reply:SESSIONEXPIRED'] });
    // No session end will remove that channel: the distributor hands it to the channel to reap,
    // after the answer went out.
    // (The resumer's own remove is a client's: it deletes nothing where clients cannot, Pub/Sub.)
    const mine = calls.filter((c) => c.session === 987_654_321 && ['send', 'abandon'].includes(c.method));
    expect(mine.map((c) => c.method)).toEqual(['send', 'abandon']);
    expect(mine[1]).toMatchObject({ inc: sends[0]!.inc, tag: undefined });
  });

  it('abandons no channel of a session that opens and closes, and asks the channel to reap on every heartbeat run', async () => {
    const calls: Call[] = [];
    // A clock that stands still: the heartbeat runs only when called below. On the real clock its
    // schedule (every second) reaped too whenever the test took a second, as on a loaded machine.
    const service = deploy(calls, new ManualClock());
    const zk = await service.connect();
    await zk.create('/r', '');
    await zk.close();
    expect(calls.filter((c) => c.method === 'abandon')).toEqual([]);
    expect(calls.filter((c) => c.method === 'reap')).toEqual([]);
    await service.heartbeat();
    await service.heartbeat();
    expect(calls.filter((c) => c.method === 'reap')).toHaveLength(2);
  });

  it('without a channel secret (unsealed channels) everything stays on the bootstrap channel', async () => {
    const calls: Call[] = [];
    const service = createEmbeddedService({ channelSecret: false, wrap: { channel: recording(calls) } });
    open.push(service);
    const zk = await service.connect();
    await zk.create('/u', '');
    expect(calls.every((c) => c.tag === undefined)).toBe(true);
    expect(calls.filter((c) => c.method === 'subscribe')).toHaveLength(1);
  });
});

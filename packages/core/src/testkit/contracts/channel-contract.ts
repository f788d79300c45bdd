import { describe, expect, it } from 'vitest';
import { IdleChannel } from '../../client/idle-channel.js';
import type { Channel, ChannelSubscription } from '../../ports/channel.js';
import { LimitExceededError } from '../../ports/errors.js';
import { type FixtureCleanup, sleep, waitUntil, withFixture } from './support.js';

/** What a {@link describeChannelContract} factory returns: a fresh channel with no sessions. */
export interface ChannelFixture extends FixtureCleanup {
  channel: Channel;
}

/** Tuning for channels whose delivery takes real time (cloud services). */
export interface ChannelContractOptions {
  /** How long to wait for expected deliveries before failing. Default 5 s. */
  deliveryTimeoutMs?: number;
  /** How long to watch for deliveries that must not happen. Default 50 ms. */
  quietMs?: number;
  /** Per-test timeout in ms. Default 30 s. */
  timeoutMs?: number;
}

/** Messages one subscriber received, in arrival order. */
interface Listener {
  got: string[];
  subscription: ChannelSubscription;
  /** Resolves once `n` messages arrived in total. */
  waitFor(n: number): Promise<void>;
  /** Resolves once `text` arrived. */
  waitForText(text: string): Promise<void>;
}

/**
 * The {@link Channel} contract: registers a vitest `describe` block that runs, against a fresh
 * channel per test, what the distributor and client rely on.
 *
 * Pins: a session's messages arrive in send order; messages sent before anyone subscribes wait
 * and are delivered first; sessions see only their own messages; a callback that throws gets the
 * batch again before anything newer; a message over `maxMessageBytes` (UTF-8 bytes) throws
 * {@link LimitExceededError} and delivers nothing of that send; sending to a session nobody
 * listens to, and removing an unknown session, are not errors; a subscription paused while idle
 * (as a client's {@link IdleChannel} pauses it) and resumed delivers every message sent after the
 * resume, also the last ones sent before the session's channel is removed (a closeSession's reply).
 */
export function describeChannelContract(
  name: string,
  factory: () => Promise<ChannelFixture>,
  options: ChannelContractOptions = {},
): void {
  const deliveryTimeoutMs = options.deliveryTimeoutMs ?? 5000;
  const quietMs = options.quietMs ?? 50;
  const test = (title: string, body: (channel: Channel) => Promise<void>) =>
    it(title, () => withFixture(factory, (f) => body(f.channel)), options.timeoutMs ?? 30_000);

  async function listen(
    channel: Channel,
    session: number,
    onMessages?: (messages: string[]) => void,
    incarnation?: number,
    tag?: string,
  ): Promise<Listener> {
    const got: string[] = [];
    const subscription = await channel.subscribe(
      session,
      (messages) => {
        onMessages?.(messages);
        got.push(...messages);
      },
      incarnation,
      tag,
    );
    return {
      got,
      subscription,
      waitFor: (n) =>
        waitUntil(() => got.length >= n, `${n} messages on session ${session}`, deliveryTimeoutMs),
      waitForText: (text) =>
        waitUntil(() => got.includes(text), `${text} on session ${session}`, deliveryTimeoutMs),
    };
  }

  describe(`Channel contract: ${name}`, () => {
    test("delivers a session's messages in send order", async (channel) => {
      const l = await listen(channel, 1);
      const sent = Array.from({ length: 30 }, (_, i) => `m${i}`);
      await channel.send(1, sent.slice(0, 2));
      await channel.send(1, sent.slice(2, 3));
      await channel.send(1, sent.slice(3));
      await l.waitFor(sent.length);
      expect(l.got).toEqual(sent);
      await l.subscription.close();
    });

    test('keeps messages sent before anyone subscribes and delivers them first, in order', async (channel) => {
      await channel.send(7, ['early1', 'early2']);
      await channel.send(7, ['early3']);
      const l = await listen(channel, 7);
      await channel.send(7, ['late']);
      await l.waitFor(4);
      expect(l.got).toEqual(['early1', 'early2', 'early3', 'late']);
      await l.subscription.close();
    });

    test('delivers each session only its own messages', async (channel) => {
      const one = await listen(channel, 1);
      const two = await listen(channel, 2);
      await channel.send(2, ['to-two']);
      await channel.send(1, ['to-one']);
      await channel.send(3, ['to-three']);
      await one.waitFor(1);
      await two.waitFor(1);
      await sleep(quietMs);
      expect(one.got).toEqual(['to-one']);
      expect(two.got).toEqual(['to-two']);
      await one.subscription.close();
      await two.subscription.close();
    });

    test("delivers a session incarnation's messages to that incarnation only; removing it keeps the others", async (channel) => {
      const first = await listen(channel, 4);
      const resumed = await listen(channel, 4, undefined, 7_654_321);
      await channel.send(4, ['to-first']);
      await channel.send(4, ['to-resumed-1', 'to-resumed-2'], 7_654_321);
      await first.waitFor(1);
      await resumed.waitFor(2);
      await sleep(quietMs);
      expect(first.got).toEqual(['to-first']);
      expect(resumed.got).toEqual(['to-resumed-1', 'to-resumed-2']);
      await first.subscription.close();
      await channel.remove(4);
      await channel.send(4, ['still-here'], 7_654_321);
      await resumed.waitFor(3);
      expect(resumed.got).toEqual(['to-resumed-1', 'to-resumed-2', 'still-here']);
      await resumed.subscription.close();
      await channel.remove(4, 7_654_321);
    });

    test("keeps a session's bootstrap channel and its channels named by tags apart: each gets only what was sent to it, and removing one keeps the others", async (channel) => {
      const tagA = 'a'.repeat(26);
      const tagB = `b${'c'.repeat(25)}`;
      // Sent before anyone listens to the tagged channel: it waits there (the distributor's send
      // creates the channel), as the messages after an open reply wait for the client.
      await channel.send(6, ['to-a-early'], 0, tagA);
      const bootstrap = await listen(channel, 6);
      const a = await listen(channel, 6, undefined, 0, tagA);
      const b = await listen(channel, 6, undefined, 0, tagB);
      await channel.send(6, ['to-bootstrap']);
      await channel.send(6, ['to-a'], 0, tagA);
      await channel.send(6, ['to-b'], 0, tagB);
      await bootstrap.waitFor(1);
      await a.waitFor(2);
      await b.waitFor(1);
      await sleep(quietMs);
      expect(bootstrap.got).toEqual(['to-bootstrap']);
      expect(a.got).toEqual(['to-a-early', 'to-a']);
      expect(b.got).toEqual(['to-b']);
      await bootstrap.subscription.close();
      await channel.remove(6);
      await channel.send(6, ['a-still-here'], 0, tagA);
      await a.waitFor(3);
      expect(a.got).toEqual(['to-a-early', 'to-a', 'a-still-here']);
      for (const l of [a, b]) await l.subscription.close();
      await channel.remove(6, 0, tagA);
      await channel.remove(6, 0, tagB);
    });

    test('round-trips message text exactly (JSON, unicode, escapes)', async (channel) => {
      const text = JSON.stringify({ s: 'ä 日本 \u{1F600} "q" \\ \n', b: { $b: '/w==' } });
      const l = await listen(channel, 5);
      await channel.send(5, [text]);
      await l.waitFor(1);
      expect(l.got).toEqual([text]);
      await l.subscription.close();
    });

    test('gives a batch whose callback threw again, before anything newer', async (channel) => {
      let throws = 1;
      const l = await listen(channel, 1, () => {
        if (throws-- > 0) throw new Error('consumer failed');
      });
      await channel.send(1, ['a', 'b']);
      await channel.send(1, ['c']);
      await l.waitFor(3);
      // `got` records only batches the callback accepted: the thrown one came again, in order.
      expect(l.got).toEqual(['a', 'b', 'c']);
      await l.subscription.close();
    });

    test('refuses a message over maxMessageBytes with LimitExceededError, delivering nothing of that send', async (channel) => {
      const max = channel.maxMessageBytes;
      expect(Number.isFinite(max)).toBe(true);
      const l = await listen(channel, 1);
      const error = await channel.send(1, ['fine', 'x'.repeat(max + 1)]).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(LimitExceededError);
      expect((error as LimitExceededError).actual).toBe(max + 1);
      expect((error as LimitExceededError).limit).toBe(max);
      await expect(channel.send(1, ['é'.repeat(Math.floor(max / 2) + 1)])).rejects.toBeInstanceOf(
        LimitExceededError,
      );
      await channel.send(1, ['after']);
      await l.waitFor(1);
      await sleep(quietMs);
      expect(l.got).toEqual(['after']);
      await l.subscription.close();
    });

    test('accepts a message of exactly maxMessageBytes', async (channel) => {
      const exact = 'z'.repeat(channel.maxMessageBytes);
      const l = await listen(channel, 1);
      await channel.send(1, [exact]);
      await l.waitFor(1);
      expect(l.got[0] === exact).toBe(true);
      await l.subscription.close();
    });

    test('sending to a session nobody listens to, or removing an unknown one, is not an error', async (channel) => {
      await channel.send(404, ['nobody hears this']);
      await channel.remove(404);
      await channel.remove(405);
      await channel.send(405, []);
    });

    test('a channel paused and resumed delivers every message sent after the resume, also right before its removal', async (channel) => {
      // As a client's channel: paused while idle, resumed when it sends closeSession, whose reply
      // the distributor sends just before it removes the session's channel.
      const got: string[] = [];
      const failures: unknown[] = [];
      const idle = new IdleChannel(
        channel,
        3,
        (m) => got.push(...m),
        (e) => failures.push(e),
      );
      await idle.open();
      await channel.send(3, ['before']);
      await waitUntil(() => got.length >= 1, 'the message before the pause', deliveryTimeoutMs);
      // A polling channel now has its next receive under way: the pause meets it mid-wait.
      await sleep(Math.min(quietMs, 100));
      idle.pause();
      await sleep(Math.min(quietMs, 100));
      idle.resume();
      await sleep(Math.min(quietMs, 100));
      await channel.send(3, ['after-1', 'after-2']);
      await channel.remove(3);
      await waitUntil(() => got.length >= 3, 'the messages sent after the resume', deliveryTimeoutMs);
      expect(got).toEqual(['before', 'after-1', 'after-2']);
      expect(failures).toEqual([]);
      await idle.close();
    });

    test('stops delivering to a closed subscription; a later subscriber gets what was sent meanwhile', async (channel) => {
      const first = await listen(channel, 1);
      await channel.send(1, ['m1']);
      await first.waitFor(1);
      await first.subscription.close();
      await channel.send(1, ['m2', 'm3']);
      await sleep(quietMs);
      expect(first.got).toEqual(['m1']);
      const second = await listen(channel, 1);
      await second.waitForText('m3');
      expect(second.got.filter((m) => m !== 'm1')).toEqual(['m2', 'm3']);
      await second.subscription.close();
    });
  });
}

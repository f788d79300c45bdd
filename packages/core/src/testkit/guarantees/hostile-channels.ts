/**
 * The hostile-client case about the availability of a victim's channel (docs/guarantees.md
 * "Availability of a session's channel"): a client holding the client's cloud grants (the channel
 * port as clients reach it) and the victim's session id tries to delete the victim's channel and to
 * receive from it — by its predictable (bootstrap) names and by secret names it can make up. None of
 * it takes, hides or deletes a message of the victim's: its replies and watch events all arrive, and
 * its history stays linearizable.
 */
import { expect, it } from 'vitest';
import type { FaaSKeeperClient } from '../../client/client.js';
import type { WatchedEvent } from '../../client/types.js';
import type { ChannelSubscription } from '../../ports/channel.js';
import { channelKey, newSessionKey } from '../../session/auth.js';
import { CHANNEL_TAG_CHARS, channelTag } from '../../session/channel-tag.js';
import { checkLinearizable } from '../linearizability/checker.js';
import { HistoryRecorder } from '../linearizability/history.js';
import { type ZInput, type ZOutput, znodeModel } from '../linearizability/znode-model.js';
import type { DeploymentTarget } from '../target.js';
import type { HostileSetup } from './hostile.js';
import { recorded } from './hostile.js';

/** Rounds of the victim's work while the attacker polls its guesses. */
const ROUNDS = 3;

/** Registers the channel case in the calling `describe`. */
export function describeChannelCases(
  target: DeploymentTarget,
  setUp: () => Promise<HostileSetup>,
  victimUnharmed: (victim: FaaSKeeperClient, path: string, from: number) => Promise<void>,
): void {
  it("a client that knows the victim's session id cannot receive, hide or delete its channel messages: by its predictable names or guessed secret ones, the victim's replies and events all arrive and its history stays linearizable", async () => {
    const { spy, victim, mallory } = await setUp();
    const channel = spy.clientChannel();
    const sid = victim.sessionNumber;
    const history = new HistoryRecorder<ZInput, ZOutput>();
    await recorded(history, 0, victim, { op: 'create', path: '/ch', data: 'v0' });
    // Every name the attacker can make: the bootstrap names (the one before this work, also of
    // incarnations a resume would use), and secret tags under keys it can make: another channel
    // secret's key for the victim's session, a random key, and a made-up tag.
    const guesses: { inc: number; tag?: string }[] = [
      { inc: 0 },
      { inc: 1 },
      { inc: 2 },
      { inc: 0, tag: channelTag(channelKey('guessed secret', sid), sid, 0) },
      { inc: 0, tag: channelTag(newSessionKey(), sid, 0) },
      { inc: 0, tag: 'a'.repeat(CHANNEL_TAG_CHARS) },
    ];
    // Deleting (and so purging) each of them...
    for (const g of guesses) await channel.remove(sid, g.inc, g.tag);
    // ... and receiving from each while the victim works.
    const stolen: string[] = [];
    const subscriptions: ChannelSubscription[] = [];
    for (const g of guesses)
      subscriptions.push(await channel.subscribe(sid, (messages) => stolen.push(...messages), g.inc, g.tag));
    const events: WatchedEvent[] = [];
    try {
      for (let round = 1; round <= ROUNDS; round++) {
        // A watch event (the change is another client's) and replies, on the victim's channel.
        const fired = new Promise<void>((resolve) => {
          void victim.exists('/ch', {
            watch: (e) => {
              events.push(e);
              resolve();
            },
          });
        });
        await recorded(history, 1, mallory, { op: 'set', path: '/ch', data: `m${round}`, version: -1 });
        await fired;
        await recorded(history, 0, victim, { op: 'get', path: '/ch' });
        await recorded(history, 0, victim, { op: 'set', path: '/ch', data: `v${round}`, version: -1 });
        // Deleting the guesses again, mid-session.
        await channel.remove(sid, 0);
        await channel.remove(sid, 0, guesses[3]!.tag);
      }
      await target.quiet();
    } finally {
      await Promise.all(subscriptions.map((s) => s.close()));
      await Promise.all(guesses.map((g) => channel.remove(sid, g.inc, g.tag)));
    }
    expect(stolen).toEqual([]);
    expect(events).toEqual(Array.from({ length: ROUNDS }, () => ({ type: 'NodeDataChanged', path: '/ch' })));
    await recorded(history, 1, mallory, { op: 'get', path: '/ch' });
    const result = checkLinearizable(znodeModel(), history.ops);
    expect(result.ok, result.ok === true ? '' : JSON.stringify(history.ops)).toBe(true);
    await victimUnharmed(victim, '/ch', 2 * ROUNDS);
  });
}

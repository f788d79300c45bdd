// The idle client's channel subscription (docs/guarantees.md "Sessions"): how it pauses and resumes
// on a channel whose subscriptions pause by themselves (SQS: the poll under way runs out, never
// aborted) and on one whose subscriptions do not (closed, and subscribed again).
import { describe, expect, it } from 'vitest';
import { IdleChannel } from '../../src/client/idle-channel.js';
import type { Channel, ChannelSubscription } from '../../src/ports/channel.js';

/** A channel that records what is done to its subscriptions, in order. */
function recordingChannel(options: { selfPausing: boolean; pausable: boolean }) {
  const calls: string[] = [];
  let subscriptions = 0;
  const channel: Channel = {
    maxMessageBytes: 1024,
    pausable: options.pausable,
    send: async () => undefined,
    remove: async () => undefined,
    subscribe: async (): Promise<ChannelSubscription> => {
      const n = ++subscriptions;
      calls.push(`subscribe ${n}`);
      const close = async () => {
        calls.push(`close ${n}`);
      };
      return options.selfPausing
        ? {
            close,
            pause: () => calls.push(`pause ${n}`),
            resume: () => calls.push(`resume ${n}`),
          }
        : { close };
    },
  };
  return { channel, calls };
}

/** Lets the idle channel's queued steps run. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

describe('IdleChannel', () => {
  it('pauses and resumes a subscription that pauses by itself, never closing it until the end', async () => {
    const { channel, calls } = recordingChannel({ selfPausing: true, pausable: true });
    const idle = new IdleChannel(
      channel,
      1,
      () => undefined,
      (e) => calls.push(`failed ${String(e)}`),
    );
    await idle.open();
    idle.pause();
    expect(idle.paused).toBe(true);
    await settle();
    idle.resume();
    expect(idle.paused).toBe(false);
    await settle();
    idle.pause();
    await settle();
    await idle.close();
    expect(calls).toEqual(['subscribe 1', 'pause 1', 'resume 1', 'pause 1', 'close 1']);
  });

  it('closes and subscribes again where subscriptions do not pause by themselves', async () => {
    const { channel, calls } = recordingChannel({ selfPausing: false, pausable: true });
    const idle = new IdleChannel(
      channel,
      1,
      () => undefined,
      (e) => calls.push(`failed ${String(e)}`),
    );
    await idle.open();
    idle.pause();
    await settle();
    idle.resume();
    await settle();
    await idle.close();
    expect(calls).toEqual(['subscribe 1', 'close 1', 'subscribe 2', 'close 2']);
  });

  it('a pause at once undone by a resume leaves the subscription taking messages', async () => {
    const { channel, calls } = recordingChannel({ selfPausing: true, pausable: true });
    const idle = new IdleChannel(
      channel,
      1,
      () => undefined,
      (e) => calls.push(`failed ${String(e)}`),
    );
    await idle.open();
    idle.pause();
    idle.resume();
    await settle();
    await idle.close();
    // The pause's step found the subscription wanted again: it only made sure it was not paused.
    expect(calls.filter((c) => c.startsWith('pause'))).toEqual([]);
    expect(calls.at(-1)).toBe('close 1');
  });

  it('does not pause a channel that is not pausable', async () => {
    const { channel, calls } = recordingChannel({ selfPausing: true, pausable: false });
    const idle = new IdleChannel(
      channel,
      1,
      () => undefined,
      (e) => calls.push(`failed ${String(e)}`),
    );
    await idle.open();
    idle.pause();
    expect(idle.paused).toBe(false);
    await settle();
    await idle.close();
    expect(calls).toEqual(['subscribe 1', 'close 1']);
  });
});

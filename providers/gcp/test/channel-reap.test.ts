// The channels a session leaves on Pub/Sub (its secret channel's subscription, detached at its end
// so that the client can read the close reply or the EXPIRED notice; a refused resume's bootstrap
// channel) are deleted by the heartbeat once their grace has passed, not left for Pub/Sub's one-day
// expiration (docs/providers/gcp.md "Channel permissions"). Driven on a manual clock: the grace is
// the production default, 10 minutes, passed by moving the clock.
import { ManualClock } from '@faaskeeper/core';
import { PubSub } from '@google-cloud/pubsub';
import { afterEach, describe, expect, it } from 'vitest';
import {
  ChannelReapRecords,
  DEFAULT_CHANNEL_GRACE_MS,
  MAX_REAPS_PER_RUN,
  PubSubChannel,
  type PubSubClients,
  resourceNames,
} from '../src/index.js';
import { createLocalGcpDeployment, type LocalGcpDeployment } from '../src/local/index.js';
import { closePubSubClients, pubsubClients } from '../src/pubsub-client.js';
import { unique, whenEmulators } from './support.js';

/** Polls `check` every 50 ms until it holds, failing after `ms`. */
async function waitUntil(check: () => Promise<boolean> | boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`not within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Pub/Sub calls that move messages; every other call of the low-level clients is an admin call. */
const DATA_PLANE = new Set(['publish', 'pull', 'acknowledge', 'modifyAckDeadline']);

/**
 * Counts the admin calls (create, delete, …) `clients` makes on resources whose path contains
 * `prefix`, from now until the returned `stop`.
 */
function countAdminCalls(clients: PubSubClients, prefix: string) {
  const calls: string[] = [];
  const originals = { publisher: clients.publisher, subscriber: clients.subscriber };
  const counting = <T extends object>(client: T): T =>
    new Proxy(client, {
      get(target, prop, receiver) {
        const value: unknown = Reflect.get(target, prop, receiver);
        if (typeof prop !== 'string' || typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          if (!DATA_PLANE.has(prop) && JSON.stringify(args[0] ?? null).includes(prefix))
            calls.push(`${prop} ${JSON.stringify(args[0])}`);
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
  clients.publisher = counting(originals.publisher);
  clients.subscriber = counting(originals.subscriber);
  return {
    calls,
    stop: () => {
      clients.publisher = originals.publisher;
      clients.subscriber = originals.subscriber;
    },
  };
}

/** Short names of the session channels (`<prefix>-session-…`, `<prefix>-channel-…`) among `list`. */
async function channels(
  list: Promise<[{ name: string }[], ...unknown[]]>,
  prefix: string,
): Promise<string[]> {
  const [all] = await list;
  return all
    .map((r) => r.name.slice(r.name.lastIndexOf('/') + 1))
    .filter((n) => n.startsWith(`${prefix}-session-`) || n.startsWith(`${prefix}-channel-`))
    .sort();
}

whenEmulators((stack) => {
  const topicsOf = (prefix: string) => channels(stack().pubsubClient.getTopics(), prefix);
  const subscriptionsOf = (prefix: string) => channels(stack().pubsubClient.getSubscriptions(), prefix);
  /** Names of the reap records left in `namespace`. */
  const recordsIn = async (namespace: string): Promise<number> => {
    const ds = stack().datastoreClient;
    const [entities] = await ds.runQuery(ds.createQuery(namespace, 'fk_reap').select('__key__'));
    return entities.length;
  };

  describe('the functions side of the Pub/Sub channel reaps what sessions left', () => {
    let pubsub: PubSub | undefined;
    afterEach(async () => {
      if (pubsub !== undefined) await closePubSubClients(pubsub);
      pubsub = undefined;
    });

    /** The functions' channel on Pub/Sub objects of its own (its calls counted apart), on `clock`. */
    async function functionsChannel(prefix: string, clock: ManualClock) {
      pubsub = new PubSub({ projectId: stack().projectId, apiEndpoint: stack().pubsub.host });
      const records = new ChannelReapRecords({ datastore: stack().datastoreClient, namespace: prefix });
      const channel = await PubSubChannel.create({ pubsub, prefix, clock, reapRecords: records });
      return { channel, clients: await pubsubClients({ pubsub }) };
    }

    it('keeps an ended channel with its unread message through the grace, then deletes it: nothing unread is lost before', async () => {
      const prefix = unique('fk-reap');
      const clock = new ManualClock();
      const { channel, clients } = await functionsChannel(prefix, clock);
      const client = await PubSubChannel.create({ pubsub: stack().pubsubClient, prefix });
      await channel.send(7, ['reply', 'last'], 0, 'tag7');
      await channel.remove(7, 0, 'tag7'); // the session's end: the topic goes, the subscription stays
      expect(await topicsOf(prefix)).toEqual([]);
      const counted = countAdminCalls(clients, prefix);
      try {
        await clock.advance(DEFAULT_CHANNEL_GRACE_MS - 1);
        await channel.reap();
        expect(counted.calls).toEqual([]); // nothing due: no Pub/Sub call at all
        expect(await subscriptionsOf(prefix)).toEqual([`${prefix}-channel-tag7`]);
        // Its client reads what was left, a whole grace after the session's end.
        const got: string[] = [];
        const subscription = await client.subscribe(7, (m) => got.push(...m), 0, 'tag7');
        await waitUntil(() => got.length >= 2, 10_000);
        await subscription.close();
        expect(got).toEqual(['reply', 'last']);
        await clock.advance(1);
        await channel.reap();
        expect(counted.calls.map((c) => c.split(' ')[0])).toEqual(['deleteSubscription', 'deleteTopic']);
      } finally {
        counted.stop();
      }
      expect(await subscriptionsOf(prefix)).toEqual([]);
      expect(await recordsIn(prefix)).toBe(0);
    }, 30_000);

    it("reaps an abandoned bootstrap channel (a refused resume's) whole after the grace, and never a live channel however often it runs", async () => {
      const prefix = unique('fk-reap');
      const clock = new ManualClock();
      const { channel } = await functionsChannel(prefix, clock);
      await channel.send(9, ['live'], 0, 'live9'); // a live session's channel: never removed
      await channel.send(8, ['reply:SESSIONEXPIRED'], 3); // a refused resume's answer
      await channel.abandon(8, 3);
      const both = [`${prefix}-channel-live9`, `${prefix}-session-8-3`];
      for (let run = 0; run < 5; run++) {
        await channel.reap();
        await clock.advance(DEFAULT_CHANNEL_GRACE_MS / 10);
      }
      // Half the grace: the refused resume's channel is whole, its answer still there to read.
      expect(await topicsOf(prefix)).toEqual(both);
      expect(await subscriptionsOf(prefix)).toEqual(both);
      for (let run = 0; run < 20; run++) {
        await clock.advance(DEFAULT_CHANNEL_GRACE_MS / 10);
        await channel.reap();
      }
      expect(await topicsOf(prefix)).toEqual([`${prefix}-channel-live9`]);
      expect(await subscriptionsOf(prefix)).toEqual([`${prefix}-channel-live9`]);
      expect(await recordsIn(prefix)).toBe(0);
    }, 60_000);

    it(`deletes at most ${MAX_REAPS_PER_RUN} channels a run, two Pub/Sub admin calls each, and the rest on the next run`, async () => {
      const prefix = unique('fk-reap');
      const clock = new ManualClock();
      const records = new ChannelReapRecords({ datastore: stack().datastoreClient, namespace: prefix });
      const { channel, clients } = await functionsChannel(prefix, clock);
      const left = MAX_REAPS_PER_RUN + 5;
      // Records alone: deleting a channel that is already gone is a NOT_FOUND, taken as done.
      for (let i = 0; i < left; i += 50)
        await Promise.all(
          Array.from({ length: Math.min(50, left - i) }, (_, j) =>
            records.mark(`${prefix}-channel-gone${i + j}`, clock.now()),
          ),
        );
      await clock.advance(DEFAULT_CHANNEL_GRACE_MS);
      const counted = countAdminCalls(clients, prefix);
      try {
        await channel.reap();
        expect(counted.calls).toHaveLength(2 * MAX_REAPS_PER_RUN);
        expect(await recordsIn(prefix)).toBe(5);
        await channel.reap();
        expect(counted.calls).toHaveLength(2 * left);
        await channel.reap();
        expect(counted.calls).toHaveLength(2 * left); // nothing left: no call
      } finally {
        counted.stop();
      }
      expect(await recordsIn(prefix)).toBe(0);
    }, 60_000);
  });

  describe('the heartbeat of a local deployment reaps the channels ended sessions left', () => {
    let deployment: LocalGcpDeployment | undefined;
    afterEach(async () => {
      await deployment?.close();
      deployment = undefined;
    });

    /** A deployment on a manual clock whose heartbeat runs only when the test calls it. */
    async function deploy() {
      const name = unique('reap');
      const clock = new ManualClock();
      deployment = await createLocalGcpDeployment({
        stack: stack(),
        invocation: 'pull',
        deployment: name,
        clock,
        heartbeatIntervalMs: 24 * 3_600_000,
      });
      const prefix = resourceNames(name).channelPrefix;
      const clients = await pubsubClients({ pubsub: stack().pubsubClient });
      return { d: deployment, clock, prefix, namespace: resourceNames(name).namespace, clients };
    }

    /**
     * Waits until the distributor has ended a session's channels: one reap record, and then as many
     * subscriptions and topics left as given (the record comes first, the deletions after it).
     */
    async function channelsEnded(
      namespace: string,
      prefix: string,
      left: { subscriptions: number; topics: number },
    ): Promise<void> {
      await waitUntil(
        async () =>
          (await recordsIn(namespace)) === 1 &&
          (await subscriptionsOf(prefix)).length === left.subscriptions &&
          (await topicsOf(prefix)).length === left.topics,
        10_000,
      );
    }

    /** One heartbeat run; returns the Pub/Sub admin calls it made on the deployment's channels. */
    async function tick(d: LocalGcpDeployment, clients: PubSubClients, prefix: string): Promise<string[]> {
      const counted = countAdminCalls(clients, prefix);
      try {
        await d.heartbeat();
      } finally {
        counted.stop();
      }
      return counted.calls.map((c) => c.split(' ')[0]!);
    }

    it("a closed session's secret subscription stays through the grace (the close reply read from it) and is gone after it; a live session's channel survives every run", async () => {
      const { d, clock, prefix, namespace, clients } = await deploy();
      // Live throughout: its timeout outlasts the clock's moves, so that only the reaping is tested.
      const live = await d.connect({ sessionTimeoutMs: 3_600_000 });
      await live.create('/live', 'v0');
      // Its bootstrap channel (the open reply; removed at the session's end) and its secret one.
      const liveChannels = await subscriptionsOf(prefix);
      expect(liveChannels).toHaveLength(2);
      expect(await topicsOf(prefix)).toEqual(liveChannels);
      const closing = await d.connect();
      await closing.close(); // resolves on the close reply
      // The distributor ends the channels after it sent the reply: the secret one is recorded, then
      // its topic goes, then the bootstrap one's subscription; wait for all three, not the first.
      await channelsEnded(namespace, prefix, { subscriptions: 3, topics: 2 });
      const left = (await subscriptionsOf(prefix)).filter((s) => !liveChannels.includes(s));
      expect(left).toEqual([expect.stringMatching(new RegExp(`^${prefix}-channel-`))]);
      expect(await topicsOf(prefix)).toEqual(liveChannels);
      // Every run within the grace: no Pub/Sub call, nothing deleted.
      for (let run = 0; run < 9; run++) {
        await clock.advance(60_000);
        expect(await tick(d, clients, prefix)).toEqual([]);
      }
      expect(await subscriptionsOf(prefix)).toEqual([...left, ...liveChannels].sort());
      await clock.advance(60_000); // the grace has passed
      expect(await tick(d, clients, prefix)).toEqual(['deleteSubscription', 'deleteTopic']);
      expect(await subscriptionsOf(prefix)).toEqual(liveChannels);
      expect(await recordsIn(namespace)).toBe(0);
      for (let run = 0; run < 5; run++) {
        await clock.advance(120_000);
        expect(await tick(d, clients, prefix)).toEqual([]);
      }
      // The live session still gets its replies and events on its channel.
      await live.setData('/live', 'v1');
      expect(Buffer.from((await live.getData('/live')).data).toString()).toBe('v1');
      expect(await subscriptionsOf(prefix)).toEqual(liveChannels);
      expect(await topicsOf(prefix)).toEqual(liveChannels);
      await live.close();
    }, 90_000);

    it("an expired session's secret subscription (its EXPIRED notice delivered) stays through the grace and is gone after it", async () => {
      const { d, clock, prefix, namespace, clients } = await deploy();
      const lost = await d.connect({ sessionTimeoutMs: 10_000 });
      d.partition(lost); // it vanished: no renewal arrives, its channel's messages wait
      await clock.advance(12_000);
      await d.heartbeat(); // asks the writer to expire it; the distributor then ends its channels
      // Recorded first, then the secret topic and the bootstrap subscription go (see above).
      await channelsEnded(namespace, prefix, { subscriptions: 1, topics: 0 });
      const [left] = await subscriptionsOf(prefix);
      expect(await subscriptionsOf(prefix)).toEqual([
        expect.stringMatching(new RegExp(`^${prefix}-channel-`)),
      ]);
      expect(await topicsOf(prefix)).toEqual([]);
      // The client comes back after its session's end and learns that it expired (healed now: a
      // client cut off keeps retrying its renewals on the clock, every tenth of its timeout).
      d.heal(lost);
      await waitUntil(() => lost.state === 'EXPIRED', 10_000);
      await clock.advance(DEFAULT_CHANNEL_GRACE_MS - 60_000);
      expect(await tick(d, clients, prefix)).toEqual([]);
      expect(await subscriptionsOf(prefix)).toEqual([left]);
      await clock.advance(60_000);
      expect(await tick(d, clients, prefix)).toEqual(['deleteSubscription', 'deleteTopic']);
      expect(await subscriptionsOf(prefix)).toEqual([]);
      expect(await recordsIn(namespace)).toBe(0);
    }, 90_000);

    it("a refused resume's bootstrap topic and subscription are gone after the grace", async () => {
      const { d, clock, prefix, namespace, clients } = await deploy();
      const refused = await d
        .connect({ sessionId: 987_654_321, resume: true, sessionKey: new Uint8Array(32).fill(7) })
        .catch((e: unknown) => e);
      expect((refused as { code?: string }).code).toBe('SESSIONEXPIRED');
      await waitUntil(async () => (await recordsIn(namespace)) === 1, 10_000);
      const bootstrap = (await topicsOf(prefix)).filter((t) => t.startsWith(`${prefix}-session-987654321-`));
      expect(bootstrap).toHaveLength(1);
      await clock.advance(DEFAULT_CHANNEL_GRACE_MS - 1);
      expect(await tick(d, clients, prefix)).toEqual([]);
      expect(await topicsOf(prefix)).toEqual(bootstrap);
      await clock.advance(1);
      expect(await tick(d, clients, prefix)).toEqual(['deleteSubscription', 'deleteTopic']);
      expect(await topicsOf(prefix)).toEqual([]);
      expect(await subscriptionsOf(prefix)).toEqual([]);
      expect(await recordsIn(namespace)).toBe(0);
    }, 90_000);
  });
});

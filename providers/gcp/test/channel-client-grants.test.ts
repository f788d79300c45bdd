// The client side of the Pub/Sub channel needs nothing but `pubsub.subscriptions.consume`
// (CHANNEL_PERMISSIONS.client, docs/providers/gcp.md "Channel permissions"): the emulator enforces
// no IAM, so here the client's channel runs on Pub/Sub clients that refuse, as IAM would with
// PERMISSION_DENIED, every call outside that permission (pull, acknowledge, modifyAckDeadline),
// while a session is opened, used (requests, a watch) and closed.
import { PubSub } from '@google-cloud/pubsub';
import { afterEach, describe, expect, it } from 'vitest';
import { PubSubChannel, resourceNames } from '../src/index.js';
import { createLocalGcpDeployment, type LocalGcpDeployment } from '../src/local/index.js';
import { closePubSubClients, pubsubClients } from '../src/pubsub-client.js';
import { unique, whenEmulators } from './support.js';

/** Polls `check` every 50 ms until it holds, failing after `ms`. */
async function waitUntil(check: () => Promise<boolean>, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`not within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The calls `pubsub.subscriptions.consume` covers. */
const CONSUME = new Set(['pull', 'acknowledge', 'modifyAckDeadline']);
/** gRPC's PERMISSION_DENIED, as Pub/Sub answers a call the caller holds no permission for. */
const PERMISSION_DENIED = 7;

/** A Pub/Sub low-level client whose methods outside `allowed` fail as IAM refuses them; `calls` records each. */
function restricted<T extends object>(
  client: T,
  allowed: Set<string>,
  calls: string[],
  refused: string[],
): T {
  return new Proxy(client, {
    get(target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver);
      if (typeof prop !== 'string' || typeof value !== 'function' || !/^[a-z][A-Za-z]+$/.test(prop))
        return value;
      if (['close', 'getProjectId', 'initialize'].includes(prop)) return value.bind(target);
      return (...args: unknown[]) => {
        calls.push(prop);
        if (allowed.has(prop)) return (value as (...a: unknown[]) => unknown).apply(target, args);
        refused.push(prop);
        return Promise.reject(
          Object.assign(new Error(`${PERMISSION_DENIED} PERMISSION_DENIED: ${prop}`), {
            code: PERMISSION_DENIED,
          }),
        );
      };
    },
  });
}

/**
 * Short names of the session channels (`<prefix>-session-…`, `<prefix>-channel-…`) among the
 * emulator's topics or subscriptions; the deployment's own share the prefix.
 */
async function named(list: Promise<[{ name: string }[], ...unknown[]]>, prefix: string): Promise<string[]> {
  const [all] = await list;
  return all
    .map((r) => r.name.slice(r.name.lastIndexOf('/') + 1))
    .filter((n) => n.startsWith(`${prefix}-session-`) || n.startsWith(`${prefix}-channel-`));
}

whenEmulators((stack) => {
  describe('the client side of the Pub/Sub channel', () => {
    let deployment: LocalGcpDeployment | undefined;
    let pubsub: PubSub | undefined;
    afterEach(async () => {
      await deployment?.close();
      deployment = undefined;
      if (pubsub !== undefined) await closePubSubClients(pubsub);
      pubsub = undefined;
    });

    /** A channel on the client's own Pub/Sub objects (as another process with the client account), refusing all but consume. */
    async function clientChannel(prefix: string) {
      pubsub = new PubSub({ projectId: stack().projectId, apiEndpoint: stack().pubsub.host });
      const calls: string[] = [];
      const refused: string[] = [];
      const clients = await pubsubClients({ pubsub });
      clients.publisher = restricted(clients.publisher, new Set(), calls, refused);
      clients.subscriber = restricted(clients.subscriber, CONSUME, calls, refused);
      return { channel: await PubSubChannel.create({ pubsub, prefix }), calls, refused };
    }

    it('opens, uses and closes a session with only pubsub.subscriptions.consume: it creates, attaches and deletes nothing', async () => {
      const name = unique('grants');
      const prefix = resourceNames(name).channelPrefix;
      const { channel, calls, refused } = await clientChannel(prefix);
      deployment = await createLocalGcpDeployment({
        stack: stack(),
        invocation: 'pull',
        deployment: name,
        wrapClientChannel: () => channel,
      });

      const client = await deployment.connect();
      // The distributor made the secret channel before it sent the open reply: the idle client
      // long-polls it, rather than pulling a missing subscription every quarter second.
      const pulls = () => calls.filter((c) => c === 'pull').length;
      const pullsAtOpen = pulls();
      await new Promise((resolve) => setTimeout(resolve, 2_000));
      expect(pulls() - pullsAtOpen).toBeLessThanOrEqual(2);
      await client.create('/grants', 'v0');
      let fired: (type: string) => void = () => undefined;
      const changed = new Promise<string>((resolve) => {
        fired = resolve;
      });
      await client.getData('/grants', { watch: (event) => fired(event.type) });
      await client.setData('/grants', 'v1');
      expect(await changed).toBe('NodeDataChanged');
      expect(Buffer.from((await client.getData('/grants')).data).toString()).toBe('v1');
      await client.close();

      expect(refused).toEqual([]);
      expect(new Set(calls)).toEqual(new Set(['pull', 'acknowledge']));
      // The session's end removed its channels' topics and the bootstrap channel's subscription
      // (the distributor's part; it carried only the open reply); the secret channel's
      // subscription stays detached until the heartbeat reaps it after its grace
      // (channel-reap.test.ts), with the one-day expiration as a backstop.
      const ps = stack().pubsubClient;
      await waitUntil(async () => (await named(ps.getTopics(), prefix)).length === 0, 10_000);
      const subscriptions = await named(ps.getSubscriptions(), prefix);
      expect(subscriptions).toEqual([expect.stringContaining(`${prefix}-channel-`)]);
      for (const s of subscriptions) {
        const [meta] = await ps.subscription(s).getMetadata();
        expect(Number(meta.expirationPolicy?.ttl?.seconds)).toBe(86_400);
      }
    }, 60_000);

    it('pulls a subscription that does not exist yet until the functions create it with their first send, and still gets what was sent right before the topic was removed', async () => {
      const prefix = unique('fk-chan');
      const { channel, calls, refused } = await clientChannel(prefix);
      const functions = await PubSubChannel.create({ pubsub: stack().pubsubClient, prefix });
      const got: string[] = [];
      const subscription = await channel.subscribe(9, (m) => got.push(...m));
      try {
        // The client pulls a subscription nobody made: not an error, it waits.
        await waitUntil(async () => calls.filter((c) => c === 'pull').length >= 3, 5000);
        expect(await named(stack().pubsubClient.getSubscriptions(), prefix)).toEqual([]);
        await functions.send(9, ['reply']);
        await waitUntil(async () => got.length >= 1, 5000);
        // A session's last messages, then its end: the functions delete the topic.
        await functions.send(9, ['last-1', 'last-2']);
        await functions.remove(9);
        await waitUntil(async () => got.length >= 3, 5000);
        expect(got).toEqual(['reply', 'last-1', 'last-2']);
        expect(await named(stack().pubsubClient.getTopics(), prefix)).toEqual([]);
        // The client's own remove deletes nothing (it could not).
        await channel.remove(9);
      } finally {
        await subscription.close();
      }
      expect(refused).toEqual([]);
      expect(new Set(calls)).toEqual(new Set(['pull', 'acknowledge']));
    }, 30_000);
  });
});

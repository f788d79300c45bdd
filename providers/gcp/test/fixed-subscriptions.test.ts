// The deployment's fixed subscriptions (lease, push, dead-letter) on the local GCP stack, push
// invocation. Every client may consume any subscription it can name (project-wide
// pubsub.subscriptions.consume: Pub/Sub evaluates no IAM condition on a resource name), so those
// names carry a random suffix that no client is given: a hostile client that knows the deployment
// name finds nothing to pull at the names it can derive, and the heartbeat still drains the
// renewals an idle session publishes.
import { PubSub } from '@google-cloud/pubsub';
import { describe, expect, it } from 'vitest';
import { resourceNames } from '../src/index.js';
import { createLocalGcpDeployment } from '../src/local/index.js';
import { closePubSubClients, pubsubClients, subscriptionPath, topicPath } from '../src/pubsub-client.js';
import { whenEmulators } from './support.js';

const SESSION_TIMEOUT_MS = 4000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

whenEmulators((stack) => {
  describe('fixed subscriptions of a local GCP deployment', () => {
    it('carry a random suffix that no client is given: the derivable names do not exist, and an idle session still renews', async () => {
      const d = await createLocalGcpDeployment({
        stack: stack(),
        invocation: 'push',
        sessionTimeoutMs: SESSION_TIMEOUT_MS,
      });
      // The hostile client's own Pub/Sub connection, as another process would have (the emulator
      // checks no IAM: it may also list, which only this test's inspection needs).
      const own = new PubSub({ projectId: stack().projectId, apiEndpoint: stack().pubsub.host });
      const admin = await pubsubClients({ pubsub: own });
      try {
        // What a client is handed holds no suffix.
        expect(d.connectOptions).not.toHaveProperty('subscriptionSuffix');
        const names = resourceNames(d.deployment);
        // The subscriptions that exist: the suffix is 128 random bits, one per deployment.
        const subscriptionsOf = async (topic: string) =>
          ((await admin.publisher.listTopicSubscriptions({ topic: topicPath(admin, topic) }))[0] ?? []).map(
            (path) => path.split('/').pop() ?? '',
          );
        const [lease] = await subscriptionsOf(names.leaseTopic);
        const [writerPush] = await subscriptionsOf(names.writerTopic);
        const [distributorPush] = await subscriptionsOf(names.distributorTopic);
        const suffix = /^fk-.*-leases-pull-([0-9a-f]{32})$/.exec(lease ?? '')?.[1];
        expect(suffix, lease).toBeDefined();
        expect(writerPush).toBe(`${names.writerTopic}-push-${suffix}`);
        expect(distributorPush).toBe(`${names.distributorTopic}-push-${suffix}`);
        // A client's options: where the deployment is (its live clients), nothing more.
        expect(Object.keys(d.connectOptions).sort()).toEqual(['datastore', 'deployment', 'pubsub']);

        // A hostile client pulls at every name it can derive from the deployment name: none exists.
        const guessed = [
          `${names.leaseTopic}-pull`,
          `${names.writerTopic}-push`,
          `${names.distributorTopic}-push`,
          `${names.writerTopic}-dead`,
          `${names.distributorTopic}-dead`,
          `${names.writerTopic}-pull`,
          `${names.distributorTopic}-pull`,
        ];
        for (const name of guessed)
          await expect(
            admin.subscriber.pull({
              subscription: subscriptionPath(admin, name),
              maxMessages: 10,
              returnImmediately: true,
            }),
            name,
          ).rejects.toMatchObject({ code: 5 }); // NOT_FOUND

        // An idle client outlives its session timeout: its renewals reach the heartbeat.
        const client = await d.connect();
        await client.create('/idle', 'x');
        await sleep(SESSION_TIMEOUT_MS * 2);
        expect(client.state).toBe('CONNECTED');
        expect(await client.exists('/idle')).not.toBeNull();
      } finally {
        await closePubSubClients(own);
        await d.close();
      }
    }, 60_000);
  });
});

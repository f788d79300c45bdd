// The functions as deployed open their ports without creating topics: Terraform made them, and the
// functions' service accounts may only publish (no pubsub.topics.create). Offline: the Pub/Sub admin
// call is observed on the generated client, nothing is contacted.
import { PubSub, v1 } from '@google-cloud/pubsub';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { deployedFunctionConfig } from '../src/deploy/index.js';
import { closePubSubClients, openGcpPorts } from '../src/index.js';

afterEach(() => {
  vi.restoreAllMocks();
});

/** The topics and subscriptions opening the ports creates, sorted. */
async function topicsCreatedOpening(
  createTopics: boolean | undefined,
  env: NodeJS.ProcessEnv = {},
): Promise<string[]> {
  const created: string[] = [];
  const record = (async (request: { name?: string }) => {
    created.push(request.name ?? '');
    return [{}];
  }) as never;
  vi.spyOn(v1.PublisherClient.prototype, 'createTopic').mockImplementation(record);
  vi.spyOn(v1.SubscriberClient.prototype, 'createSubscription').mockImplementation(record);
  const pubsub = new PubSub({ projectId: 'acme-zk', apiEndpoint: '127.0.0.1:9' });
  try {
    const config = deployedFunctionConfig({
      FAASKEEPER_DEPLOYMENT: 'prod',
      FAASKEEPER_BUCKET: 'acme-zk-fk-prod-data',
      FAASKEEPER_DATABASE: 'fk-prod',
      GOOGLE_CLOUD_PROJECT: 'acme-zk',
      ...env,
    });
    await openGcpPorts(
      { ...config, pubsub, ...(createTopics === undefined ? {} : { createTopics }) },
      'push',
    );
  } finally {
    await closePubSubClients(pubsub);
  }
  return created.sort();
}

describe('the deployed functions', () => {
  it('open their ports without creating any topic', async () => {
    expect(deployedFunctionConfig({ FAASKEEPER_DEPLOYMENT: 'prod' }).createTopics).toBe(false);
    expect(await topicsCreatedOpening(undefined)).toEqual([]);
  });

  it('would create the writer and distributor topics, and the lease topic with the pull subscription the heartbeat drains, otherwise (what the local stack relies on)', async () => {
    expect(await topicsCreatedOpening(true)).toEqual([
      'projects/acme-zk/subscriptions/fk-prod-leases-pull',
      'projects/acme-zk/topics/fk-prod-distributor',
      'projects/acme-zk/topics/fk-prod-leases',
      'projects/acme-zk/topics/fk-prod-writer',
    ]);
  });

  it("pull the lease subscription named with the deployment's secret suffix from the environment", async () => {
    const suffix = '0123456789abcdef0123456789abcdef';
    expect(await topicsCreatedOpening(true, { FAASKEEPER_SUBSCRIPTION_SUFFIX: suffix })).toContain(
      `projects/acme-zk/subscriptions/fk-prod-leases-pull-${suffix}`,
    );
  });
});

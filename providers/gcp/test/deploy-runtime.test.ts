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

async function topicsCreatedOpening(createTopics: boolean | undefined): Promise<string[]> {
  const created: string[] = [];
  vi.spyOn(v1.PublisherClient.prototype, 'createTopic').mockImplementation((async (request: {
    name?: string;
  }) => {
    created.push(request.name ?? '');
    return [{}];
  }) as never);
  const pubsub = new PubSub({ projectId: 'acme-zk', apiEndpoint: '127.0.0.1:9' });
  try {
    const config = deployedFunctionConfig({
      FAASKEEPER_DEPLOYMENT: 'prod',
      FAASKEEPER_BUCKET: 'acme-zk-fk-prod-data',
      FAASKEEPER_DATABASE: 'fk-prod',
      GOOGLE_CLOUD_PROJECT: 'acme-zk',
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

  it('would create the writer and distributor topics otherwise (what the local stack relies on)', async () => {
    expect(await topicsCreatedOpening(true)).toEqual([
      'projects/acme-zk/topics/fk-prod-distributor',
      'projects/acme-zk/topics/fk-prod-writer',
    ]);
  });
});

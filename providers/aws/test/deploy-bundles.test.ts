// The deployed artifacts themselves: the esbuild bundles the stack uploads, configured only by the
// environment variables the stack sets, run a client's requests on the local AWS stack.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { bootstrap } from '@faaskeeper/core';
import { afterAll, describe, expect, it } from 'vitest';
import { configToEnv, createAwsPorts } from '../src/config.js';
import { connect } from '../src/connect.js';
import { bundleFunctions } from '../src/deploy/index.js';
import type { LambdaContext, ScheduledEvent, SqsBatchResponse, SqsEvent } from '../src/handlers/index.js';
import { messagesToEvent } from '../src/handlers/index.js';
import { destroyAwsDeployment, provisionAwsDeployment } from '../src/local/index.js';
import { SqsPollerRuntime } from '../src/sqs-poller-runtime.js';
import { requireLocalStack, uniqueName, useLocalStack } from './support.js';

const stack = useLocalStack();
const saved = { ...process.env };
afterAll(() => {
  for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
  Object.assign(process.env, saved);
});

type SqsLambda = (event: SqsEvent, context?: LambdaContext) => Promise<SqsBatchResponse>;

describe('the bundled Lambda functions', () => {
  it('serve a client on the local stack, configured only by the stack environment variables', async (ctx) => {
    if (!requireLocalStack(ctx)) return;
    const { stack: local, clients } = await stack();
    const dir = await mkdtemp(join(tmpdir(), 'fk-bundles-'));
    const deployment = uniqueName('bundle');
    const config = await provisionAwsDeployment(clients, {
      deployment,
      region: local.endpoints.region,
      endpoints: { dynamodb: local.endpoints.dynamodb, sqs: local.endpoints.sqs, s3: local.endpoints.s3 },
    });
    const ports = createAwsPorts(config, clients);
    await bootstrap(ports.systemStore, ports.userStore);
    const runtime = new SqsPollerRuntime({ pollWaitMs: 1000 });
    try {
      // What Lambda gives the function: the stack's variables, AWS_REGION and credentials.
      Object.assign(process.env, configToEnv(config), {
        AWS_ACCESS_KEY_ID: local.endpoints.credentials.accessKeyId,
        AWS_SECRET_ACCESS_KEY: local.endpoints.credentials.secretAccessKey,
      });
      const code = await bundleFunctions(dir);
      const load = async <T>(name: 'writer' | 'distributor' | 'heartbeat') =>
        ((await import(pathToFileURL(join(code[name], 'index.mjs')).href)) as { handler: T }).handler;
      const writer = await load<SqsLambda>('writer');
      const distributor = await load<SqsLambda>('distributor');
      const heartbeat = await load<(e: ScheduledEvent) => Promise<void>>('heartbeat');
      const lambda = (fn: SqsLambda) => async (messages: Parameters<typeof messagesToEvent>[0]) => ({
        failed: (await fn(messagesToEvent(messages))).batchItemFailures.map((f) => f.itemIdentifier),
      });
      runtime.bindQueue(ports.writerQueue, lambda(writer), {
        functionName: 'writer',
        batchSize: 10,
        timeoutMs: 30_000,
      });
      runtime.bindQueue(ports.distributorQueue, lambda(distributor), {
        functionName: 'distributor',
        batchSize: 10,
        timeoutMs: 30_000,
      });
      const zk = await connect({
        deployment,
        region: config.region,
        endpoints: { dynamodb: local.endpoints.dynamodb, sqs: local.endpoints.sqs, s3: local.endpoints.s3 },
        credentials: local.endpoints.credentials,
        config: { writerQueueUrl: config.writerQueueUrl, bucket: config.bucket },
      });
      try {
        await zk.create('/bundled', 'from the bundle');
        const { data, stat } = await zk.getData('/bundled');
        expect(new TextDecoder().decode(data)).toBe('from the bundle');
        expect(stat.version).toBe(0);
        await expect(
          heartbeat({ source: 'aws.events', 'detail-type': 'Scheduled Event' }),
        ).resolves.toBeUndefined();
      } finally {
        await zk.close();
      }
    } finally {
      await runtime.close();
      await destroyAwsDeployment(clients, config).catch(() => {});
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);
});

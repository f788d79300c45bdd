// What is particular to AWS, end to end on the local AWS stack (DynamoDB Local, S3 and SQS FIFO on
// fauxqs, the real Lambda handlers run by the SQS poller runtime): connecting by name, the DynamoDB
// user store, and the S3 offloads. The core's guarantees themselves run on this stack in
// guarantees-*.test.ts (the portable suite of @faaskeeper/core/testkit).
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { FaaSKeeperError } from '@faaskeeper/core';
import { afterEach, describe, expect, it } from 'vitest';
import { connect } from '../src/index.js';
import {
  createLocalAwsDeployment,
  type LocalAwsDeployment,
  type LocalAwsDeploymentOptions,
} from '../src/local/index.js';
import { requireLocalStack, useLocalStack } from './support.js';

const stack = useLocalStack();
const text = (data: Uint8Array) => new TextDecoder().decode(data);

const open: LocalAwsDeployment[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((d) => d.close()));
});

/** A deployment on this file's stack, closed (and its resources deleted) after the test. */
async function deploy(
  ctx: { skip: (note?: string) => void },
  options: Omit<LocalAwsDeploymentOptions, 'stack'> = {},
): Promise<LocalAwsDeployment> {
  if (!requireLocalStack(ctx)) throw new Error('unreachable: skipped');
  const { stack: s } = await stack();
  const service = await createLocalAwsDeployment({ ...options, stack: s });
  open.push(service);
  return service;
}

async function expectError(promise: Promise<unknown>, code: string): Promise<FaaSKeeperError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(FaaSKeeperError);
  expect((error as FaaSKeeperError).code).toBe(code);
  return error as FaaSKeeperError;
}

describe('FaaSKeeper on the local AWS stack', () => {
  it('connect() from @faaskeeper/aws reaches the deployment by name and endpoints', async (ctx) => {
    const service = await deploy(ctx);
    const inside = await service.connect();
    await inside.create('/hello', 'from inside');
    // Only what a user's config holds: name, region, endpoints, credentials (queue URL by name).
    const { config: _config, ...byName } = service.connectOptions;
    const zk = await connect({ ...byName, sessionTimeoutMs: 10_000 });
    expect(zk.state).toBe('CONNECTED');
    expect(text((await zk.getData('/hello')).data)).toBe('from inside');
    await zk.create('/hello/back', 'from outside');
    await inside.sync('/');
    expect((await inside.getChildren('/hello')).children).toEqual(['back']);
    await zk.close();
    expect(zk.state).toBe('CLOSED');
  });

  it('runs on the S3 user store too (one object per node)', async (ctx) => {
    const service = await deploy(ctx, { userStore: 's3' });
    const zk = await service.connect();
    await zk.create('/kv', 'one');
    await zk.create('/kv/child', new Uint8Array(200 * 1024).fill(1));
    expect(text((await zk.getData('/kv')).data)).toBe('one');
    expect((await zk.getData('/kv/child')).data.byteLength).toBe(200 * 1024);
    expect((await zk.getChildren('/kv')).children).toEqual(['child']);
    await zk.delete('/kv/child');
    expect(await zk.exists('/kv/child')).toBeNull();
  });

  it('round-trips node data of the 1 MiB limit byte-exact, through the S3 offloads', async (ctx) => {
    const service = await deploy(ctx);
    const [zk, other] = await Promise.all([service.connect(), service.connect()]);
    const data = new Uint8Array(1024 * 1024);
    for (let i = 0; i < data.length; i++) data[i] = (i * 7919) & 0xff;
    await zk.create('/big', data);
    await zk.setData('/big', data.subarray(1)); // a second big batch replaces the first offloaded state
    const got = (await other.getData('/big')).data;
    expect(got.byteLength).toBe(data.length - 1);
    expect(Buffer.compare(Buffer.from(got), Buffer.from(data.subarray(1)))).toBe(0);
    await expectError(zk.setData('/big', new Uint8Array(1024 * 1024 + 1)), 'BADARGUMENTS');
    // The writer state went to S3 twice; the first value was deleted once the second committed.
    const { clients } = await stack();
    const listed = await clients.s3.send(
      new ListObjectsV2Command({ Bucket: service.config.bucket, Prefix: 'system-items/' }),
    );
    expect(listed.Contents?.length).toBe(1);
  });
});

import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { connect } from '../src/connect.js';
import {
  clientConfigFromOutputs,
  clientConfigPath,
  STACK_OUTPUTS,
  writeClientConfig,
} from '../src/deploy/index.js';
import { createLocalAwsDeployment } from '../src/local/index.js';
import { requireLocalStack } from './support.js';

describe('the client configuration deploy writes', () => {
  it('is what connect() needs: a client built from the stack outputs writes and reads', async (ctx) => {
    if (!requireLocalStack(ctx)) return;
    const local = await createLocalAwsDeployment({ userStore: 's3' });
    const dir = await mkdtemp(join(tmpdir(), 'fk-config-'));
    try {
      // The outputs a deployed stack reports, here naming the local deployment's resources.
      const c = local.config;
      const outputs = {
        [STACK_OUTPUTS.systemTable]: c.systemTable,
        [STACK_OUTPUTS.bucket]: c.bucket,
        [STACK_OUTPUTS.writerQueueUrl]: c.writerQueueUrl,
        [STACK_OUTPUTS.distributorQueueUrl]: c.distributorQueueUrl,
        [STACK_OUTPUTS.channelPrefix]: c.channelPrefix,
        [STACK_OUTPUTS.clientPolicyArn]: 'arn:aws:iam::123456789012:policy/faaskeeper-x-client',
      };
      const path = clientConfigPath(c.deployment, dir);
      expect(path).toBe(join(dir, `${c.deployment}.aws.json`));
      await writeClientConfig(path, clientConfigFromOutputs(c.deployment, c.region, outputs));
      type ConfigFile = Parameters<typeof connect>[0] & { provider: string };
      const { provider, ...options } = JSON.parse(await readFile(path, 'utf8')) as ConfigFile;
      expect(provider).toBe('aws');
      expect(options).toMatchObject({
        deployment: c.deployment,
        region: c.region,
        config: { bucket: c.bucket, userStore: 's3', writerQueueUrl: c.writerQueueUrl },
      });
      // What a user adds for the emulators; on AWS the file alone is enough.
      const { endpoints, credentials } = local.connectOptions;
      const zk = await connect({
        ...options,
        ...(endpoints === undefined ? {} : { endpoints }),
        ...(credentials === undefined ? {} : { credentials }),
      });
      try {
        await zk.create('/configured', 'yes');
        expect(new TextDecoder().decode((await zk.getData('/configured')).data)).toBe('yes');
      } finally {
        await zk.close();
      }
    } finally {
      await local.close();
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('names the DynamoDB user store when the stack outputs a user table, and S3 otherwise', () => {
    const outputs = {
      SystemTableName: 't',
      BucketName: 'b',
      WriterQueueUrl: 'w',
      DistributorQueueUrl: 'd',
      ChannelPrefix: 'c',
    };
    expect(clientConfigFromOutputs('x', 'eu-west-1', outputs).userStore).toBe('s3');
    expect(
      clientConfigFromOutputs('x', 'eu-west-1', { ...outputs, UserTableName: 'faaskeeper-x-user' }),
    ).toMatchObject({ userStore: 'dynamodb', userTable: 'faaskeeper-x-user' });
  });

  it('refuses outputs that lack a field', () => {
    expect(() => clientConfigFromOutputs('x', 'eu-west-1', {})).toThrow(/no output SystemTableName/);
  });
});

import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { channelTag } from '@faaskeeper/core';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configFromEnv, FUNCTION_BODIES_PREFIX, resourceNames } from '../src/config.js';
import {
  bundleTarget,
  DEFAULT_LAMBDA_RUNTIME,
  deployToolkit,
  FaaSKeeperStack,
  LAMBDA_RUNTIMES,
  stackSelector,
  synthesizeAws,
} from '../src/deploy/index.js';
import { zoneKey } from '../src/dynamodb-user-store.js';
import { childIndexPrefix, nodeObjectKey, S3UserStore } from '../src/s3-user-store.js';
import { SqsChannel } from '../src/sqs-channel.js';
import { BodyOffload } from '../src/sqs-offload.js';

type Json = Record<string, unknown>;
interface Statement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Action: string | string[];
  Resource: unknown;
  Principal?: unknown;
  Condition?: Json;
}
interface Resource {
  Type: string;
  Properties: Json;
  DeletionPolicy?: string;
}

let dir: string;
let template: Template;
let resources: Record<string, Resource>;
let assemblyDir: string;
const names = resourceNames('test');

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fk-synth-'));
  // Synthesized once for the whole file: bundling and synthesis take seconds. The S3 user store
  // (the default is DynamoDB's, checked below): its grants are the ones the tables here pin.
  const out = await synthesizeAws({ deployment: 'test', outDir: dir, userStore: 's3' });
  assemblyDir = out.assemblyDir;
  resources = (out.template as { Resources: Record<string, Resource> }).Resources;
  template = Template.fromJSON(out.template);
}, 120_000);

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const list = <T>(x: T | T[]): T[] => (Array.isArray(x) ? x : [x]);

function ofType(type: string): [string, Resource][] {
  return Object.entries(resources).filter(([, r]) => r.Type === type);
}

/** The one resource of `type` whose logical id starts with `prefix`. */
function logicalId(type: string, prefix: string): string {
  const found = ofType(type).filter(([id]) => id.startsWith(prefix) && /^[A-Za-z]+[0-9A-F]{8}$/.test(id));
  const exact = found.filter(([id]) => id.replace(/[0-9A-F]{8}$/, '') === prefix);
  if (exact.length !== 1)
    throw new Error(`no single ${type} ${prefix}: ${found.map(([id]) => id).join(', ')}`);
  return (exact[0] as [string, Resource])[0];
}

/** A readable name of a policy resource: `WriterQueue`, `Bucket/user/*`, `sqs:<name-prefix>*`. */
function describe_(resource: unknown): string {
  const r = resource as Json;
  if (typeof resource === 'string') return resource;
  const att = r['Fn::GetAtt'] as [string, string] | undefined;
  if (att !== undefined) return att[0].replace(/[0-9A-F]{8}$/, '');
  const join_ = r['Fn::Join'] as [string, unknown[]] | undefined;
  if (join_ !== undefined) {
    const parts = join_[1];
    const first = parts[0] as Json | string;
    if (typeof first === 'object' && first['Fn::GetAtt'] !== undefined)
      return `${describe_(first)}${parts.slice(1).join('')}`;
    if (first === 'arn:') return `sqs:${String(parts[parts.length - 1]).replace(/^:/, '')}`;
  }
  return JSON.stringify(resource);
}

function statementsOf(policy: Resource): Statement[] {
  return list((policy.Properties.PolicyDocument as { Statement: Statement | Statement[] }).Statement);
}

/** Every `action on resource` grant of a role's policies. */
function grantsOf(roleId: string): string[] {
  const grants: string[] = [];
  for (const [, policy] of ofType('AWS::IAM::Policy')) {
    const roles = (policy.Properties.Roles as { Ref: string }[]).map((r) => r.Ref);
    if (!roles.includes(roleId)) continue;
    for (const s of statementsOf(policy)) {
      expect(s.Effect).toBe('Allow');
      for (const action of list(s.Action))
        for (const resource of list(s.Resource))
          grants.push(
            `${action} on ${describe_(resource)}${s.Condition === undefined ? '' : ` if ${JSON.stringify(s.Condition)}`}`,
          );
    }
  }
  return grants.sort();
}

describe('the synthesized CloudFormation template', () => {
  it('holds every resource of a deployment and nothing else', () => {
    const counts: Record<string, number> = {};
    for (const r of Object.values(resources)) counts[r.Type] = (counts[r.Type] ?? 0) + 1;
    expect(counts).toEqual({
      'AWS::DynamoDB::Table': 1,
      'AWS::S3::Bucket': 1,
      'AWS::S3::BucketPolicy': 1,
      'AWS::SQS::Queue': 4,
      'AWS::SQS::QueuePolicy': 4,
      'AWS::IAM::Role': 3,
      'AWS::IAM::Policy': 3,
      'AWS::IAM::ManagedPolicy': 1,
      'AWS::Logs::LogGroup': 3,
      'AWS::Lambda::Function': 3,
      'AWS::Lambda::EventSourceMapping': 2,
      'AWS::Lambda::Permission': 1,
      'AWS::Events::Rule': 1,
      'AWS::SecretsManager::Secret': 1,
    });
  });

  it('hands the generated channel secret to the writer and distributor only, and grants no function or client to read it', () => {
    const secret = logicalId('AWS::SecretsManager::Secret', 'ChannelSecret');
    template.hasResourceProperties('AWS::SecretsManager::Secret', {
      Name: 'faaskeeper-test-channel',
      GenerateSecretString: { PasswordLength: 48, ExcludePunctuation: true },
    });
    for (const [, f] of ofType('AWS::Lambda::Function')) {
      const vars = (f.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
      const heartbeat = f.Properties.FunctionName === 'faaskeeper-test-heartbeat';
      if (heartbeat) expect(vars.FAASKEEPER_CHANNEL_SECRET).toBeUndefined();
      // A CloudFormation dynamic reference to the secret, resolved at deploy time.
      else expect(JSON.stringify(vars.FAASKEEPER_CHANNEL_SECRET)).toContain(secret);
      expect(vars.FAASKEEPER_SUPER_DIGEST).toBeUndefined();
      expect(vars.FAASKEEPER_GATEWAY_KEY).toBeUndefined();
    }
    expect(JSON.stringify(ofType('AWS::IAM::Policy'))).not.toContain('secretsmanager');
    expect(JSON.stringify(ofType('AWS::IAM::ManagedPolicy'))).not.toContain('secretsmanager');
  });

  it('keeps the system store in an on-demand table with point-in-time recovery, retained on destroy', () => {
    template.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Retain',
      Properties: {
        TableName: names.systemTable,
        BillingMode: 'PAY_PER_REQUEST',
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        // The key schema the DynamoDB system store creates and queries.
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
      },
    });
  });

  it('blocks public access to the bucket, denies plain HTTP and expires offloaded bodies only after their messages', () => {
    const offloadPrefix = new BodyOffload({ client: new S3Client({ region: 'us-east-1' }), bucket: 'b' })
      .prefix;
    template.hasResource('AWS::S3::Bucket', {
      DeletionPolicy: 'Retain',
      Properties: {
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: true,
          BlockPublicPolicy: true,
          IgnorePublicAcls: true,
          RestrictPublicBuckets: true,
        },
        LifecycleConfiguration: {
          Rules: [
            { Prefix: offloadPrefix, Status: 'Enabled', ExpirationInDays: 15 },
            { Prefix: FUNCTION_BODIES_PREFIX, Status: 'Enabled', ExpirationInDays: 15 },
          ],
        },
      },
    });
    // An offloaded body outlives every message that may point to it, dead-lettered ones included.
    for (const [, q] of ofType('AWS::SQS::Queue'))
      expect(q.Properties.MessageRetentionPeriod as number).toBeLessThan(15 * 24 * 3600);
    const [[, policy]] = ofType('AWS::S3::BucketPolicy') as [[string, Resource]];
    expect(statementsOf(policy)).toEqual([
      expect.objectContaining({
        Effect: 'Deny',
        Condition: { Bool: { 'aws:SecureTransport': 'false' } },
      }),
    ]);
  });

  it('makes both queues high-throughput FIFO with id-based dedup, a FIFO dead-letter queue and 6× the function timeout', () => {
    const timeouts = ofType('AWS::Lambda::Function').map(([, f]) => f.Properties.Timeout as number);
    for (const [queue, fn] of [
      [names.writerQueue, 'Writer'],
      [names.distributorQueue, 'Distributor'],
    ] as const) {
      const [[, q]] = ofType('AWS::SQS::Queue').filter(([, r]) => r.Properties.QueueName === queue) as [
        [string, Resource],
      ];
      expect(q.Properties).toMatchObject({
        FifoQueue: true,
        ContentBasedDeduplication: false,
        DeduplicationScope: 'messageGroup',
        FifoThroughputLimit: 'perMessageGroupId',
        MaximumMessageSize: 1024 * 1024,
      });
      const fnTimeout = resources[logicalId('AWS::Lambda::Function', fn)]?.Properties.Timeout as number;
      expect(fnTimeout).toBe(Math.max(...timeouts));
      expect(q.Properties.VisibilityTimeout as number).toBeGreaterThanOrEqual(6 * fnTimeout);
      const redrive = q.Properties.RedrivePolicy as { deadLetterTargetArn: Json; maxReceiveCount: number };
      expect(redrive.maxReceiveCount).toBeGreaterThan(1);
      const dlqId = (redrive.deadLetterTargetArn['Fn::GetAtt'] as string[])[0] as string;
      expect(resources[dlqId]?.Properties).toMatchObject({
        FifoQueue: true,
        QueueName: queue.replace(/\.fifo$/, '-dlq.fifo'),
        MessageRetentionPeriod: 14 * 24 * 3600,
      });
    }
  });

  it('maps each queue to its function with partial batch failure reports', () => {
    const mappings = ofType('AWS::Lambda::EventSourceMapping').map(([, m]) => ({
      queue: describe_(m.Properties.EventSourceArn),
      fn: (m.Properties.FunctionName as { Ref: string }).Ref.replace(/[0-9A-F]{8}$/, ''),
      batch: m.Properties.BatchSize,
      responses: m.Properties.FunctionResponseTypes,
    }));
    expect(mappings.sort((a, b) => a.fn.localeCompare(b.fn))).toEqual([
      { queue: 'DistributorQueue', fn: 'Distributor', batch: 10, responses: ['ReportBatchItemFailures'] },
      { queue: 'WriterQueue', fn: 'Writer', batch: 10, responses: ['ReportBatchItemFailures'] },
    ]);
  });

  it('runs the heartbeat on an EventBridge schedule every minute', () => {
    const heartbeat = logicalId('AWS::Lambda::Function', 'Heartbeat');
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 minute)',
      State: 'ENABLED',
      Targets: [{ Arn: { 'Fn::GetAtt': [heartbeat, 'Arn'] } }],
    });
    template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      Principal: 'events.amazonaws.com',
      FunctionName: { 'Fn::GetAtt': [heartbeat, 'Arn'] },
    });
  });

  it('runs three functions on the default runtime (nodejs22.x), configured the way configFromEnv reads them', () => {
    const fns = ofType('AWS::Lambda::Function');
    expect(fns.map(([, f]) => f.Properties.FunctionName).sort()).toEqual([
      'faaskeeper-test-distributor',
      'faaskeeper-test-heartbeat',
      'faaskeeper-test-writer',
    ]);
    for (const [, f] of fns) {
      expect(f.Properties).toMatchObject({ Runtime: 'nodejs22.x', Handler: 'index.handler' });
      const vars = (f.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
      expect(vars.AWS_REGION).toBeUndefined(); // Lambda sets it; CloudFormation rejects it
      const env = Object.fromEntries(
        Object.entries(vars).map(([k, v]) => [k, typeof v === 'string' ? v : `resolved-${k}`]),
      );
      expect(configFromEnv({ ...env, AWS_REGION: 'eu-west-1' })).toMatchObject({
        deployment: 'test',
        userStore: 's3',
        channelPrefix: names.channelPrefix,
      });
    }
  });

  it('bundles each function into one self-contained file that exports its handler', async () => {
    for (const name of ['writer', 'distributor', 'heartbeat']) {
      const bundle = join(dir, 'bundles', name);
      expect(await readdir(bundle)).toEqual(['index.mjs']);
      const mod = (await import(join(bundle, 'index.mjs'))) as { handler?: unknown };
      expect(typeof mod.handler).toBe('function');
    }
  });

  it('grants the writer only its table, its system-item objects, its queue, the distributor queue, and what it distributes with: the user-store objects and the channel queues', () => {
    expect(grantsOf(logicalId('AWS::IAM::Role', 'WriterRole'))).toEqual(
      [
        'dynamodb:BatchGetItem on SystemTable',
        'dynamodb:ConditionCheckItem on SystemTable',
        'dynamodb:DeleteItem on SystemTable',
        'dynamodb:GetItem on SystemTable',
        'dynamodb:PutItem on SystemTable',
        'dynamodb:Query on SystemTable',
        'dynamodb:UpdateItem on SystemTable',
        'logs:CreateLogStream on WriterLogs',
        'logs:PutLogEvents on WriterLogs',
        's3:DeleteObject on Bucket/system-items/*',
        's3:DeleteObject on Bucket/user/*',
        's3:DeleteObject on Bucket/protected/user/*',
        's3:GetObject on Bucket/sqs-bodies/*',
        's3:GetObject on Bucket/system-items/*',
        's3:PutObject on Bucket/function-bodies/*',
        's3:GetObject on Bucket/user/*',
        's3:GetObject on Bucket/protected/user/*',
        's3:ListBucket on Bucket if {"StringLike":{"s3:prefix":["system-items/*"]}}',
        's3:ListBucket on Bucket if {"StringLike":{"s3:prefix":["user/*","protected/user/*"]}}',
        's3:PutObject on Bucket/sqs-bodies/*',
        's3:PutObject on Bucket/system-items/*',
        's3:PutObject on Bucket/user/*',
        's3:PutObject on Bucket/protected/user/*',
        'sqs:ChangeMessageVisibility on WriterQueue',
        'sqs:CreateQueue on sqs:faaskeeper-test-session-*',
        'sqs:DeleteMessage on WriterQueue',
        'sqs:DeleteQueue on sqs:faaskeeper-test-session-*',
        'sqs:GetQueueAttributes on WriterQueue',
        'sqs:GetQueueUrl on WriterQueue',
        'sqs:GetQueueUrl on sqs:faaskeeper-test-session-*',
        'sqs:ReceiveMessage on WriterQueue',
        'sqs:SendMessage on DistributorQueue',
        'sqs:SendMessage on sqs:faaskeeper-test-session-*',
      ].sort(),
    );
  });

  it('grants the distributor only the user-store objects, its queue and the channel queues', () => {
    expect(grantsOf(logicalId('AWS::IAM::Role', 'DistributorRole'))).toEqual(
      [
        'logs:CreateLogStream on DistributorLogs',
        'logs:PutLogEvents on DistributorLogs',
        's3:DeleteObject on Bucket/user/*',
        's3:DeleteObject on Bucket/protected/user/*',
        's3:GetObject on Bucket/function-bodies/*',
        's3:GetObject on Bucket/sqs-bodies/*',
        's3:GetObject on Bucket/user/*',
        's3:GetObject on Bucket/protected/user/*',
        's3:ListBucket on Bucket if {"StringLike":{"s3:prefix":["user/*","protected/user/*"]}}',
        's3:PutObject on Bucket/sqs-bodies/*',
        's3:PutObject on Bucket/user/*',
        's3:PutObject on Bucket/protected/user/*',
        'sqs:ChangeMessageVisibility on DistributorQueue',
        'sqs:CreateQueue on sqs:faaskeeper-test-session-*',
        'sqs:DeleteMessage on DistributorQueue',
        'sqs:DeleteQueue on sqs:faaskeeper-test-session-*',
        'sqs:GetQueueAttributes on DistributorQueue',
        'sqs:GetQueueUrl on DistributorQueue',
        'sqs:GetQueueUrl on sqs:faaskeeper-test-session-*',
        'sqs:ReceiveMessage on DistributorQueue',
        'sqs:SendMessage on sqs:faaskeeper-test-session-*',
      ].sort(),
    );
  });

  it('grants the heartbeat only reads of the table, deletes in its lease partition and sends to the writer queue', () => {
    expect(grantsOf(logicalId('AWS::IAM::Role', 'HeartbeatRole'))).toEqual(
      [
        'dynamodb:BatchGetItem on SystemTable',
        'dynamodb:DeleteItem on SystemTable if {"ForAllValues:StringEquals":{"dynamodb:LeadingKeys":["lease"]}}',
        'dynamodb:GetItem on SystemTable',
        'dynamodb:Query on SystemTable',
        'logs:CreateLogStream on HeartbeatLogs',
        'logs:PutLogEvents on HeartbeatLogs',
        's3:GetObject on Bucket/system-items/*',
        's3:PutObject on Bucket/sqs-bodies/*',
        'sqs:SendMessage on WriterQueue',
      ].sort(),
    );
  });

  it('gives each function its own role with no managed policies attached', () => {
    for (const [, role] of ofType('AWS::IAM::Role')) {
      expect(role.Properties.ManagedPolicyArns).toBeUndefined();
      expect(role.Properties.Policies).toBeUndefined();
    }
    const roles = ofType('AWS::Lambda::Function').map(([, f]) => JSON.stringify(f.Properties.Role));
    expect(new Set(roles).size).toBe(3);
  });

  it('has no wildcard action and no Resource "*" in any allowing policy statement', () => {
    const documents: [string, Statement[]][] = [];
    for (const [id, r] of Object.entries(resources)) {
      const doc = r.Properties.PolicyDocument as { Statement: Statement | Statement[] } | undefined;
      if (doc !== undefined) documents.push([id, list(doc.Statement)]);
      for (const p of (r.Properties.Policies as { PolicyDocument: { Statement: Statement[] } }[]) ?? [])
        documents.push([id, list(p.PolicyDocument.Statement)]);
    }
    // Every IAM policy, managed policy and resource policy of the stack.
    expect(documents.length).toBe(3 + 1 + 1 + 4);
    let allows = 0;
    for (const [id, statements] of documents)
      for (const s of statements) {
        if (s.Effect === 'Deny') {
          // A deny only takes away: the TLS-only guard (s3:* / sqs:* for everyone over plain HTTP).
          expect(s.Condition, id).toEqual({ Bool: { 'aws:SecureTransport': 'false' } });
          continue;
        }
        allows++;
        for (const action of list(s.Action)) {
          expect(action, id).toMatch(/^[a-z0-9]+:[A-Za-z]+$/); // no '*', no 'service:*', no 'Get*'
        }
        expect(s.Principal, id).toBeUndefined();
        for (const resource of list(s.Resource)) {
          expect(resource, id).not.toBe('*');
          const text = describe_(resource);
          expect(text, id).not.toBe('*');
          // The only wildcards: object-key prefixes in the bucket and the per-session channel queues.
          if (text.includes('*'))
            expect(text, id).toMatch(
              /^(Bucket\/(user|protected\/user|sqs-bodies|function-bodies|system-items)\/\*|sqs:faaskeeper-test-session-\*)$/,
            );
        }
      }
    expect(allows).toBeGreaterThan(20);
  });

  it('limits the client policy to reading the user store, sending to the writer, its own channel queue and lease renewals', () => {
    const [[, policy]] = ofType('AWS::IAM::ManagedPolicy') as [[string, Resource]];
    expect(policy.Properties.ManagedPolicyName).toBe('faaskeeper-test-client');
    expect(
      statementsOf(policy).map((s) => ({
        sid: s.Sid,
        effect: s.Effect,
        actions: list(s.Action),
        resources: list(s.Resource).map(describe_),
        condition: s.Condition,
      })),
    ).toEqual([
      {
        // getChildren lists the child index, and only it.
        sid: 'ListChildIndex',
        effect: 'Allow',
        actions: ['s3:ListBucket'],
        resources: ['Bucket'],
        condition: { StringLike: { 's3:prefix': ['user/kids*'] } },
      },
      {
        sid: 'ReadUserStore',
        effect: 'Allow',
        actions: ['s3:GetObject'],
        resources: ['Bucket/user/*', 'Bucket/sqs-bodies/*'],
        condition: undefined,
      },
      {
        // A read of a missing key must answer NoSuchKey, not AccessDenied (missing nodes, markers).
        sid: 'ListUserStore',
        effect: 'Allow',
        actions: ['s3:ListBucket'],
        resources: ['Bucket'],
        condition: { StringLike: { 's3:prefix': ['user/*'] } },
      },
      {
        sid: 'OffloadLargeRequests',
        effect: 'Allow',
        actions: ['s3:PutObject'],
        resources: ['Bucket/sqs-bodies/*'],
        condition: undefined,
      },
      {
        sid: 'SendToWriter',
        effect: 'Allow',
        actions: ['sqs:GetQueueUrl', 'sqs:SendMessage'],
        resources: ['WriterQueue'],
        condition: undefined,
      },
      {
        // One conditional UpdateItem per renewal, on the lease partition's renewal attributes only.
        sid: 'RenewSessionLease',
        effect: 'Allow',
        actions: ['dynamodb:UpdateItem'],
        resources: ['SystemTable'],
        condition: {
          'ForAllValues:StringEquals': {
            'dynamodb:LeadingKeys': ['lease'],
            'dynamodb:Attributes': ['pk', 'sk', 'value', 'n', 'version'],
          },
          StringEqualsIfExists: { 'dynamodb:ReturnValues': 'NONE' },
        },
      },
      {
        sid: 'OwnChannelQueue',
        effect: 'Allow',
        actions: [
          'sqs:CreateQueue',
          'sqs:GetQueueUrl',
          'sqs:ReceiveMessage',
          'sqs:DeleteMessage',
          'sqs:ChangeMessageVisibility',
          'sqs:DeleteQueue',
        ],
        resources: ['sqs:faaskeeper-test-session-*'],
        condition: undefined,
      },
    ]);
  });

  it('outputs everything the client configuration needs', () => {
    const outputs = Object.keys(template.toJSON().Outputs as Json).sort();
    expect(outputs).toEqual([
      'BucketName',
      'ChannelPrefix',
      'ClientPolicyArn',
      'DistributorQueueUrl',
      'SystemTableName',
      'WriterQueueUrl',
    ]);
  });
});

describe('the stack and its cloud assembly', () => {
  const bundles = () => ({
    writer: join(dir, 'bundles', 'writer'),
    distributor: join(dir, 'bundles', 'distributor'),
    heartbeat: join(dir, 'bundles', 'heartbeat'),
  });

  it('refuses a deployment name that cannot name an S3 bucket', () => {
    for (const deployment of ['Prod', 'a_b', '-x', 'x-', 'a'.repeat(21), ''])
      expect(
        () => new FaaSKeeperStack(new App(), 'S', { deployment, functionCode: bundles() }),
        deployment,
      ).toThrow(/must be 1-20 lower-case letters/);
  });

  it("passes the CDK toolkit's messages to the deploy log: its levels, no debug, no colors", async () => {
    const lines: string[] = [];
    const { kit } = await deployToolkit({
      profile: undefined,
      log: (level, text) => lines.push(`${level}: ${text}`),
      color: false,
    });
    const stacks = await kit.list(await kit.fromAssemblyDirectory(assemblyDir));
    expect(stacks.map((s) => s.name)).toEqual(['FaaSKeeper-test']);
    expect(lines).toContain('info: FaaSKeeper-test'); // the list's result
    expect(lines.every((line) => /^(error|warn|info): /.test(line))).toBe(true);
    const text = lines.join('\n');
    expect(text).not.toContain('\u001b['); // no ANSI codes
    expect(text).not.toContain('bypass synth'); // a debug message
  });

  it('bundles the functions for the Node version of the runtime they run on', () => {
    expect(LAMBDA_RUNTIMES.map(bundleTarget)).toEqual(['node20', 'node22', 'node24']);
    expect(bundleTarget(DEFAULT_LAMBDA_RUNTIME)).toBe('node22');
  });

  it('takes another Node runtime and a function timeout, keeping visibility at 6× the timeout', () => {
    const stack = new FaaSKeeperStack(new App(), 'S', {
      deployment: 'rt',
      functionCode: bundles(),
      runtime: 'nodejs24.x',
      functionTimeoutSeconds: 60,
    });
    const t = Template.fromStack(stack);
    t.allResourcesProperties('AWS::Lambda::Function', { Runtime: 'nodejs24.x', Timeout: 60 });
    t.hasResourceProperties('AWS::SQS::Queue', {
      QueueName: 'faaskeeper-rt-writer.fifo',
      VisibilityTimeout: 360,
    });
  });

  it('keeps the super digest and gateway key out of the template: the writer and distributor get dynamic references to the auth secret, the heartbeat nothing, and no function or client a grant for it', async () => {
    const digest = 'super:ZHWAqh4RHhCKN+pzlmj1IpJbEM4=';
    const key = 'gateway-key-7f3a9c1e5b2d4068';
    const out = await synthesizeAws({
      deployment: 'keys',
      outDir: join(dir, 'keys'),
      superDigest: digest,
      gatewayKey: key,
    });
    const text = JSON.stringify(out.template);
    expect(text).not.toContain(key);
    expect(text).not.toContain(digest.slice('super:'.length));
    // Nothing else in the cloud assembly (manifest, tree, bundles' metadata) holds them either.
    for (const file of await readdir(out.assemblyDir, { recursive: true })) {
      const path = join(out.assemblyDir, file);
      if (!file.endsWith('.json')) continue;
      const body = await readFile(path, 'utf8');
      expect(body, file).not.toContain(key);
      expect(body, file).not.toContain(digest.slice('super:'.length));
    }
    const fns = (out.template as { Resources: Record<string, Resource> }).Resources;
    const envOf = (name: string) =>
      (
        Object.values(fns).find((f) => f.Properties.FunctionName === `faaskeeper-keys-${name}`)!.Properties
          .Environment as { Variables: Record<string, unknown> }
      ).Variables;
    // synth has no version to pin: the reference resolves the secret's current version.
    for (const name of ['writer', 'distributor'])
      expect(envOf(name)).toMatchObject({
        FAASKEEPER_SUPER_DIGEST: '{{resolve:secretsmanager:faaskeeper-keys-auth:SecretString:superDigest::}}',
        FAASKEEPER_GATEWAY_KEY: '{{resolve:secretsmanager:faaskeeper-keys-auth:SecretString:gatewayKey::}}',
      });
    expect(envOf('heartbeat').FAASKEEPER_SUPER_DIGEST).toBeUndefined();
    expect(envOf('heartbeat').FAASKEEPER_GATEWAY_KEY).toBeUndefined();
    const policies = Object.values(fns).filter((r) => r.Type.startsWith('AWS::IAM::'));
    expect(JSON.stringify(policies)).not.toContain('faaskeeper-keys-auth');
    expect(JSON.stringify(policies)).not.toContain('secretsmanager');
  }, 120_000);

  it('refers to the auth secret version deploy stored, so that a changed key changes the template', () => {
    const stack = new FaaSKeeperStack(new App(), 'S', {
      deployment: 'keys',
      functionCode: bundles(),
      authSecret: { fields: ['gatewayKey'], versionId: 'a1b2c3d4-version' },
    });
    const fns = Template.fromStack(stack).findResources('AWS::Lambda::Function') as Record<string, Resource>;
    const writer = Object.values(fns).find((f) => f.Properties.FunctionName === 'faaskeeper-keys-writer')!;
    const vars = (writer.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
    expect(vars.FAASKEEPER_GATEWAY_KEY).toBe(
      '{{resolve:secretsmanager:faaskeeper-keys-auth:SecretString:gatewayKey::a1b2c3d4-version}}',
    );
    // Only the fields the secret holds: a reference to a missing JSON field fails the deploy.
    expect(vars.FAASKEEPER_SUPER_DIGEST).toBeUndefined();
  });

  it('keeps node records in DynamoDB unless told otherwise (cheaper for every operation at small node sizes)', () => {
    const stack = new FaaSKeeperStack(new App(), 'S', { deployment: 'dflt', functionCode: bundles() });
    Template.fromStack(stack).hasResourceProperties('AWS::DynamoDB::Table', {
      TableName: 'faaskeeper-dflt-user',
    });
  });

  it('with the DynamoDB user store, keeps records in a retained on-demand table that only the distributor and the writer (distributing inline) write and clients only read', () => {
    const stack = new FaaSKeeperStack(new App(), 'S', {
      deployment: 'kv',
      functionCode: bundles(),
      userStore: 'dynamodb',
    });
    const t = Template.fromStack(stack);
    const json = t.toJSON() as { Resources: Record<string, Resource>; Outputs: Json };
    const tables = Object.entries(json.Resources).filter(([, r]) => r.Type === 'AWS::DynamoDB::Table');
    const [userTableId, userTable] = tables.find(([id]) => id.startsWith('UserTable')) as [string, Resource];
    const [childTableId, childTable] = tables.find(([id]) => id.startsWith('UserChildTable')) as [
      string,
      Resource,
    ];
    expect(tables).toHaveLength(3);
    // The child index: one item per child life, listed by parent.
    expect(childTable.DeletionPolicy).toBe('Retain');
    expect(childTable.Properties).toMatchObject({
      TableName: 'faaskeeper-kv-user-children',
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [
        { AttributeName: 'parent', KeyType: 'HASH' },
        { AttributeName: 'key', KeyType: 'RANGE' },
      ],
    });
    expect(userTable.DeletionPolicy).toBe('Retain');
    expect(userTable.Properties).toMatchObject({
      TableName: 'faaskeeper-kv-user',
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [{ AttributeName: 'path', KeyType: 'HASH' }],
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
    });
    // Every statement that names the user table, by the role or policy it belongs to.
    const onTable: string[] = [];
    const onChildTable: string[] = [];
    const onRecords: string[] = [];
    for (const [id, r] of Object.entries(json.Resources)) {
      const doc = r.Properties.PolicyDocument as { Statement: Statement | Statement[] } | undefined;
      if (doc === undefined) continue;
      const who = r.Type === 'AWS::IAM::ManagedPolicy' ? 'client' : id.replace(/RoleDefaultPolicy.*$/, '');
      for (const st of list(doc.Statement))
        for (const resource of list(st.Resource)) {
          const text = describe_(resource);
          if (text === userTableId.replace(/[0-9A-F]{8}$/, ''))
            onTable.push(...list(st.Action).map((a) => `${who} ${a}`));
          if (text === childTableId.replace(/[0-9A-F]{8}$/, ''))
            onChildTable.push(...list(st.Action).map((a) => `${who} ${a}`));
          if (text === 'Bucket/user-data/*') onRecords.push(...list(st.Action).map((a) => `${who} ${a}`));
          if (text === 'Bucket/user/*') throw new Error(`${id} still grants the S3 user store`);
        }
    }
    expect(onTable.sort()).toEqual(
      [
        'Distributor dynamodb:DeleteItem',
        'Distributor dynamodb:GetItem',
        'Distributor dynamodb:PutItem',
        'Writer dynamodb:DeleteItem',
        'Writer dynamodb:GetItem',
        'Writer dynamodb:PutItem',
        'client dynamodb:GetItem',
      ].sort(),
    );
    // The writer writes child entries too: it runs the distributor in its own invocation.
    expect(onChildTable.sort()).toEqual(
      [
        'Distributor dynamodb:DeleteItem',
        'Distributor dynamodb:PutItem',
        'Distributor dynamodb:Query',
        'Writer dynamodb:DeleteItem',
        'Writer dynamodb:PutItem',
        'Writer dynamodb:Query',
        'client dynamodb:Query',
      ].sort(),
    );
    expect(onRecords.sort()).toEqual(
      [
        'Distributor s3:DeleteObject',
        'Distributor s3:GetObject',
        'Distributor s3:PutObject',
        'Writer s3:DeleteObject',
        'Writer s3:GetObject',
        'Writer s3:PutObject',
        'client s3:GetObject',
      ].sort(),
    );
    expect(Object.keys(json.Outputs)).toContain('UserTableName');
    // The functions read the same choice from their environment.
    const [, fn] = Object.entries(json.Resources).find(([, r]) => r.Type === 'AWS::Lambda::Function') as [
      string,
      Resource,
    ];
    const env = (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
    expect(env.FAASKEEPER_USER_STORE).toBe('dynamodb');
    expect(env.FAASKEEPER_USER_TABLE).toBeDefined();
  });

  it('is a cloud assembly the CDK toolkit library reads and selects the stack from (no AWS needed)', async () => {
    const toolkit = await import('@aws-cdk/toolkit-lib');
    const kit = new toolkit.Toolkit({
      ioHost: { notify: async () => {}, requestResponse: async (m) => m.defaultResponse },
    });
    const cx = await kit.fromAssemblyDirectory(assemblyDir);
    const stacks = await kit.list(cx, { stacks: stackSelector(toolkit, 'FaaSKeeper-test') });
    expect(stacks.map((s) => s.name)).toEqual(['FaaSKeeper-test']);
    await expect(kit.list(cx, { stacks: stackSelector(toolkit, 'FaaSKeeper-other') })).rejects.toThrow();
  });
});

/** One request a client could make: an action on a resource, with the condition keys it carries. */
interface ClientRequest {
  action: string;
  resource: string;
  context?: Record<string, string[]>;
}

const glob = (pattern: string): RegExp =>
  new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
  );

/**
 * Whether an Allow statement of the client policy lets `request` through, by IAM's rules for what
 * these statements use: resource globs, and the condition operators StringLike,
 * ForAllValues:StringLike/StringEquals (every value matches) and StringEqualsIfExists.
 */
function allows(statements: Statement[], request: ClientRequest): boolean {
  return statements.some((s) => {
    if (s.Effect !== 'Allow' || !list(s.Action).includes(request.action)) return false;
    if (!list(s.Resource).some((r) => glob(describe_(r)).test(request.resource))) return false;
    for (const [operator, keys] of Object.entries(s.Condition ?? {}))
      for (const [key, wanted] of Object.entries(keys as Record<string, string | string[]>)) {
        const values = request.context?.[key];
        const patterns = list(wanted).map((w) =>
          operator.endsWith('StringLike') ? glob(w) : glob(w.replace(/\*/g, '\\*')),
        );
        const match = (v: string) => patterns.some((p) => p.test(v));
        if (operator === 'StringEqualsIfExists') {
          if (values !== undefined && !values.every(match)) return false;
        } else if (operator.startsWith('ForAllValues:')) {
          if (values !== undefined && !values.every(match)) return false;
        } else if (values === undefined || !values.some(match)) return false;
      }
    return true;
  });
}

describe("the client policy and the user store's protected zone", () => {
  const clientStatementsOf = (json: { Resources: Record<string, Resource> }): Statement[] => {
    const [[, policy]] = Object.entries(json.Resources).filter(
      ([, r]) => r.Type === 'AWS::IAM::ManagedPolicy',
    ) as [[string, Resource]];
    return statementsOf(policy);
  };
  // The keys the adapters write for a protected node `/vault` and its child index.
  const s3 = new S3UserStore({ client: new S3Client({ region: 'us-east-1' }), bucket: 'b', prefix: 'user/' });
  const node = (zone: 'open' | 'protected') => nodeObjectKey(s3.zonePrefix(zone), '/vault');
  const kids = (zone: 'open' | 'protected') => childIndexPrefix(s3.zonePrefix(zone), '/vault');

  it('with the S3 user store, grants no read or listing of a protected record or child entry, and does grant the open ones', () => {
    const statements = clientStatementsOf({ Resources: resources });
    const get = (key: string) => ({ action: 's3:GetObject', resource: `Bucket/${key}` });
    const listing = (prefix: string) => ({
      action: 's3:ListBucket',
      resource: 'Bucket',
      context: { 's3:prefix': [prefix] },
    });
    expect(node('protected')).toBe('protected/user/node/vault');
    for (const denied of [
      get(node('protected')),
      get(`${kids('protected')}alpha%400000000000000000003`),
      listing(kids('protected')),
      listing('protected/'),
      listing(''),
    ])
      expect(allows(statements, denied), JSON.stringify(denied)).toBe(false);
    for (const granted of [get(node('open')), listing(kids('open')), listing('user/node/vault')])
      expect(allows(statements, granted), JSON.stringify(granted)).toBe(true);
  });

  it('lets clients only update lease items, under any id, and read, query or scan none of the system table: a lease id (keyed by its session key) cannot be discovered', () => {
    const statements = clientStatementsOf({ Resources: resources });
    const lease = (action: string, attributes = ['pk', 'sk', 'value', 'version']) => ({
      action,
      resource: 'SystemTable',
      context: { 'dynamodb:LeadingKeys': ['lease'], 'dynamodb:Attributes': attributes },
    });
    // The renewal, as the hostile-client suite models the grant: any sort key of the partition.
    expect(allows(statements, lease('dynamodb:UpdateItem'))).toBe(true);
    for (const denied of [
      ...[
        'dynamodb:GetItem',
        'dynamodb:BatchGetItem',
        'dynamodb:Query',
        'dynamodb:Scan',
        'dynamodb:DeleteItem',
        'dynamodb:PutItem',
        'dynamodb:TransactGetItems',
      ].map((action) => lease(action)),
      // Returning the old item would reveal it.
      {
        ...lease('dynamodb:UpdateItem'),
        context: { ...lease('dynamodb:UpdateItem').context, 'dynamodb:ReturnValues': ['ALL_OLD'] },
      },
      { action: 'dynamodb:Scan', resource: 'SystemTable' },
      {
        action: 'dynamodb:UpdateItem',
        resource: 'SystemTable',
        context: { 'dynamodb:LeadingKeys': ['session'] },
      },
    ])
      expect(allows(statements, denied), JSON.stringify(denied)).toBe(false);
  });

  it('with the DynamoDB user store, grants no GetItem or Query of a protected key, nor its large records, and does grant the open ones', () => {
    const functionCode = {
      writer: join(dir, 'bundles', 'writer'),
      distributor: join(dir, 'bundles', 'distributor'),
      heartbeat: join(dir, 'bundles', 'heartbeat'),
    };
    const stack = new FaaSKeeperStack(new App(), 'S', {
      deployment: 'kv',
      functionCode,
      userStore: 'dynamodb',
    });
    const statements = clientStatementsOf(
      Template.fromStack(stack).toJSON() as { Resources: Record<string, Resource> },
    );
    const item = (key: string) => ({
      action: 'dynamodb:GetItem',
      resource: 'UserTable',
      context: { 'dynamodb:LeadingKeys': [key] },
    });
    const query = (key: string) => ({
      action: 'dynamodb:Query',
      resource: 'UserChildTable',
      context: { 'dynamodb:LeadingKeys': [key] },
    });
    expect(zoneKey('/vault', 'protected')).toBe('protected//vault');
    for (const denied of [
      item(zoneKey('/vault', 'protected')),
      query(zoneKey('/vault', 'protected')),
      { action: 'dynamodb:Scan', resource: 'UserTable' },
      { action: 'dynamodb:Scan', resource: 'UserChildTable' },
      { action: 's3:GetObject', resource: 'Bucket/protected/user-data/0b8e' },
    ])
      expect(allows(statements, denied), JSON.stringify(denied)).toBe(false);
    for (const granted of [
      item('/vault'),
      item('#watermark'),
      item('#owed/7'),
      query('/vault'),
      { action: 's3:GetObject', resource: 'Bucket/user-data/0b8e' },
    ])
      expect(allows(statements, granted), JSON.stringify(granted)).toBe(true);
  });
});

describe("the client policy and other sessions' channels", () => {
  it("grants no listing of channel queues or of offloaded channel bodies: a client reaches another session's secret channel only by a name it cannot learn", () => {
    const [[, policy]] = ofType('AWS::IAM::ManagedPolicy') as [[string, Resource]];
    const statements = statementsOf(policy);
    const channel = new SqsChannel({ config: { region: 'us-east-1' }, prefix: names.channelPrefix });
    const tag = channelTag(new Uint8Array(32).fill(7), 42, 0);
    const queue = (name: string) => `sqs:${name.replace(/\.fifo$/, '')}`;
    // What a client does with its own channels: granted (the channel queues' ARN is a prefix).
    for (const name of [channel.queueName(42), channel.queueName(42, 9), channel.queueName(42, 0, tag)]) {
      expect(name.length).toBeLessThanOrEqual(80);
      for (const action of ['sqs:CreateQueue', 'sqs:ReceiveMessage', 'sqs:DeleteQueue'])
        expect(allows(statements, { action, resource: queue(name) }), `${action} ${name}`).toBe(true);
    }
    // What it would take to learn a secret channel's name: listing queues, or offloaded bodies.
    const listed = statements.flatMap((s) => list(s.Action)).filter((a) => /^sqs:List/.test(a));
    expect(listed).toEqual([]);
    for (const prefix of ['sqs-bodies/', '']) {
      const listing = { action: 's3:ListBucket', resource: 'Bucket', context: { 's3:prefix': [prefix] } };
      expect(allows(statements, listing), prefix).toBe(false);
    }
  });
});

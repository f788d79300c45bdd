import { SECRET_ENV } from '@faaskeeper/core';
import {
  Aws,
  CfnOutput,
  Duration,
  aws_dynamodb as dynamodb,
  aws_events as events,
  aws_iam as iam,
  aws_lambda as lambda,
  aws_logs as logs,
  RemovalPolicy,
  SecretValue,
  Stack,
  type StackProps,
  aws_s3 as s3,
  aws_secretsmanager as secretsmanager,
  aws_lambda_event_sources as sources,
  aws_sqs as sqs,
  aws_events_targets as targets,
} from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import {
  type AwsDeploymentConfig,
  configToEnv,
  FUNCTION_BODIES_PREFIX,
  resourceNames,
  type UserStoreKind,
} from '../config.js';
import { childTableOf } from '../dynamodb-user-store.js';
import { type AuthSecretReference, authSecretName } from './auth-secret.js';
import type { FunctionName } from './bundle.js';
import { DEFAULT_LAMBDA_RUNTIME, type LambdaRuntime } from './runtime.js';

/** Key prefixes the adapters use in the deployment's bucket (see `createAwsPorts`). */
export const BUCKET_PREFIXES = {
  /** The S3 user store's node records and watermark. */
  user: 'user/',
  /** SQS bodies over the message limit, carried by reference (short-lived; sealed where clients may read them). */
  offloadedBodies: 'sqs-bodies/',
  /** Distributor batches over the message limit (queue distribution): the functions' alone. */
  functionBodies: FUNCTION_BODIES_PREFIX,
  /** System-store items over the DynamoDB item limit. */
  systemItems: 'system-items/',
  /** Records of the DynamoDB user store too large for an item (see `USER_ITEM_INLINE_BYTES`). */
  userData: 'user-data/',
  /**
   * The user store's protected zone: records (and child index entries, large DynamoDB records) of
   * nodes without world READ, as `protected/user/…` and `protected/user-data/…`. Only the
   * functions read it: no client grant names this prefix.
   */
  protectedZone: 'protected/',
} as const;

/**
 * The leading keys a client may read in the DynamoDB user store's tables: node paths (`/…`) and,
 * in the records' table, the watermark and markers (`#…`); never `protected/…` (the protected zone).
 */
export const CLIENT_LEADING_KEYS = { records: ['/*', '#*'], children: ['/*'] } as const;

/** Names of the stack outputs `faaskeeper deploy aws` turns into the client configuration. */
export const STACK_OUTPUTS = {
  systemTable: 'SystemTableName',
  bucket: 'BucketName',
  writerQueueUrl: 'WriterQueueUrl',
  distributorQueueUrl: 'DistributorQueueUrl',
  channelPrefix: 'ChannelPrefix',
  clientPolicyArn: 'ClientPolicyArn',
  /** Only with the DynamoDB user store. */
  userTable: 'UserTableName',
} as const;

/** Deployment names: short and lower-case, because the bucket name derives from them. */
export const DEPLOYMENT_NAME = /^[a-z0-9](?:[a-z0-9-]{0,18}[a-z0-9])?$/;

/** Options of {@link FaaSKeeperStack}. */
export interface FaaSKeeperStackProps extends StackProps {
  /** Deployment name; every resource name derives from it (see `resourceNames`). */
  deployment: string;
  /** The asset directory of each function (`bundleFunctions`). */
  functionCode: Record<FunctionName, string>;
  /** Function timeout in seconds. Default 30. */
  functionTimeoutSeconds?: number;
  /** Function memory in MiB. Default 512. */
  memorySize?: number;
  /** Minutes between heartbeat runs (EventBridge's minimum is 1). Default 1. */
  heartbeatIntervalMinutes?: number;
  /** Receives before a queue message moves to its dead-letter queue. Default 5. */
  maxReceiveCount?: number;
  /** Clock skew the functions allow for, in ms. Default 1000. */
  clockSkewMs?: number;
  /**
   * Where node records live: `dynamodb` (default: one item per node, records over 8 KiB in S3 —
   * cheaper than S3 for every operation at small node sizes; see docs/cost.md) or `s3` (one object
   * per node).
   */
  userStore?: UserStoreKind;
  /**
   * Lambda runtime. Default {@link DEFAULT_LAMBDA_RUNTIME}; the bundles must target it
   * (`bundleFunctions` takes the same runtime).
   */
  runtime?: LambdaRuntime;
  /**
   * The deployment's auth secret (`faaskeeper-<deployment>-auth`, see auth-secret.ts): which of the
   * super digest (its password grants every permission) and the gateway key (it attests client
   * addresses for `ip` ACLs) it holds. The stack takes no value, only this reference: the writer's
   * and distributor's environment gets dynamic references that CloudFormation resolves at deploy
   * time, so the template never holds either value. Default: neither (no super user, and `ip` ACL
   * entries match nobody).
   */
  authSecret?: AuthSecretReference;
}

const RUNTIMES: Record<LambdaRuntime, lambda.Runtime> = {
  'nodejs20.x': lambda.Runtime.NODEJS_20_X,
  'nodejs22.x': lambda.Runtime.NODEJS_22_X,
  'nodejs24.x': lambda.Runtime.NODEJS_24_X,
};

/** Days an offloaded body is kept: longer than any queue (dead-letter queues: 14 days) keeps its message. */
export const OFFLOADED_BODY_DAYS = 15;

/** Largest SQS message (1 MiB since August 2025); bigger bodies go through S3. */
const SQS_MAX_MESSAGE_BYTES = 1024 * 1024;

/**
 * A FaaSKeeper deployment on AWS: the system-store table, the user-store bucket, the writer and
 * distributor FIFO queues with dead-letter queues, the writer, distributor and heartbeat functions
 * and a managed policy for clients. Every grant names its resources and actions (no wildcards);
 * the only prefix-scoped resources are the per-session channel queues, whose names are created at
 * run time (`<channelPrefix>-<session>.fifo`, and `<channelPrefix>-c<tag>.fifo` named by a secret
 * tag: a client holds no `sqs:ListQueues`, so it reaches only the channels it can name, see
 * `SqsChannel`).
 */
export class FaaSKeeperStack extends Stack {
  /** The system store (DynamoDB, on-demand, point-in-time recovery). */
  readonly table: dynamodb.Table;
  /** The user store (with `userStore: 's3'`) and offloaded message bodies (and records over 8 KiB). */
  readonly bucket: s3.Bucket;
  /** The user store with `userStore: 'dynamodb'` (on-demand, point-in-time recovery). */
  readonly userTable: dynamodb.Table | undefined;
  /** The DynamoDB user store's child index (partition key `parent`, sort key `key`). */
  readonly childTable: dynamodb.Table | undefined;
  readonly writerQueue: sqs.Queue;
  readonly distributorQueue: sqs.Queue;
  readonly functions: Record<FunctionName, lambda.Function>;
  /** What a client's role or user needs: attach it to whoever runs `connect()`. */
  readonly clientPolicy: iam.ManagedPolicy;

  constructor(scope: Construct, id: string, props: FaaSKeeperStackProps) {
    super(scope, id, props);
    if (!DEPLOYMENT_NAME.test(props.deployment))
      throw new Error(
        `deployment name '${props.deployment}' must be 1-20 lower-case letters, digits or '-' (it names an S3 bucket)`,
      );
    const names = resourceNames(props.deployment);
    const timeout = props.functionTimeoutSeconds ?? 30;
    const maxReceiveCount = props.maxReceiveCount ?? 5;

    this.table = new dynamodb.Table(this, 'SystemTable', {
      tableName: names.systemTable,
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      // The system state outlives the stack: `destroy` never drops sessions and nodes by accident.
      removalPolicy: RemovalPolicy.RETAIN,
    });

    // DynamoDB by default: cheaper than S3 for every operation at small node sizes (docs/cost.md).
    const userStore = props.userStore ?? 'dynamodb';
    this.userTable =
      userStore === 'dynamodb'
        ? new dynamodb.Table(this, 'UserTable', {
            tableName: names.userTable,
            partitionKey: { name: 'path', type: dynamodb.AttributeType.STRING },
            billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
            pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
            removalPolicy: RemovalPolicy.RETAIN,
          })
        : undefined;
    this.childTable =
      userStore === 'dynamodb'
        ? new dynamodb.Table(this, 'UserChildTable', {
            tableName: childTableOf(names.userTable),
            partitionKey: { name: 'parent', type: dynamodb.AttributeType.STRING },
            sortKey: { name: 'key', type: dynamodb.AttributeType.STRING },
            billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
            pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
            removalPolicy: RemovalPolicy.RETAIN,
          })
        : undefined;

    this.bucket = new s3.Bucket(this, 'Bucket', {
      // Bucket names are global: the account and region keep two users' deployments apart.
      bucketName: `${names.bucket}-${Aws.ACCOUNT_ID}-${Aws.REGION}`,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: [
        {
          id: 'expire-offloaded-message-bodies',
          // Receivers delete these after use; the rule removes what duplicates and crashes left
          // behind, after the longest a message can wait (14 days in a dead-letter queue).
          prefix: BUCKET_PREFIXES.offloadedBodies,
          expiration: Duration.days(OFFLOADED_BODY_DAYS),
        },
        {
          id: 'expire-offloaded-distributor-batches',
          prefix: BUCKET_PREFIXES.functionBodies,
          expiration: Duration.days(OFFLOADED_BODY_DAYS),
        },
      ],
      removalPolicy: RemovalPolicy.RETAIN,
    });

    const fifoQueue = (idBase: string, queueName: string) => {
      const deadLetterQueue = new sqs.Queue(this, `${idBase}DeadLetterQueue`, {
        queueName: queueName.replace(/\.fifo$/, '-dlq.fifo'),
        fifo: true,
        contentBasedDeduplication: false,
        retentionPeriod: Duration.days(14),
        maxMessageSizeBytes: SQS_MAX_MESSAGE_BYTES,
        enforceSSL: true,
      });
      return new sqs.Queue(this, idBase, {
        queueName,
        fifo: true,
        // Senders give explicit de-duplication ids (session and sequence number).
        contentBasedDeduplication: false,
        // High-throughput FIFO: limits apply per message group, not per queue.
        deduplicationScope: sqs.DeduplicationScope.MESSAGE_GROUP,
        fifoThroughputLimit: sqs.FifoThroughputLimit.PER_MESSAGE_GROUP_ID,
        // AWS advises at least six times the function timeout for an event source mapping.
        visibilityTimeout: Duration.seconds(6 * timeout),
        maxMessageSizeBytes: SQS_MAX_MESSAGE_BYTES,
        retentionPeriod: Duration.days(4),
        deadLetterQueue: { queue: deadLetterQueue, maxReceiveCount },
        enforceSSL: true,
      });
    };
    this.writerQueue = fifoQueue('WriterQueue', names.writerQueue);
    this.distributorQueue = fifoQueue('DistributorQueue', names.distributorQueue);

    const config: AwsDeploymentConfig = {
      deployment: props.deployment,
      region: Aws.REGION,
      systemTable: this.table.tableName,
      bucket: this.bucket.bucketName,
      userStore,
      ...(this.userTable === undefined ? {} : { userTable: this.userTable.tableName }),
      writerQueueUrl: this.writerQueue.queueUrl,
      distributorQueueUrl: this.distributorQueue.queueUrl,
      channelPrefix: names.channelPrefix,
      ...(props.clockSkewMs === undefined ? {} : { clockSkewMs: props.clockSkewMs }),
    };
    // Lambda sets AWS_REGION itself and rejects it in a function's environment.
    const { AWS_REGION: _region, ...environment } = configToEnv(config);

    const objects = (prefix: string) => this.bucket.arnForObjects(`${prefix}*`);
    const channelQueues = `arn:${Aws.PARTITION}:sqs:${Aws.REGION}:${Aws.ACCOUNT_ID}:${names.channelPrefix}-*`;

    // The channel secret the writer and distributor seal channel messages with (session/auth.ts):
    // generated at deploy, handed to both functions' environment by CloudFormation (a dynamic
    // reference, so no function reads Secrets Manager at run time and none needs a grant for it).
    const channelSecret = new secretsmanager.Secret(this, 'ChannelSecret', {
      secretName: `faaskeeper-${props.deployment}-channel`,
      description: `FaaSKeeper ${props.deployment}: the key channel messages are sealed with`,
      generateSecretString: { passwordLength: 48, excludePunctuation: true },
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const secrets: Record<string, string> = {
      [SECRET_ENV.channelSecret]: channelSecret.secretValue.unsafeUnwrap(),
      // The auth values: the secret is written by deploy through the SDK (not a resource of the
      // stack, whose value would be in the template); no function or client gets a grant for it.
      ...Object.fromEntries(
        (props.authSecret?.fields ?? []).map((field) => [
          SECRET_ENV[field],
          SecretValue.secretsManager(authSecretName(props.deployment), {
            jsonField: field,
            ...(props.authSecret?.versionId === undefined ? {} : { versionId: props.authSecret.versionId }),
          }).unsafeUnwrap(),
        ]),
      ),
    };

    const makeFunction = (name: FunctionName, description: string) => {
      // An own role without AWSLambdaBasicExecutionRole, whose log actions name Resource '*'.
      const role = new iam.Role(this, `${cap(name)}Role`, {
        assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
        description: `FaaSKeeper ${props.deployment}: the ${name} function`,
      });
      const logGroup = new logs.LogGroup(this, `${cap(name)}Logs`, {
        logGroupName: `/aws/lambda/faaskeeper-${props.deployment}-${name}`,
        retention: logs.RetentionDays.TWO_WEEKS,
        removalPolicy: RemovalPolicy.DESTROY,
      });
      role.addToPolicy(
        new iam.PolicyStatement({
          actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
          resources: [logGroup.logGroupArn],
        }),
      );
      return new lambda.Function(this, cap(name), {
        functionName: `faaskeeper-${props.deployment}-${name}`,
        description,
        runtime: RUNTIMES[props.runtime ?? DEFAULT_LAMBDA_RUNTIME],
        architecture: lambda.Architecture.ARM_64,
        handler: 'index.handler',
        code: lambda.Code.fromAsset(props.functionCode[name]),
        timeout: Duration.seconds(timeout),
        memorySize: props.memorySize ?? 512,
        role,
        logGroup,
        // Only the writer and distributor hold the deployment's secrets.
        environment: {
          ...environment,
          ...(name === 'heartbeat' ? {} : secrets),
          NODE_OPTIONS: '--enable-source-maps',
        },
      });
    };

    const writer = makeFunction('writer', 'FaaSKeeper writer: orders and commits every change');
    const distributor = makeFunction(
      'distributor',
      'FaaSKeeper distributor: updates the user store, notifies',
    );
    const heartbeat = makeFunction('heartbeat', 'FaaSKeeper heartbeat: expires sessions and TTL nodes');
    this.functions = { writer, distributor, heartbeat };

    // writer: the system store, its own queue, the distributor queue.
    writer.addToRolePolicy(
      new iam.PolicyStatement({
        actions: [
          'dynamodb:GetItem',
          'dynamodb:BatchGetItem',
          'dynamodb:Query',
          'dynamodb:PutItem',
          'dynamodb:UpdateItem',
          'dynamodb:DeleteItem',
          'dynamodb:ConditionCheckItem',
        ],
        resources: [this.table.tableArn],
      }),
    );
    writer.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'],
        resources: [objects(BUCKET_PREFIXES.systemItems)],
      }),
    );
    // Without ListBucket, S3 answers a missing key with AccessDenied instead of NoSuchKey: the system
    // store reads a value deleted under it (its item replaced meanwhile) as gone and reads the item again.
    writer.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['s3:ListBucket'],
        resources: [this.bucket.bucketArn],
        conditions: { StringLike: { 's3:prefix': [`${BUCKET_PREFIXES.systemItems}*`] } },
      }),
    );
    // distributor: the user store, its own queue, the channel queues. The writer too: it runs the
    // distributor in its own invocation right after each commit (inline distribution, docs/cost.md);
    // the distributor function serves batches sent through its queue.
    for (const fn of [writer, distributor]) {
      fn.addToRolePolicy(
        new iam.PolicyStatement({
          actions: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'],
          resources: [
            objects(userStore === 's3' ? BUCKET_PREFIXES.user : BUCKET_PREFIXES.userData),
            objects(
              `${BUCKET_PREFIXES.protectedZone}${userStore === 's3' ? BUCKET_PREFIXES.user : BUCKET_PREFIXES.userData}`,
            ),
          ],
        }),
      );
      if (this.userTable !== undefined)
        fn.addToRolePolicy(
          new iam.PolicyStatement({
            actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:DeleteItem'],
            resources: [this.userTable.tableArn],
          }),
        );
      // Query/ListBucket: the distributor lists a protected node's children for its readers, and
      // carries child entries from one zone to the other when an ACL change moves the node.
      if (this.childTable !== undefined)
        fn.addToRolePolicy(
          new iam.PolicyStatement({
            actions: ['dynamodb:PutItem', 'dynamodb:DeleteItem', 'dynamodb:Query'],
            resources: [this.childTable.tableArn],
          }),
        );
      else
        fn.addToRolePolicy(
          new iam.PolicyStatement({
            actions: ['s3:ListBucket'],
            resources: [this.bucket.bucketArn],
            conditions: {
              StringLike: {
                's3:prefix': [
                  `${BUCKET_PREFIXES.user}*`,
                  `${BUCKET_PREFIXES.protectedZone}${BUCKET_PREFIXES.user}*`,
                ],
              },
            },
          }),
        );
      fn.addToRolePolicy(
        new iam.PolicyStatement({
          // CreateQueue is how the channel finds a session's queue (idempotent); DeleteQueue ends it.
          actions: ['sqs:CreateQueue', 'sqs:GetQueueUrl', 'sqs:SendMessage', 'sqs:DeleteQueue'],
          resources: [channelQueues],
        }),
      );
    }
    // heartbeat: reads the system store, sends expiry requests to the writer queue ...
    heartbeat.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query'],
        resources: [this.table.tableArn],
      }),
    );
    // ... and removes lease items no session claims (other clients' writes, stopped gateways'
    // groups: docs/guarantees.md "Lease availability"), in the lease partition only.
    heartbeat.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['dynamodb:DeleteItem'],
        resources: [this.table.tableArn],
        conditions: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': ['lease'] } },
      }),
    );
    heartbeat.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['s3:GetObject'],
        resources: [objects(BUCKET_PREFIXES.systemItems)],
      }),
    );
    // Offloaded bodies: whoever sends to a queue may write them, whoever receives reads them.
    for (const fn of [writer, distributor, heartbeat]) {
      const actions = fn === heartbeat ? ['s3:PutObject'] : ['s3:GetObject', 's3:PutObject'];
      fn.addToRolePolicy(
        new iam.PolicyStatement({ actions, resources: [objects(BUCKET_PREFIXES.offloadedBodies)] }),
      );
    }
    // Large distributor batches: the writer sends them, the distributor reads them; no client may.
    writer.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['s3:PutObject'],
        resources: [objects(BUCKET_PREFIXES.functionBodies)],
      }),
    );
    distributor.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['s3:GetObject'],
        resources: [objects(BUCKET_PREFIXES.functionBodies)],
      }),
    );
    for (const [fn, queue] of [
      [writer, this.distributorQueue],
      [heartbeat, this.writerQueue],
    ] as const)
      fn.addToRolePolicy(
        new iam.PolicyStatement({ actions: ['sqs:SendMessage'], resources: [queue.queueArn] }),
      );

    // Lambda's event source mappings (the SQS grants they add name only their queue).
    writer.addEventSource(
      new sources.SqsEventSource(this.writerQueue, { batchSize: 10, reportBatchItemFailures: true }),
    );
    distributor.addEventSource(
      new sources.SqsEventSource(this.distributorQueue, { batchSize: 10, reportBatchItemFailures: true }),
    );
    new events.Rule(this, 'HeartbeatSchedule', {
      ruleName: `faaskeeper-${props.deployment}-heartbeat`,
      description: 'Runs the FaaSKeeper heartbeat',
      schedule: events.Schedule.rate(Duration.minutes(props.heartbeatIntervalMinutes ?? 1)),
      targets: [new targets.LambdaFunction(heartbeat, { retryAttempts: 0 })],
    });

    this.clientPolicy = new iam.ManagedPolicy(this, 'ClientPolicy', {
      managedPolicyName: `faaskeeper-${props.deployment}-client`,
      description: `What a FaaSKeeper client of deployment ${props.deployment} may do`,
      statements: clientStatements({
        bucketArn: this.bucket.bucketArn,
        systemTableArn: this.table.tableArn,
        writerQueueArn: this.writerQueue.queueArn,
        channelQueuesArn: channelQueues,
        ...(this.userTable === undefined ? {} : { userTableArn: this.userTable.tableArn }),
        ...(this.childTable === undefined ? {} : { childTableArn: this.childTable.tableArn }),
      }),
    });

    const output = (key: keyof typeof STACK_OUTPUTS, value: string, description: string) =>
      new CfnOutput(this, STACK_OUTPUTS[key], { value, description });
    output('systemTable', this.table.tableName, 'System-store table');
    output('bucket', this.bucket.bucketName, 'User-store bucket');
    output('writerQueueUrl', this.writerQueue.queueUrl, 'Writer queue');
    output('distributorQueueUrl', this.distributorQueue.queueUrl, 'Distributor queue');
    output('channelPrefix', names.channelPrefix, 'Name prefix of the per-session channel queues');
    if (this.userTable !== undefined) output('userTable', this.userTable.tableName, 'User-store table');
    output(
      'clientPolicyArn',
      this.clientPolicy.managedPolicyArn,
      'Attach to the principals that run clients',
    );
  }
}

/**
 * The client's statements, and nothing else: read the user store (and message bodies the
 * deployment offloaded to S3), send requests to the writer queue (offloading large ones), and
 * create, read and delete its own channel queue, and renew session leases: UpdateItem on the system
 * table, only on items of the `lease` partition and only their renewal attributes, returning
 * nothing (docs/guarantees.md "Sessions" says what a hostile client can do with it). With
 * `userTableArn` (the DynamoDB user store) the user store is that table plus its large records in S3.
 */
export function clientStatements(arns: {
  bucketArn: string;
  systemTableArn: string;
  writerQueueArn: string;
  channelQueuesArn: string;
  userTableArn?: string;
  /** The DynamoDB user store's child index table (with `userTableArn`). */
  childTableArn?: string;
}): iam.PolicyStatement[] {
  const records = arns.userTableArn === undefined ? BUCKET_PREFIXES.user : BUCKET_PREFIXES.userData;
  return [
    // getChildren lists the child index: S3 keys under `user/kids/`, or the child table.
    arns.childTableArn === undefined
      ? new iam.PolicyStatement({
          sid: 'ListChildIndex',
          actions: ['s3:ListBucket'],
          resources: [arns.bucketArn],
          conditions: { StringLike: { 's3:prefix': [`${BUCKET_PREFIXES.user}kids*`] } },
        })
      : new iam.PolicyStatement({
          sid: 'ListChildIndexTable',
          actions: ['dynamodb:Query'],
          resources: [arns.childTableArn],
          // Not the protected zone's entries (parents keyed `protected/…`).
          conditions: {
            'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [...CLIENT_LEADING_KEYS.children] },
          },
        }),
    new iam.PolicyStatement({
      sid: 'ReadUserStore',
      actions: ['s3:GetObject'],
      resources: [`${arns.bucketArn}/${records}*`, `${arns.bucketArn}/${BUCKET_PREFIXES.offloadedBodies}*`],
    }),
    // Without ListBucket, S3 answers a read of a missing key with AccessDenied instead of NoSuchKey:
    // a client reading a node that does not exist (or its own marker before its first event) must
    // learn that it is missing. Listing is limited to the records' prefix.
    ...(arns.userTableArn === undefined
      ? [
          new iam.PolicyStatement({
            sid: 'ListUserStore',
            actions: ['s3:ListBucket'],
            resources: [arns.bucketArn],
            conditions: { StringLike: { 's3:prefix': [`${records}*`] } },
          }),
        ]
      : []),
    ...(arns.userTableArn === undefined
      ? []
      : [
          new iam.PolicyStatement({
            sid: 'ReadUserStoreTable',
            actions: ['dynamodb:GetItem'],
            resources: [arns.userTableArn],
            // Not the protected zone's records (keyed `protected/…`).
            conditions: {
              'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [...CLIENT_LEADING_KEYS.records] },
            },
          }),
        ]),
    new iam.PolicyStatement({
      sid: 'OffloadLargeRequests',
      actions: ['s3:PutObject'],
      resources: [`${arns.bucketArn}/${BUCKET_PREFIXES.offloadedBodies}*`],
    }),
    new iam.PolicyStatement({
      sid: 'SendToWriter',
      actions: ['sqs:GetQueueUrl', 'sqs:SendMessage'],
      resources: [arns.writerQueueArn],
    }),
    new iam.PolicyStatement({
      sid: 'RenewSessionLease',
      actions: ['dynamodb:UpdateItem'],
      resources: [arns.systemTableArn],
      conditions: {
        'ForAllValues:StringEquals': {
          'dynamodb:LeadingKeys': ['lease'],
          'dynamodb:Attributes': ['pk', 'sk', 'value', 'n', 'version'],
        },
        StringEqualsIfExists: { 'dynamodb:ReturnValues': 'NONE' },
      },
    }),
    new iam.PolicyStatement({
      sid: 'OwnChannelQueue',
      actions: [
        'sqs:CreateQueue',
        'sqs:GetQueueUrl',
        'sqs:ReceiveMessage',
        'sqs:DeleteMessage',
        'sqs:ChangeMessageVisibility',
        'sqs:DeleteQueue',
      ],
      resources: [arns.channelQueuesArn],
    }),
  ];
}

function cap(name: string): string {
  return name.charAt(0).toUpperCase() + name.slice(1);
}

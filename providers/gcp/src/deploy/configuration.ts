import { SECRET_ENV } from '@faaskeeper/core';
import { SUBSCRIPTION_SUFFIX_ENV } from '../deployment.js';
import {
  type GcpDeploymentNames,
  type GcpFunctionName,
  gcpDeploymentNames,
  type ServiceAccountRole,
  SUBSCRIPTION_SUFFIX_BYTES,
  SUBSCRIPTION_SUFFIX_REF,
  SUBSCRIPTION_SUFFIX_RESOURCE,
} from './names.js';
import { TerraformBuilder, type TerraformJson, type TfBody, type TfRef } from './terraform.js';

/**
 * The Google provider line the configuration is written against (`required_providers`). Every
 * resource and argument used here exists throughout 6.x; a major version may rename them.
 */
export const GOOGLE_PROVIDER_VERSION = '~> 6.14';
/** The random provider line: it generates the channel secret and the subscription suffix, kept in the state. */
export const RANDOM_PROVIDER_VERSION = '~> 3.6';
/** Oldest Terraform that reads the configuration. */
export const TERRAFORM_REQUIRED_VERSION = '>= 1.5.0';

/** The APIs a deployment uses (enabled, and never disabled on destroy: other workloads may use them). */
export const REQUIRED_APIS = [
  'artifactregistry.googleapis.com',
  'cloudbuild.googleapis.com',
  'cloudfunctions.googleapis.com',
  'cloudresourcemanager.googleapis.com',
  'cloudscheduler.googleapis.com',
  'datastore.googleapis.com',
  'firestore.googleapis.com',
  'iam.googleapis.com',
  'logging.googleapis.com',
  'pubsub.googleapis.com',
  'run.googleapis.com',
  'storage.googleapis.com',
] as const;

/**
 * The permissions of the per-session channels. Channels are a topic and a subscription per session,
 * created at run time (`PubSubChannel`), so no resource-level binding can name them in advance, and
 * Pub/Sub does not evaluate IAM conditions on resource names: these are granted on the project, as
 * custom roles carrying only what the channel code calls. Project-wide, a right to create or attach
 * a subscription would reach every topic, the writer's, the distributor's and the lease topic
 * included (their names follow from the deployment's): a client holding it could attach a
 * subscription of its own and read every request (session keys, data). So only the functions create
 * and delete channels, and a client may only consume a subscription it can name. What keeps a
 * client out of another session's channel is its name: everything but the open reply goes to a
 * subscription named by a secret tag (`PubSubChannel`, docs/guarantees.md "Availability of a
 * session's channel"), and no client may list topics or subscriptions.
 */
export const CHANNEL_PERMISSIONS = {
  /** A client pulls its session's subscriptions, acks and extends ack deadlines: nothing else. */
  client: ['pubsub.subscriptions.consume'],
  /**
   * The distributor (and the writer distributing inline) creates a session channel's topic and
   * subscription before its first message to it (the secret one before the open reply), publishes
   * replies and events, and deletes the topics of an ended session (the secret channel's
   * subscription keeps what the client has not read, until the heartbeat reaps it; the bootstrap
   * channel's, which carried only the open reply, goes with its topic).
   */
  distributor: [
    'pubsub.subscriptions.create',
    'pubsub.subscriptions.delete',
    'pubsub.topics.attachSubscription',
    'pubsub.topics.create',
    'pubsub.topics.delete',
    'pubsub.topics.publish',
  ],
  /**
   * The heartbeat deletes what ended sessions left once their clients had time to read it (the
   * detached subscription of a secret channel, a refused resume's bootstrap channel; recorded by
   * the distributor, see `ChannelReapRecords`): it creates, publishes and consumes nothing.
   */
  reaper: ['pubsub.subscriptions.delete', 'pubsub.topics.delete'],
} as const;

/**
 * Where a deployment keeps the node records (the user store): `gcs`, a Cloud Storage bucket (the
 * default), or `datastore`, the deployment's Datastore database (cheaper per write, see
 * docs/providers/gcp.md).
 */
export const GCP_USER_STORES = ['gcs', 'datastore'] as const;
/** One of {@link GCP_USER_STORES}. */
export type GcpUserStoreKind = (typeof GCP_USER_STORES)[number];

/** Names of the Terraform outputs `faaskeeper deploy gcp` turns into the client configuration. */
export const TERRAFORM_OUTPUTS = {
  deployment: 'deployment',
  project: 'project',
  region: 'region',
  database: 'database',
  /** Which user store the deployment has ({@link GcpUserStoreKind}). */
  userStore: 'user_store',
  /** The user-store bucket; only with the `gcs` user store. */
  dataBucket: 'data_bucket',
  clientServiceAccount: 'client_service_account',
  writerTopic: 'writer_topic',
  writerDeadLetterTopic: 'writer_dead_letter_topic',
  distributorDeadLetterTopic: 'distributor_dead_letter_topic',
} as const;

/** A function's zipped source, as `bundleGcpFunctions` made it. */
export interface FunctionSource {
  /** Path of the zip file, relative to the configuration's directory. */
  zipPath: string;
  /** Hex MD5 of the zip: part of the object name, so that new code redeploys the function. */
  md5: string;
}

/** The auth values a deployment may hold (the writer's `superDigest` and `gatewayKey`). */
export type GcpAuthField = 'superDigest' | 'gatewayKey';

/**
 * The Terraform input variables of the auth values: deploy sets them as `TF_VAR_super_digest`
 * and `TF_VAR_gateway_key` in Terraform's environment.
 */
export const GCP_AUTH_VARIABLES: Record<GcpAuthField, string> = {
  superDigest: 'super_digest',
  gatewayKey: 'gateway_key',
};

const AUTH_DESCRIPTIONS: Record<GcpAuthField, string> = {
  superDigest: 'The super digest, super:<base64 sha1> (its password grants every permission)',
  gatewayKey: 'The key gateways attest client addresses with (ip ACLs)',
};

/** Options of {@link buildGcpConfiguration}. */
export interface GcpConfigurationOptions {
  deployment: string;
  project: string;
  /** Region of the functions, buckets, scheduler and (by default) the database. */
  region: string;
  /** Each function's zipped source. */
  sources: Record<GcpFunctionName, FunctionSource>;
  /**
   * The Firestore database in Datastore mode. Default: a dedicated database `fk-<deployment>`
   * created here, so that the Datastore roles can be conditioned on it alone. `{ existing: id }`
   * uses a database that exists already (it must be in Datastore mode).
   */
  database?: { create: true; location?: string } | { existing: string };
  /**
   * Where node records live: `gcs` (default), a private bucket `<project>-fk-<deployment>-data`, or
   * `datastore`, the deployment's database (no data bucket then; clients get read-only Datastore
   * access conditioned on that database).
   */
  userStore?: GcpUserStoreKind;
  /** Keep the data (bucket and database) when the deployment is destroyed. Default true. */
  protectData?: boolean;
  /** Cloud Scheduler's cron schedule of the heartbeat. Default every minute. */
  heartbeatSchedule?: string;
  /** Function timeout in seconds. Default 60. */
  functionTimeoutSeconds?: number;
  /** Function memory. Default `256Mi`. */
  functionMemory?: string;
  /**
   * Which auth values the writer and distributor get: the super digest
   * (`super:<base64 sha1("super:password")>`, whose password grants every permission) and the
   * gateway key (it attests client addresses for `ip` ACLs). Each is a sensitive input variable
   * ({@link GCP_AUTH_VARIABLES}) whose value Terraform takes from `TF_VAR_<name>`, so
   * `main.tf.json` never holds it. Default: neither (no super user, `ip` entries match nobody).
   */
  authVariables?: readonly GcpAuthField[];
  /** Cloud Functions runtime. Default `nodejs22`. */
  runtime?: 'nodejs20' | 'nodejs22';
  /**
   * Ingress of the functions. Default `ALLOW_INTERNAL_ONLY`: Pub/Sub and Cloud Scheduler of the same
   * project count as internal. `ALLOW_ALL` still requires the OIDC token of an invoker account.
   */
  functionIngress?: 'ALLOW_INTERNAL_ONLY' | 'ALLOW_ALL';
  /** Delivery attempts before a message goes to its dead-letter topic (5-100). Default 100. */
  maxDeliveryAttempts?: number;
  /**
   * Principals (`user:…`, `group:…`, `serviceAccount:…`) that may impersonate the client service
   * account (`roles/iam.serviceAccountTokenCreator` on that account only). Default none.
   */
  clientImpersonators?: readonly string[];
}

/** Resource names of the service accounts in the configuration (`google_service_account.<name>`). */
export const SERVICE_ACCOUNT_RESOURCES: Record<ServiceAccountRole, string> = {
  writer: 'writer',
  distributor: 'distributor',
  heartbeat: 'heartbeat',
  client: 'client',
  invoker: 'push_invoker',
  scheduler: 'scheduler_invoker',
  build: 'build',
};

const SA_DESCRIPTIONS: Record<ServiceAccountRole, string> = {
  writer: 'runs the writer function',
  distributor: 'runs the distributor function',
  heartbeat: 'runs the heartbeat function',
  client: 'for FaaSKeeper clients: read the user store, send requests, own a session channel',
  invoker: 'signs the OIDC tokens of the ordered push subscriptions (invokes writer and distributor)',
  scheduler: 'signs the OIDC token of the heartbeat schedule (invokes heartbeat)',
  build: 'builds the function images (Cloud Build)',
};

/**
 * The Terraform JSON configuration of a FaaSKeeper deployment on Google Cloud: Firestore in
 * Datastore mode (the system store, and the user store with `userStore: 'datastore'`), a Cloud
 * Storage bucket for the user store (the default `gcs`) and one for function sources, Pub/Sub
 * topics with dead-letter topics, ordered push subscriptions with OIDC authentication that invoke
 * the writer and distributor (Cloud Functions gen2, one instance each),
 * a Cloud Scheduler job that calls the heartbeat, one service account per function, a client
 * service account, and IAM bound at the narrowest level GCP supports. Offline: plain data.
 */
export function buildGcpConfiguration(options: GcpConfigurationOptions): TerraformJson {
  const { deployment, project, region } = options;
  const names = gcpDeploymentNames(deployment, project);
  const protect = options.protectData ?? true;
  const timeout = options.functionTimeoutSeconds ?? 60;
  const userStore = options.userStore ?? 'gcs';
  if (!(GCP_USER_STORES as readonly string[]).includes(userStore))
    throw new Error(`userStore must be one of ${GCP_USER_STORES.join(', ')} (got '${userStore}')`);
  const tf = new TerraformBuilder(
    {
      required_version: TERRAFORM_REQUIRED_VERSION,
      required_providers: {
        google: { source: 'hashicorp/google', version: GOOGLE_PROVIDER_VERSION },
        random: { source: 'hashicorp/random', version: RANDOM_PROVIDER_VERSION },
      },
    },
    { google: { project, region } },
    `FaaSKeeper deployment ${deployment}: generated by faaskeeper synth gcp; edit the options, not this file`,
  );

  // --- APIs -----------------------------------------------------------------------------------
  const apis = REQUIRED_APIS.map((service) =>
    tf.resource('google_project_service', service.split('.')[0] as string, {
      project,
      service,
      disable_on_destroy: false,
    }),
  );
  const afterApis = apis.map((api) => api.address);
  const projectData = tf.data('google_project', 'this', { project_id: project });
  const pubsubAgent = `serviceAccount:service-${projectData.attr('number')}@gcp-sa-pubsub.iam.gserviceaccount.com`;

  // --- service accounts ------------------------------------------------------------------------
  const sa = {} as Record<ServiceAccountRole, TfRef>;
  for (const role of Object.keys(SERVICE_ACCOUNT_RESOURCES) as ServiceAccountRole[]) {
    sa[role] = tf.resource('google_service_account', SERVICE_ACCOUNT_RESOURCES[role], {
      project,
      account_id: names.serviceAccountIds[role],
      display_name: `FaaSKeeper ${deployment} ${role}`,
      description: `FaaSKeeper ${deployment}: ${SA_DESCRIPTIONS[role]}`,
      depends_on: afterApis,
    });
  }
  const member = (role: ServiceAccountRole) => `serviceAccount:${sa[role].attr('email')}`;

  // --- system store: Firestore in Datastore mode -----------------------------------------------
  const db = options.database ?? { create: true };
  let databaseId: string;
  let databaseDependency: string[] = [];
  if ('existing' in db) {
    databaseId = db.existing;
  } else {
    databaseId = names.database;
    const database = tf.resource('google_firestore_database', 'system', {
      project,
      name: names.database,
      location_id: db.location ?? region,
      type: 'DATASTORE_MODE',
      app_engine_integration_mode: 'DISABLED',
      // ABANDON: destroy forgets the database and keeps its data; DELETE drops it.
      delete_protection_state: protect ? 'DELETE_PROTECTION_ENABLED' : 'DELETE_PROTECTION_DISABLED',
      deletion_policy: protect ? 'ABANDON' : 'DELETE',
      depends_on: afterApis,
    });
    databaseDependency = [database.address];
  }
  // Datastore roles exist only at project level; IAM conditions narrow them to this database.
  const databaseCondition = {
    title: `only ${databaseId}`,
    description: `FaaSKeeper ${deployment}: the deployment's Datastore database only`,
    expression: `resource.name == "projects/${project}/databases/${databaseId}"`,
  };
  const datastoreGrant = (who: ServiceAccountRole, role: string) =>
    tf.resource('google_project_iam_member', `${who}_datastore`, {
      project,
      role,
      member: member(who),
      condition: databaseCondition,
      depends_on: databaseDependency,
    });
  const datastoreGrants = [
    datastoreGrant('writer', 'roles/datastore.user'),
    // The distributor's order guard keeps its progress in Datastore.
    datastoreGrant('distributor', 'roles/datastore.user'),
    // The heartbeat writes one item: the session lease renewals it folds at each run.
    datastoreGrant('heartbeat', 'roles/datastore.user'),
  ];
  // Datastore user store: clients read node records straight from the database (read-only). The
  // distributor writes them with the roles/datastore.user it has above; writer and heartbeat only
  // read the root record at start (their roles above cover that).
  if (userStore === 'datastore') datastoreGrant('client', 'roles/datastore.viewer');

  // --- buckets ---------------------------------------------------------------------------------
  const bucket = (name: string, bucketName: string, keep: boolean) =>
    tf.resource('google_storage_bucket', name, {
      project,
      name: bucketName,
      location: region,
      storage_class: 'STANDARD',
      uniform_bucket_level_access: true,
      public_access_prevention: 'enforced',
      force_destroy: !keep,
      ...(keep ? { lifecycle: { prevent_destroy: true } } : {}),
      depends_on: afterApis,
    });
  // The data bucket holds the user store and nothing else: there is none with the Datastore user store.
  const dataBucket = userStore === 'gcs' ? bucket('data', names.dataBucket, protect) : undefined;
  // The user store's protected zone, with either store: records of nodes without world READ and
  // their children's entries. Only the functions that distribute are granted it; clients read those
  // nodes through the writer. (Datastore IAM cannot keep the client's viewer role off some kinds.)
  const protectedBucket = bucket('data_protected', names.protectedBucket, protect);
  const sourceBucket = bucket('sources', names.sourceBucket, false);
  const bucketGrant = (name: string, target: TfRef, who: ServiceAccountRole, role: string) =>
    tf.resource('google_storage_bucket_iam_member', name, {
      bucket: target.attr('name'),
      role,
      member: member(who),
    });
  const bucketGrants = [
    ...(dataBucket === undefined
      ? []
      : [
          bucketGrant('distributor_data', dataBucket, 'distributor', 'roles/storage.objectUser'),
          bucketGrant('client_data', dataBucket, 'client', 'roles/storage.objectViewer'),
          // The writer distributes its committed batches in its own invocation (docs/cost.md): it
          // writes the records as the distributor does.
          bucketGrant('writer_data', dataBucket, 'writer', 'roles/storage.objectUser'),
          // Read-only: every function instance checks at start that the root record exists
          // (bootstrap, which `faaskeeper deploy gcp` runs once after apply with the deployer's
          // credentials).
          bucketGrant('heartbeat_data', dataBucket, 'heartbeat', 'roles/storage.objectViewer'),
        ]),
    bucketGrant('distributor_protected', protectedBucket, 'distributor', 'roles/storage.objectUser'),
    bucketGrant('writer_protected', protectedBucket, 'writer', 'roles/storage.objectUser'),
    bucketGrant('build_sources', sourceBucket, 'build', 'roles/storage.objectViewer'),
  ];

  // --- Pub/Sub topics ----------------------------------------------------------------------------
  // Every client may consume any subscription whose name it knows (project-wide
  // pubsub.subscriptions.consume, see CHANNEL_PERMISSIONS): the fixed subscriptions are named with
  // a random suffix kept in the state (a later apply keeps it) and given to the heartbeat alone.
  const suffix = tf.resource('random_id', SUBSCRIPTION_SUFFIX_RESOURCE, {
    byte_length: SUBSCRIPTION_SUFFIX_BYTES,
  });
  if (suffix.attr('hex') !== SUBSCRIPTION_SUFFIX_REF)
    throw new Error('the subscription suffix reference is stale');
  const topic = (name: string, topicName: string) =>
    tf.resource('google_pubsub_topic', name, {
      project,
      name: topicName,
      message_retention_duration: '604800s',
      depends_on: afterApis,
    });
  const writerTopic = topic('writer', names.writerTopic);
  const distributorTopic = topic('distributor', names.distributorTopic);
  const writerDead = topic('writer_dead', names.writerDeadLetterTopic);
  const distributorDead = topic('distributor_dead', names.distributorDeadLetterTopic);
  // A topic without subscriptions drops what is published: these keep dead letters for inspection.
  for (const [name, t, subscription] of [
    ['writer_dead', writerDead, names.writerDeadLetterSubscription],
    ['distributor_dead', distributorDead, names.distributorDeadLetterSubscription],
  ] as const) {
    tf.resource('google_pubsub_subscription', name, {
      project,
      name: subscription,
      topic: t.attr('id'),
      message_retention_duration: '604800s',
      retain_acked_messages: false,
      expiration_policy: { ttl: '' },
    });
  }
  const topicGrant = (name: string, target: TfRef, who: string, role: string) =>
    tf.resource('google_pubsub_topic_iam_member', name, {
      project,
      topic: target.attr('name'),
      role,
      member: who,
    });
  topicGrant('writer_publishes_distributor', distributorTopic, member('writer'), 'roles/pubsub.publisher');
  topicGrant('heartbeat_publishes_writer', writerTopic, member('heartbeat'), 'roles/pubsub.publisher');
  topicGrant('client_publishes_writer', writerTopic, member('client'), 'roles/pubsub.publisher');
  // Session leases (docs/guarantees.md "Sessions"): clients publish renewals, the heartbeat pulls
  // them at each run. A renewal older than any session timeout is worthless: the shortest retention.
  const leaseTopic = tf.resource('google_pubsub_topic', 'leases', {
    project,
    name: names.leaseTopic,
    message_retention_duration: '600s',
    depends_on: afterApis,
  });
  const leaseSubscription = tf.resource('google_pubsub_subscription', 'leases', {
    project,
    name: names.leaseSubscription,
    topic: leaseTopic.attr('id'),
    ack_deadline_seconds: 60,
    message_retention_duration: '600s',
    retain_acked_messages: false,
    expiration_policy: { ttl: '' },
  });
  topicGrant('client_publishes_leases', leaseTopic, member('client'), 'roles/pubsub.publisher');
  tf.resource('google_pubsub_subscription_iam_member', 'heartbeat_pulls_leases', {
    project,
    subscription: leaseSubscription.attr('name'),
    role: 'roles/pubsub.subscriber',
    member: member('heartbeat'),
  });
  // Dead-lettering: Pub/Sub's service agent publishes to the dead-letter topic and acks the original.
  const deadLetterGrants = [
    topicGrant('pubsub_agent_writer_dead', writerDead, pubsubAgent, 'roles/pubsub.publisher'),
    topicGrant('pubsub_agent_distributor_dead', distributorDead, pubsubAgent, 'roles/pubsub.publisher'),
  ].map((r) => r.address);

  // --- channels: custom roles at project level (see CHANNEL_PERMISSIONS) -------------------------
  for (const [who, roleId, permissions] of [
    ['client', names.channelClientRole, CHANNEL_PERMISSIONS.client],
    ['distributor', names.channelDistributorRole, CHANNEL_PERMISSIONS.distributor],
    ['heartbeat', names.channelReaperRole, CHANNEL_PERMISSIONS.reaper],
  ] as const) {
    const custom = tf.resource('google_project_iam_custom_role', `channel_${who}`, {
      project,
      role_id: roleId,
      title: `FaaSKeeper ${deployment} channel (${who})`,
      description: `Per-session Pub/Sub channels of FaaSKeeper ${deployment}, as the ${who} uses them`,
      permissions: [...permissions],
      stage: 'GA',
      depends_on: afterApis,
    });
    tf.resource('google_project_iam_member', `${who}_channel`, {
      project,
      role: custom.attr('id'),
      member: member(who),
    });
    // The writer sends on the channels as the distributor does: it distributes inline (docs/cost.md).
    if (who === 'distributor')
      tf.resource('google_project_iam_member', 'writer_channel', {
        project,
        role: custom.attr('id'),
        member: member('writer'),
      });
  }

  // --- function builds ---------------------------------------------------------------------------
  const repository = tf.resource('google_artifact_registry_repository', 'functions', {
    project,
    location: region,
    repository_id: names.repository,
    format: 'DOCKER',
    description: `FaaSKeeper ${deployment}: function images`,
    depends_on: afterApis,
  });
  const buildGrants = [
    tf.resource('google_artifact_registry_repository_iam_member', 'build_images', {
      project,
      location: region,
      repository: repository.attr('name'),
      role: 'roles/artifactregistry.writer',
      member: member('build'),
    }),
    // Cloud Build writes its logs; Logging has no narrower scope than the project.
    tf.resource('google_project_iam_member', 'build_logging', {
      project,
      role: 'roles/logging.logWriter',
      member: member('build'),
    }),
  ].map((r) => r.address);

  // --- functions -------------------------------------------------------------------------------
  const runAs: Record<GcpFunctionName, ServiceAccountRole> = {
    writer: 'writer',
    distributor: 'distributor',
    heartbeat: 'heartbeat',
  };
  // The channel secret the writer and distributor seal channel messages with (session/auth.ts):
  // generated once and kept in the Terraform state, so that a later apply keeps it.
  const channelSecret = tf.resource('random_password', 'channel_secret', { length: 48, special: false });
  const secrets: Record<string, string> = {
    [SECRET_ENV.channelSecret]: channelSecret.attr('result'),
    // Sensitive variables: masked in plans and output; the state holds the resolved values (as it
    // holds the channel secret), and so does each function's environment.
    ...Object.fromEntries(
      (options.authVariables ?? []).map((field) => [
        SECRET_ENV[field],
        tf.variable(GCP_AUTH_VARIABLES[field], {
          type: 'string',
          description: AUTH_DESCRIPTIONS[field],
          sensitive: true,
          nullable: false,
        }),
      ]),
    ),
  };
  const functions = {} as Record<GcpFunctionName, TfRef>;
  for (const fn of ['writer', 'distributor', 'heartbeat'] as const) {
    const source = options.sources[fn];
    const object = tf.resource('google_storage_bucket_object', `source_${fn}`, {
      bucket: sourceBucket.attr('name'),
      name: `${fn}-${source.md5}.zip`,
      source: `\${path.module}/${source.zipPath}`,
      content_type: 'application/zip',
    });
    functions[fn] = tf.resource('google_cloudfunctions2_function', fn, {
      project,
      location: region,
      name: names.functions[fn],
      description: `FaaSKeeper ${deployment} ${fn}`,
      build_config: {
        runtime: options.runtime ?? 'nodejs22',
        entry_point: fn,
        source: { storage_source: { bucket: sourceBucket.attr('name'), object: object.attr('name') } },
        service_account: sa.build.attr('id'),
        docker_repository: repository.attr('id'),
      },
      service_config: {
        // One instance: a single ordered stream per queue; ordering keeps one request in flight.
        max_instance_count: 1,
        min_instance_count: 0,
        max_instance_request_concurrency: 1,
        available_memory: options.functionMemory ?? '256Mi',
        timeout_seconds: timeout,
        // Reached only from Pub/Sub and Cloud Scheduler of this project, with an OIDC token.
        ingress_settings: options.functionIngress ?? 'ALLOW_INTERNAL_ONLY',
        all_traffic_on_latest_revision: true,
        service_account_email: sa[runAs[fn]].attr('email'),
        // FAASKEEPER_USER_STORE names the store, so that a missing bucket variable fails instead of
        // silently opening the other store (see deployedFunctionConfig).
        environment_variables: {
          FAASKEEPER_DEPLOYMENT: deployment,
          FAASKEEPER_USER_STORE: userStore,
          ...(dataBucket === undefined ? {} : { FAASKEEPER_BUCKET: dataBucket.attr('name') }),
          // The Datastore store's protected zone (the GCS store derives it from its bucket).
          ...(dataBucket === undefined && fn !== 'heartbeat'
            ? { FAASKEEPER_PROTECTED_BUCKET: protectedBucket.attr('name') }
            : {}),
          FAASKEEPER_DATABASE: databaseId,
          GOOGLE_CLOUD_PROJECT: project,
          // Only the writer and distributor hold the deployment's secrets.
          ...(fn === 'heartbeat' ? {} : secrets),
          // Only the heartbeat pulls a fixed subscription (the lease renewals).
          ...(fn === 'heartbeat' ? { [SUBSCRIPTION_SUFFIX_ENV]: suffix.attr('hex') } : {}),
        },
      },
      depends_on: [
        ...buildGrants,
        'google_storage_bucket_iam_member.build_sources',
        ...datastoreGrants.map((r) => r.address),
        ...bucketGrants.map((r) => r.address),
      ],
    });
  }
  const url = (fn: GcpFunctionName) => functions[fn].attr('service_config[0].uri');
  const invokerGrant = (fn: GcpFunctionName, who: ServiceAccountRole) =>
    tf.resource('google_cloud_run_service_iam_member', `${fn}_invoker`, {
      project,
      location: region,
      service: functions[fn].attr('name'),
      role: 'roles/run.invoker',
      member: member(who),
    });
  const invokers = {
    writer: invokerGrant('writer', 'invoker'),
    distributor: invokerGrant('distributor', 'invoker'),
    heartbeat: invokerGrant('heartbeat', 'scheduler'),
  };
  // Pub/Sub's service agent mints the push subscriptions' OIDC tokens as the invoker account.
  const tokenGrant = tf.resource('google_service_account_iam_member', 'pubsub_agent_signs_as_invoker', {
    service_account_id: sa.invoker.attr('name'),
    role: 'roles/iam.serviceAccountTokenCreator',
    member: pubsubAgent,
  });
  (options.clientImpersonators ?? []).forEach((principal, i) => {
    tf.resource('google_service_account_iam_member', `client_impersonator_${i}`, {
      service_account_id: sa.client.attr('name'),
      role: 'roles/iam.serviceAccountTokenCreator',
      member: principal,
    });
  });

  // --- ordered push subscriptions --------------------------------------------------------------
  const push = (fn: 'writer' | 'distributor', t: TfRef, dead: TfRef, subscription: string) => {
    const sub = tf.resource('google_pubsub_subscription', `${fn}_push`, {
      project,
      name: subscription,
      topic: t.attr('id'),
      // The next message of an ordering key is pushed only after this one was answered 2xx.
      enable_message_ordering: true,
      ack_deadline_seconds: Math.min(600, timeout + 10),
      message_retention_duration: '604800s',
      expiration_policy: { ttl: '' },
      retry_policy: { minimum_backoff: '1s', maximum_backoff: '10s' },
      dead_letter_policy: {
        dead_letter_topic: dead.attr('id'),
        max_delivery_attempts: options.maxDeliveryAttempts ?? 100,
      },
      push_config: {
        push_endpoint: url(fn),
        oidc_token: { service_account_email: sa.invoker.attr('email'), audience: url(fn) },
      },
      depends_on: [invokers[fn].address, tokenGrant.address, ...deadLetterGrants],
    } satisfies TfBody);
    tf.resource('google_pubsub_subscription_iam_member', `pubsub_agent_${fn}_push`, {
      project,
      subscription: sub.attr('name'),
      role: 'roles/pubsub.subscriber',
      member: pubsubAgent,
    });
    return sub;
  };
  push('writer', writerTopic, writerDead, names.writerPushSubscription);
  push('distributor', distributorTopic, distributorDead, names.distributorPushSubscription);

  // --- heartbeat schedule ----------------------------------------------------------------------
  tf.resource('google_cloud_scheduler_job', 'heartbeat', {
    project,
    region,
    name: names.schedulerJob,
    description: `FaaSKeeper ${deployment}: expires sessions and TTL nodes`,
    schedule: options.heartbeatSchedule ?? '* * * * *',
    time_zone: 'Etc/UTC',
    attempt_deadline: `${timeout}s`,
    // The next tick is the retry.
    retry_config: { retry_count: 0 },
    http_target: {
      http_method: 'POST',
      uri: url('heartbeat'),
      oidc_token: { service_account_email: sa.scheduler.attr('email'), audience: url('heartbeat') },
    },
    depends_on: [invokers.heartbeat.address],
  });

  // --- outputs ---------------------------------------------------------------------------------
  const O = TERRAFORM_OUTPUTS;
  tf.output(O.deployment, deployment, 'Deployment name');
  tf.output(O.project, project, 'Project');
  tf.output(O.region, region, 'Region');
  tf.output(O.database, databaseId, 'Firestore database in Datastore mode (the system store)');
  tf.output(
    O.userStore,
    userStore,
    'Where node records live: gcs (the data bucket) or datastore (the database)',
  );
  if (dataBucket !== undefined)
    tf.output(O.dataBucket, dataBucket.attr('name'), 'Cloud Storage bucket of the user store');
  tf.output(O.clientServiceAccount, sa.client.attr('email'), 'Service account to run clients as');
  tf.output(O.writerTopic, writerTopic.attr('name'), 'Writer topic (clients publish requests here)');
  tf.output(O.writerDeadLetterTopic, writerDead.attr('name'), 'Dead letters of the writer topic');
  tf.output(
    O.distributorDeadLetterTopic,
    distributorDead.attr('name'),
    'Dead letters of the distributor topic',
  );
  return tf.json;
}

/** The names a configuration uses (re-exported for tests and the CLI). */
export type { GcpDeploymentNames };

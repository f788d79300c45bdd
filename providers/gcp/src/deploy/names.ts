import { protectedBucketOf, resourceNames, subscriptionNames } from '../deployment.js';

/**
 * A deployment name: 1-20 lower-case letters, digits or `-`, starting and ending with a letter or
 * digit (the same rule as on AWS). Short enough that every derived name fits GCP's limits: service
 * account ids (6-30 characters), bucket names (63), custom role ids (64).
 */
export const GCP_DEPLOYMENT_NAME = /^[a-z0-9](?:[a-z0-9-]{0,18}[a-z0-9])?$/;

/** The functions of a deployment; each is also the functions-framework entry point it runs. */
export const GCP_FUNCTION_NAMES = ['writer', 'distributor', 'heartbeat'] as const;
/** One of {@link GCP_FUNCTION_NAMES}. */
export type GcpFunctionName = (typeof GCP_FUNCTION_NAMES)[number];

/** The service accounts of a deployment (one per function, plus the callers and the clients). */
export const SERVICE_ACCOUNT_ROLES = [
  'writer',
  'distributor',
  'heartbeat',
  'client',
  'invoker',
  'scheduler',
  'build',
] as const;
/** One of {@link SERVICE_ACCOUNT_ROLES}. */
export type ServiceAccountRole = (typeof SERVICE_ACCOUNT_ROLES)[number];

// Service account ids are at most 30 characters: `fk-<20>-<3>` is 27.
const SA_SUFFIX: Record<ServiceAccountRole, string> = {
  writer: 'wr',
  distributor: 'ds',
  heartbeat: 'hb',
  client: 'cl',
  invoker: 'inv',
  scheduler: 'sch',
  build: 'bld',
};

/**
 * The Terraform resource (`random_id.<name>`) of the secret suffix of the deployment's fixed
 * subscriptions, and its size: 16 bytes (128 bits), written as 32 lower-case hex digits.
 */
export const SUBSCRIPTION_SUFFIX_RESOURCE = 'subscription_suffix';
/** Bytes of randomness in the subscription suffix (see {@link SUBSCRIPTION_SUFFIX_RESOURCE}). */
export const SUBSCRIPTION_SUFFIX_BYTES = 16;
/** The interpolation of the suffix in the Terraform configuration. */
export const SUBSCRIPTION_SUFFIX_REF = `\${random_id.${SUBSCRIPTION_SUFFIX_RESOURCE}.hex}`;

/**
 * Every cloud name of a deployment, in one place so that the Terraform configuration, the functions
 * (through their environment) and the clients (through the client configuration) agree. Topic and
 * namespace names come from {@link resourceNames}, which the adapters use. The fixed subscriptions
 * carry `subscriptionSuffix` (default: the Terraform interpolation of the random suffix, which only
 * the state and the heartbeat's environment hold), since every client may consume any subscription
 * whose name it knows.
 */
export function gcpDeploymentNames(
  deployment: string,
  project: string,
  subscriptionSuffix: string = SUBSCRIPTION_SUFFIX_REF,
) {
  if (!GCP_DEPLOYMENT_NAME.test(deployment))
    throw new Error(`deployment name '${deployment}' must be 1-20 lower-case letters, digits or '-'`);
  const base = resourceNames(deployment);
  const prefix = base.namespace; // fk-<deployment>
  const roleBase = prefix.replaceAll('-', '_');
  const subscriptions = subscriptionNames(deployment, subscriptionSuffix);
  return {
    ...base,
    /** Dead-letter topics of the two queues. */
    writerDeadLetterTopic: `${base.writerTopic}-dead`,
    distributorDeadLetterTopic: `${base.distributorTopic}-dead`,
    /** The ordered push subscriptions that invoke the functions (secret suffix). */
    writerPushSubscription: subscriptions.writerPush,
    distributorPushSubscription: subscriptions.distributorPush,
    /** Pull subscriptions that keep dead-lettered messages (a topic without one drops them; secret suffix). */
    writerDeadLetterSubscription: subscriptions.writerDeadLetter,
    distributorDeadLetterSubscription: subscriptions.distributorDeadLetter,
    /** The heartbeat's pull subscription of the lease topic (secret suffix). */
    leaseSubscription: subscriptions.lease,
    /** Per-session channel topics and subscriptions are `<channelPrefix>-session-<id>`. */
    sessionPrefix: `${base.channelPrefix}-session-`,
    /** The dedicated Firestore database in Datastore mode. */
    database: prefix,
    /** Bucket names are global: the project id keeps them unique. */
    dataBucket: `${project}-${prefix}-data`,
    /** The GCS user store's protected zone (see `protectedBucketOf`): only the functions may read it. */
    protectedBucket: protectedBucketOf(`${project}-${prefix}-data`),
    sourceBucket: `${project}-${prefix}-sources`,
    /** Artifact Registry repository of the functions' container images. */
    repository: `${prefix}-functions`,
    functions: {
      writer: `${prefix}-writer`,
      distributor: `${prefix}-distributor`,
      heartbeat: `${prefix}-heartbeat`,
    } satisfies Record<GcpFunctionName, string>,
    schedulerJob: `${prefix}-heartbeat`,
    serviceAccountIds: Object.fromEntries(
      SERVICE_ACCOUNT_ROLES.map((role) => [role, `${prefix}-${SA_SUFFIX[role]}`]),
    ) as Record<ServiceAccountRole, string>,
    /** Custom roles (ids allow no `-`). */
    channelClientRole: `${roleBase}_channel_client`,
    channelDistributorRole: `${roleBase}_channel_distributor`,
    channelReaperRole: `${roleBase}_channel_reaper`,
  };
}

/** What {@link gcpDeploymentNames} returns. */
export type GcpDeploymentNames = ReturnType<typeof gcpDeploymentNames>;

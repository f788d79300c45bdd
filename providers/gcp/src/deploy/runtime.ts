import type { GcpDeploymentConfig } from '../deployment.js';
import { configFromEnvironment } from '../functions/gcp-functions.js';
import { GCP_USER_STORES, type GcpUserStoreKind } from './configuration.js';

/**
 * The configuration of a function deployed by `faaskeeper deploy gcp`, from the environment the
 * Terraform configuration sets: `configFromEnvironment` plus the dedicated database
 * (`FAASKEEPER_DATABASE`), the user store it names (`FAASKEEPER_USER_STORE`: `gcs` with
 * `FAASKEEPER_BUCKET`, or `datastore`), and no topic creation — Terraform made the topics, and the
 * functions' service accounts may only publish to them.
 * @throws Error when the user store named and the bucket variable disagree.
 */
export function deployedFunctionConfig(env: NodeJS.ProcessEnv = process.env): GcpDeploymentConfig {
  const { userStore, ...config } = configFromEnvironment(env);
  const projectId = env.GOOGLE_CLOUD_PROJECT ?? env.GCLOUD_PROJECT;
  const databaseId = env.FAASKEEPER_DATABASE;
  const kind = env.FAASKEEPER_USER_STORE;
  if (kind !== undefined && !(GCP_USER_STORES as readonly string[]).includes(kind))
    throw new Error(`FAASKEEPER_USER_STORE must be one of ${GCP_USER_STORES.join(', ')} (got '${kind}')`);
  // Named explicitly, a missing bucket fails here instead of opening the other store.
  if ((kind as GcpUserStoreKind | undefined) === 'gcs' && userStore?.type !== 'gcs')
    throw new Error('FAASKEEPER_USER_STORE is gcs but FAASKEEPER_BUCKET is not set');
  if ((kind as GcpUserStoreKind | undefined) === 'datastore' && userStore?.type === 'gcs')
    throw new Error('FAASKEEPER_USER_STORE is datastore but FAASKEEPER_BUCKET is set');
  const datastore = {
    ...(projectId === undefined ? {} : { projectId }),
    ...(databaseId ? { databaseId } : {}),
  };
  return {
    ...config,
    datastore,
    ...(userStore !== undefined ? { userStore } : { userStore: { type: 'datastore' as const } }),
    createTopics: false,
  };
}

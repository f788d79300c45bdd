import type { GcpDeploymentConfig } from '../deployment.js';
import { configFromEnvironment } from '../functions/gcp-functions.js';

/**
 * The configuration of a function deployed by `faaskeeper deploy gcp`, from the environment the
 * Terraform configuration sets: `configFromEnvironment` plus the dedicated database
 * (`FAASKEEPER_DATABASE`), and no topic creation — Terraform made the topics, and the functions'
 * service accounts may only publish to them.
 */
export function deployedFunctionConfig(env: NodeJS.ProcessEnv = process.env): GcpDeploymentConfig {
  const config = configFromEnvironment(env);
  const projectId = env.GOOGLE_CLOUD_PROJECT ?? env.GCLOUD_PROJECT;
  const databaseId = env.FAASKEEPER_DATABASE;
  return {
    ...config,
    datastore: {
      ...(projectId === undefined ? {} : { projectId }),
      ...(databaseId ? { databaseId } : {}),
    },
    createTopics: false,
  };
}

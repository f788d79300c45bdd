/**
 * @faaskeeper/aws/local — the local AWS stack (DynamoDB Local and fauxqs on 127.0.0.1) and a
 * FaaSKeeper deployment on it, for tests and `faaskeeper dev`.
 * @packageDocumentation
 */
export { ClientLink } from '@faaskeeper/core';
export {
  type BatchingAwsDeployment,
  createBatchingAwsDeployment,
  HoldableQueue,
  type MeteredBatch,
} from './held-pollers.js';
export {
  createLocalAwsDeployment,
  type LocalAwsDeployment,
  type LocalAwsDeploymentOptions,
} from './local-deployment.js';
export {
  type LocalAwsEndpoints,
  type LocalAwsStack,
  type LocalAwsStackOptions,
  localAwsStackMissing,
  startLocalAwsStack,
} from './local-stack.js';
export { destroyAwsDeployment, provisionAwsDeployment, queueUrlOf } from './provision.js';
export { localAwsTarget } from './target.js';

/**
 * @faaskeeper/aws/deploy — FaaSKeeper on AWS as infrastructure as code (AWS CDK v2): the stack,
 * its synthesis into a CloudFormation template, and deploy/destroy through the CDK toolkit library.
 * @packageDocumentation
 */
export {
  AUTH_FIELDS,
  type AuthField,
  type AuthSecretReference,
  type AuthSecretStore,
  authFieldsOf,
  authSecretName,
  authSecretString,
  type DeploymentAuthValues,
  removeAuthSecret,
  type SecretsManagerTarget,
  secretsManagerStore,
  storeAuthSecret,
} from './auth-secret.js';
export { bundleFunctions, bundleTarget, FUNCTION_NAMES, type FunctionName } from './bundle.js';
export {
  AwsCredentialsError,
  type AwsTarget,
  clientConfigFromOutputs,
  clientConfigPath,
  type DeployAwsOptions,
  type DeployAwsResult,
  type DeployLog,
  type DestroyAwsOptions,
  deployAws,
  deployToolkit,
  destroyAws,
  resolveAccount,
  stackSelector,
  type ToolkitLib,
  writeClientConfig,
} from './deploy.js';
export { DEFAULT_LAMBDA_RUNTIME, LAMBDA_RUNTIMES, type LambdaRuntime } from './runtime.js';
export {
  BUCKET_PREFIXES,
  clientStatements,
  DEPLOYMENT_NAME,
  FaaSKeeperStack,
  type FaaSKeeperStackProps,
  STACK_OUTPUTS,
} from './stack.js';
export { type Synthesized, type SynthesizeOptions, stackNameOf, synthesizeAws } from './synth.js';

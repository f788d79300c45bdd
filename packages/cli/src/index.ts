/**
 * faaskeeper — the CLI of FaaSKeeper: a zkCli-style shell and a guided demo. The modules are
 * exported so that other tools (and tests) can drive the shell without a terminal.
 * @packageDocumentation
 */

export {
  authFlags,
  type DeploymentAuth,
  deploymentAuth,
  GATEWAY_KEY_ENV,
  MIN_GATEWAY_KEY_LENGTH,
  readGatewayKey,
  superDigestProblem,
} from './auth-options.js';
export { type AwsDeployFlags, type DeployVerb, declareAwsCommand, runAwsDeploy } from './aws-deploy.js';
export { type DemoOptions, runDemo } from './demo.js';
export {
  ConfigError,
  type Deployment,
  type DeploymentConfig,
  openDeployment,
  PROVIDERS,
  readConfig,
} from './deployment.js';
export { type DevFlags, type DevOptions, declareDevCommand, runDev, runDevCommand } from './dev.js';
export { type DigestFlags, declareDigestCommand, runDigestCommand } from './digest.js';
export {
  declareGatewayCommand,
  type GatewayFlags,
  type RunGatewayOptions,
  runGateway,
  runGatewayCommand,
} from './gateway.js';
export {
  declareGcpCommand,
  type GcpDeployDependencies,
  type GcpDeployFlags,
  runGcpDeploy,
} from './gcp-deploy.js';
export { type Cli, type CliDependencies, type CliStreams, commandsOf, createCli, main } from './main.js';
export {
  COMMAND_NAMES,
  ExitCode,
  formatEvent,
  formatStat,
  Shell,
  type ShellOutput,
  shellHelp,
  UsageError,
  worse,
} from './shell/commands.js';
export { complete } from './shell/completer.js';
export { runShell, type ShellStreams } from './shell/run-shell.js';
export { type CommandLine, TokenizeError, tokenize } from './shell/tokenize.js';
export { cliVersion } from './version.js';

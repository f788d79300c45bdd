/**
 * faaskeeper — the CLI of FaaSKeeper: a zkCli-style shell and a guided demo. The modules are
 * exported so that other tools (and tests) can drive the shell without a terminal.
 * @packageDocumentation
 */
export { DEPLOY_USAGE, deployHelp, runDeployCommand } from './aws-deploy.js';
export { type DemoOptions, runDemo } from './demo.js';
export {
  ConfigError,
  type Deployment,
  type DeploymentConfig,
  openDeployment,
  PROVIDERS,
  readConfig,
} from './deployment.js';
export { DEV_USAGE, type DevOptions, devHelp, runDev, runDevCommand } from './dev.js';
export {
  GATEWAY_USAGE,
  gatewayHelp,
  type RunGatewayOptions,
  runGateway,
  runGatewayCommand,
} from './gateway.js';
export { type CliStreams, cliHelp, main } from './main.js';
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

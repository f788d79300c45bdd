import { existsSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { InvalidArgumentError, Option } from 'commander';
import { UsageError } from './shell/commands.js';

/**
 * Deployment names, for `dev`, `synth`, `deploy` and `destroy` alike: 1-20 lower-case letters,
 * digits or `-`, starting and ending with a letter or digit. The providers derive bucket, table,
 * queue and service-account names from them and hold the same rule (a test pins them equal); the
 * CLI checks it before it loads a provider.
 */
export const DEPLOYMENT_NAME = /^[a-z0-9](?:[a-z0-9-]{0,18}[a-z0-9])?$/;

/** Why a deployment name is refused (the rule, in words). */
export const deploymentNameRule = (name: string): string =>
  `deployment name '${name}' must be 1-20 lower-case letters, digits or '-', starting and ending with a letter or digit`;

/**
 * The `--deployment <name>` option of `dev`, `synth`, `deploy` and `destroy`: one declaration, so
 * a name one command refuses no other accepts (a usage error, exit code 2, before anything runs).
 */
export function deploymentOption(defaultName: string): Option {
  return new Option('--deployment <name>', '1-20 lower-case letters, digits or "-"')
    .default(defaultName)
    .argParser((name: string) => {
      if (!DEPLOYMENT_NAME.test(name)) throw new InvalidArgumentError(deploymentNameRule(name));
      return name;
    });
}

/**
 * Checks a path the user named for output: its parent directory must exist. The CLI creates the
 * named file or directory itself, never directories above it — a mistyped `--config-out
 * /nonexistent/x.json` is refused instead of creating `/nonexistent`.
 * @throws UsageError naming the option and the missing directory.
 */
export function requireParentDirectory(path: string, option: string): void {
  const parent = dirname(resolve(path));
  if (!existsSync(parent))
    throw new UsageError(`${option} ${path}: the directory ${parent} does not exist (create it first)`);
  if (!statSync(parent).isDirectory())
    throw new UsageError(`${option} ${path}: ${parent} is not a directory`);
}

/**
 * Silences the AWS SDK's Node-version warning (`NodeVersionSupportWarning`, eight lines on every
 * AWS command under Node 20) with the SDK's documented switch, unless the user set it. The CLI pins
 * its SDK versions, which support Node 20; the warning is about later SDK releases, which this CLI
 * does not load, so a user cannot act on it (docs/cli.md, "Node versions"). Call it before the
 * first SDK client is made: the SDK checks once, at client construction.
 */
export function quietAwsSdk(env: NodeJS.ProcessEnv = process.env): void {
  env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
}

/** Whether a stream is a terminal: tools get `-no-color` and plain progress when it is not. */
export function isTerminal(stream: unknown): boolean {
  return (stream as { isTTY?: boolean }).isTTY === true;
}

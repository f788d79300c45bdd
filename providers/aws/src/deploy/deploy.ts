import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { AwsDeploymentConfig } from '../config.js';
import {
  type AuthSecretStore,
  authFieldsOf,
  authSecretName,
  removeAuthSecret,
  secretsManagerStore,
  storeAuthSecret,
} from './auth-secret.js';
import { STACK_OUTPUTS } from './stack.js';
import { type Synthesized, type SynthesizeOptions, stackNameOf, synthesizeAws } from './synth.js';

/** The deployment could not reach AWS: no credentials, a missing profile, or no answer in time. */
export class AwsCredentialsError extends Error {
  override readonly name = 'AwsCredentialsError';
}

/**
 * Receives what a deploy or destroy is doing, as it happens: the steps of this package and the
 * CDK toolkit's messages (stack events included). Omitted, the toolkit prints to the process's
 * own streams.
 */
export type DeployLog = (level: 'error' | 'warn' | 'info', text: string) => void;

/** Where to deploy, as whom. */
export interface AwsTarget {
  region: string;
  /** A profile of `~/.aws/config`; default: the SDK's default chain (`AWS_PROFILE`, env keys, …). */
  profile?: string;
  /** How long resolving credentials and the account may take. Default 15 s. */
  credentialTimeoutMs?: number;
  /** Progress: the steps and the toolkit's messages (see {@link DeployLog}). */
  log?: DeployLog;
  /** Whether the toolkit's messages may carry ANSI colors. Default: when `log` is given, false. */
  color?: boolean;
}

/**
 * Resolves the account the credentials belong to (STS GetCallerIdentity) — the fail-fast check
 * before anything is synthesized or deployed.
 * @throws AwsCredentialsError when there are no usable credentials or AWS does not answer in time.
 */
export async function resolveAccount(target: AwsTarget): Promise<string> {
  const { GetCallerIdentityCommand, STSClient } = await import('@aws-sdk/client-sts');
  const timeoutMs = target.credentialTimeoutMs ?? 15_000;
  const sts = new STSClient({
    region: target.region,
    maxAttempts: 1,
    ...(target.profile === undefined ? {} : { profile: target.profile }),
  });
  const abort = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const who = target.profile === undefined ? 'the default credentials' : `profile '${target.profile}'`;
  try {
    // The timer also bounds credential resolution (the instance metadata probe can take long).
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        abort.abort();
        reject(
          new AwsCredentialsError(
            `AWS did not answer within ${timeoutMs} ms with ${who} in ${target.region} (check your network and credentials)`,
          ),
        );
      }, timeoutMs);
    });
    const out = await Promise.race([
      sts.send(new GetCallerIdentityCommand({}), { abortSignal: abort.signal }),
      timeout,
    ]);
    if (out.Account === undefined) throw new AwsCredentialsError('STS GetCallerIdentity returned no account');
    return out.Account;
  } catch (error) {
    if (error instanceof AwsCredentialsError) throw error;
    throw new AwsCredentialsError(
      `no usable AWS credentials (${who}): ${(error as Error).message}. ` +
        'Configure credentials (aws configure, AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY) and retry.',
    );
  } finally {
    clearTimeout(timer);
    sts.destroy();
  }
}

/** Options of {@link deployAws}. */
export interface DeployAwsOptions extends Omit<SynthesizeOptions, 'account' | 'region'>, AwsTarget {
  /** Bootstrap the account and region for the CDK first (once per account and region). */
  bootstrap?: boolean;
  /** Directory of the client configuration files. Default `.faaskeeper`. */
  configDir?: string;
}

/** What a deploy produced. */
export interface DeployAwsResult {
  account: string;
  stackName: string;
  /** The deployment's configuration (what `connect()` takes as `config`). */
  config: AwsDeploymentConfig;
  /** Where it was written. */
  configPath: string;
  /** The managed policy to attach to the principals that run clients. */
  clientPolicyArn: string | undefined;
}

/** The client configuration file of a deployment. */
export function clientConfigPath(deployment: string, configDir = '.faaskeeper'): string {
  return resolve(join(configDir, `${deployment}.aws.json`));
}

/** The client configuration from a deployed stack's outputs. */
export function clientConfigFromOutputs(
  deployment: string,
  region: string,
  outputs: Record<string, string>,
): AwsDeploymentConfig {
  const need = (key: keyof typeof STACK_OUTPUTS) => {
    const value = outputs[STACK_OUTPUTS[key]];
    if (value === undefined) throw new Error(`the stack has no output ${STACK_OUTPUTS[key]}`);
    return value;
  };
  const userTable = outputs[STACK_OUTPUTS.userTable];
  return {
    deployment,
    region,
    systemTable: need('systemTable'),
    bucket: need('bucket'),
    ...(userTable === undefined
      ? { userStore: 's3' as const }
      : { userStore: 'dynamodb' as const, userTable }),
    writerQueueUrl: need('writerQueueUrl'),
    distributorQueueUrl: need('distributorQueueUrl'),
    channelPrefix: need('channelPrefix'),
  };
}

/**
 * Writes a client configuration file: `{ "provider": "aws", deployment, region, config }` — the
 * options `connect()` takes (leave out `provider`), and what `faaskeeper shell --config` reads.
 */
export async function writeClientConfig(path: string, config: AwsDeploymentConfig): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const file = { provider: 'aws', deployment: config.deployment, region: config.region, config };
  await writeFile(path, `${JSON.stringify(file, null, 2)}\n`);
}

/** The CDK toolkit library (loaded on demand: only deploy and destroy need it). */
export type ToolkitLib = typeof import('@aws-cdk/toolkit-lib');

/** The toolkit's selection of exactly one stack (an error when the assembly lacks it). */
export function stackSelector(toolkit: ToolkitLib, stackName: string) {
  return { strategy: toolkit.StackSelectionStrategy.PATTERN_MUST_MATCH, patterns: [stackName] };
}

/** The toolkit's message levels a {@link DeployLog} gets (what its own console host prints by default). */
const SHOWN_LEVELS = { error: 'error', warn: 'warn', info: 'info', result: 'info' } as const;

/**
 * The CDK toolkit (loaded on demand) with the credentials of `profile`; with `log`, its messages go
 * there (error, warning, info and results; not debug or trace) instead of the process's streams.
 */
export async function deployToolkit(target: {
  profile: string | undefined;
  log: DeployLog | undefined;
  color: boolean | undefined;
}) {
  const { profile, log, color } = target;
  const toolkit = await import('@aws-cdk/toolkit-lib');
  const show = (message: { level: string; message: string }) => {
    const level = SHOWN_LEVELS[message.level as keyof typeof SHOWN_LEVELS];
    if (level !== undefined && log !== undefined) log(level, message.message.replace(/\n+$/, ''));
  };
  const kit = new toolkit.Toolkit({
    sdkConfig: {
      baseCredentials: toolkit.BaseCredentials.awsCliCompatible(profile === undefined ? {} : { profile }),
    },
    ...(log === undefined
      ? {}
      : {
          color: color ?? false,
          // Nobody to ask: a request (such as approving security changes) is shown and answered
          // with its default, as the toolkit's own non-interactive host does.
          ioHost: {
            notify: async (message) => show(message),
            requestResponse: async (request) => {
              show(request);
              return request.defaultResponse;
            },
          },
        }),
  });
  return { toolkit, kit };
}

/**
 * Deploys a FaaSKeeper stack with the CDK toolkit library: checks credentials (fails fast),
 * stores the super digest and gateway key (if any) in the Secrets Manager secret
 * `faaskeeper-<deployment>-auth` (the template only refers to it), synthesizes, optionally
 * bootstraps, deploys, and writes the client configuration. Without either value, a secret left by
 * an earlier deploy is deleted once the stack no longer refers to it.
 * @throws AwsCredentialsError without usable credentials.
 */
export async function deployAws(options: DeployAwsOptions): Promise<DeployAwsResult> {
  const { region, profile, credentialTimeoutMs, bootstrap, configDir, log, color, ...synth } = options;
  const step = (text: string) => log?.('info', text);
  step(
    `Checking the AWS credentials (${profile === undefined ? 'the default chain' : `profile ${profile}`}) ...`,
  );
  const account = await resolveAccount({
    region,
    ...(profile === undefined ? {} : { profile }),
    ...(credentialTimeoutMs === undefined ? {} : { credentialTimeoutMs }),
  });
  // The auth values go to Secrets Manager, never into the template: the stack refers to the
  // version stored here, and CloudFormation resolves it into the functions' environment.
  const secrets = await secretsManagerStore({ region, ...(profile === undefined ? {} : { profile }) });
  try {
    const values = {
      ...(synth.superDigest === undefined ? {} : { superDigest: synth.superDigest }),
      ...(synth.gatewayKey === undefined ? {} : { gatewayKey: synth.gatewayKey }),
    };
    const secretName = authSecretName(synth.deployment);
    if (authFieldsOf(values).length > 0)
      step(`Storing the super digest / gateway key in secret ${secretName} ...`);
    const auth = await storeAuthSecret(secrets, synth.deployment, values);
    step(`Account ${account}, region ${region}. Bundling the functions and synthesizing the stack ...`);
    const synthesized = await synthesizeAws({
      ...synth,
      account,
      region,
      ...(auth?.versionId === undefined ? {} : { authSecretVersionId: auth.versionId }),
    });
    const result = await deploySynthesized(synthesized, {
      account,
      region,
      profile,
      bootstrap,
      configDir,
      log,
      color,
    });
    // Deleted only now: until the update succeeded, the deployed stack (or its rollback) may
    // still refer to the secret of an earlier deploy with auth values.
    if (auth === undefined) await removeLeftSecret(secrets, synth.deployment, log);
    return result;
  } finally {
    secrets.close();
  }
}

/** The CDK deploy of a synthesized stack, and the client configuration from its outputs. */
async function deploySynthesized(
  synthesized: Synthesized,
  target: {
    account: string;
    region: string;
    profile: string | undefined;
    bootstrap: boolean | undefined;
    configDir: string | undefined;
    log: DeployLog | undefined;
    color: boolean | undefined;
  },
): Promise<DeployAwsResult> {
  const { account, region, profile, bootstrap, configDir, log, color } = target;
  const step = (text: string) => log?.('info', text);
  const deployment = synthesized.deployment;
  const { toolkit, kit } = await deployToolkit({ profile, log, color });
  if (bootstrap === true) {
    step(`Bootstrapping aws://${account}/${region} for the CDK ...`);
    await kit.bootstrap(toolkit.BootstrapEnvironments.fromList([`aws://${account}/${region}`]));
  }
  step(`Deploying stack ${synthesized.stackName} (a first deploy takes a few minutes) ...`);
  const cx = await kit.fromAssemblyDirectory(synthesized.assemblyDir);
  const result = await kit.deploy(cx, {
    stacks: {
      strategy: toolkit.StackSelectionStrategy.PATTERN_MUST_MATCH,
      patterns: [synthesized.stackName],
    },
  });
  const deployed = result.stacks.find((s) => s.stackName === synthesized.stackName) ?? result.stacks[0];
  if (deployed === undefined) throw new Error(`the toolkit deployed no stack ${synthesized.stackName}`);
  const config = clientConfigFromOutputs(deployment, region, deployed.outputs);
  const configPath = clientConfigPath(deployment, configDir);
  await writeClientConfig(configPath, config);
  return {
    account,
    stackName: synthesized.stackName,
    config,
    configPath,
    clientPolicyArn: deployed.outputs[STACK_OUTPUTS.clientPolicyArn],
  };
}

/** Options of {@link destroyAws}. */
export interface DestroyAwsOptions extends AwsTarget {
  deployment: string;
  /** Where the cloud assembly goes. Default `.faaskeeper/cdk.out/<deployment>`. */
  outDir?: string;
}

/**
 * Deletes a deployment's stack (queues, functions, roles, schedule) and its auth secret. The
 * system-store table and the bucket are retained: they hold the data, and a retained table can be
 * restored.
 * @throws AwsCredentialsError without usable credentials.
 */
export async function destroyAws(
  options: DestroyAwsOptions,
): Promise<{ account: string; stackName: string }> {
  const { region, profile, credentialTimeoutMs, deployment, outDir, log, color } = options;
  const step = (text: string) => log?.('info', text);
  step(
    `Checking the AWS credentials (${profile === undefined ? 'the default chain' : `profile ${profile}`}) ...`,
  );
  const account = await resolveAccount({
    region,
    ...(profile === undefined ? {} : { profile }),
    ...(credentialTimeoutMs === undefined ? {} : { credentialTimeoutMs }),
  });
  const synthesized = await synthesizeAws({
    deployment,
    account,
    region,
    ...(outDir === undefined ? {} : { outDir }),
  });
  const { toolkit, kit } = await deployToolkit({ profile, log, color });
  step(`Deleting stack ${synthesized.stackName} in ${account}/${region} ...`);
  const cx = await kit.fromAssemblyDirectory(synthesized.assemblyDir);
  await kit.destroy(cx, {
    stacks: {
      strategy: toolkit.StackSelectionStrategy.PATTERN_MUST_MATCH,
      patterns: [synthesized.stackName],
    },
  });
  // Not a resource of the stack (its value would be in the template): deleted here, at once,
  // since its values live on in the operator's key file and --super-digest.
  step(`Deleting secret ${authSecretName(deployment)} (if any) ...`);
  const secrets = await secretsManagerStore({ region, ...(profile === undefined ? {} : { profile }) });
  try {
    await removeLeftSecret(secrets, deployment, log);
  } finally {
    secrets.close();
  }
  return { account, stackName: stackNameOf(deployment) };
}

/**
 * Deletes the deployment's auth secret once no stack refers to it. The stack is deployed (or
 * deleted) by then, so a failure here (credentials without Secrets Manager permissions, most
 * likely, for a deployment that never had auth values) does not fail the command: it is logged
 * as a warning naming the secret, which may still hold a key, so that it is deleted by hand.
 */
async function removeLeftSecret(
  secrets: AuthSecretStore,
  deployment: string,
  log: DeployLog | undefined,
): Promise<void> {
  try {
    await removeAuthSecret(secrets, deployment);
  } catch (error) {
    const message = `could not delete secret ${authSecretName(deployment)} (delete it if it exists: it may hold a super digest or gateway key): ${(error as Error).message}`;
    if (log === undefined) console.warn(`Warning: ${message}`);
    else log('warn', `Warning: ${message}`);
  }
}

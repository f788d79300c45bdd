import { type Command, Option } from 'commander';
import {
  authFlags,
  deploymentAuth,
  gatewayKeyFileOption,
  heldAuth,
  superDigestOption,
} from './auth-options.js';
import { deploymentOption, isTerminal, quietAwsSdk, requireParentDirectory } from './command-options.js';
import type { CliStreams } from './main.js';
import { importForCommand } from './optional-import.js';
import { ExitCode, UsageError } from './shell/commands.js';

/** The deployment commands: `synth`, `deploy` and `destroy`, each with an `aws` and a `gcp` provider. */
export type DeployVerb = 'deploy' | 'synth' | 'destroy';

/** The options of `faaskeeper <verb> aws`, as the CLI's declaration parses them. */
export interface AwsDeployFlags {
  deployment: string;
  region?: string;
  profile?: string;
  out?: string;
  userStore?: 's3' | 'dynamodb';
  runtime?: AwsRuntime;
  bootstrap?: boolean;
  dryRun?: boolean;
  superDigest?: string;
  gatewayKeyFile?: string;
}

/**
 * The Lambda runtimes `--runtime` offers: the provider's `LAMBDA_RUNTIMES` (a test pins them equal;
 * the declaration cannot load the provider, an optional dependency).
 */
export const AWS_RUNTIMES = ['nodejs20.x', 'nodejs22.x', 'nodejs24.x'] as const;
/** One of {@link AWS_RUNTIMES}. */
export type AwsRuntime = (typeof AWS_RUNTIMES)[number];

/** Which verbs take which option: one declaration, from which usage, help and unknown-option errors come. */
const AWS_OPTIONS: { verbs: readonly DeployVerb[]; option: () => Option }[] = [
  {
    verbs: ['deploy', 'synth', 'destroy'],
    option: () => deploymentOption('default'),
  },
  {
    verbs: ['deploy', 'synth', 'destroy'],
    option: () =>
      new Option('--region <region>', 'the AWS region (default: AWS_REGION or AWS_DEFAULT_REGION)'),
  },
  {
    verbs: ['deploy', 'destroy'],
    option: () =>
      new Option('--profile <profile>', 'a profile of ~/.aws/config (default: the SDK default chain)'),
  },
  {
    verbs: ['deploy', 'synth'],
    option: () =>
      new Option(
        '--user-store <kind>',
        'where node records live: dynamodb (default: cheaper for every operation at small node sizes; records over 8 KiB go to S3) or s3',
      ).choices(['s3', 'dynamodb']),
  },
  {
    verbs: ['deploy', 'synth'],
    option: () =>
      new Option(
        '--runtime <runtime>',
        'the Lambda runtime of the functions (default nodejs22.x; nodejs20.x is deprecated since 2026-04-30)',
      ).choices(AWS_RUNTIMES),
  },
  {
    verbs: ['deploy', 'synth'],
    option: () =>
      superDigestOption(
        "kept in the Secrets Manager secret faaskeeper-<deployment>-auth, resolved into the writer's and distributor's environment (FAASKEEPER_SUPER_DIGEST)",
      ),
  },
  {
    verbs: ['deploy', 'synth'],
    option: () =>
      gatewayKeyFileOption(
        'gateways fronting the deployment attest client addresses with it (ip ACLs); kept in the Secrets Manager secret faaskeeper-<deployment>-auth, the template only refers to it',
      ),
  },
  {
    verbs: ['deploy'],
    option: () =>
      new Option('--bootstrap', 'run CDK bootstrap for the account and region first (once per region)'),
  },
  {
    verbs: ['deploy'],
    option: () => new Option('--dry-run', 'write the CloudFormation template only (as synth)'),
  },
  {
    verbs: ['deploy', 'synth'],
    option: () =>
      new Option('--out <dir>', 'the cloud assembly directory (default .faaskeeper/cdk.out/<deployment>)'),
  },
];

const AWS_DESCRIPTIONS: Record<DeployVerb, { summary: string; description: string }> = {
  deploy: {
    summary: 'deploy to AWS with the CDK; writes the client configuration',
    description:
      'Synthesizes the AWS CDK stack (DynamoDB table, S3 bucket, SQS FIFO queues with dead-letter queues, the writer/distributor/heartbeat Lambda functions, their schedule and least-privilege IAM) and deploys it with the CDK toolkit; then writes the client configuration to .faaskeeper/<deployment>.aws.json. Needs AWS credentials.',
  },
  synth: {
    summary: 'write the CloudFormation template only (no credentials needed)',
    description:
      'Writes the CloudFormation template of the AWS CDK stack and its cloud assembly; no credentials needed (as deploy aws --dry-run).',
  },
  destroy: {
    summary: 'delete the stack (the table and bucket are retained)',
    description: 'Deletes the stack; the table and bucket are retained (they hold the data).',
  },
};

/** Declares `faaskeeper <verb> aws` (its options parse to {@link AwsDeployFlags}) under the verb's command. */
export function declareAwsCommand(parent: Command, verb: DeployVerb): Command {
  const command = parent
    .command('aws')
    .summary(AWS_DESCRIPTIONS[verb].summary)
    .description(AWS_DESCRIPTIONS[verb].description);
  for (const { verbs, option } of AWS_OPTIONS) if (verbs.includes(verb)) command.addOption(option());
  return command;
}

/**
 * `faaskeeper deploy aws`, `faaskeeper synth aws` and `faaskeeper destroy aws` with their parsed
 * options. Resolves the exit code: 0 done, 1 failed (no credentials, a CloudFormation error), 2 usage
 * error.
 * @throws UsageError when no region is given or set in the environment, or `--out` names a
 * directory whose parent does not exist (the CLI adds the usage line).
 */
export async function runAwsDeploy(
  command: DeployVerb,
  flags: AwsDeployFlags,
  streams: CliStreams,
): Promise<ExitCode> {
  const print = (...lines: string[]) => streams.output.write(`${lines.join('\n')}\n`);
  const parsed = {
    deployment: flags.deployment,
    region: flags.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION,
    profile: flags.profile,
    out: flags.out,
    userStore: flags.userStore,
    runtime: flags.runtime,
    bootstrap: flags.bootstrap === true,
    dryRun: flags.dryRun === true || command === 'synth',
  };
  if (parsed.out !== undefined) requireParentDirectory(parsed.out, '--out');
  // Read (and checked) before anything is bundled: a missing key file is a usage error.
  const auth = command === 'destroy' ? {} : deploymentAuth(flags);
  quietAwsSdk();
  // Loaded on demand: the CDK libraries are large and only these commands need them.
  const aws = await importForCommand(
    () => import('@faaskeeper/aws/deploy'),
    `faaskeeper ${command} aws`,
    '@faaskeeper/aws aws-cdk-lib constructs @aws-cdk/toolkit-lib @aws-sdk/client-sts @aws-sdk/client-secrets-manager esbuild',
    streams.errorOutput,
  );
  if (aws === undefined) return ExitCode.FAILED;
  const target = {
    ...(parsed.profile === undefined ? {} : { profile: parsed.profile }),
    ...(parsed.out === undefined ? {} : { outDir: parsed.out }),
    // Steps and stack events as they happen: errors and warnings to stderr, the rest to stdout.
    log: (level: 'error' | 'warn' | 'info', text: string) =>
      (level === 'info' ? streams.output : streams.errorOutput).write(`${text}\n`),
    color: isTerminal(streams.output),
  };
  const stackProps = {
    ...(parsed.userStore === undefined ? {} : { userStore: parsed.userStore }),
    ...(parsed.runtime === undefined ? {} : { runtime: parsed.runtime }),
    ...auth,
  };
  const held = heldAuth(auth);
  const secretName = `faaskeeper-${parsed.deployment}-auth`;
  if (held !== undefined && !parsed.dryRun)
    // The template holds only dynamic references, but CloudFormation resolves them into the
    // functions' environment, which Lambda shows in clear: said every time, so nobody is unaware.
    streams.errorOutput.write(
      `Note: the ${held} ${held.includes(' and ') ? 'are' : 'is'} kept in the Secrets Manager secret ${secretName} (not in the template); the writer's and distributor's environment holds ${held.includes(' and ') ? 'them' : 'it'} in clear for whoever may call lambda:GetFunctionConfiguration.\n`,
    );
  try {
    if (parsed.dryRun) {
      print('Bundling the functions and synthesizing the stack ...');
      const out = await aws.synthesizeAws({
        deployment: parsed.deployment,
        ...stackProps,
        ...(parsed.region === undefined ? {} : { region: parsed.region }),
        ...(parsed.out === undefined ? {} : { outDir: parsed.out }),
      });
      print(
        `Synthesized stack ${out.stackName} (nothing deployed).`,
        `  template: ${out.templatePath}`,
        `  cloud assembly: ${out.assemblyDir}`,
        ...(held === undefined
          ? []
          : [
              `  the ${held}: not in the template, which refers to the Secrets Manager secret ${secretName}`,
              '  (deploy aws stores it there; deploying the template by other means, create it first)',
            ]),
        `Deploy it with: faaskeeper deploy aws --deployment ${parsed.deployment} --region <region>${parsed.runtime === undefined ? '' : ` --runtime ${parsed.runtime}`}${authFlags(flags)}`,
      );
      return ExitCode.OK;
    }
    if (parsed.region === undefined)
      throw new UsageError(`${command} needs a region: --region, AWS_REGION or AWS_DEFAULT_REGION`);
    if (command === 'destroy') {
      const done = await aws.destroyAws({ deployment: parsed.deployment, region: parsed.region, ...target });
      print(
        `Destroyed stack ${done.stackName} in ${done.account}/${parsed.region}.`,
        `The system-store table and the bucket are retained; delete them in the console or with the AWS CLI`,
        `when the data is no longer needed.`,
      );
      return ExitCode.OK;
    }
    const done = await aws.deployAws({
      deployment: parsed.deployment,
      region: parsed.region,
      ...stackProps,
      bootstrap: parsed.bootstrap,
      ...target,
    });
    print(
      `Deployed stack ${done.stackName} to ${done.account}/${parsed.region}.`,
      `Client configuration: ${done.configPath}`,
      ...(done.clientPolicyArn === undefined
        ? []
        : [`Attach the client policy to the users or roles that run clients: ${done.clientPolicyArn}`]),
      '',
      'Connect from code:',
      "  import { connect } from '@faaskeeper/aws';",
      `  const { provider, ...options } = JSON.parse(await readFile('${done.configPath}', 'utf8'));`,
      '  const zk = await connect(options);',
      `Or: faaskeeper shell --config ${done.configPath}`,
    );
    return ExitCode.OK;
  } catch (error) {
    if (error instanceof UsageError) throw error;
    const name = (error as Error).name;
    const prefix = name === 'AwsCredentialsError' ? '' : `${command} failed: `;
    streams.errorOutput.write(`Error: ${prefix}${(error as Error).message}\n`);
    return ExitCode.FAILED;
  }
}

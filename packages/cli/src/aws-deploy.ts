import { parseArgs } from 'node:util';
import type { CliStreams } from './main.js';
import { BAD_DEPLOYMENT_NAME, importForCommand } from './optional-import.js';
import { ExitCode } from './shell/commands.js';

/** Usage lines of the deployment commands. */
export const DEPLOY_USAGE = {
  deploy:
    'faaskeeper deploy aws [--deployment name] [--region region] [--profile profile] [--user-store s3|dynamodb] [--bootstrap] [--dry-run] [--out dir]',
  synth: 'faaskeeper synth aws [--deployment name] [--region region] [--user-store s3|dynamodb] [--out dir]',
  destroy: 'faaskeeper destroy aws [--deployment name] [--region region] [--profile profile]',
} as const;

/** `faaskeeper deploy --help` and friends. */
export function deployHelp(): string[] {
  return [
    `Usage: ${DEPLOY_USAGE.deploy}`,
    `       ${DEPLOY_USAGE.synth}`,
    `       ${DEPLOY_USAGE.destroy}`,
    '',
    '  deploy   synthesizes the AWS CDK stack (DynamoDB table, S3 bucket, SQS FIFO queues with',
    '           dead-letter queues, the writer/distributor/heartbeat Lambda functions, their schedule',
    '           and least-privilege IAM) and deploys it with the CDK toolkit; then writes the client',
    '           configuration to .faaskeeper/<deployment>.aws.json. Needs AWS credentials.',
    '  synth    (or deploy --dry-run) writes the CloudFormation template only; no credentials needed.',
    '  destroy  deletes the stack; the table and bucket are retained (they hold the data).',
    '',
    '  --deployment name  1-20 lower-case letters, digits or "-" (default "default")',
    '  --region region    default: AWS_REGION or AWS_DEFAULT_REGION',
    '  --profile profile  a profile of ~/.aws/config (default: the SDK default chain)',
    '  --user-store kind  where node records live: s3 (default) or dynamodb (cheaper per operation for',
    '                     small nodes; records over 8 KiB go to S3)',
    '  --bootstrap        run CDK bootstrap for the account and region first (once per region)',
    '  --out dir          the cloud assembly directory (default .faaskeeper/cdk.out/<deployment>)',
  ];
}

interface DeployArgs {
  deployment: string;
  region: string | undefined;
  profile: string | undefined;
  out: string | undefined;
  userStore: 's3' | 'dynamodb' | undefined;
  bootstrap: boolean;
  dryRun: boolean;
  help: boolean;
}

const OPTIONS = {
  deployment: { type: 'string' },
  region: { type: 'string' },
  profile: { type: 'string' },
  out: { type: 'string' },
  'user-store': { type: 'string' },
  bootstrap: { type: 'boolean' },
  'dry-run': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

function parse(command: 'deploy' | 'synth' | 'destroy', args: readonly string[]): DeployArgs | string {
  let parsed: ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true; strict: true }>>;
  try {
    parsed = parseArgs({ args: [...args], options: OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    return (error as Error).message;
  }
  const { values, positionals } = parsed;
  const base = {
    deployment: values.deployment ?? 'default',
    region: values.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION,
    profile: values.profile,
    out: values.out,
    userStore: values['user-store'] as 's3' | 'dynamodb' | undefined,
    bootstrap: values.bootstrap === true,
    dryRun: values['dry-run'] === true || command === 'synth',
    help: values.help === true,
  };
  if (base.help) return base;
  if (positionals.length !== 1 || positionals[0] !== 'aws')
    return `${command} needs a provider: aws or gcp (got ${positionals.length === 0 ? 'none' : `'${positionals.join(' ')}'`})`;
  if (base.userStore !== undefined && base.userStore !== 's3' && base.userStore !== 'dynamodb')
    return `--user-store must be s3 or dynamodb (got '${base.userStore}')`;
  if (command === 'destroy' && base.userStore !== undefined)
    return '--user-store belongs to deploy and synth';
  if (command !== 'deploy' && (values.bootstrap === true || values['dry-run'] === true))
    return `--bootstrap and --dry-run belong to deploy`;
  return base;
}

/**
 * `faaskeeper deploy aws`, `faaskeeper synth aws` and `faaskeeper destroy aws`. Resolves the exit
 * code: 0 done, 1 failed (no credentials, a CloudFormation error), 2 usage error.
 */
export async function runDeployCommand(
  command: 'deploy' | 'synth' | 'destroy',
  args: readonly string[],
  streams: CliStreams,
): Promise<ExitCode> {
  const print = (...lines: string[]) => streams.output.write(`${lines.join('\n')}\n`);
  const parsed = parse(command, args);
  if (typeof parsed === 'string') {
    streams.errorOutput.write(`Error: ${parsed}\nUsage: ${DEPLOY_USAGE[command]}\n`);
    return ExitCode.USAGE;
  }
  if (parsed.help) {
    print(...deployHelp());
    return ExitCode.OK;
  }
  // Loaded on demand: the CDK libraries are large and only these commands need them.
  const aws = await importForCommand(
    () => import('@faaskeeper/aws/deploy'),
    `faaskeeper ${command} aws`,
    '@faaskeeper/aws aws-cdk-lib constructs @aws-cdk/toolkit-lib @aws-sdk/client-sts esbuild',
    streams.errorOutput,
  );
  if (aws === undefined) return ExitCode.FAILED;
  if (!aws.DEPLOYMENT_NAME.test(parsed.deployment)) {
    streams.errorOutput.write(BAD_DEPLOYMENT_NAME(parsed.deployment));
    return ExitCode.USAGE;
  }
  const target = {
    ...(parsed.profile === undefined ? {} : { profile: parsed.profile }),
    ...(parsed.out === undefined ? {} : { outDir: parsed.out }),
  };
  try {
    if (parsed.dryRun) {
      const out = await aws.synthesizeAws({
        deployment: parsed.deployment,
        ...(parsed.userStore === undefined ? {} : { userStore: parsed.userStore }),
        ...(parsed.region === undefined ? {} : { region: parsed.region }),
        ...(parsed.out === undefined ? {} : { outDir: parsed.out }),
      });
      print(
        `Synthesized stack ${out.stackName} (nothing deployed).`,
        `  template: ${out.templatePath}`,
        `  cloud assembly: ${out.assemblyDir}`,
        `Deploy it with: faaskeeper deploy aws --deployment ${parsed.deployment} --region <region>`,
      );
      return ExitCode.OK;
    }
    if (parsed.region === undefined) {
      streams.errorOutput.write(
        `Error: ${command} needs a region: --region, AWS_REGION or AWS_DEFAULT_REGION\nUsage: ${DEPLOY_USAGE[command]}\n`,
      );
      return ExitCode.USAGE;
    }
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
      ...(parsed.userStore === undefined ? {} : { userStore: parsed.userStore }),
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
    const name = (error as Error).name;
    const prefix = name === 'AwsCredentialsError' ? '' : `${command} failed: `;
    streams.errorOutput.write(`Error: ${prefix}${(error as Error).message}\n`);
    return ExitCode.FAILED;
  }
}

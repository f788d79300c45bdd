import { join } from 'node:path';
import type { CommandRunner, GcpClientConfigFile } from '@faaskeeper/gcp/deploy';
import { type Command, Option } from 'commander';
import {
  authFlags,
  deploymentAuth,
  gatewayKeyFileOption,
  heldAuth,
  superDigestOption,
} from './auth-options.js';
import type { DeployVerb } from './aws-deploy.js';
import { deploymentOption, isTerminal, requireParentDirectory } from './command-options.js';
import type { CliStreams } from './main.js';
import { importForCommand } from './optional-import.js';
import { ExitCode, UsageError } from './shell/commands.js';

/** The options of `faaskeeper <verb> gcp`, as the CLI's declaration parses them. */
export interface GcpDeployFlags {
  project?: string;
  region?: string;
  deployment: string;
  userStore?: 'gcs' | 'datastore';
  out?: string;
  terraform?: string;
  stateBucket?: string;
  databaseLocation?: string;
  existingDatabase?: string;
  clientMember?: string[];
  configDir?: string;
  deleteData?: boolean;
  adoptData?: boolean;
  superDigest?: string;
  gatewayKeyFile?: string;
}

const ALL: readonly DeployVerb[] = ['deploy', 'synth', 'destroy'];

/** Which verbs take which option: one declaration, from which usage, help and unknown-option errors come. */
const GCP_OPTIONS: { verbs: readonly DeployVerb[]; option: () => Option }[] = [
  {
    verbs: ALL,
    option: () =>
      new Option(
        '--project <id>',
        'the Google Cloud project (default: GOOGLE_CLOUD_PROJECT or CLOUDSDK_CORE_PROJECT)',
      ),
  },
  {
    verbs: ALL,
    option: () =>
      new Option(
        '--region <region>',
        'functions, buckets, scheduler and database (default: GOOGLE_CLOUD_REGION)',
      ),
  },
  {
    verbs: ALL,
    option: () => deploymentOption('default'),
  },
  {
    // destroy reads the user store from the Terraform state.
    verbs: ['deploy', 'synth'],
    option: () =>
      new Option(
        '--user-store <kind>',
        'where node records live: gcs (default; a private bucket) or datastore (the deployment database, no bucket; cheaper per write, dearer per read)',
      ).choices(['gcs', 'datastore']),
  },
  {
    verbs: ALL,
    option: () =>
      new Option(
        '--out <dir>',
        'the Terraform directory; it keeps the local state, keep it (default .faaskeeper/terraform/<deployment>)',
      ),
  },
  {
    verbs: ALL,
    option: () =>
      new Option(
        '--state-bucket <bucket>',
        'keep the Terraform state in this (existing) Cloud Storage bucket instead',
      ),
  },
  {
    verbs: ['deploy', 'synth'],
    option: () =>
      new Option(
        '--database-location <loc>',
        'location of the Datastore database when the region has none (e.g. nam5, eur3)',
      ).conflicts('existingDatabase'),
  },
  {
    verbs: ['deploy', 'synth'],
    option: () =>
      new Option(
        '--existing-database <id>',
        'use this Datastore-mode database instead of creating fk-<deployment>',
      ),
  },
  {
    verbs: ['deploy', 'synth'],
    option: () =>
      new Option(
        '--client-member <member>',
        'may impersonate the client service account (e.g. user:me@example.com); repeatable',
      ).argParser((member: string, earlier: string[] | undefined) => [...(earlier ?? []), member]),
  },
  {
    verbs: ['deploy', 'synth'],
    option: () =>
      superDigestOption(
        "a sensitive Terraform variable (TF_VAR_super_digest), in the writer's and distributor's environment (FAASKEEPER_SUPER_DIGEST)",
      ),
  },
  {
    verbs: ['deploy', 'synth'],
    option: () =>
      gatewayKeyFileOption(
        'gateways fronting the deployment attest client addresses with it (ip ACLs); a sensitive Terraform variable (TF_VAR_gateway_key), not in main.tf.json, but in the Terraform state',
      ),
  },
  {
    verbs: ['deploy'],
    option: () =>
      new Option('--config-dir <dir>', 'where the client configuration goes (default .faaskeeper)'),
  },
  {
    verbs: ['deploy'],
    option: () =>
      new Option('--adopt-data', 'deploy onto the data an earlier destroy kept (Terraform imports it)'),
  },
  {
    verbs: ['deploy', 'destroy'],
    option: () => new Option('--terraform <path>', 'the terraform executable (default: terraform on PATH)'),
  },
  {
    verbs: ['destroy'],
    option: () => new Option('--delete-data', 'delete the bucket (with its objects) and the database too'),
  },
];

const GCP_DESCRIPTIONS: Record<DeployVerb, { summary: string; description: string }> = {
  synth: {
    summary: 'write the Terraform configuration and function sources (offline)',
    description:
      'Writes the Terraform configuration (main.tf.json: a Datastore-mode database, a private Cloud Storage bucket for the user store, Pub/Sub topics with dead-letter topics, ordered push subscriptions with OIDC, the writer/distributor/heartbeat Cloud Functions, a Cloud Scheduler job, one service account per function and least-privilege IAM) and the zipped function sources. Offline; no credentials, no terraform needed.',
  },
  deploy: {
    summary: 'deploy to Google Cloud with Terraform; writes the client configuration',
    description:
      'Synth, then terraform init and terraform apply (terraform on PATH; credentials: gcloud auth application-default login); writes the client configuration to .faaskeeper/<deployment>.gcp.json.',
  },
  destroy: {
    summary: 'terraform destroy (the data is kept unless --delete-data)',
    description: 'terraform destroy. The data (bucket and database) is kept unless --delete-data.',
  },
};

/** Declares `faaskeeper <verb> gcp` (its options parse to {@link GcpDeployFlags}) under the verb's command. */
export function declareGcpCommand(parent: Command, verb: DeployVerb): Command {
  const command = parent
    .command('gcp')
    .summary(GCP_DESCRIPTIONS[verb].summary)
    .description(GCP_DESCRIPTIONS[verb].description);
  for (const { verbs, option } of GCP_OPTIONS) if (verbs.includes(verb)) command.addOption(option());
  return command;
}

/** What the GCP commands run with; tests inject a command runner instead of terraform. */
export interface GcpDeployDependencies {
  /** Runs terraform. Default: spawns it. */
  runner?: CommandRunner;
  /** PATH searched for terraform. Default `process.env.PATH`. */
  path?: string;
  /** Environment for the defaults (project, region). Default `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** Creates the root node after deploy. Default: `bootstrapGcpDeployment` (Datastore and Cloud Storage). */
  bootstrap?: (config: GcpClientConfigFile) => Promise<void>;
  /** Checks the credentials before terraform runs. Default: `checkGcpCredentials` (Google's auth library). */
  checkCredentials?: () => Promise<string>;
}

/**
 * `faaskeeper synth gcp`, `faaskeeper deploy gcp` and `faaskeeper destroy gcp` with their parsed
 * options. Resolves the exit code: 0 done, 1 failed (no terraform, a Terraform error), 2 usage error.
 * @throws UsageError when no project or region is given or set in the environment, or `--out` or
 * `--config-dir` names a directory whose parent does not exist (the CLI adds the usage line).
 */
export async function runGcpDeploy(
  command: DeployVerb,
  flags: GcpDeployFlags,
  streams: CliStreams,
  dependencies: GcpDeployDependencies = {},
): Promise<ExitCode> {
  const print = (...lines: string[]) => streams.output.write(`${lines.join('\n')}\n`);
  const env = dependencies.env ?? process.env;
  const project = flags.project ?? env.GOOGLE_CLOUD_PROJECT ?? env.CLOUDSDK_CORE_PROJECT;
  if (project === undefined || project === '')
    throw new UsageError(
      `${command} gcp needs a project: --project, GOOGLE_CLOUD_PROJECT or CLOUDSDK_CORE_PROJECT`,
    );
  const region = flags.region ?? env.GOOGLE_CLOUD_REGION;
  if (region === undefined || region === '')
    throw new UsageError(`${command} gcp needs a region: --region or GOOGLE_CLOUD_REGION`);
  const parsed = {
    ...flags,
    project,
    region,
    clientMembers: flags.clientMember ?? [],
    deleteData: flags.deleteData === true,
    adoptData: flags.adoptData === true,
  };
  if (parsed.out !== undefined) requireParentDirectory(parsed.out, '--out');
  if (parsed.configDir !== undefined) requireParentDirectory(parsed.configDir, '--config-dir');
  // Read (and checked) before anything is bundled: a missing key file is a usage error.
  const auth = command === 'destroy' ? {} : deploymentAuth(flags, env);
  const held = heldAuth(auth);
  if (held !== undefined && command === 'deploy') {
    // main.tf.json holds only sensitive variables, but Terraform records the resolved values in its
    // state, and the functions' environment shows them: said every time, so nobody is unaware.
    const state =
      parsed.stateBucket === undefined
        ? join(parsed.out ?? join('.faaskeeper', 'terraform', parsed.deployment), 'terraform.tfstate')
        : `gs://${parsed.stateBucket}/faaskeeper/${parsed.deployment}/`;
    const plural = held.includes(' and ');
    streams.errorOutput.write(
      `Note: the ${held} ${plural ? 'are' : 'is'} not in main.tf.json (sensitive Terraform variables), but the Terraform state (${state}) and the writer's and distributor's environment hold ${plural ? 'them' : 'it'} in clear; keep the state private.\n`,
    );
  }
  // Loaded on demand: the GCP provider is an optional peer dependency of the CLI.
  const gcp = await importForCommand(
    () => import('@faaskeeper/gcp/deploy'),
    `faaskeeper ${command} gcp`,
    '@faaskeeper/gcp esbuild',
    streams.errorOutput,
  );
  if (gcp === undefined) return ExitCode.FAILED;
  const synth = {
    deployment: parsed.deployment,
    project: parsed.project,
    region: parsed.region,
    ...(parsed.userStore === undefined ? {} : { userStore: parsed.userStore }),
    ...(parsed.out === undefined ? {} : { outDir: parsed.out }),
    ...(parsed.stateBucket === undefined ? {} : { stateBucket: parsed.stateBucket }),
    ...(parsed.existingDatabase !== undefined
      ? { database: { existing: parsed.existingDatabase } }
      : parsed.databaseLocation !== undefined
        ? { database: { create: true as const, location: parsed.databaseLocation } }
        : {}),
    ...(parsed.clientMembers.length === 0 ? {} : { clientImpersonators: parsed.clientMembers }),
    ...auth,
  };
  const run = {
    ...(parsed.terraform === undefined ? {} : { terraform: parsed.terraform }),
    ...(dependencies.runner === undefined ? {} : { runner: dependencies.runner }),
    ...(dependencies.path === undefined ? {} : { path: dependencies.path }),
    checkCredentials: dependencies.checkCredentials ?? (() => gcp.checkGcpCredentials({ env })),
    echo: (text: string) => streams.output.write(text),
    progress: (line: string) => streams.output.write(`${line}\n`),
    // Raw ANSI codes only where a terminal renders them.
    color: isTerminal(streams.output),
  };
  try {
    if (command === 'synth') {
      run.progress('Bundling the functions and writing the Terraform configuration ...');
      const out = await gcp.synthesizeGcp(synth);
      print(
        `Synthesized deployment ${parsed.deployment} for ${parsed.project}/${parsed.region} (nothing deployed).`,
        `  configuration: ${out.configPath}`,
        `  function sources: ${Object.values(out.bundles)
          .map((b) => b.zipPath)
          .join(', ')}`,
        `Deploy it with: faaskeeper deploy gcp --project ${parsed.project} --region ${parsed.region} --deployment ${parsed.deployment}${authFlags(flags)}`,
        `(or run terraform init && terraform apply in ${out.dir}${held === undefined ? '' : `, with ${authVariablesHint(auth)} set`})`,
      );
      return ExitCode.OK;
    }
    if (command === 'destroy') {
      const done = await gcp.destroyGcp({ ...synth, ...run, deleteData: parsed.deleteData });
      print(`Destroyed deployment ${parsed.deployment} in ${parsed.project}.`);
      if (done.kept.length > 0) {
        const names = gcp.gcpDeploymentNames(parsed.deployment, parsed.project);
        const bucket = done.kept.includes('google_storage_bucket.data');
        const protectedZone = done.kept.includes('google_storage_bucket.data_protected');
        const database = done.kept.includes('google_firestore_database.system');
        print(
          'The data is kept and no longer managed by Terraform:',
          ...(bucket ? [`  bucket gs://${names.dataBucket} (the user store)`] : []),
          ...(protectedZone ? [`  bucket gs://${names.protectedBucket} (nodes without world READ)`] : []),
          ...(database
            ? [
                `  Datastore database ${names.database} (the system store${bucket ? '' : ', and the node records with --user-store datastore'})`,
              ]
            : []),
          'Deploy onto them again with deploy gcp --adopt-data, or delete them when the data is no longer',
          `needed: ${[
            ...(bucket ? [`gcloud storage rm --recursive gs://${names.dataBucket}`] : []),
            ...(database ? [`gcloud firestore databases delete --database=${names.database}`] : []),
          ].join('; ')}`,
        );
      }
      return ExitCode.OK;
    }
    const done = await gcp.deployGcp({
      ...synth,
      ...run,
      ...(parsed.configDir === undefined ? {} : { configDir: parsed.configDir }),
      ...(dependencies.bootstrap === undefined ? {} : { bootstrap: dependencies.bootstrap }),
      adoptData: parsed.adoptData,
    });
    print(
      `Deployed ${parsed.deployment} to ${parsed.project}/${parsed.region}.`,
      `Client configuration: ${done.configPath}`,
      `Run clients as ${done.config.serviceAccount} (attach it to the VM or service, or impersonate it:`,
      `  gcloud auth application-default login --impersonate-service-account=${done.config.serviceAccount}).`,
      '',
      'Connect from code:',
      "  import { connect } from '@faaskeeper/gcp';",
      `  const { provider, ...options } = JSON.parse(await readFile('${done.configPath}', 'utf8'));`,
      '  const zk = await connect(options);',
      '',
      `Or a shell: faaskeeper shell --config ${done.configPath}`,
    );
    return ExitCode.OK;
  } catch (error) {
    const name = (error as Error).name;
    const prefix =
      name === 'TerraformNotFoundError' || name === 'GcpCredentialsError' ? '' : `${command} gcp failed: `;
    streams.errorOutput.write(`Error: ${prefix}${(error as Error).message}\n`);
    return ExitCode.FAILED;
  }
}

/** The `TF_VAR_...` variables a hand-run `terraform apply` needs for the auth values set. */
function authVariablesHint(auth: { superDigest?: string; gatewayKey?: string }): string {
  return [
    ...(auth.superDigest === undefined ? [] : ['TF_VAR_super_digest']),
    ...(auth.gatewayKey === undefined ? [] : ['TF_VAR_gateway_key']),
  ].join(' and ');
}

import { parseArgs } from 'node:util';
import type { CommandRunner, GcpClientConfigFile } from '@faaskeeper/gcp/deploy';
import type { CliStreams } from './main.js';
import { BAD_DEPLOYMENT_NAME, importForCommand } from './optional-import.js';
import { ExitCode } from './shell/commands.js';

/** Usage lines of the GCP deployment commands. */
export const GCP_DEPLOY_USAGE = {
  deploy:
    'faaskeeper deploy gcp --project id --region region [--deployment name] [--user-store gcs|datastore] [--out dir] [--terraform path] [--state-bucket bucket] [--database-location loc | --existing-database id] [--client-member member] [--adopt-data]',
  synth:
    'faaskeeper synth gcp --project id --region region [--deployment name] [--user-store gcs|datastore] [--out dir] [--state-bucket bucket]',
  destroy:
    'faaskeeper destroy gcp --project id --region region [--deployment name] [--out dir] [--terraform path] [--delete-data]',
} as const;

/** `faaskeeper deploy gcp --help`. */
export function gcpDeployHelp(): string[] {
  return [
    `Usage: ${GCP_DEPLOY_USAGE.deploy}`,
    `       ${GCP_DEPLOY_USAGE.synth}`,
    `       ${GCP_DEPLOY_USAGE.destroy}`,
    '',
    '  synth    writes the Terraform configuration (main.tf.json: a Datastore-mode database, a private',
    '           Cloud Storage bucket for the user store, Pub/Sub topics with dead-letter topics,',
    '           ordered push subscriptions with OIDC, the writer/distributor/heartbeat Cloud Functions,',
    '           a Cloud Scheduler job, one service account per function and least-privilege IAM) and',
    '           the zipped function sources.',
    '           Offline; no credentials, no terraform needed.',
    '  deploy   synth, then terraform init and terraform apply (terraform on PATH; credentials: gcloud',
    '           auth application-default login); writes the client configuration to',
    '           .faaskeeper/<deployment>.gcp.json.',
    '  destroy  terraform destroy. The data (bucket and database) is kept unless --delete-data.',
    '',
    '  --project id             the Google Cloud project (default: GOOGLE_CLOUD_PROJECT or CLOUDSDK_CORE_PROJECT)',
    '  --region region          functions, buckets, scheduler and database (default: GOOGLE_CLOUD_REGION)',
    '  --deployment name        1-20 lower-case letters, digits or "-" (default "default")',
    '  --user-store kind        where node records live: gcs (default; a private bucket) or datastore',
    '                           (the deployment database, no bucket; cheaper per write, dearer per read)',
    '  --out dir                the Terraform directory; it keeps the local state, keep it',
    '                           (default .faaskeeper/terraform/<deployment>)',
    '  --state-bucket bucket    keep the Terraform state in this (existing) Cloud Storage bucket instead',
    '  --database-location loc  location of the Datastore database when the region has none (e.g. nam5, eur3)',
    '  --existing-database id   use this Datastore-mode database instead of creating fk-<deployment>',
    '  --client-member member   may impersonate the client service account (e.g. user:me@example.com)',
    '  --adopt-data             deploy onto the data an earlier destroy kept (Terraform imports it)',
    '  --terraform path         the terraform executable (default: terraform on PATH)',
    '  --delete-data            destroy: delete the bucket (with its objects) and the database too',
  ];
}

const OPTIONS = {
  project: { type: 'string' },
  region: { type: 'string' },
  deployment: { type: 'string' },
  out: { type: 'string' },
  terraform: { type: 'string' },
  'state-bucket': { type: 'string' },
  'database-location': { type: 'string' },
  'existing-database': { type: 'string' },
  'client-member': { type: 'string', multiple: true },
  'config-dir': { type: 'string' },
  'delete-data': { type: 'boolean' },
  'adopt-data': { type: 'boolean' },
  'user-store': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

type Command = 'deploy' | 'synth' | 'destroy';

/** Options only some commands take. */
const ONLY: Partial<Record<keyof typeof OPTIONS, readonly Command[]>> = {
  terraform: ['deploy', 'destroy'],
  'delete-data': ['destroy'],
  'adopt-data': ['deploy'],
  'client-member': ['deploy', 'synth'],
  'config-dir': ['deploy'],
  'database-location': ['deploy', 'synth'],
  'existing-database': ['deploy', 'synth'],
  // destroy reads the user store from the Terraform state.
  'user-store': ['deploy', 'synth'],
};

/**
 * Whether a `deploy`/`synth`/`destroy` invocation names the gcp provider (its first positional
 * argument, wherever it stands among the options).
 */
export function namesGcp(args: readonly string[]): boolean {
  try {
    const { positionals } = parseArgs({
      args: [...args],
      options: OPTIONS,
      allowPositionals: true,
      strict: false,
    });
    return positionals[0] === 'gcp';
  } catch {
    return false;
  }
}

interface GcpArgs {
  project: string;
  region: string;
  deployment: string;
  userStore?: string;
  out?: string;
  terraform?: string;
  stateBucket?: string;
  databaseLocation?: string;
  existingDatabase?: string;
  clientMembers: string[];
  configDir?: string;
  deleteData: boolean;
  adoptData: boolean;
}

function parse(command: Command, args: readonly string[], env: NodeJS.ProcessEnv): GcpArgs | 'help' | string {
  let parsed: ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true; strict: true }>>;
  try {
    parsed = parseArgs({ args: [...args], options: OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    return (error as Error).message;
  }
  const { values, positionals } = parsed;
  if (values.help === true) return 'help';
  if (positionals.length !== 1 || positionals[0] !== 'gcp')
    return `${command} gcp takes no other arguments (got '${positionals.join(' ')}')`;
  for (const [option, commands] of Object.entries(ONLY))
    if (values[option as keyof typeof values] !== undefined && !commands.includes(command))
      return `--${option} belongs to ${commands.join(' and ')}`;
  if (values['database-location'] !== undefined && values['existing-database'] !== undefined)
    return '--database-location and --existing-database exclude each other';
  const userStore = values['user-store'];
  if (userStore !== undefined && userStore !== 'gcs' && userStore !== 'datastore')
    return `--user-store must be gcs or datastore (got '${userStore}')`;
  const project = values.project ?? env.GOOGLE_CLOUD_PROJECT ?? env.CLOUDSDK_CORE_PROJECT;
  if (project === undefined || project === '')
    return `${command} gcp needs a project: --project, GOOGLE_CLOUD_PROJECT or CLOUDSDK_CORE_PROJECT`;
  const region = values.region ?? env.GOOGLE_CLOUD_REGION;
  if (region === undefined || region === '')
    return `${command} gcp needs a region: --region or GOOGLE_CLOUD_REGION`;
  const optional = <K extends string, V>(key: K, value: V | undefined) =>
    (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
  return {
    project,
    region,
    deployment: values.deployment ?? 'default',
    ...optional('userStore', userStore),
    ...optional('out', values.out),
    ...optional('terraform', values.terraform),
    ...optional('stateBucket', values['state-bucket']),
    ...optional('databaseLocation', values['database-location']),
    ...optional('existingDatabase', values['existing-database']),
    ...optional('configDir', values['config-dir']),
    clientMembers: values['client-member'] ?? [],
    deleteData: values['delete-data'] === true,
    adoptData: values['adopt-data'] === true,
  };
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
}

/**
 * `faaskeeper synth gcp`, `faaskeeper deploy gcp` and `faaskeeper destroy gcp`. Resolves the exit
 * code: 0 done, 1 failed (no terraform, a Terraform error), 2 usage error.
 */
export async function runGcpDeployCommand(
  command: Command,
  args: readonly string[],
  streams: CliStreams,
  dependencies: GcpDeployDependencies = {},
): Promise<ExitCode> {
  const print = (...lines: string[]) => streams.output.write(`${lines.join('\n')}\n`);
  const parsed = parse(command, args, dependencies.env ?? process.env);
  if (parsed === 'help') {
    print(...gcpDeployHelp());
    return ExitCode.OK;
  }
  if (typeof parsed === 'string') {
    streams.errorOutput.write(`Error: ${parsed}\nUsage: ${GCP_DEPLOY_USAGE[command]}\n`);
    return ExitCode.USAGE;
  }
  // Loaded on demand: the GCP provider is an optional peer dependency of the CLI.
  const gcp = await importForCommand(
    () => import('@faaskeeper/gcp/deploy'),
    `faaskeeper ${command} gcp`,
    '@faaskeeper/gcp esbuild',
    streams.errorOutput,
  );
  if (gcp === undefined) return ExitCode.FAILED;
  if (!gcp.GCP_DEPLOYMENT_NAME.test(parsed.deployment)) {
    streams.errorOutput.write(BAD_DEPLOYMENT_NAME(parsed.deployment));
    return ExitCode.USAGE;
  }
  const synth = {
    deployment: parsed.deployment,
    project: parsed.project,
    region: parsed.region,
    ...(parsed.userStore === undefined ? {} : { userStore: parsed.userStore as 'gcs' | 'datastore' }),
    ...(parsed.out === undefined ? {} : { outDir: parsed.out }),
    ...(parsed.stateBucket === undefined ? {} : { stateBucket: parsed.stateBucket }),
    ...(parsed.existingDatabase !== undefined
      ? { database: { existing: parsed.existingDatabase } }
      : parsed.databaseLocation !== undefined
        ? { database: { create: true as const, location: parsed.databaseLocation } }
        : {}),
    ...(parsed.clientMembers.length === 0 ? {} : { clientImpersonators: parsed.clientMembers }),
  };
  const run = {
    ...(parsed.terraform === undefined ? {} : { terraform: parsed.terraform }),
    ...(dependencies.runner === undefined ? {} : { runner: dependencies.runner }),
    ...(dependencies.path === undefined ? {} : { path: dependencies.path }),
    echo: (text: string) => streams.output.write(text),
  };
  try {
    if (command === 'synth') {
      const out = await gcp.synthesizeGcp(synth);
      print(
        `Synthesized deployment ${parsed.deployment} for ${parsed.project}/${parsed.region} (nothing deployed).`,
        `  configuration: ${out.configPath}`,
        `  function sources: ${Object.values(out.bundles)
          .map((b) => b.zipPath)
          .join(', ')}`,
        `Deploy it with: faaskeeper deploy gcp --project ${parsed.project} --region ${parsed.region} --deployment ${parsed.deployment}`,
        `(or run terraform init && terraform apply in ${out.dir})`,
      );
      return ExitCode.OK;
    }
    if (command === 'destroy') {
      const done = await gcp.destroyGcp({ ...synth, ...run, deleteData: parsed.deleteData });
      print(`Destroyed deployment ${parsed.deployment} in ${parsed.project}.`);
      if (done.kept.length > 0) {
        const names = gcp.gcpDeploymentNames(parsed.deployment, parsed.project);
        const bucket = done.kept.includes('google_storage_bucket.data');
        const database = done.kept.includes('google_firestore_database.system');
        print(
          'The data is kept and no longer managed by Terraform:',
          ...(bucket ? [`  bucket gs://${names.dataBucket} (the user store)`] : []),
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
    const prefix = name === 'TerraformNotFoundError' ? '' : `${command} gcp failed: `;
    streams.errorOutput.write(`Error: ${prefix}${(error as Error).message}\n`);
    return ExitCode.FAILED;
  }
}

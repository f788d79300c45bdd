import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { delimiter, dirname, join, resolve } from 'node:path';
import { bootstrap, noMeter } from '@faaskeeper/core';
import { DatastoreSystemStore } from '../datastore-system-store.js';
import { type GcpDeploymentConfig, resourceNames, userStoreOf } from '../deployment.js';
import { GCP_USER_STORES, type GcpUserStoreKind, TERRAFORM_OUTPUTS } from './configuration.js';
import { checkGcpCredentials } from './credentials.js';
import { gcpDeploymentNames } from './names.js';
import {
  authEnvironment,
  SYNTH_FILES,
  type SynthesizedGcp,
  type SynthesizeGcpOptions,
  synthesizeGcp,
} from './synth.js';

/** `terraform` is not installed (or not where it was said to be). */
export class TerraformNotFoundError extends Error {
  override readonly name = 'TerraformNotFoundError';
}

/** A `terraform` command exited with an error. */
export class TerraformCommandError extends Error {
  override readonly name = 'TerraformCommandError';
  constructor(
    readonly args: readonly string[],
    readonly exitCode: number,
    readonly stderr: string,
  ) {
    super(
      `terraform ${args.join(' ')} failed (exit code ${exitCode})${stderr.trim() ? `: ${lastLines(stderr, 8)}` : ''}`,
    );
  }
}

function lastLines(text: string, n: number): string {
  return text.trim().split('\n').slice(-n).join('\n');
}

/** What a command did. */
export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Options of one command run. */
export interface CommandOptions {
  cwd: string;
  /** Receives the command's output as it comes (stdout and stderr); omitted, the output is only collected. */
  echo?: (text: string) => void;
  /** Variables added to the process's environment (the auth values' `TF_VAR_...`). */
  env?: Record<string, string>;
}

/** Runs a command: the real one spawns a process; tests inject their own. */
export type CommandRunner = (
  command: string,
  args: readonly string[],
  options: CommandOptions,
) => Promise<CommandResult>;

/** Spawns the command without a shell; rejects with the spawn error (ENOENT: not installed). */
export const spawnRunner: CommandRunner = (command, args, options) =>
  new Promise((resolvePromise, reject) => {
    const child = spawn(command, [...args], {
      cwd: options.cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(options.env === undefined ? {} : { env: { ...process.env, ...options.env } }),
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (text: string) => {
      stdout += text;
      options.echo?.(text);
    });
    child.stderr.setEncoding('utf8').on('data', (text: string) => {
      stderr += text;
      options.echo?.(text);
    });
    child.on('error', reject);
    child.on('close', (code) => resolvePromise({ code: code ?? 1, stdout, stderr }));
  });

/** What to install when Terraform is missing. */
export const TERRAFORM_INSTALL_HINT =
  'install Terraform >= 1.5 (https://developer.hashicorp.com/terraform/install) and put `terraform` on PATH, or name it with --terraform <path>';

/**
 * Finds the `terraform` executable: the given path, or `terraform` on PATH.
 * @throws TerraformNotFoundError with what to install.
 */
export function locateTerraform(explicit?: string, path = process.env.PATH ?? ''): string {
  const executable = (file: string) => {
    try {
      accessSync(file, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  };
  if (explicit !== undefined) {
    if (executable(explicit)) return explicit;
    throw new TerraformNotFoundError(`no executable terraform at ${explicit}: ${TERRAFORM_INSTALL_HINT}`);
  }
  const names = process.platform === 'win32' ? ['terraform.exe', 'terraform'] : ['terraform'];
  for (const dir of path.split(delimiter).filter(Boolean))
    for (const name of names) if (executable(join(dir, name))) return join(dir, name);
  throw new TerraformNotFoundError(`terraform is not on PATH: ${TERRAFORM_INSTALL_HINT}`);
}

/** How deploy and destroy run Terraform. */
export interface TerraformRun {
  /** The terraform executable; default: found on PATH. */
  terraform?: string;
  /** Runs commands (tests inject one). Default {@link spawnRunner}. */
  runner?: CommandRunner;
  /** Receives Terraform's output as it comes. */
  echo?: (text: string) => void;
  /** PATH to search for terraform. Default `process.env.PATH`. */
  path?: string;
  /**
   * Whether Terraform may color its output. `false` passes `-no-color` (for output that is not a
   * terminal: no raw ANSI codes in logs and pipes). Default true (Terraform's own default).
   */
  color?: boolean;
  /** Receives each step as it starts (a line, no newline). */
  progress?: (line: string) => void;
  /**
   * Checks the credentials Terraform will use, before it runs; resolves where they come from.
   * Default {@link checkGcpCredentials}; tests inject one (they reach no cloud).
   */
  checkCredentials?: () => Promise<string>;
}

/** `terraform <command...> -no-color <rest>`: the flag after the command words (`state rm`). */
function withoutColor(args: readonly string[]): string[] {
  const words = args[0] === 'state' ? 2 : 1;
  return [...args.slice(0, words), '-no-color', ...args.slice(words)];
}

/**
 * The checks before any tool runs: terraform is there (fails fast, before bundling) and the
 * credentials are usable.
 */
async function preflight(run: TerraformRun): Promise<void> {
  locateTerraform(run.terraform, run.path);
  run.progress?.('Checking the Google Cloud credentials ...');
  const source = await (run.checkCredentials ?? (() => checkGcpCredentials()))();
  run.progress?.(`Credentials: ${source}.`);
}

async function terraformIn(dir: string, run: TerraformRun, env?: Record<string, string>) {
  const terraform = locateTerraform(run.terraform, run.path);
  const runner = run.runner ?? spawnRunner;
  return async (command: string[], capture = false): Promise<CommandResult> => {
    const args = run.color === false ? withoutColor(command) : command;
    if (!capture) run.progress?.(`Running terraform ${command.join(' ')} ...`);
    let result: CommandResult;
    try {
      result = await runner(terraform, args, {
        cwd: dir,
        ...(capture || run.echo === undefined ? {} : { echo: run.echo }),
        ...(env === undefined || Object.keys(env).length === 0 ? {} : { env }),
      });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT')
        throw new TerraformNotFoundError(`cannot run ${terraform}: ${TERRAFORM_INSTALL_HINT}`);
      throw error;
    }
    if (result.code !== 0) throw new TerraformCommandError(args, result.code, result.stderr);
    return result;
  };
}

/** The client configuration file `faaskeeper deploy gcp` writes. */
export interface GcpClientConfigFile extends GcpDeploymentConfig {
  provider: 'gcp';
  projectId: string;
  serviceAccount: string;
  datastore: { projectId: string; databaseId: string };
  pubsub: { projectId: string };
  /** The user store the deployment has: its bucket, or the Datastore database named above. */
  userStore: { type: 'gcs'; bucket: string; storage: { projectId: string } } | { type: 'datastore' };
}

/** The client configuration file of a deployment. */
export function gcpClientConfigPath(deployment: string, configDir = '.faaskeeper'): string {
  return resolve(join(configDir, `${deployment}.gcp.json`));
}

/**
 * The client configuration from `terraform output -json` (each output `{ value, ... }`): what
 * `connect()` takes once `provider` is left out.
 */
export function gcpClientConfigFromOutputs(outputs: Record<string, unknown>): GcpClientConfigFile {
  const need = (key: keyof typeof TERRAFORM_OUTPUTS): string => {
    const value = (outputs[TERRAFORM_OUTPUTS[key]] as { value?: unknown } | undefined)?.value;
    if (typeof value !== 'string' || value === '')
      throw new Error(`the Terraform state has no output ${TERRAFORM_OUTPUTS[key]}`);
    return value;
  };
  const projectId = need('project');
  // A state written before the user store was a choice has no such output: it has the bucket.
  const kind = (outputs[TERRAFORM_OUTPUTS.userStore] as { value?: unknown } | undefined)?.value ?? 'gcs';
  if (!(GCP_USER_STORES as readonly unknown[]).includes(kind))
    throw new Error(`the Terraform output ${TERRAFORM_OUTPUTS.userStore} names no known user store: ${kind}`);
  return {
    provider: 'gcp',
    deployment: need('deployment'),
    projectId,
    serviceAccount: need('clientServiceAccount'),
    datastore: { projectId, databaseId: need('database') },
    pubsub: { projectId },
    userStore:
      (kind as GcpUserStoreKind) === 'gcs'
        ? { type: 'gcs', bucket: need('dataBucket'), storage: { projectId } }
        : { type: 'datastore' },
  };
}

/** Writes the client configuration file (JSON). */
export async function writeGcpClientConfig(path: string, config: GcpClientConfigFile): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, `${JSON.stringify(config, null, 2)}\n`);
}

/**
 * Creates the root node in both stores if it is missing — core's `bootstrap`, run once by the
 * deployer (Application Default Credentials) after apply, because the writer and heartbeat
 * accounts may not write the user store. Idempotent: existing data is never touched.
 */
export async function bootstrapGcpDeployment(config: GcpClientConfigFile): Promise<void> {
  const { Datastore } = await import('@google-cloud/datastore');
  const datastore = new Datastore(config.datastore);
  const namespace = resourceNames(config.deployment).namespace;
  const systemStore = new DatastoreSystemStore({ datastore, namespace });
  await bootstrap(systemStore, userStoreOf(config, datastore, noMeter));
}

/** Options of {@link deployGcp}. */
export interface DeployGcpOptions extends SynthesizeGcpOptions, TerraformRun {
  /** Directory of the client configuration files. Default `.faaskeeper`. */
  configDir?: string;
  /**
   * Adopt the data a destroy kept (the bucket, and the database when this configuration creates
   * it): Terraform imports them instead of failing to create them again.
   */
  adoptData?: boolean;
  /** Creates the root node after apply. Default {@link bootstrapGcpDeployment}; tests inject one. */
  bootstrap?: (config: GcpClientConfigFile) => Promise<void>;
}

/** Terraform import blocks for the kept data of a deployment (what `adoptData` writes). */
export function dataImports(options: SynthesizeGcpOptions): { import: { to: string; id: string }[] } {
  const names = gcpDeploymentNames(options.deployment, options.project);
  const imports: { to: string; id: string }[] = [];
  if ((options.userStore ?? 'gcs') === 'gcs')
    imports.push({ to: 'google_storage_bucket.data', id: names.dataBucket });
  // The protected zone of either user store (nodes without world READ).
  imports.push({ to: 'google_storage_bucket.data_protected', id: names.protectedBucket });
  if (options.database === undefined || !('existing' in options.database))
    imports.push({
      to: 'google_firestore_database.system',
      id: `projects/${options.project}/databases/${names.database}`,
    });
  return { import: imports };
}

/** What a deploy produced. */
export interface DeployGcpResult {
  synthesized: SynthesizedGcp;
  config: GcpClientConfigFile;
  configPath: string;
}

/**
 * Deploys with Terraform: finds `terraform` and checks the credentials Terraform will use (both
 * fail fast, before bundling), synthesizes, runs `terraform init` and `terraform apply`, and
 * writes the client configuration from the outputs. Credentials are Terraform's: Application
 * Default Credentials (`gcloud auth application-default login`) or a key in `GOOGLE_CREDENTIALS`.
 * @throws TerraformNotFoundError without terraform; GcpCredentialsError without usable
 * credentials; TerraformCommandError when a command fails.
 */
export async function deployGcp(options: DeployGcpOptions): Promise<DeployGcpResult> {
  const {
    terraform,
    runner,
    echo,
    path,
    color,
    progress,
    checkCredentials,
    configDir,
    adoptData,
    bootstrap: init,
    ...synth
  } = options;
  const run = { runner, echo, path, terraform, color, progress, checkCredentials };
  await preflight(withoutUndefined(run));
  progress?.('Bundling the functions and writing the Terraform configuration ...');
  const synthesized = await synthesizeGcp(synth);
  const importsPath = join(synthesized.dir, SYNTH_FILES.imports);
  await rm(importsPath, { force: true });
  if (adoptData === true) await writeFile(importsPath, `${JSON.stringify(dataImports(synth), null, 2)}\n`);
  // The auth values reach Terraform only through its environment (sensitive variables).
  const tf = await terraformIn(synthesized.dir, withoutUndefined(run), authEnvironment(synth));
  await tf(['init', '-input=false']);
  await tf(['apply', '-input=false', '-auto-approve']);
  // Imported now: the blocks would fail a later apply after a destroy that dropped the data.
  await rm(importsPath, { force: true });
  const { stdout } = await tf(['output', '-json'], true);
  const config = gcpClientConfigFromOutputs(JSON.parse(stdout) as Record<string, unknown>);
  progress?.('Creating the root node (if missing) ...');
  await (init ?? bootstrapGcpDeployment)(config);
  const configPath = gcpClientConfigPath(options.deployment, configDir);
  await writeGcpClientConfig(configPath, config);
  return { synthesized, config, configPath };
}

/**
 * Options of {@link destroyGcp}. `userStore` may be left out: with `deleteData`, destroy takes it
 * from the Terraform state (a data bucket there: `gcs`).
 */
export interface DestroyGcpOptions extends Omit<SynthesizeGcpOptions, 'protectData'>, TerraformRun {
  /**
   * Delete the data too: the user-store bucket (with its objects) and the Datastore database.
   * Default false: they are left out of the destroy and kept.
   */
  deleteData?: boolean;
}

/** The resources that hold data: kept by a destroy unless `deleteData`. */
export const DATA_RESOURCES = ['google_storage_bucket.data', 'google_storage_bucket.data_protected'] as const;

/** What a destroy did. */
export interface DestroyGcpResult {
  dir: string;
  /** Addresses left out of the destroy (and out of Terraform's state): the kept data. */
  kept: string[];
}

/**
 * Destroys a deployment with Terraform. By default the data is kept: the bucket is protected
 * (`prevent_destroy`), so it is removed from Terraform's state before `terraform destroy` and stays,
 * and the database's deletion policy is ABANDON. With `deleteData`, the configuration is applied
 * without the protection first, then destroyed, data and all.
 */
export async function destroyGcp(options: DestroyGcpOptions): Promise<DestroyGcpResult> {
  const { terraform, runner, echo, path, color, progress, checkCredentials, deleteData, ...synth } = options;
  const run = withoutUndefined({ runner, echo, path, terraform, color, progress, checkCredentials });
  await preflight(run);
  let synthesized = await synthesizeGcp({ ...synth, protectData: deleteData !== true });
  const tf = await terraformIn(synthesized.dir, run);
  await tf(['init', '-input=false']);
  const kept: string[] = [];
  const { stdout } = await tf(['state', 'list'], true);
  const present = new Set(stdout.split('\n').map((line) => line.trim()));
  if (deleteData === true) {
    // The configuration is applied before the destroy: it must have the user store that was
    // deployed, or the apply would create a bucket (or delete one that still has objects).
    const deployed = userStoreInState(present);
    if (synth.userStore === undefined && deployed !== undefined && deployed !== 'gcs')
      synthesized = await synthesizeGcp({ ...synth, userStore: deployed, protectData: false });
    // Deletion policies take effect from the state: record the unprotected settings first.
    await tf(['apply', '-input=false', '-auto-approve']);
  } else {
    const protectedData = DATA_RESOURCES.filter((address) => present.has(address));
    if (protectedData.length > 0) await tf(['state', 'rm', ...protectedData]);
    kept.push(...protectedData);
    if (synthesized.configuration.resource.google_firestore_database?.system !== undefined)
      kept.push('google_firestore_database.system');
  }
  await tf(['destroy', '-input=false', '-auto-approve']);
  return { dir: synthesized.dir, kept };
}

/** The user store a deployment's state shows (the data bucket or not); `undefined` for an empty state. */
function userStoreInState(present: Set<string>): GcpUserStoreKind | undefined {
  if (![...present].some((address) => address !== '')) return undefined;
  return present.has('google_storage_bucket.data') ? 'gcs' : 'datastore';
}

function withoutUndefined<T extends object>(value: T): { [K in keyof T]: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as {
    [K in keyof T]: Exclude<T[K], undefined>;
  };
}

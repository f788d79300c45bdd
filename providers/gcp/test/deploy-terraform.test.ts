// `faaskeeper synth|deploy|destroy gcp` below the CLI: the files synth writes, and the Terraform
// commands deploy and destroy run (through an injected runner: no terraform, no cloud), including
// the client configuration made from Terraform's outputs and the data a destroy keeps.
import { existsSync } from 'node:fs';
import { access, chmod, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireOrSkip } from '@faaskeeper/core/testkit';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  type CommandRunner,
  DATA_RESOURCES,
  dataImports,
  deployGcp,
  destroyGcp,
  GcpCredentialsError,
  gcpClientConfigFromOutputs,
  locateTerraform,
  SYNTH_FILES,
  synthesizeGcp,
  TERRAFORM_OUTPUTS,
  TerraformCommandError,
  TerraformNotFoundError,
} from '../src/deploy/index.js';
import type { GcpConnectOptions } from '../src/index.js';
import { configuration } from './deploy-support.js';

let dir: string;
let terraform: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fk-gcp-tf-'));
  terraform = join(dir, 'terraform');
  await writeFile(terraform, '#!/bin/sh\nexit 1\n');
  await chmod(terraform, 0o755);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const OUTPUTS = {
  [TERRAFORM_OUTPUTS.deployment]: { value: 'prod', type: 'string', sensitive: false },
  [TERRAFORM_OUTPUTS.userStore]: { value: 'gcs' },
  [TERRAFORM_OUTPUTS.project]: { value: 'acme-zk' },
  [TERRAFORM_OUTPUTS.region]: { value: 'europe-west1' },
  [TERRAFORM_OUTPUTS.database]: { value: 'fk-prod' },
  [TERRAFORM_OUTPUTS.dataBucket]: { value: 'acme-zk-fk-prod-data' },
  [TERRAFORM_OUTPUTS.clientServiceAccount]: { value: 'fk-prod-cl@acme-zk.iam.gserviceaccount.com' },
  [TERRAFORM_OUTPUTS.writerTopic]: { value: 'fk-prod-writer' },
  [TERRAFORM_OUTPUTS.writerDeadLetterTopic]: { value: 'fk-prod-writer-dead' },
  [TERRAFORM_OUTPUTS.distributorDeadLetterTopic]: { value: 'fk-prod-distributor-dead' },
};

/** The outputs of a deployment with the Datastore user store (no data bucket). */
const { [TERRAFORM_OUTPUTS.dataBucket]: _dataBucket, ...DATASTORE_OUTPUTS } = {
  ...OUTPUTS,
  [TERRAFORM_OUTPUTS.userStore]: { value: 'datastore' },
};

/** A runner that records every call and answers like terraform would. */
function fakeTerraform(answers: { state?: string[]; fail?: string; outputs?: Record<string, unknown> } = {}) {
  const calls: { command: string; args: string[]; cwd: string; env?: Record<string, string> }[] = [];
  const runner: CommandRunner = async (command, args, options) => {
    calls.push({
      command,
      args: [...args],
      cwd: options.cwd,
      ...(options.env === undefined ? {} : { env: options.env }),
    });
    if (answers.fail !== undefined && args[0] === answers.fail)
      return {
        code: 1,
        stdout: '',
        stderr: 'Error: googleapi: Error 403: Permission denied on project acme-zk\n',
      };
    options.echo?.(`terraform ${args[0]} ok\n`);
    if (args[0] === 'output')
      return { code: 0, stdout: JSON.stringify(answers.outputs ?? OUTPUTS), stderr: '' };
    if (args[0] === 'state' && args[1] === 'list')
      return { code: 0, stdout: `${(answers.state ?? []).join('\n')}\n`, stderr: '' };
    return { code: 0, stdout: '', stderr: '' };
  };
  return { calls, runner };
}

const base = { deployment: 'prod', project: 'acme-zk', region: 'europe-west1' } as const;
/** Deploy and destroy check the credentials first; these tests reach no cloud. */
const offline = { checkCredentials: async () => 'test credentials' };

describe('synthesizeGcp', () => {
  it('writes the configuration and one zip per function, offline', async () => {
    const out = join(dir, 'synth');
    const s = await synthesizeGcp({ ...base, outDir: out, stateBucket: 'acme-tf-state' });
    const written = JSON.parse(await readFile(join(out, SYNTH_FILES.configuration), 'utf8'));
    expect(written).toEqual(JSON.parse(JSON.stringify(s.configuration)));
    for (const fn of ['writer', 'distributor', 'heartbeat'] as const) {
      const object = written.resource.google_storage_bucket_object[`source_${fn}`];
      expect(object.source).toBe(`\${path.module}/sources/${fn}.zip`);
      await access(join(out, 'sources', `${fn}.zip`));
      expect(object.name).toBe(`${fn}-${s.bundles[fn].md5}.zip`);
    }
    expect(JSON.parse(await readFile(join(out, SYNTH_FILES.backend), 'utf8'))).toEqual({
      terraform: { backend: { gcs: { bucket: 'acme-tf-state', prefix: 'faaskeeper/prod' } } },
    });
  }, 60_000);
});

describe('deployGcp', () => {
  it('hands the super digest and gateway key to terraform as TF_VAR_ variables only: no file it writes holds them', async () => {
    const digest = 'super:ZHWAqh4RHhCKN+pzlmj1IpJbEM4=';
    const key = 'gateway-key-7f3a9c1e5b2d4068';
    const { calls, runner } = fakeTerraform();
    const out = join(dir, 'deploy-keys');
    const config = join(dir, 'config-keys');
    await deployGcp({
      ...offline,
      ...base,
      outDir: out,
      configDir: config,
      terraform,
      runner,
      superDigest: digest,
      gatewayKey: key,
      bootstrap: async () => {},
    });
    const env = { TF_VAR_super_digest: digest, TF_VAR_gateway_key: key };
    for (const c of calls) expect(c.env, c.args.join(' ')).toEqual(env);
    const main = JSON.parse(await readFile(join(out, SYNTH_FILES.configuration), 'utf8'));
    expect(Object.keys(main.variable)).toEqual(['super_digest', 'gateway_key']);
    for (const root of [out, config])
      for (const file of await readdir(root, { recursive: true })) {
        if (!file.endsWith('.json')) continue;
        const body = await readFile(join(root, file), 'utf8');
        expect(body, file).not.toContain(key);
        expect(body, file).not.toContain(digest.slice('super:'.length));
      }
  }, 60_000);

  it('sets no TF_VAR_ variable when the deployment has no super digest or gateway key', async () => {
    const { calls, runner } = fakeTerraform();
    await deployGcp({
      ...offline,
      ...base,
      outDir: join(dir, 'deploy-nokeys'),
      configDir: join(dir, 'config-nokeys'),
      terraform,
      runner,
      bootstrap: async () => {},
    });
    for (const c of calls) expect(c.env).toBeUndefined();
  }, 60_000);

  it('runs terraform init, apply and output in the configuration directory, bootstraps, then writes the client configuration', async () => {
    const { calls, runner } = fakeTerraform();
    const out = join(dir, 'deploy');
    const echoed: string[] = [];
    const bootstrapped: unknown[] = [];
    const done = await deployGcp({
      ...offline,
      ...base,
      outDir: out,
      configDir: join(dir, 'config'),
      terraform,
      runner,
      echo: (t) => echoed.push(t),
      bootstrap: async (config) => {
        bootstrapped.push({ config, afterCommands: calls.length });
      },
    });
    expect(calls.map((c) => c.args)).toEqual([
      ['init', '-input=false'],
      ['apply', '-input=false', '-auto-approve'],
      ['output', '-json'],
    ]);
    // The root node is created once the resources exist, with the deployment's own configuration.
    expect(bootstrapped).toEqual([{ config: done.config, afterCommands: 3 }]);
    for (const c of calls) expect(c).toMatchObject({ command: terraform, cwd: out });
    expect(echoed).toEqual(['terraform init ok\n', 'terraform apply ok\n']); // the output JSON is not echoed
    expect(done.configPath).toBe(join(dir, 'config', 'prod.gcp.json'));
    const file = JSON.parse(await readFile(done.configPath, 'utf8'));
    expect(file).toEqual({
      provider: 'gcp',
      deployment: 'prod',
      projectId: 'acme-zk',
      serviceAccount: 'fk-prod-cl@acme-zk.iam.gserviceaccount.com',
      datastore: { projectId: 'acme-zk', databaseId: 'fk-prod' },
      pubsub: { projectId: 'acme-zk' },
      userStore: { type: 'gcs', bucket: 'acme-zk-fk-prod-data', storage: { projectId: 'acme-zk' } },
    });
    // What connect() takes, once the provider is left out.
    const { provider: _provider, ...options } = done.config;
    const connectOptions: GcpConnectOptions = options;
    expect(connectOptions.deployment).toBe('prod');
  }, 60_000);

  it('writes a client configuration that names the Datastore user store when the deployment has it', async () => {
    const { runner } = fakeTerraform({ outputs: DATASTORE_OUTPUTS });
    const bootstrapped: unknown[] = [];
    const done = await deployGcp({
      ...offline,
      ...base,
      userStore: 'datastore',
      outDir: join(dir, 'deploy-ds'),
      configDir: join(dir, 'config-ds'),
      terraform,
      runner,
      bootstrap: async (config) => {
        bootstrapped.push(config);
      },
    });
    expect(done.synthesized.configuration.resource.google_storage_bucket?.data).toBeUndefined();
    const file = JSON.parse(await readFile(done.configPath, 'utf8'));
    expect(file).toEqual({
      provider: 'gcp',
      deployment: 'prod',
      projectId: 'acme-zk',
      serviceAccount: 'fk-prod-cl@acme-zk.iam.gserviceaccount.com',
      datastore: { projectId: 'acme-zk', databaseId: 'fk-prod' },
      pubsub: { projectId: 'acme-zk' },
      userStore: { type: 'datastore' },
    });
    expect(bootstrapped).toEqual([file]);
  }, 60_000);

  it('names what to install when terraform is missing, before it bundles anything', async () => {
    const out = join(dir, 'missing');
    const { calls, runner } = fakeTerraform();
    await expect(
      deployGcp({ ...offline, ...base, outDir: out, runner, path: join(dir, 'empty-path') }),
    ).rejects.toThrow(TerraformNotFoundError);
    await expect(deployGcp({ ...offline, ...base, outDir: out, runner, path: '' })).rejects.toThrow(
      /install Terraform/,
    );
    expect(calls).toEqual([]);
    await expect(access(out)).rejects.toThrow();
  });

  it('adopts kept data on request: import blocks for the bucket and the database exist during apply only', async () => {
    const out = join(dir, 'adopt');
    const seen: unknown[] = [];
    const { runner: inner } = fakeTerraform();
    const runner: CommandRunner = async (command, args, options) => {
      if (args[0] === 'apply')
        seen.push(JSON.parse(await readFile(join(options.cwd, SYNTH_FILES.imports), 'utf8')));
      return inner(command, args, options);
    };
    await deployGcp({
      ...offline,
      ...base,
      outDir: out,
      configDir: join(dir, 'adopt-config'),
      terraform,
      runner,
      adoptData: true,
      bootstrap: async () => {},
    });
    expect(seen).toEqual([
      {
        import: [
          { to: 'google_storage_bucket.data', id: 'acme-zk-fk-prod-data' },
          { to: 'google_storage_bucket.data_protected', id: 'acme-zk-fk-prod-prot' },
          { to: 'google_firestore_database.system', id: 'projects/acme-zk/databases/fk-prod' },
        ],
      },
    ]);
    await expect(access(join(out, SYNTH_FILES.imports))).rejects.toThrow();
    // The Datastore user store has no data bucket to adopt, only its protected zone's.
    expect(dataImports({ ...base, userStore: 'datastore' })).toEqual({
      import: [
        { to: 'google_storage_bucket.data_protected', id: 'acme-zk-fk-prod-prot' },
        { to: 'google_firestore_database.system', id: 'projects/acme-zk/databases/fk-prod' },
      ],
    });
  }, 60_000);

  it('stops at a failing command with its error, and writes no client configuration', async () => {
    const { calls, runner } = fakeTerraform({ fail: 'apply' });
    const configDir = join(dir, 'failed-config');
    const failure = deployGcp({
      ...offline,
      ...base,
      outDir: join(dir, 'failed'),
      configDir,
      terraform,
      runner,
      bootstrap: async () => {},
    });
    await expect(failure).rejects.toThrow(TerraformCommandError);
    await expect(failure).rejects.toThrow(/apply .*exit code 1.*Permission denied on project acme-zk/s);
    expect(calls.map((c) => c.args[0])).toEqual(['init', 'apply']);
    await expect(access(join(configDir, 'prod.gcp.json'))).rejects.toThrow();
  }, 60_000);

  it('reports a spawn failure of terraform as not installed', async () => {
    const runner: CommandRunner = async () => {
      throw Object.assign(new Error('spawn terraform ENOENT'), { code: 'ENOENT' });
    };
    await expect(
      deployGcp({
        ...offline,
        ...base,
        outDir: join(dir, 'enoent'),
        terraform,
        runner,
        bootstrap: async () => {},
      }),
    ).rejects.toThrow(TerraformNotFoundError);
  }, 60_000);
});

describe('deployGcp and destroyGcp before Terraform', () => {
  it('check the credentials before any terraform command, and stop there when they are unusable', async () => {
    for (const run of [deployGcp, destroyGcp]) {
      const { calls, runner } = fakeTerraform();
      const out = join(dir, `no-credentials-${run.name}`);
      await expect(
        run({
          ...base,
          outDir: out,
          terraform,
          runner,
          checkCredentials: async () => {
            throw new GcpCredentialsError('no usable Google Cloud credentials (test)');
          },
        }),
      ).rejects.toThrow(GcpCredentialsError);
      expect(calls).toEqual([]);
      expect(existsSync(out)).toBe(false); // not even synthesized
    }
  });

  it('pass -no-color to every terraform command when color is off, after the command words', async () => {
    const { calls, runner } = fakeTerraform({ state: ['google_storage_bucket.data'] });
    await destroyGcp({ ...offline, ...base, outDir: join(dir, 'no-color'), terraform, runner, color: false });
    expect(calls.map((c) => c.args)).toEqual([
      ['init', '-no-color', '-input=false'],
      ['state', 'list', '-no-color'],
      ['state', 'rm', '-no-color', 'google_storage_bucket.data'],
      ['destroy', '-no-color', '-input=false', '-auto-approve'],
    ]);
  }, 60_000);
});

describe('destroyGcp', () => {
  it('keeps the data by default: the bucket leaves the state before terraform destroy, the database is abandoned', async () => {
    const { calls, runner } = fakeTerraform({
      state: ['google_pubsub_topic.writer', ...DATA_RESOURCES, 'google_firestore_database.system'],
    });
    const out = join(dir, 'destroy');
    const done = await destroyGcp({ ...offline, ...base, outDir: out, terraform, runner });
    expect(calls.map((c) => c.args)).toEqual([
      ['init', '-input=false'],
      ['state', 'list'],
      ['state', 'rm', 'google_storage_bucket.data', 'google_storage_bucket.data_protected'],
      ['destroy', '-input=false', '-auto-approve'],
    ]);
    expect(done.kept).toEqual([...DATA_RESOURCES, 'google_firestore_database.system']);
    const written = JSON.parse(await readFile(join(out, SYNTH_FILES.configuration), 'utf8'));
    expect(written.resource.google_storage_bucket.data.lifecycle).toEqual({ prevent_destroy: true });
    expect(written.resource.google_firestore_database.system.deletion_policy).toBe('ABANDON');
  }, 60_000);

  it('removes nothing from the state that is not there (a second destroy)', async () => {
    const { calls, runner } = fakeTerraform({ state: [] });
    await destroyGcp({ ...offline, ...base, outDir: join(dir, 'destroy-again'), terraform, runner });
    expect(calls.map((c) => c.args[0])).toEqual(['init', 'state', 'destroy']);
  }, 60_000);

  it('keeps only the database of a Datastore user-store deployment (there is no bucket)', async () => {
    const { calls, runner } = fakeTerraform({
      state: ['google_pubsub_topic.writer', 'google_firestore_database.system'],
    });
    const done = await destroyGcp({
      ...offline,
      ...base,
      userStore: 'datastore',
      outDir: join(dir, 'destroy-ds'),
      terraform,
      runner,
    });
    expect(calls.map((c) => c.args[0])).toEqual(['init', 'state', 'destroy']);
    expect(done.kept).toEqual(['google_firestore_database.system']);
  }, 60_000);

  it('with deleteData, applies the unprotected configuration first and then destroys everything', async () => {
    const { calls, runner } = fakeTerraform({ state: ['google_pubsub_topic.writer', ...DATA_RESOURCES] });
    const out = join(dir, 'destroy-all');
    const done = await destroyGcp({ ...offline, ...base, outDir: out, terraform, runner, deleteData: true });
    expect(calls.map((c) => c.args)).toEqual([
      ['init', '-input=false'],
      ['state', 'list'],
      ['apply', '-input=false', '-auto-approve'],
      ['destroy', '-input=false', '-auto-approve'],
    ]);
    expect(done.kept).toEqual([]);
    const written = JSON.parse(await readFile(join(out, SYNTH_FILES.configuration), 'utf8'));
    expect(written.resource.google_storage_bucket.data).toMatchObject({ force_destroy: true });
    expect(written.resource.google_storage_bucket.data.lifecycle).toBeUndefined();
    expect(written.resource.google_firestore_database.system.deletion_policy).toBe('DELETE');
  }, 60_000);

  it('with deleteData, applies the user store the state shows, so that the apply creates no bucket', async () => {
    // A Datastore user-store deployment destroyed without naming its user store.
    const applied: unknown[] = [];
    const { calls, runner: inner } = fakeTerraform({
      state: ['google_pubsub_topic.writer', 'google_firestore_database.system'],
    });
    const runner: CommandRunner = async (command, args, options) => {
      if (args[0] === 'apply')
        applied.push(JSON.parse(await readFile(join(options.cwd, SYNTH_FILES.configuration), 'utf8')));
      return inner(command, args, options);
    };
    const out = join(dir, 'destroy-all-ds');
    await destroyGcp({ ...offline, ...base, outDir: out, terraform, runner, deleteData: true });
    expect(calls.map((c) => c.args[0])).toEqual(['init', 'state', 'apply', 'destroy']);
    expect(applied).toHaveLength(1);
    const config = applied[0] as { resource: Record<string, Record<string, unknown>> };
    expect(config.resource.google_storage_bucket?.data).toBeUndefined();
    expect(config.resource.google_firestore_database?.system).toMatchObject({ deletion_policy: 'DELETE' });
  }, 60_000);
});

describe('outputs and the terraform executable', () => {
  it('is refused when an output is missing (a partial apply) or names no known user store', () => {
    const { [TERRAFORM_OUTPUTS.dataBucket]: _bucket, ...partial } = OUTPUTS;
    expect(() => gcpClientConfigFromOutputs(partial)).toThrow(/data_bucket/);
    expect(() =>
      gcpClientConfigFromOutputs({ ...OUTPUTS, [TERRAFORM_OUTPUTS.userStore]: { value: 's3' } }),
    ).toThrow(/user_store names no known user store: s3/);
  });

  it('reads a state from before the user store was a choice as the Cloud Storage user store', () => {
    const { [TERRAFORM_OUTPUTS.userStore]: _kind, ...older } = OUTPUTS;
    expect(gcpClientConfigFromOutputs(older).userStore).toEqual({
      type: 'gcs',
      bucket: 'acme-zk-fk-prod-data',
      storage: { projectId: 'acme-zk' },
    });
  });

  it('finds terraform on PATH, or refuses with what to install', () => {
    expect(locateTerraform(undefined, dir)).toBe(terraform);
    expect(() => locateTerraform(undefined, join(dir, 'nowhere'))).toThrow(/not on PATH.*install Terraform/);
    expect(() => locateTerraform(join(dir, 'nope'))).toThrow(TerraformNotFoundError);
  });
});

// Terraform itself decodes the configuration (meta-arguments, expressions, provider requirements)
// without downloading the provider: run where terraform is installed, as on this project's machines;
// skipped with the reason elsewhere, and failed on CI, where terraform must be installed.
let terraformBin = '';
let terraformMissing: string | undefined;
try {
  terraformBin = locateTerraform();
} catch (error) {
  terraformMissing = error instanceof Error ? error.message : String(error);
}
describe('the configuration, read by terraform (needs terraform on PATH)', () => {
  beforeEach((ctx) => {
    requireOrSkip(ctx, terraformMissing, 'terraform decoding');
  });
  it('decodes (terraform providers) and requires only the pinned google provider', async () => {
    const out = join(dir, 'decode');
    await synthesizeGcp({ ...base, outDir: out });
    // With the import blocks deploy --adopt-data adds.
    await writeFile(join(out, SYNTH_FILES.imports), JSON.stringify(dataImports(base)));
    const { spawnRunner } = await import('../src/deploy/index.js');
    const result = await spawnRunner(terraformBin, ['providers'], { cwd: out });
    expect(result.stderr).not.toMatch(/Error/);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/provider\[registry\.terraform\.io\/hashicorp\/google\] ~> 6\.14/);
    // And a broken meta-argument is refused: the check can fail.
    const broken = JSON.parse(await readFile(join(out, SYNTH_FILES.configuration), 'utf8'));
    broken.resource.google_storage_bucket.sources.lifecycle = { ignore_changes: 'everything' };
    await writeFile(join(out, SYNTH_FILES.configuration), JSON.stringify(broken));
    const refused = await spawnRunner(terraformBin, ['providers'], { cwd: out });
    expect(refused.code).not.toBe(0);
  }, 60_000);

  it('decodes the sensitive variables of the super digest and gateway key', async () => {
    const out = join(dir, 'decode-auth');
    await mkdir(out, { recursive: true });
    const keyed = configuration({ authVariables: ['superDigest', 'gatewayKey'] });
    await writeFile(join(out, SYNTH_FILES.configuration), JSON.stringify(keyed));
    const { spawnRunner } = await import('../src/deploy/index.js');
    const result = await spawnRunner(terraformBin, ['providers'], { cwd: out });
    expect(result.stderr).not.toMatch(/Error/);
    expect(result.code).toBe(0);
    // A variable of a type Terraform does not know is refused: the check can fail.
    const broken = {
      ...keyed,
      variable: { ...keyed.variable, gateway_key: { type: 'secret', description: 'x' } },
    };
    await writeFile(join(out, SYNTH_FILES.configuration), JSON.stringify(broken));
    expect((await spawnRunner(terraformBin, ['providers'], { cwd: out })).code).not.toBe(0);
  }, 60_000);

  it('decodes the configuration with the Datastore user store too', async () => {
    const out = join(dir, 'decode-ds');
    await mkdir(out, { recursive: true });
    await writeFile(
      join(out, SYNTH_FILES.configuration),
      JSON.stringify(configuration({ userStore: 'datastore' })),
    );
    await writeFile(
      join(out, SYNTH_FILES.imports),
      JSON.stringify(dataImports({ ...base, userStore: 'datastore' })),
    );
    const { spawnRunner } = await import('../src/deploy/index.js');
    const result = await spawnRunner(terraformBin, ['providers'], { cwd: out });
    expect(result.stderr).not.toMatch(/Error/);
    expect(result.code).toBe(0);
  }, 60_000);
});

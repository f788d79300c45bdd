// `faaskeeper synth|deploy|destroy gcp`: argument handling, the Terraform commands run (through an
// injected runner: no terraform, no cloud), what is printed and written, and the dispatch in main().
import { existsSync, readFileSync } from 'node:fs';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CommandRunner, GcpClientConfigFile } from '@faaskeeper/gcp/deploy';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GcpDeployDependencies } from '../src/gcp-deploy.js';
import { ExitCode, main } from '../src/index.js';
import { memoryStreams } from './helpers.js';

let dir: string;
let terraform: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fk-cli-gcp-'));
  terraform = join(dir, 'terraform');
  await writeFile(terraform, '#!/bin/sh\nexit 1\n');
  await chmod(terraform, 0o755);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const OUTPUT_VALUES = {
  deployment: { value: 'ci' },
  user_store: { value: 'gcs' },
  project: { value: 'acme-zk' },
  region: { value: 'europe-west1' },
  database: { value: 'fk-ci' },
  data_bucket: { value: 'acme-zk-fk-ci-data' },
  client_service_account: { value: 'fk-ci-cl@acme-zk.iam.gserviceaccount.com' },
  writer_topic: { value: 'fk-ci-writer' },
  writer_dead_letter_topic: { value: 'fk-ci-writer-dead' },
  distributor_dead_letter_topic: { value: 'fk-ci-distributor-dead' },
};
const OUTPUTS = JSON.stringify(OUTPUT_VALUES);
/** What a deployment with --user-store datastore outputs: no bucket. */
const { data_bucket: _bucket, ...datastoreOutputs } = {
  ...OUTPUT_VALUES,
  user_store: { value: 'datastore' },
};
const DATASTORE_OUTPUTS = JSON.stringify(datastoreOutputs);

function fakeTerraform(answers: { state?: string; fail?: string; outputs?: string } = {}) {
  const calls: string[] = [];
  const runner: CommandRunner = async (command, args) => {
    calls.push([command === terraform ? 'terraform' : command, ...args].join(' '));
    if (args[0] === answers.fail)
      return { code: 1, stdout: '', stderr: 'Error: Error creating Topic: googleapi: Error 403' };
    if (args[0] === 'output') return { code: 0, stdout: answers.outputs ?? OUTPUTS, stderr: '' };
    if (args[0] === 'state' && args[1] === 'list')
      return { code: 0, stdout: answers.state ?? '', stderr: '' };
    return { code: 0, stdout: '', stderr: '' };
  };
  return { calls, runner };
}

async function gcp(
  command: 'deploy' | 'synth' | 'destroy',
  args: string[],
  dependencies: GcpDeployDependencies = {},
) {
  const io = memoryStreams();
  const code = await main([command, 'gcp', ...args], io.streams, {
    gcp: { env: {}, checkCredentials: async () => 'test credentials', ...dependencies },
  });
  return { code, stdout: io.stdout(), stderr: io.stderr() };
}

const target = ['--project', 'acme-zk', '--region', 'europe-west1', '--deployment', 'ci'];

describe('faaskeeper synth gcp', () => {
  it('writes the Terraform configuration and the function sources without terraform or credentials', async () => {
    const out = join(dir, 'synth');
    const r = await gcp('synth', [...target, '--out', out], { path: join(dir, 'no-terraform-here') });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(ExitCode.OK);
    expect(r.stdout).toMatch(
      /^Bundling the functions and writing the Terraform configuration \.\.\.\nSynthesized deployment ci for acme-zk\/europe-west1 \(nothing deployed\)\./,
    );
    const config = JSON.parse(readFileSync(join(out, 'main.tf.json'), 'utf8'));
    expect(Object.keys(config.resource.google_cloudfunctions2_function).sort()).toEqual([
      'distributor',
      'heartbeat',
      'writer',
    ]);
    expect(config.provider.google).toEqual({ project: 'acme-zk', region: 'europe-west1' });
    for (const fn of ['writer', 'distributor', 'heartbeat'])
      expect(existsSync(join(out, 'sources', `${fn}.zip`))).toBe(true);
    // The default user store is the Cloud Storage bucket.
    expect(config.resource.google_storage_bucket.data).toBeDefined();
    expect(
      config.resource.google_cloudfunctions2_function.writer.service_config.environment_variables,
    ).toMatchObject({ FAASKEEPER_USER_STORE: 'gcs' });
  }, 60_000);

  it('--user-store datastore keeps node records in the deployment database: no bucket, a read-only client role', async () => {
    const out = join(dir, 'synth-datastore');
    const r = await gcp('synth', [...target, '--user-store', 'datastore', '--out', out]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(ExitCode.OK);
    const config = JSON.parse(readFileSync(join(out, 'main.tf.json'), 'utf8'));
    expect(config.resource.google_storage_bucket.data).toBeUndefined();
    expect(config.resource.google_project_iam_member.client_datastore).toMatchObject({
      role: 'roles/datastore.viewer',
      condition: { expression: 'resource.name == "projects/acme-zk/databases/fk-ci"' },
    });
    // The writer and distributor also get the channel secret (sealed channels); the heartbeat does
    // not, but gets the secret suffix of the lease subscription it pulls.
    for (const fn of ['writer', 'distributor', 'heartbeat'])
      expect(
        config.resource.google_cloudfunctions2_function[fn].service_config.environment_variables,
      ).toEqual({
        FAASKEEPER_DEPLOYMENT: 'ci',
        FAASKEEPER_USER_STORE: 'datastore',
        FAASKEEPER_DATABASE: 'fk-ci',
        GOOGLE_CLOUD_PROJECT: 'acme-zk',
        ...(fn === 'heartbeat'
          ? {
              // biome-ignore lint/suspicious/noTemplateCurlyInString: a Terraform interpolation, not a JavaScript one
              FAASKEEPER_SUBSCRIPTION_SUFFIX: '${random_id.subscription_suffix.hex}',
            }
          : {
              // biome-ignore lint/suspicious/noTemplateCurlyInString: a Terraform interpolation, not a JavaScript one
              FAASKEEPER_CHANNEL_SECRET: '${random_password.channel_secret.result}',
              // biome-ignore lint/suspicious/noTemplateCurlyInString: a Terraform interpolation, not a JavaScript one
              FAASKEEPER_PROTECTED_BUCKET: '${google_storage_bucket.data_protected.name}',
            }),
      });
    expect(config.output.user_store.value).toBe('datastore');
  }, 60_000);

  it('passes the database, state and impersonation options into the configuration', async () => {
    const out = join(dir, 'synth-options');
    const r = await gcp('synth', [
      ...target,
      '--out',
      out,
      '--existing-database',
      '(default)',
      '--state-bucket',
      'acme-tf',
      '--client-member',
      'user:ops@example.com',
      '--client-member',
      'group:zk@example.com',
    ]);
    expect(r.code).toBe(ExitCode.OK);
    const config = JSON.parse(readFileSync(join(out, 'main.tf.json'), 'utf8'));
    expect(config.resource.google_firestore_database).toBeUndefined();
    expect(config.resource.google_project_iam_member.writer_datastore.condition.expression).toContain(
      'databases/(default)',
    );
    const impersonators = Object.values(config.resource.google_service_account_iam_member)
      .map((m) => (m as { member: string }).member)
      .filter((m) => !m.includes('gcp-sa-pubsub'));
    expect(impersonators).toEqual(['user:ops@example.com', 'group:zk@example.com']);
    expect(JSON.parse(readFileSync(join(out, 'backend.tf.json'), 'utf8')).terraform.backend.gcs.bucket).toBe(
      'acme-tf',
    );
  }, 60_000);

  it('takes the project and region from the environment gcloud users have', async () => {
    const out = join(dir, 'synth-env');
    const r = await gcp('synth', ['--out', out], {
      env: { CLOUDSDK_CORE_PROJECT: 'from-gcloud', GOOGLE_CLOUD_REGION: 'us-east1' },
    });
    expect(r.code).toBe(ExitCode.OK);
    expect(JSON.parse(readFileSync(join(out, 'main.tf.json'), 'utf8')).provider.google).toEqual({
      project: 'from-gcloud',
      region: 'us-east1',
    });
  }, 60_000);
});

describe('faaskeeper deploy gcp', () => {
  it('runs terraform init and apply, bootstraps, writes the client configuration and says how to connect', async () => {
    const { calls, runner } = fakeTerraform();
    const configDir = join(dir, 'config');
    const bootstrapped: GcpClientConfigFile[] = [];
    const r = await gcp(
      'deploy',
      [...target, '--out', join(dir, 'deploy'), '--terraform', terraform, '--config-dir', configDir],
      {
        runner,
        bootstrap: async (config) => {
          bootstrapped.push(config);
        },
      },
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(ExitCode.OK);
    expect(calls).toEqual([
      'terraform init -no-color -input=false',
      'terraform apply -no-color -input=false -auto-approve',
      'terraform output -no-color -json',
    ]);
    const file = JSON.parse(readFileSync(join(configDir, 'ci.gcp.json'), 'utf8'));
    expect(file).toMatchObject({
      provider: 'gcp',
      deployment: 'ci',
      projectId: 'acme-zk',
      userStore: { type: 'gcs', bucket: 'acme-zk-fk-ci-data' },
    });
    expect(bootstrapped).toEqual([file]);
    expect(r.stdout).toContain(`Client configuration: ${join(configDir, 'ci.gcp.json')}`);
    expect(r.stdout).toContain('--impersonate-service-account=fk-ci-cl@acme-zk.iam.gserviceaccount.com');
    expect(r.stdout).toContain("import { connect } from '@faaskeeper/gcp';");
    expect(r.stdout).toContain(`Or a shell: faaskeeper shell --config ${join(configDir, 'ci.gcp.json')}`);
  }, 60_000);

  it('hands the gateway key to terraform as TF_VAR_gateway_key only, and says the Terraform state holds it in clear', async () => {
    const key = 'the-deploy-gateway-key-0123456789';
    const envs: (Record<string, string> | undefined)[] = [];
    const { runner: answer } = fakeTerraform();
    const runner: CommandRunner = async (command, args, options) => {
      envs.push(options.env);
      return answer(command, args, options);
    };
    const out = join(dir, 'deploy-key');
    const configDir = join(dir, 'config-key');
    const r = await gcp(
      'deploy',
      [...target, '--out', out, '--terraform', terraform, '--config-dir', configDir],
      { runner, bootstrap: async () => {}, env: { FAASKEEPER_GATEWAY_KEY: key } },
    );
    expect(r.code).toBe(ExitCode.OK);
    expect(r.stderr).toBe(
      `Note: the gateway key is not in main.tf.json (sensitive Terraform variables), but the Terraform state (${join(out, 'terraform.tfstate')}) and the writer's and distributor's environment hold it in clear; keep the state private.\n`,
    );
    expect(envs.length).toBeGreaterThan(0);
    for (const env of envs) expect(env).toEqual({ TF_VAR_gateway_key: key });
    expect(r.stdout).not.toContain(key);
    expect(readFileSync(join(out, 'main.tf.json'), 'utf8')).not.toContain(key);
    expect(readFileSync(join(configDir, 'ci.gcp.json'), 'utf8')).not.toContain(key);
  }, 60_000);

  it('--user-store datastore writes a client configuration that opens the Datastore user store', async () => {
    const { runner } = fakeTerraform({ outputs: DATASTORE_OUTPUTS });
    const configDir = join(dir, 'config-datastore');
    const r = await gcp(
      'deploy',
      [
        ...target,
        '--user-store',
        'datastore',
        '--out',
        join(dir, 'deploy-datastore'),
        '--terraform',
        terraform,
        '--config-dir',
        configDir,
      ],
      { runner, bootstrap: async () => {} },
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(ExitCode.OK);
    const file = JSON.parse(readFileSync(join(configDir, 'ci.gcp.json'), 'utf8'));
    expect(file).toMatchObject({
      datastore: { projectId: 'acme-zk', databaseId: 'fk-ci' },
      userStore: { type: 'datastore' },
    });
  }, 60_000);

  it('checks the credentials before any tool runs: without them it fails with exit code 1, runs no terraform and writes nothing', async () => {
    const { calls, runner } = fakeTerraform();
    const out = join(dir, 'no-credentials');
    const saved = process.env.GOOGLE_APPLICATION_CREDENTIALS;
    // The real check (Google's auth library), offline: a key file that does not exist.
    process.env.GOOGLE_APPLICATION_CREDENTIALS = join(dir, 'no-such-key.json');
    try {
      const io = memoryStreams();
      const code = await main(
        ['deploy', 'gcp', ...target, '--out', out, '--terraform', terraform],
        io.streams,
        {
          gcp: { env: {}, runner },
        },
      );
      expect(code).toBe(ExitCode.FAILED);
      expect(io.stderr()).toMatch(
        /^Error: no usable Google Cloud credentials \(Application Default Credentials\): .*no-such-key\.json.*gcloud auth application-default login/s,
      );
      expect(calls).toEqual([]);
      expect(existsSync(out)).toBe(false);
    } finally {
      if (saved === undefined) delete process.env.GOOGLE_APPLICATION_CREDENTIALS;
      else process.env.GOOGLE_APPLICATION_CREDENTIALS = saved;
    }
  });

  it('reads a key in GOOGLE_CREDENTIALS as Terraform does, and refuses one it cannot read', async () => {
    const { calls, runner } = fakeTerraform();
    const io = memoryStreams();
    const code = await main(
      ['deploy', 'gcp', ...target, '--out', join(dir, 'bad-key'), '--terraform', terraform],
      io.streams,
      { gcp: { env: { GOOGLE_CREDENTIALS: '{"type": "service_account", "truncated' }, runner } },
    );
    expect(code).toBe(ExitCode.FAILED);
    expect(io.stderr()).toMatch(/^Error: GOOGLE_CREDENTIALS holds no readable key: /);
    expect(calls).toEqual([]);
  });

  it('shows each step as it starts, the credential check first', async () => {
    const { runner } = fakeTerraform();
    const r = await gcp(
      'deploy',
      [
        ...target,
        '--out',
        join(dir, 'steps'),
        '--terraform',
        terraform,
        '--config-dir',
        join(dir, 'steps-config'),
      ],
      { runner, bootstrap: async () => {} },
    );
    expect(r.code).toBe(ExitCode.OK);
    const steps = r.stdout.split('\n').filter((line) => line.endsWith(' ...'));
    expect(steps).toEqual([
      'Checking the Google Cloud credentials ...',
      'Bundling the functions and writing the Terraform configuration ...',
      'Running terraform init -input=false ...',
      'Running terraform apply -input=false -auto-approve ...',
      'Creating the root node (if missing) ...',
    ]);
    expect(r.stdout).toContain('Credentials: test credentials.');
  }, 60_000);

  it('leaves Terraform its colors on a terminal and passes -no-color elsewhere', async () => {
    const { calls, runner } = fakeTerraform();
    const io = memoryStreams();
    Object.assign(io.streams.output, { isTTY: true });
    const code = await main(
      ['destroy', 'gcp', ...target, '--out', join(dir, 'tty'), '--terraform', terraform],
      io.streams,
      { gcp: { env: {}, runner, checkCredentials: async () => 'test credentials' } },
    );
    expect(code).toBe(ExitCode.OK);
    expect(calls.every((call) => !call.includes('-no-color'))).toBe(true);
    expect(calls[0]).toBe('terraform init -input=false');
  }, 60_000);

  it('refuses an --out or --config-dir whose parent directory does not exist, creating nothing', async () => {
    const missing = join(dir, 'missing-parent');
    for (const option of ['--out', '--config-dir']) {
      const r = await gcp('deploy', [...target, option, join(missing, 'x')]);
      expect(r.code, option).toBe(ExitCode.USAGE);
      expect(r.stderr).toMatch(
        new RegExp(`^Error: ${option} .*: the directory .*missing-parent does not exist`),
      );
    }
    expect(existsSync(missing)).toBe(false);
  });

  it('fails with exit code 1 and names what to install when terraform is not on PATH, before bundling', async () => {
    const out = join(dir, 'no-tf');
    const r = await gcp('deploy', [...target, '--out', out], { path: join(dir, 'empty') });
    expect(r.code).toBe(ExitCode.FAILED);
    expect(r.stderr).toMatch(
      /^Error: terraform is not on PATH: install Terraform >= 1\.5 .*--terraform <path>/,
    );
    expect(existsSync(out)).toBe(false);
  });

  it('reports a failing terraform command with its error and exit code 1, and writes no client configuration', async () => {
    const { calls, runner } = fakeTerraform({ fail: 'apply' });
    const configDir = join(dir, 'failed-config');
    const r = await gcp(
      'deploy',
      [...target, '--out', join(dir, 'failed'), '--terraform', terraform, '--config-dir', configDir],
      {
        runner,
        bootstrap: async () => {},
      },
    );
    expect(r.code).toBe(ExitCode.FAILED);
    expect(r.stderr).toMatch(
      /^Error: deploy gcp failed: terraform apply -no-color -input=false -auto-approve failed \(exit code 1\): .*Error 403/,
    );
    expect(calls).toHaveLength(2);
    expect(existsSync(join(configDir, 'ci.gcp.json'))).toBe(false);
  }, 60_000);
});

describe('faaskeeper destroy gcp', () => {
  it('keeps the data by default and says where it is', async () => {
    const { calls, runner } = fakeTerraform({
      state: 'google_storage_bucket.data\ngoogle_pubsub_topic.writer\n',
    });
    const r = await gcp('destroy', [...target, '--out', join(dir, 'destroy'), '--terraform', terraform], {
      runner,
    });
    expect(r.code).toBe(ExitCode.OK);
    expect(calls).toEqual([
      'terraform init -no-color -input=false',
      'terraform state list -no-color',
      'terraform state rm -no-color google_storage_bucket.data',
      'terraform destroy -no-color -input=false -auto-approve',
    ]);
    expect(r.stdout).toContain('bucket gs://acme-zk-fk-ci-data (the user store)');
    expect(r.stdout).toContain('Datastore database fk-ci (the system store)');
    expect(r.stdout).toContain('--adopt-data');
  }, 60_000);

  it('keeps only the database of a deployment with the Datastore user store, and says so', async () => {
    const { calls, runner } = fakeTerraform({ state: 'google_pubsub_topic.writer\n' });
    const r = await gcp('destroy', [...target, '--out', join(dir, 'destroy-ds'), '--terraform', terraform], {
      runner,
    });
    expect(r.code).toBe(ExitCode.OK);
    expect(calls).toEqual([
      'terraform init -no-color -input=false',
      'terraform state list -no-color',
      'terraform destroy -no-color -input=false -auto-approve',
    ]);
    expect(r.stdout).not.toContain('gs://');
    expect(r.stdout).toContain(
      'Datastore database fk-ci (the system store, and the node records with --user-store datastore)',
    );
    expect(r.stdout).toContain('needed: gcloud firestore databases delete --database=fk-ci\n');
  }, 60_000);

  it('--delete-data destroys the data too', async () => {
    const { calls, runner } = fakeTerraform({ state: 'google_storage_bucket.data\n' });
    const r = await gcp(
      'destroy',
      [...target, '--out', join(dir, 'destroy-all'), '--terraform', terraform, '--delete-data'],
      {
        runner,
      },
    );
    expect(r.code).toBe(ExitCode.OK);
    expect(calls).toEqual([
      'terraform init -no-color -input=false',
      'terraform state list -no-color',
      'terraform apply -no-color -input=false -auto-approve',
      'terraform destroy -no-color -input=false -auto-approve',
    ]);
    expect(r.stdout).not.toContain('kept');
  }, 60_000);
});

describe('argument handling', () => {
  it('refuses missing or misplaced arguments with exit code 2 and the usage line', async () => {
    const cases: [Parameters<typeof gcp>[0], string[], RegExp][] = [
      [
        'deploy',
        ['--region', 'r'],
        /needs a project: --project, GOOGLE_CLOUD_PROJECT or CLOUDSDK_CORE_PROJECT/,
      ],
      ['synth', ['--project', 'p'], /needs a region: --region or GOOGLE_CLOUD_REGION/],
      ['deploy', [...target, 'extra'], /too many arguments for 'gcp'/],
      ['deploy', [...target, '--delete-data'], /unknown option '--delete-data'/],
      ['destroy', [...target, '--adopt-data'], /unknown option '--adopt-data'/],
      ['synth', [...target, '--terraform', 'x'], /unknown option '--terraform'/],
      [
        'synth',
        [...target, '--database-location', 'eur3', '--existing-database', 'd'],
        /'--database-location <loc>' cannot be used with option '--existing-database <id>'/,
      ],
      ['deploy', [...target, '--frob'], /unknown option '--frob'/],
      [
        'deploy',
        [...target, '--user-store', 's3'],
        /argument 's3' is invalid\. Allowed choices are gcs, datastore/,
      ],
      ['synth', [...target, '--user-store'], /argument missing/],
      ['destroy', [...target, '--user-store', 'datastore'], /unknown option '--user-store'/],
    ];
    for (const [command, args, message] of cases) {
      const r = await gcp(command, args);
      expect(r.code, args.join(' ')).toBe(ExitCode.USAGE);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).toContain(`Usage: faaskeeper ${command} gcp`);
    }
  });

  it('refuses a deployment name GCP names cannot carry', async () => {
    const r = await gcp('synth', ['--project', 'p', '--region', 'r', '--deployment', 'Not_Valid']);
    expect(r.code).toBe(ExitCode.USAGE);
    expect(r.stderr).toMatch(/deployment name 'Not_Valid' must be 1-20 lower-case letters/);
  });

  it('recognises the provider wherever it stands among the options', async () => {
    const usageOf = async (args: string[]) => {
      const io = memoryStreams();
      expect(await main([...args, '--help'], io.streams), args.join(' ')).toBe(ExitCode.OK);
      return io.stdout().split('\n')[0];
    };
    expect(await usageOf(['deploy', 'gcp', '--project', 'p'])).toMatch(/^Usage: faaskeeper deploy gcp /);
    expect(await usageOf(['synth', '--project', 'p', '--deployment', 'gcp', 'gcp'])).toMatch(
      /^Usage: faaskeeper synth gcp /,
    );
    expect(await usageOf(['destroy', '--deployment', 'gcp', 'aws'])).toMatch(
      /^Usage: faaskeeper destroy aws /,
    );
    expect(await usageOf(['deploy', '--deployment=gcp', 'aws'])).toMatch(/^Usage: faaskeeper deploy aws /);
  });
});

describe('main() dispatch', () => {
  async function cli(args: string[]) {
    const io = memoryStreams();
    const code = await main(args, io.streams);
    return { code, stdout: io.stdout(), stderr: io.stderr() };
  }

  it('sends deploy, synth and destroy gcp to the GCP commands, and lists them in help', async () => {
    const help = await cli(['deploy', 'gcp', '--help']);
    expect(help.code).toBe(ExitCode.OK);
    expect(help.stdout).toMatch(/^Usage: faaskeeper deploy gcp \[--project id\] \[--region region\]/);
    expect((await cli(['help', 'deploy'])).stdout).toMatch(
      /deploy aws \[options\][\s\S]*deploy gcp \[options\]/,
    );
    expect((await cli(['help', 'destroy', 'gcp'])).stdout).toMatch(/^Usage: faaskeeper destroy gcp/);
    expect((await cli(['help'])).stdout).toContain('  synth gcp [options]');
    const saved = { project: process.env.GOOGLE_CLOUD_PROJECT, sdk: process.env.CLOUDSDK_CORE_PROJECT };
    delete process.env.GOOGLE_CLOUD_PROJECT;
    delete process.env.CLOUDSDK_CORE_PROJECT;
    try {
      const r = await cli(['synth', '--region', 'r', 'gcp']);
      expect(r.code).toBe(ExitCode.USAGE);
      expect(r.stderr).toMatch(/^Error: synth gcp needs a project/);
    } finally {
      if (saved.project !== undefined) process.env.GOOGLE_CLOUD_PROJECT = saved.project;
      if (saved.sdk !== undefined) process.env.CLOUDSDK_CORE_PROJECT = saved.sdk;
    }
    const badStore = await cli(['synth', 'gcp', ...target, '--user-store', 'bigtable']);
    expect(badStore.code).toBe(ExitCode.USAGE);
    expect(badStore.stderr).toMatch(
      /^Error: option '--user-store <kind>' argument 'bigtable' is invalid\. Allowed choices are gcs, datastore\.\nUsage: /,
    );
    expect(help.stdout).toContain('--user-store <kind>');
    // AWS stays where it was.
    expect((await cli(['deploy', '--help'])).stdout).toMatch(/^Usage: faaskeeper deploy aws/);
  });
});

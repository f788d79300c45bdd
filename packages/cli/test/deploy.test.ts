import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEPLOYMENT_NAME as AWS_DEPLOYMENT_NAME, LAMBDA_RUNTIMES } from '@faaskeeper/aws/deploy';
import { GCP_DEPLOYMENT_NAME } from '@faaskeeper/gcp/deploy';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AWS_RUNTIMES } from '../src/aws-deploy.js';
import { DEPLOYMENT_NAME } from '../src/command-options.js';
import { ExitCode, main } from '../src/index.js';
import { memoryStreams } from './helpers.js';

async function cli(args: string[]) {
  const io = memoryStreams();
  const code = await main(args, io.streams);
  return { code, stdout: io.stdout(), stderr: io.stderr() };
}

const AWS_VARS = [
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AWS_PROFILE',
  'AWS_REGION',
  'AWS_DEFAULT_REGION',
  'AWS_CONFIG_FILE',
  'AWS_SHARED_CREDENTIALS_FILE',
  'AWS_EC2_METADATA_DISABLED',
  'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI',
  'AWS_CONTAINER_CREDENTIALS_FULL_URI',
  'AWS_WEB_IDENTITY_TOKEN_FILE',
  'AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED',
];
let saved: Record<string, string | undefined>;
let dir: string;

beforeEach(async () => {
  saved = Object.fromEntries(AWS_VARS.map((k) => [k, process.env[k]]));
  for (const k of AWS_VARS) delete process.env[k];
  // A machine without AWS credentials.
  dir = await mkdtemp(join(tmpdir(), 'fk-cli-deploy-'));
  await writeFile(join(dir, 'config'), '');
  await writeFile(join(dir, 'credentials'), '');
  process.env.AWS_CONFIG_FILE = join(dir, 'config');
  process.env.AWS_SHARED_CREDENTIALS_FILE = join(dir, 'credentials');
  process.env.AWS_EC2_METADATA_DISABLED = 'true';
});

afterEach(async () => {
  for (const k of AWS_VARS) {
    const v = saved[k];
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  await rm(dir, { recursive: true, force: true });
});

describe('faaskeeper deploy / synth / destroy', () => {
  // First in the file: the SDK checks the Node version once per process, at its first client.
  it('prints no AWS SDK Node-version warning (the SDK pinned here supports the Node floor)', async () => {
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(`${warning.name}: ${warning.message}`);
    process.on('warning', onWarning);
    try {
      const r = await cli([
        'deploy',
        'aws',
        '--deployment',
        'ci',
        '--region',
        'eu-west-1',
        '--out',
        join(dir, 'w'),
      ]);
      expect(r.code).toBe(ExitCode.FAILED);
      // Warnings are emitted on the next tick.
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.off('warning', onWarning);
    }
    expect(warnings.filter((w) => w.includes('AWS SDK'))).toEqual([]);
  });

  it('deploy --dry-run writes the CloudFormation template without credentials', async () => {
    const out = join(dir, 'assembly');
    const r = await cli(['deploy', 'aws', '--dry-run', '--deployment', 'ci', '--out', out]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(ExitCode.OK);
    expect(r.stdout).toMatch(
      /^Bundling the functions and synthesizing the stack \.\.\.\nSynthesized stack FaaSKeeper-ci \(nothing deployed\)\./,
    );
    const template = JSON.parse(readFileSync(join(out, 'FaaSKeeper-ci.template.json'), 'utf8')) as {
      Resources: Record<string, { Type: string; Properties: { FunctionName?: string } }>;
    };
    const functions = Object.values(template.Resources).filter((r) => r.Type === 'AWS::Lambda::Function');
    expect(functions.map((f) => f.Properties.FunctionName).sort()).toEqual([
      'faaskeeper-ci-distributor',
      'faaskeeper-ci-heartbeat',
      'faaskeeper-ci-writer',
    ]);
    expect(existsSync(join(out, 'bundles', 'writer', 'index.mjs'))).toBe(true);
  }, 60_000);

  it('synth --user-store dynamodb puts the user store in its own table; a bad kind is a usage error', async () => {
    const out = join(dir, 'kv');
    const r = await cli(['synth', 'aws', '--deployment', 'kv', '--user-store', 'dynamodb', '--out', out]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(ExitCode.OK);
    const template = JSON.parse(readFileSync(join(out, 'FaaSKeeper-kv.template.json'), 'utf8')) as {
      Resources: Record<string, { Type: string; Properties: { TableName?: string } }>;
    };
    const tables = Object.values(template.Resources).filter((x) => x.Type === 'AWS::DynamoDB::Table');
    expect(tables.map((t) => t.Properties.TableName).sort()).toEqual([
      'faaskeeper-kv-system',
      'faaskeeper-kv-user',
      // The child index of the DynamoDB user store (docs/scale.md).
      'faaskeeper-kv-user-children',
    ]);
    expect(await cli(['synth', 'aws', '--user-store', 'redis'])).toMatchObject({
      code: ExitCode.USAGE,
      stderr: expect.stringMatching(
        /^Error: option '--user-store <kind>' argument 'redis' is invalid\. Allowed choices are s3, dynamodb\./,
      ),
    });
  }, 60_000);

  it('synth aws runs the functions on nodejs22.x by default, with no deprecation warning; --runtime picks another', async () => {
    const byDefault = join(dir, 'rt-default');
    const r = await cli(['synth', 'aws', '--deployment', 'rt', '--out', byDefault]);
    expect(r.code).toBe(ExitCode.OK);
    const runtimes = (out: string, name: string) => {
      const template = JSON.parse(readFileSync(join(out, `FaaSKeeper-${name}.template.json`), 'utf8')) as {
        Resources: Record<string, { Type: string; Properties: { Runtime?: string } }>;
      };
      return Object.values(template.Resources)
        .filter((x) => x.Type === 'AWS::Lambda::Function')
        .map((f) => f.Properties.Runtime);
    };
    expect(runtimes(byDefault, 'rt')).toEqual(['nodejs22.x', 'nodejs22.x', 'nodejs22.x']);
    // The CDK's findings (what it prints as warnings) are in the report beside the template.
    const findings = (out: string) =>
      (
        JSON.parse(readFileSync(join(out, 'validation-report.json'), 'utf8')) as {
          pluginReports: { violations: { ruleName: string; description: string }[] }[];
        }
      ).pluginReports.flatMap((report) => report.violations.map((v) => `${v.ruleName}: ${v.description}`));
    expect(findings(byDefault)).toEqual([]);
    const old = join(dir, 'rt-20');
    const chosen = await cli(['synth', 'aws', '--deployment', 'rt', '--runtime', 'nodejs20.x', '--out', old]);
    expect(chosen.code).toBe(ExitCode.OK);
    expect(chosen.stdout).toContain('--runtime nodejs20.x');
    expect(runtimes(old, 'rt')).toEqual(['nodejs20.x', 'nodejs20.x', 'nodejs20.x']);
    expect(findings(old).join('\n')).toMatch(/^W2531: Runtime: Runtime 'nodejs20\.x' was deprecated/);
    expect(await cli(['synth', 'aws', '--runtime', 'nodejs18.x'])).toMatchObject({
      code: ExitCode.USAGE,
      stderr: expect.stringMatching(
        /argument 'nodejs18\.x' is invalid\. Allowed choices are nodejs20\.x, nodejs22\.x, nodejs24\.x/,
      ),
    });
    expect((await cli(['destroy', 'aws', '--runtime', 'nodejs22.x'])).code).toBe(ExitCode.USAGE);
  }, 120_000);

  it('offers the runtimes and enforces the deployment names the providers accept', () => {
    expect(AWS_RUNTIMES).toEqual(LAMBDA_RUNTIMES);
    expect(DEPLOYMENT_NAME.source).toBe(AWS_DEPLOYMENT_NAME.source);
    expect(DEPLOYMENT_NAME.source).toBe(GCP_DEPLOYMENT_NAME.source);
  });

  it('applies one deployment-name rule to dev, synth, deploy and destroy, before anything runs', async () => {
    const commands = [
      ['dev'],
      ['dev', 'gcp'],
      ['synth', 'aws'],
      ['deploy', 'aws', '--region', 'eu-west-1'],
      ['destroy', 'aws', '--region', 'eu-west-1'],
      ['synth', 'gcp', '--project', 'p', '--region', 'r'],
      ['deploy', 'gcp', '--project', 'p', '--region', 'r'],
      ['destroy', 'gcp', '--project', 'p', '--region', 'r'],
    ];
    for (const name of ['BAD_NAME', '-dash', 'a'.repeat(21), '']) {
      for (const command of commands) {
        const r = await cli([...command, '--deployment', name]);
        expect(r.code, `${command.join(' ')} --deployment '${name}'`).toBe(ExitCode.USAGE);
        expect(r.stderr).toContain(
          `deployment name '${name}' must be 1-20 lower-case letters, digits or '-', starting and ending with a letter or digit`,
        );
        expect(r.stderr).toContain(
          `Usage: faaskeeper ${command.slice(0, command[0] === 'dev' ? 1 : 2).join(' ')}`,
        );
      }
    }
  });

  it('refuses an --out whose parent directory does not exist, creating nothing', async () => {
    const missing = join(dir, 'missing-parent');
    const r = await cli(['synth', 'aws', '--out', join(missing, 'assembly')]);
    expect(r.code).toBe(ExitCode.USAGE);
    expect(r.stderr).toMatch(
      /^Error: --out .*: the directory .*missing-parent does not exist \(create it first\)\nUsage: faaskeeper synth aws/,
    );
    expect(existsSync(missing)).toBe(false);
  });

  it('deploy without credentials fails fast with a clear error and exit code 1', async () => {
    const started = Date.now();
    const r = await cli([
      'deploy',
      'aws',
      '--deployment',
      'ci',
      '--region',
      'eu-west-1',
      '--out',
      join(dir, 'a'),
    ]);
    expect(r.code).toBe(ExitCode.FAILED);
    expect(r.stderr).toMatch(
      /^Error: no usable AWS credentials \(the default credentials\): .*Configure credentials/s,
    );
    expect(r.stdout).toBe('Checking the AWS credentials (the default chain) ...\n');
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(existsSync(join(dir, 'a'))).toBe(false); // nothing synthesized before the check
  });

  it('destroy with a missing profile fails with an error naming the profile', async () => {
    const r = await cli(['destroy', 'aws', '--region', 'eu-west-1', '--profile', 'fk-nope']);
    expect(r.code).toBe(ExitCode.FAILED);
    expect(r.stderr).toMatch(/^Error: no usable AWS credentials \(profile 'fk-nope'\)/);
  });

  it('deploy without a region is a usage error', async () => {
    const r = await cli(['deploy', 'aws', '--deployment', 'ci']);
    expect(r.code).toBe(ExitCode.USAGE);
    expect(r.stderr).toMatch(
      /^Error: deploy needs a region: --region, AWS_REGION or AWS_DEFAULT_REGION\nUsage: faaskeeper deploy aws/,
    );
  });

  it('rejects an unknown provider, a bad deployment name and unknown flags as usage errors', async () => {
    expect(await cli(['deploy', 'azure', '--region', 'x'])).toMatchObject({
      code: ExitCode.USAGE,
      stderr: expect.stringMatching(/^Error: unknown command 'azure'\nUsage: faaskeeper deploy aws\|gcp/),
    });
    expect(await cli(['synth', 'aws', '--deployment', 'Not_Valid'])).toMatchObject({
      code: ExitCode.USAGE,
      stderr: expect.stringMatching(/deployment name 'Not_Valid' must be/),
    });
    expect((await cli(['destroy', 'aws', '--frob'])).code).toBe(ExitCode.USAGE);
    expect((await cli(['destroy', 'aws', '--dry-run'])).code).toBe(ExitCode.USAGE);
  });

  it('describes the commands in help', async () => {
    const help = await cli(['help']);
    expect(help.stdout).toContain('  deploy aws [options]');
    expect(help.stdout).toContain('  dev [aws|gcp] [options]');
    expect((await cli(['deploy', '--help'])).stdout).toMatch(/^Usage: faaskeeper deploy aws/);
    expect((await cli(['help', 'dev'])).stdout).toMatch(/^Usage: faaskeeper dev/);
  });
});

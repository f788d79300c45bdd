import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
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
  it('deploy --dry-run writes the CloudFormation template without credentials', async () => {
    const out = join(dir, 'assembly');
    const r = await cli(['deploy', 'aws', '--dry-run', '--deployment', 'ci', '--out', out]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(ExitCode.OK);
    expect(r.stdout).toMatch(/^Synthesized stack FaaSKeeper-ci \(nothing deployed\)\./);
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
    ]);
    expect(await cli(['synth', 'aws', '--user-store', 'redis'])).toMatchObject({
      code: ExitCode.USAGE,
      stderr: expect.stringMatching(
        /^Error: option '--user-store <kind>' argument 'redis' is invalid\. Allowed choices are s3, dynamodb\./,
      ),
    });
  }, 60_000);

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
    expect(help.stdout).toContain('  dev [options]');
    expect((await cli(['deploy', '--help'])).stdout).toMatch(/^Usage: faaskeeper deploy aws/);
    expect((await cli(['help', 'dev'])).stdout).toMatch(/^Usage: faaskeeper dev/);
  });
});

// The deployment's super digest and gateway key on the command line (`--super-digest`,
// `--gateway-key-file`, FAASKEEPER_GATEWAY_KEY) and `faaskeeper digest`: the real parser, the
// provider configuration the CLI writes, and ZooKeeper's own digest tool for comparison.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateDigest } from '@faaskeeper/core';
import { requireOrSkip } from '@faaskeeper/core/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { missingPeers } from '../../gateway/test/support/peers.js';
import { ExitCode, main, readGatewayKey, superDigestProblem } from '../src/index.js';
import { memoryStreams } from './helpers.js';

const DIGEST = generateDigest('super:secret');
const KEY = 'k'.repeat(24);

let dir: string;
let keyFile: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fk-cli-auth-'));
  keyFile = join(dir, 'gateway.key');
  // As `openssl rand -base64 32 > file` writes it: with a line end, which is not part of the key.
  await writeFile(keyFile, `${KEY}\n`);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function cli(args: string[], input = '', gcpEnv: NodeJS.ProcessEnv = {}) {
  const io = memoryStreams(input);
  const code = await main(args, io.streams, {
    gcp: { env: gcpEnv, checkCredentials: async () => 'test credentials' },
  });
  return { code, stdout: io.stdout(), stderr: io.stderr() };
}

const gcpTarget = ['--project', 'acme-zk', '--region', 'europe-west1', '--deployment', 'ci'];

describe('--super-digest', () => {
  it('takes super: and the base64 of a 20-byte SHA-1, and nothing else', () => {
    expect(superDigestProblem(DIGEST)).toBeUndefined();
    expect(superDigestProblem('super:secret')).toMatch(/is not the base64 of a 20-byte SHA-1/);
    expect(superDigestProblem(generateDigest('alice:secret'))).toMatch(/does not start with super:/);
    // 19 and 21 bytes, text that is not base64, and base64 without its padding.
    expect(superDigestProblem(`super:${Buffer.alloc(19).toString('base64')}`)).toBeDefined();
    expect(superDigestProblem(`super:${Buffer.alloc(21).toString('base64')}`)).toBeDefined();
    expect(superDigestProblem(`super:${'*'.repeat(28)}`)).toBeDefined();
    expect(superDigestProblem(DIGEST.replace(/=$/, ''))).toBeDefined();
  });

  it('is a usage error (exit 2, the usage line) when malformed, for every command that takes it, before anything runs', async () => {
    for (const command of [
      ['synth', 'aws', '--out', join(dir, 'never')],
      ['deploy', 'aws', '--region', 'eu-west-1', '--out', join(dir, 'never')],
      ['synth', 'gcp', ...gcpTarget, '--out', join(dir, 'never')],
      ['deploy', 'gcp', ...gcpTarget, '--out', join(dir, 'never')],
      ['dev'],
      ['dev', 'gcp'],
      ['gateway', '--port', '0'],
    ]) {
      const r = await cli([...command, '--super-digest', 'super:secret']);
      expect(r.code, command.join(' ')).toBe(ExitCode.USAGE);
      expect(r.stderr).toMatch(
        /^Error: option '--super-digest <digest>' argument 'super:secret' is invalid\. 'secret' is not the base64 of a 20-byte SHA-1 .*\nUsage: faaskeeper /,
      );
      expect(r.stdout).toBe('');
    }
    expect(existsSync(join(dir, 'never'))).toBe(false);
  });

  it('is refused by destroy, which does not configure a deployment', async () => {
    for (const provider of ['aws', 'gcp']) {
      const r = await cli(['destroy', provider, '--super-digest', DIGEST]);
      expect(r.code).toBe(ExitCode.USAGE);
      expect(r.stderr).toMatch(/^Error: unknown option '--super-digest'/);
    }
  });

  it('is refused by the gateway with a deployed deployment’s config: that one has the digest it was deployed with', async () => {
    const config = join(dir, 'aws.json');
    await writeFile(config, JSON.stringify({ provider: 'aws', deployment: 'd', region: 'eu-west-1' }));
    const r = await cli(['gateway', '--config', config, '--port', '0', '--super-digest', DIGEST]);
    expect(r.code).toBe(ExitCode.USAGE);
    expect(r.stderr).toMatch(
      /^Error: --super-digest is for the embedded deployment only: the aws deployment/,
    );
  });

  it('is listed by the help of each command that takes it', async () => {
    for (const command of [
      ['deploy', 'aws'],
      ['synth', 'aws'],
      ['deploy', 'gcp'],
      ['synth', 'gcp'],
      ['dev'],
      ['gateway'],
    ]) {
      const r = await cli([...command, '--help']);
      expect(r.code).toBe(ExitCode.OK);
      expect(r.stdout).toContain('[--super-digest digest] [--gateway-key-file path]');
      expect(r.stdout).toMatch(/--super-digest <digest> +the super user, super:<base64 sha1>/);
      expect(r.stdout).toMatch(/--gateway-key-file <path> +a file holding the gateway key/);
    }
  });
});

describe('the gateway key', () => {
  it('comes from --gateway-key-file (without its line end), else FAASKEEPER_GATEWAY_KEY, else nowhere', () => {
    expect(readGatewayKey(keyFile, { FAASKEEPER_GATEWAY_KEY: 'e'.repeat(20) })).toBe(KEY);
    expect(readGatewayKey(undefined, { FAASKEEPER_GATEWAY_KEY: 'e'.repeat(20) })).toBe('e'.repeat(20));
    expect(readGatewayKey(undefined, { FAASKEEPER_GATEWAY_KEY: '' })).toBeUndefined();
    expect(readGatewayKey(undefined, {})).toBeUndefined();
  });

  it('is never an option value (a command line shows in ps)', async () => {
    const r = await cli(['gateway', '--gateway-key', KEY]);
    expect(r.code).toBe(ExitCode.USAGE);
    expect(r.stderr).toMatch(/^Error: unknown option '--gateway-key'/);
  });

  it('is a usage error when its file cannot be read or it is shorter than 16 characters', async () => {
    const short = join(dir, 'short.key');
    await writeFile(short, 'abc\n');
    const missing = await cli(['gateway', '--port', '0', '--gateway-key-file', join(dir, 'absent.key')]);
    expect(missing.code).toBe(ExitCode.USAGE);
    expect(missing.stderr).toMatch(
      /^Error: --gateway-key-file .*absent\.key: cannot read it \(ENOENT\)\nUsage: /,
    );
    const tooShort = await cli(['synth', 'gcp', ...gcpTarget, '--gateway-key-file', short]);
    expect(tooShort.code).toBe(ExitCode.USAGE);
    expect(tooShort.stderr).toMatch(/the gateway key has 3 characters, fewer than 16/);
    const fromEnv = await cli(['synth', 'gcp', ...gcpTarget], '', { FAASKEEPER_GATEWAY_KEY: 'short' });
    expect(fromEnv.code).toBe(ExitCode.USAGE);
    expect(fromEnv.stderr).toMatch(/^Error: FAASKEEPER_GATEWAY_KEY: the gateway key has 5 characters/);
  });
});

/** The environment of each of a template's or configuration's functions, by function name. */
function environments<T>(functions: Record<string, T>, env: (fn: T) => Record<string, unknown>) {
  return Object.fromEntries(Object.entries(functions).map(([name, fn]) => [name, env(fn)]));
}

describe('synth and deploy put the super digest and the gateway key in the functions’ environment, never in a template or configuration file', () => {
  it('synth aws: the writer’s and distributor’s, as references to the deployment’s Secrets Manager secret; the template holds neither value', async () => {
    const out = join(dir, 'aws-auth');
    const r = await cli([
      'synth',
      'aws',
      '--deployment',
      'auth',
      '--out',
      out,
      '--super-digest',
      DIGEST,
      '--gateway-key-file',
      keyFile,
    ]);
    expect(r.code).toBe(ExitCode.OK);
    expect(r.stderr).toBe('');
    expect(r.stdout).not.toContain(KEY);
    expect(r.stdout).toContain(
      'the super digest and gateway key: not in the template, which refers to the Secrets Manager secret faaskeeper-auth-auth',
    );
    expect(r.stdout).toContain(
      `Deploy it with: faaskeeper deploy aws --deployment auth --region <region> --super-digest <digest> --gateway-key-file ${keyFile}`,
    );
    // Neither the key nor the digest is printed: output ends up in logs.
    expect(r.stdout).not.toContain(DIGEST);
    const template = JSON.parse(readFileSync(join(out, 'FaaSKeeper-auth.template.json'), 'utf8')) as {
      Resources: Record<
        string,
        {
          Type: string;
          Properties: { FunctionName?: string; Environment?: { Variables: Record<string, unknown> } };
        }
      >;
    };
    const lambdas = Object.fromEntries(
      Object.values(template.Resources)
        .filter((x) => x.Type === 'AWS::Lambda::Function' && x.Properties.FunctionName !== undefined)
        .map((x) => [x.Properties.FunctionName as string, x]),
    );
    const env = environments(lambdas, (fn) => fn.Properties.Environment?.Variables ?? {});
    for (const fn of ['writer', 'distributor'])
      expect(env[`faaskeeper-auth-${fn}`]).toMatchObject({
        FAASKEEPER_SUPER_DIGEST: '{{resolve:secretsmanager:faaskeeper-auth-auth:SecretString:superDigest::}}',
        FAASKEEPER_GATEWAY_KEY: '{{resolve:secretsmanager:faaskeeper-auth-auth:SecretString:gatewayKey::}}',
      });
    for (const file of readdirSync(out, { recursive: true, encoding: 'utf8' }).filter((f) =>
      f.endsWith('.json'),
    )) {
      const body = readFileSync(join(out, file), 'utf8');
      expect(body, file).not.toContain(KEY);
      expect(body, file).not.toContain(DIGEST.slice('super:'.length));
    }
  }, 60_000);

  it('synth gcp: sensitive variables in main.tf.json, never the values (the key from FAASKEEPER_GATEWAY_KEY); without either, neither is set', async () => {
    const out = join(dir, 'gcp-auth');
    const key = 'from-the-environment-0123';
    const r = await cli(['synth', 'gcp', ...gcpTarget, '--out', out, '--super-digest', DIGEST], '', {
      FAASKEEPER_GATEWAY_KEY: key,
    });
    expect(r.code).toBe(ExitCode.OK);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('with TF_VAR_super_digest and TF_VAR_gateway_key set)');
    type Fn = { service_config: { environment_variables: Record<string, unknown> } };
    const functions = (path: string) =>
      environments(
        (
          JSON.parse(readFileSync(path, 'utf8')) as {
            resource: { google_cloudfunctions2_function: Record<string, Fn> };
          }
        ).resource.google_cloudfunctions2_function,
        (fn) => fn.service_config.environment_variables,
      );
    const env = functions(join(out, 'main.tf.json'));
    for (const fn of ['writer', 'distributor'])
      expect(env[fn]).toMatchObject({
        FAASKEEPER_SUPER_DIGEST: `\${var.super_digest}`,
        FAASKEEPER_GATEWAY_KEY: `\${var.gateway_key}`,
      });
    const main = readFileSync(join(out, 'main.tf.json'), 'utf8');
    expect(main).not.toContain(key);
    expect(main).not.toContain(DIGEST.slice('super:'.length));

    const plain = join(dir, 'gcp-plain');
    const without = await cli(['synth', 'gcp', ...gcpTarget, '--out', plain]);
    expect(without.code).toBe(ExitCode.OK);
    expect(without.stderr).toBe('');
    for (const variables of Object.values(functions(join(plain, 'main.tf.json')))) {
      expect(variables).not.toHaveProperty('FAASKEEPER_SUPER_DIGEST');
      expect(variables).not.toHaveProperty('FAASKEEPER_GATEWAY_KEY');
    }
  }, 60_000);
});

describe('faaskeeper digest', () => {
  it('prints user:password->user:<base64 sha1> per argument, --digest-only the digest alone', async () => {
    const r = await cli(['digest', 'super:secret', 'alice:p w']);
    expect(r.code).toBe(ExitCode.OK);
    expect(r.stdout).toBe(
      `super:secret->super:lK75jTNcA+U9vtVEw5vB51mj/w4=\nalice:p w->${generateDigest('alice:p w')}\n`,
    );
    const only = await cli(['digest', '--digest-only', 'super:secret']);
    expect(only.stdout).toBe(`${DIGEST}\n`);
    // What it prints is what --super-digest takes.
    expect(superDigestProblem(only.stdout.trim())).toBeUndefined();
  });

  it('reads the credentials from stdin, one per line, when none are arguments (no password in ps)', async () => {
    const r = await cli(['digest', '--digest-only'], 'super:secret\r\n\nalice:x\n');
    expect(r.code).toBe(ExitCode.OK);
    expect(r.stdout).toBe(`${DIGEST}\n${generateDigest('alice:x')}\n`);
    const none = await cli(['digest'], '');
    expect(none.code).toBe(ExitCode.USAGE);
    expect(none.stderr).toBe(
      'Error: digest read no user:password from stdin\nUsage: faaskeeper digest [user:password...] [--digest-only]\n',
    );
  });

  it("prints what ZooKeeper's DigestAuthenticationProvider prints for the same credentials", (ctx) => {
    if (!requireOrSkip(ctx, missingPeers(['zookeeper']), "the comparison with ZooKeeper's digest tool"))
      return;
    const jar = process.env.ZOOKEEPER_JAR ?? '/usr/share/java/zookeeper.jar';
    const slf4j = '/usr/share/java/slf4j-simple.jar';
    const classPath = [jar, ...(existsSync(slf4j) ? [slf4j] : [])].join(':');
    // Passwords with a colon, spaces and non-ASCII text (both sides hash UTF-8).
    const credentials = ['super:secret', 'alice:pa:ss', 'bob:two words', 'zoë:pässwörd', 'nocolon'];
    const zk = spawnSync(
      process.env.JAVA ?? 'java',
      ['-cp', classPath, 'org.apache.zookeeper.server.auth.DigestAuthenticationProvider', ...credentials],
      { encoding: 'utf8', env: { ...process.env, LC_ALL: 'C.UTF-8' } },
    );
    expect(zk.status, zk.stderr).toBe(0);
    // ZooKeeper logs its algorithm on stdout first (slf4j-simple): only the id->digest lines compare.
    const expected = zk.stdout.split('\n').filter((line) => line.includes('->'));
    expect(expected).toHaveLength(credentials.length);
    return cli(['digest', ...credentials]).then((r) => {
      expect(r.code).toBe(ExitCode.OK);
      expect(r.stdout.trimEnd().split('\n')).toEqual(expected);
    });
  });
});

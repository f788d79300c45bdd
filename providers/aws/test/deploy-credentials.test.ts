import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AwsCredentialsError, deployAws, destroyAws, resolveAccount } from '../src/deploy/index.js';

const AWS_VARS = [
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AWS_PROFILE',
  'AWS_DEFAULT_PROFILE',
  'AWS_CONFIG_FILE',
  'AWS_SHARED_CREDENTIALS_FILE',
  'AWS_EC2_METADATA_DISABLED',
  'AWS_ENDPOINT_URL_STS',
  'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI',
  'AWS_CONTAINER_CREDENTIALS_FULL_URI',
  'AWS_WEB_IDENTITY_TOKEN_FILE',
];

let saved: Record<string, string | undefined>;
let dir: string;

beforeEach(async () => {
  saved = Object.fromEntries(AWS_VARS.map((k) => [k, process.env[k]]));
  for (const k of AWS_VARS) delete process.env[k];
  // A machine without AWS credentials: empty config files, no instance metadata.
  dir = await mkdtemp(join(tmpdir(), 'fk-creds-'));
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

describe('deploying without usable AWS credentials', () => {
  it('fails fast with a credentials error when there are no credentials', async () => {
    const started = Date.now();
    const error = await resolveAccount({ region: 'eu-west-1' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AwsCredentialsError);
    expect((error as Error).message).toMatch(/no usable AWS credentials \(the default credentials\)/);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('names a missing profile in the error', async () => {
    const error = await resolveAccount({ region: 'eu-west-1', profile: 'fk-missing' }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(AwsCredentialsError);
    expect((error as Error).message).toMatch(/profile 'fk-missing'/);
  });

  it('gives up after the timeout when AWS does not answer instead of hanging', async () => {
    // Credentials are present, but STS (a local socket that never answers) stays silent.
    const sockets: Socket[] = [];
    const server: Server = createServer((s) => sockets.push(s));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as { port: number };
    process.env.AWS_ACCESS_KEY_ID = 'AKIDEXAMPLE';
    process.env.AWS_SECRET_ACCESS_KEY = 'secret';
    process.env.AWS_ENDPOINT_URL_STS = `http://127.0.0.1:${port}`;
    try {
      const error = await resolveAccount({ region: 'eu-west-1', credentialTimeoutMs: 300 }).catch(
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(AwsCredentialsError);
      expect((error as Error).message).toMatch(/did not answer within 300 ms/);
      expect(sockets.length).toBeGreaterThan(0); // it did try to reach STS
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    }
  });

  it('checks credentials before synthesizing anything on deploy and destroy', async () => {
    const outDir = join(dir, 'cdk.out');
    await expect(deployAws({ deployment: 'nocreds', region: 'eu-west-1', outDir })).rejects.toBeInstanceOf(
      AwsCredentialsError,
    );
    await expect(destroyAws({ deployment: 'nocreds', region: 'eu-west-1', outDir })).rejects.toBeInstanceOf(
      AwsCredentialsError,
    );
    const { existsSync } = await import('node:fs');
    expect(existsSync(outDir)).toBe(false);
  });
});

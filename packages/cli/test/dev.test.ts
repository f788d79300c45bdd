import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from '@faaskeeper/aws';
import { localAwsStackMissing } from '@faaskeeper/aws/local';
import { generateDigest } from '@faaskeeper/core';
import { requireOrSkip } from '@faaskeeper/core/testkit';
import { missingEmulators } from '@faaskeeper/gcp/local';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDev } from '../src/dev.js';
import { ExitCode, main, runGateway } from '../src/index.js';
import { createGuardedNodes, memoryStreams, readAs, zkSession } from './helpers.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fk-dev-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('faaskeeper dev', () => {
  it('serves clients and the shell through the written connect options and stops its emulators on abort', async (ctx) => {
    if (!requireOrSkip(ctx, localAwsStackMissing(), 'the local AWS stack')) return;
    const abort = new AbortController();
    const out: string[] = [];
    const err: string[] = [];
    const configOut = join(dir, 'dev.local.json');
    let ready: (info: { pids: number[]; configPath: string }) => void = () => {};
    const isReady = new Promise<{ pids: number[]; configPath: string }>((r) => {
      ready = r;
    });
    const running = runDev({
      deployment: 'devtest',
      configOut,
      signal: abort.signal,
      out: (l) => out.push(l),
      err: (l) => err.push(l),
      onReady: (info) => ready(info),
    });
    const info = await Promise.race([
      isReady,
      running.then((code) => {
        throw new Error(`dev exited early with ${code}: ${err.join('\n')}`);
      }),
    ]);
    expect(info.pids.every(alive)).toBe(true);
    expect(out.join('\n')).toContain('Press Ctrl-C to stop.');
    // What another process would do: read the written options and connect.
    const options = JSON.parse(readFileSync(info.configPath, 'utf8')) as Parameters<typeof connect>[0] & {
      provider?: string;
    };
    expect(options.provider).toBe('aws');
    // Only the documented fields: nothing of the SDK's own bookkeeping (it marks credential objects).
    expect(readFileSync(info.configPath, 'utf8')).not.toContain('$source');
    expect(Object.keys(options.credentials ?? {})).toEqual(['accessKeyId', 'secretAccessKey']);
    expect(out.slice(0, 2)).toEqual([
      'Starting the local AWS stack (DynamoDB Local, fauxqs) ...',
      "Provisioning deployment 'devtest' (tables, bucket, queues) and starting its functions ...",
    ]);
    const { provider: _provider, ...connectOptions } = options;
    const zk = await connect(connectOptions);
    try {
      expect(await zk.create('/dev-node', 'hello')).toBe('/dev-node');
      const { data } = await zk.getData('/dev-node');
      expect(new TextDecoder().decode(data)).toBe('hello');
    } finally {
      await zk.close();
    }
    // The same file drives the shell: `faaskeeper shell --config <file>`.
    const io = memoryStreams();
    const code = await main(
      ['shell', '--config', info.configPath, '-c', 'create /from-shell v1; get /dev-node'],
      io.streams,
    );
    expect(io.stderr()).toBe('');
    expect(code).toBe(ExitCode.OK);
    expect(io.stdout()).toBe('Created /from-shell\nhello\n');
    abort.abort();
    expect(await running).toBe(ExitCode.OK);
    expect(info.pids.some(alive)).toBe(false);
    expect(out.at(-1)).toBe(`Stopped (PIDs ${info.pids.join(', ')}).`);
  }, 120_000);
});

describe('faaskeeper dev with a super digest and a gateway key', () => {
  const stacks: { provider: 'aws' | 'gcp'; missing: () => string | undefined; what: string }[] = [
    { provider: 'aws', missing: localAwsStackMissing, what: 'the local AWS stack' },
    { provider: 'gcp', missing: () => missingEmulators(), what: 'the local GCP stack' },
  ];
  for (const { provider, missing, what } of stacks)
    it(`${provider}: gives them to the local writer: super reads what an ACL denies, and a gateway --config with the same key attests ip identities`, async (ctx) => {
      if (!requireOrSkip(ctx, missing(), what)) return;
      const gatewayKey = 'the-dev-gateway-key-0123456789';
      const abort = new AbortController();
      const err: string[] = [];
      let ready: (configPath: string) => void = () => {};
      const isReady = new Promise<string>((r) => {
        ready = r;
      });
      const running = runDev({
        provider,
        deployment: 'devauth',
        configOut: join(dir, 'devauth.local.json'),
        auth: { superDigest: generateDigest('super:secret'), gatewayKey },
        signal: abort.signal,
        out: () => {},
        err: (l) => err.push(l),
        onReady: (info) => ready(info.configPath),
      });
      /** `faaskeeper gateway --config <the dev config>`, with or without the key; stopped by the returned function. */
      const gateway = async (key: string | undefined) => {
        const stop = new AbortController();
        const out: string[] = [];
        const done = runGateway({
          config: await configPath,
          port: 0,
          ...(key === undefined ? {} : { gatewayKey: key }),
          signal: stop.signal,
          out: (l) => out.push(l),
          err: (l) => err.push(l),
        });
        for (let i = 0; i < 500 && out.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
        const connectString = /listening on (\S+) /.exec(out[0] ?? '')?.[1];
        if (connectString === undefined) throw new Error(`the gateway did not start: ${err.join('\n')}`);
        return {
          connectString,
          stop: async () => {
            stop.abort();
            expect(await done).toBe(ExitCode.OK);
          },
        };
      };
      const configPath = Promise.race([
        isReady,
        running.then((code): string => {
          throw new Error(`dev exited early with ${code}: ${err.join('\n')}`);
        }),
      ]);
      const sessions: Awaited<ReturnType<typeof zkSession>>[] = [];
      try {
        const keyed = await gateway(gatewayKey);
        const open = async (auth: string[] = []) => {
          const zk = await zkSession(keyed.connectString, auth);
          sessions.push(zk);
          return zk;
        };
        await createGuardedNodes(await open(['alice:wonderland']));
        expect(await readAs(await open(), '/guarded')).toBe('NO_AUTH');
        expect(await readAs(await open(['super:secret']), '/guarded')).toBe('alice only');
        expect(await readAs(await open(), '/local')).toBe('from here');
        for (const zk of sessions.splice(0)) zk.close();
        await keyed.stop();
        // A gateway without the deployment's key attests nothing the writer accepts.
        const unkeyed = await gateway(undefined);
        const stranger = await zkSession(unkeyed.connectString);
        sessions.push(stranger);
        expect(await readAs(stranger, '/local')).toBe('NO_AUTH');
        for (const zk of sessions.splice(0)) zk.close();
        await unkeyed.stop();
      } finally {
        for (const zk of sessions) zk.close();
        abort.abort();
        expect(await running).toBe(ExitCode.OK);
      }
    }, 180_000);
});

describe('faaskeeper dev arguments', () => {
  async function cli(args: string[]) {
    const io = memoryStreams();
    const code = await main(args, io.streams);
    return { code, stdout: io.stdout(), stderr: io.stderr() };
  }

  it('takes the provider as an argument, as synth and deploy do, with --provider as its alias', async () => {
    expect((await cli(['dev', '--help'])).stdout).toMatch(/^Usage: faaskeeper dev \[aws\|gcp\] /);
    // Each spelling gets past parsing to the first check of the run (the missing directory).
    const missing = join(dir, 'missing', 'x.json');
    for (const args of [
      ['dev', 'aws'],
      ['dev', 'gcp'],
      ['dev', '--provider', 'gcp'],
      ['dev', 'gcp', '--provider', 'gcp'],
    ]) {
      const r = await cli([...args, '--config-out', missing]);
      expect(r.code, args.join(' ')).toBe(ExitCode.USAGE);
      expect(r.stderr).toMatch(/^Error: --config-out .*x\.json: the directory .*missing does not exist/);
    }
    expect(await cli(['dev', 'azure'])).toMatchObject({
      code: ExitCode.USAGE,
      stderr: expect.stringMatching(
        /^Error: command-argument value 'azure' is invalid for argument 'provider'\. Allowed choices are aws, gcp\./,
      ),
    });
    expect(await cli(['dev', 'gcp', '--provider', 'aws'])).toMatchObject({
      code: ExitCode.USAGE,
      stderr:
        'Error: dev gcp and --provider aws name different providers\nUsage: faaskeeper dev [aws|gcp] [--provider aws|gcp] [--deployment name] [--config-out file] [--super-digest digest] [--gateway-key-file path]\n',
    });
  });

  it('refuses a --config-out in a directory that does not exist, before starting anything and creating nothing', async () => {
    const missing = join(dir, 'nonexistent', 'dir');
    const started = Date.now();
    const r = await cli(['dev', '--config-out', join(missing, 'x.json')]);
    expect(r.code).toBe(ExitCode.USAGE);
    expect(r.stdout).toBe(''); // no "Starting the local AWS stack"
    expect(r.stderr).toContain(`the directory ${missing} does not exist (create it first)`);
    expect(existsSync(join(dir, 'nonexistent'))).toBe(false);
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});

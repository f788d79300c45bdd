// The CLI on a GCP deployment: `faaskeeper shell --config <file>` with a file naming the gcp
// provider (connect() options, as `faaskeeper deploy gcp` writes them), and `faaskeeper dev
// --provider gcp`, both on the local Datastore and Pub/Sub emulators. Where the emulators are
// missing the emulator tests skip with the reason; on CI they must be present.
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireOrSkip } from '@faaskeeper/core/testkit';
import { connect } from '@faaskeeper/gcp';
import { createLocalGcpDeployment, missingEmulators, startLocalGcpStack } from '@faaskeeper/gcp/local';
import { afterAll, beforeAll, describe, expect, it, type TestContext } from 'vitest';
import { runDev } from '../src/dev.js';
import { ExitCode, main } from '../src/index.js';
import { memoryStreams } from './helpers.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fk-cli-gcp-local-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Skips (with the reason) where the GCP emulators cannot run; fails on CI, where they must. */
function requireEmulators(ctx: TestContext): boolean {
  return requireOrSkip(ctx, missingEmulators(), 'the local GCP stack');
}

async function cli(args: string[]) {
  const io = memoryStreams();
  const code = await main(args, io.streams);
  return { code, stdout: io.stdout(), stderr: io.stderr() };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('faaskeeper shell --config on a GCP deployment', () => {
  it('runs its commands on the deployment the file names (the local emulators)', async (ctx) => {
    if (!requireEmulators(ctx)) return;
    const stack = await startLocalGcpStack({ storage: false });
    try {
      const deployment = await createLocalGcpDeployment({ stack, deployment: 'cli-shell' });
      try {
        // What `faaskeeper deploy gcp` writes, with the emulators' endpoints.
        const file = join(dir, 'cli-shell.gcp.json');
        await writeFile(
          file,
          JSON.stringify({
            provider: 'gcp',
            deployment: 'cli-shell',
            projectId: stack.projectId,
            datastore: { projectId: stack.projectId, apiEndpoint: stack.datastore.host },
            pubsub: { projectId: stack.projectId, apiEndpoint: stack.pubsub.host },
            userStore: { type: 'datastore' },
          }),
        );
        const r = await cli(['shell', '--config', file, '-c', 'create /cfg v1; set /cfg v2; get /cfg; ls /']);
        expect(r.stderr).toBe('');
        expect(r.code).toBe(ExitCode.OK);
        expect(r.stdout).toBe('Created /cfg\nv2\n[cfg]\n');
        // The shell's session wrote to this deployment: another client of it reads the data.
        const zk = await deployment.connect();
        try {
          const { data, stat } = await zk.getData('/cfg');
          expect(new TextDecoder().decode(data)).toBe('v2');
          expect(stat.version).toBe(1);
        } finally {
          await zk.close();
        }
        // A command that fails is reported, with the worst exit code.
        const failed = await cli(['shell', '--config', file, '-c', 'create /cfg again']);
        expect(failed.code).toBe(ExitCode.FAILED);
        expect(failed.stderr).toMatch(/^Node already exists: /);
      } finally {
        await deployment.close();
      }
    } finally {
      await stack.stop();
    }
  }, 120_000);
});

describe('faaskeeper dev gcp', () => {
  it('serves clients and the shell through the written connect options and stops its emulators on abort', async (ctx) => {
    if (!requireEmulators(ctx)) return;
    const abort = new AbortController();
    const out: string[] = [];
    const err: string[] = [];
    let ready: (info: { pids: number[]; configPath: string }) => void = () => {};
    const isReady = new Promise<{ pids: number[]; configPath: string }>((r) => {
      ready = r;
    });
    const running = runDev({
      provider: 'gcp',
      deployment: 'devgcp',
      configOut: join(dir, 'devgcp.local.json'),
      signal: abort.signal,
      out: (l) => out.push(l),
      err: (l) => err.push(l),
      onReady: (info) => ready(info),
    });
    try {
      const info = await Promise.race([
        isReady,
        running.then((code) => {
          throw new Error(`dev exited early with ${code}: ${err.join('\n')}`);
        }),
      ]);
      expect(info.pids).toHaveLength(2);
      expect(info.pids.every(alive)).toBe(true);
      expect(out.slice(0, 2)).toEqual([
        'Starting the local GCP stack (Datastore and Pub/Sub emulators) ...',
        "Provisioning deployment 'devgcp' (topics, subscriptions) and starting its functions ...",
      ]);
      expect(out.join('\n')).toContain("Deployment 'devgcp' is running on the local GCP stack.");
      // What another process would do: read the written options and connect.
      const { provider, ...options } = JSON.parse(readFileSync(info.configPath, 'utf8')) as Parameters<
        typeof connect
      >[0] & { provider?: string };
      expect(provider).toBe('gcp');
      const zk = await connect(options);
      try {
        expect(await zk.create('/dev-node', 'hello')).toBe('/dev-node');
      } finally {
        await zk.close();
      }
      // The same file drives the shell.
      const r = await cli([
        'shell',
        '--config',
        info.configPath,
        '-c',
        'create /from-shell v1; get /dev-node',
      ]);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(ExitCode.OK);
      expect(r.stdout).toBe('Created /from-shell\nhello\n');
      abort.abort();
      expect(await running).toBe(ExitCode.OK);
      expect(info.pids.some(alive)).toBe(false);
      expect(out.at(-1)).toBe(`Stopped (PIDs ${info.pids.join(', ')}).`);
    } finally {
      abort.abort();
      await running;
    }
  }, 180_000);
});

describe('faaskeeper dev arguments', () => {
  it('refuses a provider it has no local stack for (usage error)', async () => {
    const r = await cli(['dev', '--provider', 'azure']);
    expect(r.code).toBe(ExitCode.USAGE);
    expect(r.stderr).toBe(
      "Error: option '--provider <provider>' argument 'azure' is invalid. Allowed choices are aws, gcp.\nUsage: faaskeeper dev [aws|gcp] [--provider aws|gcp] [--deployment name] [--config-out file] [--super-digest digest] [--gateway-key-file path]\n",
    );
    expect((await cli(['dev', '--help'])).stdout).toContain('--provider aws|gcp');
  });
});

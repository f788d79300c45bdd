import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExitCode, main } from '../src/index.js';
import { memoryStreams } from './helpers.js';

const BIN = fileURLToPath(new URL('../dist/bin.js', import.meta.url));
// The binary runs on the built workspace packages; all three must be built to spawn it.
const BUILT = [BIN, '../../core/dist/index.js', '../../client/dist/index.js'].map((f) =>
  f === BIN ? f : fileURLToPath(new URL(f, import.meta.url)),
);
const VERSION = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

/** Runs the CLI in this process, with stdin from `input` (a pipe, not a TTY). */
async function cli(args: string[], input = '') {
  const io = memoryStreams(input);
  const code = await main(args, io.streams);
  return { code, stdout: io.stdout(), stderr: io.stderr() };
}

/**
 * Runs the CLI as a user would: the built `dist/bin.js` in a child process when the package has
 * been built (`pnpm build`), otherwise `main()` in this process, which is the same code path
 * behind the process boundary. (A stale build tests stale code: `pnpm build` first.)
 */
function runBin(args: string[], input = ''): Promise<{ code: number; stdout: string; stderr: string }> {
  if (!BUILT.every((f) => existsSync(f))) return cli(args, input);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
    });
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(input);
  });
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'faaskeeper-cli-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('faaskeeper (top level)', () => {
  it('--version prints the package version', async () => {
    expect(await cli(['--version'])).toEqual({ code: 0, stdout: `${VERSION}\n`, stderr: '' });
  });

  it('help lists shell and demo and the exit codes', async () => {
    const r = await cli(['help']);
    expect(r.code).toBe(ExitCode.OK);
    expect(r.stdout).toContain('  shell [options]');
    expect(r.stdout).toContain('  demo ');
    expect(r.stdout).toContain('Exit codes: 0 success, 1 a command failed, 2 usage error.');
    expect((await cli(['help', 'shell'])).stdout).toMatch(/^Usage: faaskeeper shell/);
    expect((await cli(['demo', '--help'])).stdout).toMatch(/^Usage: faaskeeper demo/);
  });

  it('without a command prints the help on stderr and exits 2', async () => {
    const r = await cli([]);
    expect(r.code).toBe(ExitCode.USAGE);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('Usage: faaskeeper <command> [options]');
  });

  it('an unknown command exits 2 with a hint', async () => {
    expect(await cli(['frob'])).toEqual({
      code: 2,
      stdout: '',
      stderr: "Error: unknown command 'frob' (faaskeeper help lists the commands)\n",
    });
  });

  it('demo refuses arguments as a usage error', async () => {
    expect((await cli(['demo', 'now'])).code).toBe(ExitCode.USAGE);
  });
});

describe('faaskeeper shell (scripted)', () => {
  it('-c runs the commands on the embedded deployment and exits 0', async () => {
    expect(await cli(['shell', '-c', 'create /a hi; create /a/b; ls /a; get /a'])).toEqual({
      code: 0,
      stdout: 'Created /a\nCreated /a/b\n[b]\nhi\n',
      stderr: '',
    });
  });

  it('-c exits 1 when a command failed, and still runs the rest', async () => {
    expect(await cli(['shell', '-c', 'get /missing; create /x; get /x'])).toEqual({
      code: 1,
      stdout: 'Created /x\nnull\n',
      stderr: 'Node does not exist: /missing\n',
    });
  });

  it('-c exits 2 on a malformed command', async () => {
    const r = await cli(['shell', '-c', 'set /a']);
    expect(r.code).toBe(ExitCode.USAGE);
    expect(r.stderr).toBe('Error: too few arguments\nUsage: set [-s] [-v version] path data\n');
  });

  it('reads commands from stdin when it is not a terminal, one or more per line, until quit', async () => {
    const script = '# set up\ncreate /cfg "a b"\nget /cfg; stat /nope\n\nquit\ncreate /never\n';
    expect(await cli(['shell'], script)).toEqual({
      code: 1,
      stdout: 'Created /cfg\na b\n',
      stderr: 'Node does not exist: /nope\n',
    });
  });

  it("zkCli's -server host:port is a usage error that points at --config and faaskeeper gateway", async () => {
    for (const args of [
      ['shell', '-server', '127.0.0.1:2181'],
      ['shell', '--server', '127.0.0.1:2181'],
    ]) {
      const r = await cli(args);
      expect(r.code, args.join(' ')).toBe(ExitCode.USAGE);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(/^Error: faaskeeper shell takes no -server 127\.0\.0\.1:2181: /);
      expect(r.stderr).toContain('--config <file>');
      expect(r.stderr).toContain('faaskeeper gateway');
      expect(r.stderr).toContain('docs/gateway.md');
      expect(r.stderr).not.toContain('Unknown option');
    }
  });

  it('refuses a piped line over the data limit as soon as it passes it, and goes on with the next line', async () => {
    const total = 100 * 1024 * 1024;
    const chunk = Buffer.alloc(64 * 1024, 'x');
    let pulled = 0;
    let pulledAtRefusal: number | undefined;
    async function* script() {
      yield Buffer.from('create /big ');
      for (; pulled < total; pulled += chunk.length) yield chunk;
      yield Buffer.from('\ncreate /after ok\nget /after\n');
    }
    const output = new PassThrough();
    const errorOutput = new PassThrough();
    let out = '';
    let err = '';
    output.on('data', (c: Buffer) => {
      out += c.toString();
    });
    errorOutput.on('data', (c: Buffer) => {
      pulledAtRefusal ??= pulled;
      err += c.toString();
    });
    const code = await main(['shell'], { input: Readable.from(script()), output, errorOutput });
    expect(code).toBe(ExitCode.FAILED);
    expect(err).toMatch(
      /^Arguments are not valid : \/big \(the line is over \d+ bytes: its data would be over the limit of 1048576\)\n$/,
    );
    // Refused once the line passed 1 MiB and a bit, not after reading its 100 MB.
    expect(pulledAtRefusal).toBeLessThan(2 * 1024 * 1024);
    expect(out).toBe('Created /after\nok\n');
  });

  it('refuses an unknown option or a stray argument with exit 2 and the usage', async () => {
    for (const args of [
      ['shell', '--nope'],
      ['shell', 'extra'],
    ]) {
      const r = await cli(args);
      expect(r.code, args.join(' ')).toBe(ExitCode.USAGE);
      expect(r.stderr).toMatch(/Usage: faaskeeper shell/);
    }
    expect((await cli(['shell', '--help'])).stdout).toMatch(/^Usage: faaskeeper shell/);
  });

  it('--config refuses an aws or gcp config that does not say where the deployment is (usage error)', async () => {
    for (const provider of ['aws', 'gcp']) {
      const file = join(dir, `${provider}.json`);
      await writeFile(file, JSON.stringify({ provider, region: 'eu-west-1' }));
      const r = await cli(['shell', '--config', file, '-c', 'ls /']);
      expect(r.code).toBe(ExitCode.USAGE);
      expect(r.stderr).toMatch(
        provider === 'gcp'
          ? /^Error: a gcp config needs "deployment", "datastore" and "pubsub"/
          : /^Error: an aws config needs "deployment" and "region"/,
      );
    }
  });

  it('--config refuses a missing file, bad JSON and an unknown provider', async () => {
    await writeFile(join(dir, 'bad.json'), '{ nope');
    await writeFile(join(dir, 'azure.json'), '{"provider":"azure"}');
    const missing = await cli(['shell', '--config', join(dir, 'none.json'), '-c', 'ls /']);
    expect(missing.stderr).toMatch(/^Error: cannot read config file .*none\.json: ENOENT/);
    const bad = await cli(['shell', '--config', join(dir, 'bad.json'), '-c', 'ls /']);
    expect(bad.stderr).toMatch(/is not valid JSON/);
    const azure = await cli(['shell', '--config', join(dir, 'azure.json'), '-c', 'ls /']);
    expect(azure.stderr).toMatch(/must name a "provider": one of embedded, aws, gcp \(got "azure"\)/);
    for (const r of [missing, bad, azure]) expect(r.code).toBe(ExitCode.USAGE);
  });

  it('--config naming the embedded provider runs the shell on it', async () => {
    const file = join(dir, 'embedded.json');
    await writeFile(file, '{"provider":"embedded"}');
    expect(await cli(['shell', '--config', file, '-c', 'create /e; exists /e'])).toEqual({
      code: 0,
      stdout: 'Created /e\ntrue\n',
      stderr: '',
    });
  });
});

describe('the faaskeeper binary', () => {
  it('pipes: data on stdout, errors on stderr, and an exit code per outcome', async () => {
    const ok = await runBin(['shell', '-c', 'create /p "x y"; get /p']);
    expect(ok).toEqual({ code: 0, stdout: 'Created /p\nx y\n', stderr: '' });
    const failed = await runBin(['shell'], 'create /q\nget /q/missing\n');
    expect(failed).toEqual({ code: 1, stdout: 'Created /q\n', stderr: 'Node does not exist: /q/missing\n' });
    const usage = await runBin(['shell', '-c', 'bogus']);
    expect(usage.code).toBe(2);
    expect((await runBin(['--version'])).stdout).toBe(`${VERSION}\n`);
  });

  it('runs the demo to completion with exit 0', async () => {
    const r = await runBin(['demo']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain("alice's client state: EXPIRED");
    expect(r.stdout.trimEnd().split('\n').at(-1)).toMatch(/^Demo complete/);
  });
});

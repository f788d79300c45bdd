import { createEmbeddedService, type EmbeddedService, type FaaSKeeperClient } from '@faaskeeper/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { COMMAND_NAMES, ExitCode, Shell, tokenize } from '../src/index.js';
import { CapturedOutput } from './helpers.js';

let service: EmbeddedService;
let zk: FaaSKeeperClient;
let out: CapturedOutput;
let shell: Shell;

beforeEach(async () => {
  service = createEmbeddedService();
  zk = await service.connect();
  out = new CapturedOutput();
  shell = new Shell(zk, out);
});

afterEach(async () => {
  await service.close();
});

/** Runs a line and returns its exit code, stdout and stderr, then clears the capture. */
async function run(line: string) {
  const code = await shell.execute(line);
  const result = { code, stdout: [...out.stdout], stderr: [...out.stderr] };
  out.clear();
  return result;
}

const text = (data: Uint8Array) => new TextDecoder().decode(data);

describe('shell commands', () => {
  it('create prints "Created <path>" and the node exists with its data', async () => {
    expect(await run('create /app hello')).toEqual({ code: 0, stdout: ['Created /app'], stderr: [] });
    expect(text((await zk.getData('/app')).data)).toBe('hello');
  });

  it('create without data makes an empty node', async () => {
    await run('create /empty');
    expect((await zk.getData('/empty')).data.byteLength).toBe(0);
  });

  it('create -s prints the path with its 10-digit sequence suffix', async () => {
    await run('create /q');
    expect((await run('create -s /q/job- a')).stdout).toEqual(['Created /q/job-0000000000']);
    expect((await run('create -s /q/job- b')).stdout).toEqual(['Created /q/job-0000000001']);
  });

  it('create -e makes an ephemeral node owned by the shell session', async () => {
    await run('create -e /eph');
    expect((await zk.exists('/eph'))?.ephemeralOwner).toBe(zk.sessionNumber);
    expect((await run('create -e -s /eph2-')).stdout).toEqual(['Created /eph2-0000000001']);
    expect((await zk.exists('/eph2-0000000001'))?.ephemeralOwner).toBe(zk.sessionNumber);
  });

  it('create -c makes a container that goes with its last child', async () => {
    await run('create -c /box');
    await run('create /box/item');
    await run('delete /box/item');
    await zk.sync();
    expect(await zk.exists('/box')).toBeNull();
  });

  it('create -t makes a TTL node, -s -t a sequential one', async () => {
    expect((await run('create -t 60000 /ttl x')).code).toBe(ExitCode.OK);
    expect((await run('create -s -t 60000 /ttl/s- x')).stdout).toEqual(['Created /ttl/s-0000000000']);
  });

  it('create refuses conflicting or malformed flags as usage errors', async () => {
    for (const line of ['create -e -c /x', 'create -e -t 5 /x', 'create -c -s /x', 'create -t soon /x']) {
      const r = await run(line);
      expect(r.code, line).toBe(ExitCode.USAGE);
      expect(r.stderr.at(-1), line).toBe('Usage: create [-e] [-s] [-c] [-t ttl] path [data]');
    }
    expect(await zk.exists('/x')).toBeNull();
  });

  it('create of an existing node fails with NODEEXISTS and exit code 1', async () => {
    await run('create /dup');
    expect(await run('create /dup')).toEqual({ code: 1, stdout: [], stderr: ['Error: NODEEXISTS: /dup'] });
  });

  it('create under a missing parent fails with NONODE', async () => {
    const r = await run('create /no/child');
    expect(r.code).toBe(ExitCode.FAILED);
    expect(r.stderr[0]).toMatch(/^Error: NONODE: .*\/no$/);
  });

  it('get prints the data alone, so that it pipes', async () => {
    await zk.create('/g', 'line one');
    expect(await run('get /g')).toEqual({ code: 0, stdout: ['line one'], stderr: [] });
  });

  it('get -s prints the data then the stat in zkCli layout', async () => {
    await zk.create('/g', 'abc');
    const stat = (await zk.exists('/g'))!;
    const r = await run('get -s /g');
    expect(r.stdout).toEqual([
      'abc',
      `cZxid = 0x${stat.czxid.toString(16)}`,
      `ctime = ${new Date(stat.ctime).toISOString()}`,
      `mZxid = 0x${stat.mzxid.toString(16)}`,
      `mtime = ${new Date(stat.mtime).toISOString()}`,
      `pZxid = 0x${stat.pzxid.toString(16)}`,
      'cversion = 0',
      'dataVersion = 0',
      'aclVersion = 0',
      'ephemeralOwner = 0x0',
      'dataLength = 3',
      'numChildren = 0',
    ]);
  });

  it('get of a missing node prints "Error: NONODE: /path" on stderr and exits 1', async () => {
    expect(await run('get /missing')).toEqual({ code: 1, stdout: [], stderr: ['Error: NONODE: /missing'] });
  });

  it('get -w prints the watch event once, when the node changes', async () => {
    await zk.create('/w', 'v1');
    await run('get -w /w');
    await zk.setData('/w', 'v2');
    await out.line('WatchedEvent type:NodeDataChanged path:/w');
    await zk.setData('/w', 'v3');
    await zk.sync();
    await run('sync'); // the shell's own session has seen every event up to here
    expect(out.stdout).toEqual([]);
  });

  it('set replaces the data; -s prints the new stat', async () => {
    await zk.create('/s', 'old');
    expect(await run('set /s new')).toEqual({ code: 0, stdout: [], stderr: [] });
    expect(text((await zk.getData('/s')).data)).toBe('new');
    expect((await run('set -s /s newer')).stdout).toContain('dataVersion = 2');
  });

  it('set -v succeeds on the matching version and fails with BADVERSION otherwise', async () => {
    await zk.create('/v', 'a');
    expect((await run('set -v 0 /v b')).code).toBe(ExitCode.OK);
    expect(await run('set /v c -v 0')).toEqual({ code: 1, stdout: [], stderr: ['Error: BADVERSION: /v'] });
    expect(text((await zk.getData('/v')).data)).toBe('b');
  });

  it('set takes quoted data with spaces, and refuses unquoted extra words as a usage error', async () => {
    await zk.create('/q', '');
    await run('set /q "two words"');
    expect(text((await zk.getData('/q')).data)).toBe('two words');
    const r = await run('set /q two words');
    expect(r.code).toBe(ExitCode.USAGE);
    expect(r.stderr[0]).toBe("Error: unexpected argument 'words' (quote data that has spaces)");
  });

  it('ls prints the children one per line, sorted', async () => {
    await zk.create('/l');
    await zk.create('/l/b');
    await zk.create('/l/a');
    expect(await run('ls /l')).toEqual({ code: 0, stdout: ['a', 'b'], stderr: [] });
    expect((await run('ls')).stdout).toEqual(['l']);
  });

  it('ls -R prints the node and every descendant as full paths, depth first', async () => {
    for (const p of ['/r', '/r/a', '/r/a/x', '/r/b']) await zk.create(p);
    expect((await run('ls -R /r')).stdout).toEqual(['/r', '/r/a', '/r/a/x', '/r/b']);
    expect(await run('ls -R /none')).toEqual({ code: 1, stdout: [], stderr: ['Error: NONODE: /none'] });
  });

  it('delete removes a node; -v checks its version; a node with children is NOTEMPTY', async () => {
    await zk.create('/d', 'x');
    await zk.create('/d/c');
    expect(await run('delete /d')).toEqual({ code: 1, stdout: [], stderr: ['Error: NOTEMPTY: /d'] });
    expect((await run('delete -v 3 /d/c')).stderr).toEqual(['Error: BADVERSION: /d/c']);
    expect((await run('delete -v 0 /d/c')).code).toBe(ExitCode.OK);
    expect((await run('delete /d')).code).toBe(ExitCode.OK);
    expect(await zk.exists('/d')).toBeNull();
  });

  it('deleteall removes a node with all its descendants', async () => {
    for (const p of ['/t', '/t/a', '/t/a/b', '/t/c', '/keep']) await zk.create(p);
    expect(await run('deleteall /t')).toEqual({ code: 0, stdout: [], stderr: [] });
    expect((await zk.getChildren('/')).children).toEqual(['keep']);
    expect((await run('deleteall /t')).stderr).toEqual(['Error: NONODE: /t']);
  });

  it('deleteall / empties the tree but keeps the root', async () => {
    for (const p of ['/a', '/a/b', '/c']) await zk.create(p);
    expect((await run('deleteall /')).code).toBe(ExitCode.OK);
    expect((await zk.getChildren('/')).children).toEqual([]);
  });

  it('stat prints the stat; a missing node is NONODE', async () => {
    await zk.create('/st', '12345');
    const r = await run('stat /st');
    expect(r.stdout).toHaveLength(11);
    expect(r.stdout).toContain('dataLength = 5');
    expect(await run('stat /none')).toEqual({ code: 1, stdout: [], stderr: ['Error: NONODE: /none'] });
  });

  it('exists prints true or false and succeeds either way', async () => {
    await zk.create('/e');
    expect(await run('exists /e')).toEqual({ code: 0, stdout: ['true'], stderr: [] });
    expect(await run('exists /f')).toEqual({ code: 0, stdout: ['false'], stderr: [] });
  });

  it('exists -w on a missing node prints NodeCreated when it appears', async () => {
    await run('exists -w /later');
    await zk.create('/later');
    await out.line('WatchedEvent type:NodeCreated path:/later');
  });

  it('sync succeeds with or without a path', async () => {
    expect(await run('sync /')).toEqual({ code: 0, stdout: [], stderr: [] });
    expect((await run('sync')).code).toBe(ExitCode.OK);
  });

  it('watch prints every event on the node and its descendants, in order, until unwatch', async () => {
    await zk.create('/app');
    await run('watch /app');
    await zk.create('/app/x', '1');
    await zk.setData('/app/x', '2');
    await zk.delete('/app/x');
    await zk.create('/other');
    await out.line('WatchedEvent type:NodeDeleted path:/app/x');
    expect(out.stdout).toEqual([
      'WatchedEvent type:NodeCreated path:/app/x',
      'WatchedEvent type:NodeDataChanged path:/app/x',
      'WatchedEvent type:NodeDeleted path:/app/x',
    ]);
    out.clear();
    expect((await run('unwatch /app')).code).toBe(ExitCode.OK);
    await zk.create('/app/y');
    await run('sync');
    expect(out.stdout).toEqual([]);
    expect((await run('unwatch /app')).stderr).toEqual(['Error: NOWATCHER: no watch on /app']);
  });

  it('history lists the commands run so far, numbered from 0', async () => {
    await run('create /h; ls /');
    expect((await run('history')).stdout).toEqual(['0 - create /h', '1 - ls /', '2 - history']);
  });

  it('help lists every command; help <command> and <command> --help print its usage', async () => {
    const all = (await run('help')).stdout.join('\n');
    for (const name of COMMAND_NAMES) expect(all).toContain(`  ${name}`);
    expect((await run('help get')).stdout[0]).toBe('Usage: get [-s] [-w] path');
    expect(await run('create --help')).toMatchObject({ code: 0, stderr: [] });
    expect((await run('help nope')).code).toBe(ExitCode.USAGE);
  });

  it('quit stops the line: later commands do not run', async () => {
    const r = await run('create /before; quit; create /after');
    expect(r.code).toBe(ExitCode.OK);
    expect(shell.quitRequested).toBe(true);
    expect(await zk.exists('/before')).not.toBeNull();
    expect(await zk.exists('/after')).toBeNull();
  });

  it('an unknown command is a usage error (exit 2)', async () => {
    expect(await run('frobnicate /a')).toEqual({
      code: 2,
      stdout: [],
      stderr: ["Error: unknown command 'frobnicate' (type help for the list)"],
    });
  });

  it('an unknown option or a missing argument is a usage error with the usage line', async () => {
    const bad = await run('get -x /a');
    expect(bad.code).toBe(ExitCode.USAGE);
    expect(bad.stderr[1]).toBe('Usage: get [-s] [-w] path');
    expect(await run('delete')).toEqual({
      code: 2,
      stdout: [],
      stderr: ['Error: too few arguments', 'Usage: delete [-v version] path'],
    });
    expect((await run('set -v two /a b')).stderr[0]).toMatch(/^Error: version must be an integer/);
  });

  it('a malformed path is BADARGUMENTS (exit 1), not a crash', async () => {
    const r = await run('get relative');
    expect(r.code).toBe(ExitCode.FAILED);
    expect(r.stderr[0]).toMatch(/^Error: BADARGUMENTS: path must start with \//);
  });

  it('runs every command of a line and exits with the worst code', async () => {
    const r = await run('create /one; get /missing; create /two; bogus; create /three');
    expect(r.code).toBe(ExitCode.USAGE);
    expect(r.stdout).toEqual(['Created /one', 'Created /two', 'Created /three']);
    expect((await run('get /one; get /missing')).code).toBe(ExitCode.FAILED);
  });

  it('an unclosed quote is a usage error and runs nothing', async () => {
    expect(await run('create /u "oops')).toEqual({
      code: 2,
      stdout: [],
      stderr: ['Error: unclosed double quote'],
    });
    expect(await zk.exists('/u')).toBeNull();
  });

  it('fails every command with SESSIONEXPIRED once the session is closed', async () => {
    await zk.close();
    expect(await run('ls /')).toEqual({
      code: 1,
      stdout: [],
      stderr: ['Error: SESSIONEXPIRED: the client is closed'],
    });
  });
});

describe('tokenize', () => {
  it('splits words on whitespace and commands on ;', () => {
    expect(tokenize('  ls  /a ; get -s /b;;')).toEqual([
      { text: 'ls  /a', args: ['ls', '/a'] },
      { text: 'get -s /b', args: ['get', '-s', '/b'] },
    ]);
  });

  it('keeps quoted text whole, ; and # included, and honours escapes', () => {
    expect(tokenize(`set /a "x; y # z" ; set /b 'it''s' ; set /c a\\ b "q\\"q"`).map((c) => c.args)).toEqual([
      ['set', '/a', 'x; y # z'],
      ['set', '/b', 'its'],
      ['set', '/c', 'a b', 'q"q'],
    ]);
  });

  it('treats # at the start of a word as a comment, and an empty quoted word as a word', () => {
    expect(tokenize('# only a comment')).toEqual([]);
    expect(tokenize('create /a "" # trailing').map((c) => c.args)).toEqual([['create', '/a', '']]);
    expect(tokenize('set /a b#c').map((c) => c.args)).toEqual([['set', '/a', 'b#c']]);
  });

  it('refuses an unclosed quote and a trailing backslash', () => {
    expect(() => tokenize("get '/a")).toThrow('unclosed single quote');
    expect(() => tokenize('get /a\\')).toThrow('backslash');
  });
});

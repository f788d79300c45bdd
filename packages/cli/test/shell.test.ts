import {
  CreateMode,
  createEmbeddedService,
  type EmbeddedService,
  type FaaSKeeperClient,
  MAX_DATA_BYTES,
} from '@faaskeeper/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { COMMAND_NAMES, cliVersion, ExitCode, formatStat, Shell, tokenize } from '../src/index.js';
import { zkDate } from '../src/shell/format.js';
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

/** The lines zkCli prints for a watch event. */
const block = (type: string, path: string) => [
  '',
  'WATCHER::',
  '',
  `WatchedEvent state:SyncConnected type:${type} path:${path}`,
];

describe('shell commands', () => {
  it('create prints "Created <path>" and the node exists with its data', async () => {
    expect(await run('create /app hello')).toEqual({ code: 0, stdout: ['Created /app'], stderr: [] });
    expect(text((await zk.getData('/app')).data)).toBe('hello');
  });

  it('create without data stores null data, as zkCli does, and get prints null', async () => {
    await run('create /empty');
    expect((await zk.getData('/empty')).nullData).toBe(true);
    expect((await run('get /empty')).stdout).toEqual(['null']);
    await run('create /blank ""');
    expect(await zk.getData('/blank')).not.toHaveProperty('nullData');
    expect((await run('get /blank')).stdout).toEqual(['']);
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
      expect(r.stderr.at(-1), line).toBe('Usage: create [-s] [-e] [-c] [-t ttl] path [data] [acl]');
    }
    expect(await zk.exists('/x')).toBeNull();
  });

  it('create of an existing node prints zkCli\'s "Node already exists" and exits 1', async () => {
    await run('create /dup');
    expect(await run('create /dup')).toEqual({ code: 1, stdout: [], stderr: ['Node already exists: /dup'] });
  });

  it('create under a missing parent names the path it was given, as zkCli does', async () => {
    expect(await run('create /no/child')).toEqual({
      code: ExitCode.FAILED,
      stdout: [],
      stderr: ['Node does not exist: /no/child'],
    });
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
      `ctime = ${zkDate(stat.ctime)}`,
      `mZxid = 0x${stat.mzxid.toString(16)}`,
      `mtime = ${zkDate(stat.mtime)}`,
      `pZxid = 0x${stat.pzxid.toString(16)}`,
      'cversion = 0',
      'dataVersion = 0',
      'aclVersion = 0',
      'ephemeralOwner = 0x0',
      'dataLength = 3',
      'numChildren = 0',
    ]);
  });

  it('get of a missing node prints "Node does not exist: /path" on stderr and exits 1', async () => {
    expect(await run('get /missing')).toEqual({
      code: 1,
      stdout: [],
      stderr: ['Node does not exist: /missing'],
    });
  });

  it('get -w prints the watch event once, when the node changes', async () => {
    await zk.create('/w', 'v1');
    await run('get -w /w');
    await zk.setData('/w', 'v2');
    await out.line('WatchedEvent state:SyncConnected type:NodeDataChanged path:/w');
    expect(out.stdout).toEqual(block('NodeDataChanged', '/w'));
    out.clear();
    await zk.setData('/w', 'v3');
    await zk.sync();
    // The shell's own session has seen every event up to here: none printed.
    expect((await run('sync')).stdout).toEqual(['Sync is OK']);
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
    expect(await run('set /v c -v 0')).toEqual({
      code: 1,
      stdout: [],
      stderr: ['version No is not valid : /v'],
    });
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

  it('ls prints the children sorted as zkCli does, [a, b], and [] for none', async () => {
    await zk.create('/l');
    expect((await run('ls /l')).stdout).toEqual(['[]']);
    await zk.create('/l/b');
    await zk.create('/l/a');
    expect(await run('ls /l')).toEqual({ code: 0, stdout: ['[a, b]'], stderr: [] });
    expect((await run('ls')).stdout).toEqual(['[l]']);
  });

  it('ls -s prints the list then the stat; ls -w prints the children event once', async () => {
    await zk.create('/l');
    const r = await run('ls -s -w /l');
    expect(r.stdout[0]).toBe('[]');
    expect(r.stdout.slice(1)).toEqual(formatStat((await zk.exists('/l'))!));
    await zk.create('/l/new');
    await out.line('WatchedEvent state:SyncConnected type:NodeChildrenChanged path:/l');
    expect(out.stdout).toEqual(block('NodeChildrenChanged', '/l'));
  });

  it('ls -R prints the node and every descendant as full paths, breadth first as zkCli', async () => {
    for (const p of ['/r', '/r/a', '/r/a/x', '/r/b']) await zk.create(p);
    expect((await run('ls -R /r')).stdout).toEqual(['/r', '/r/a', '/r/b', '/r/a/x']);
    expect(await run('ls -R /none')).toEqual({
      code: 1,
      stdout: [],
      stderr: ['Node does not exist: /none'],
    });
  });

  it('delete removes a node; -v checks its version; a node with children is NOTEMPTY', async () => {
    await zk.create('/d', 'x');
    await zk.create('/d/c');
    expect(await run('delete /d')).toEqual({ code: 1, stdout: [], stderr: ['Node not empty: /d'] });
    expect((await run('delete -v 3 /d/c')).stderr).toEqual(['version No is not valid : /d/c']);
    expect((await run('delete -v 0 /d/c')).code).toBe(ExitCode.OK);
    expect((await run('delete /d')).code).toBe(ExitCode.OK);
    expect(await zk.exists('/d')).toBeNull();
  });

  it('deleteall removes a node with all its descendants', async () => {
    for (const p of ['/t', '/t/a', '/t/a/b', '/t/c', '/keep']) await zk.create(p);
    expect(await run('deleteall /t')).toEqual({ code: 0, stdout: [], stderr: [] });
    expect((await zk.getChildren('/')).children).toEqual(['keep']);
    expect((await run('deleteall /t')).stderr).toEqual(['Node does not exist: /t']);
    expect((await run('deleteall /keep -b 10')).code).toBe(ExitCode.OK);
    expect((await run('deleteall /keep -b none')).code).toBe(ExitCode.USAGE);
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
    expect(await run('stat /none')).toEqual({
      code: 1,
      stdout: [],
      stderr: ['Node does not exist: /none'],
    });
  });

  it('stat -w on a missing node fails but leaves the watch, which prints NodeCreated', async () => {
    expect((await run('stat -w /soon')).stderr).toEqual(['Node does not exist: /soon']);
    await zk.create('/soon');
    await out.line('WatchedEvent state:SyncConnected type:NodeCreated path:/soon');
  });

  it('exists prints true or false and succeeds either way', async () => {
    await zk.create('/e');
    expect(await run('exists /e')).toEqual({ code: 0, stdout: ['true'], stderr: [] });
    expect(await run('exists /f')).toEqual({ code: 0, stdout: ['false'], stderr: [] });
  });

  it('exists -w on a missing node prints NodeCreated when it appears', async () => {
    await run('exists -w /later');
    await zk.create('/later');
    await out.line('WatchedEvent state:SyncConnected type:NodeCreated path:/later');
  });

  it('sync prints "Sync is OK" with or without a path', async () => {
    expect(await run('sync /')).toEqual({ code: 0, stdout: ['Sync is OK'], stderr: [] });
    expect((await run('sync')).stdout).toEqual(['Sync is OK']);
  });

  it('addWatch prints every event on the node and its descendants, in order, until removewatches', async () => {
    await zk.create('/app');
    await run('addWatch /app');
    await zk.create('/app/x', '1');
    await zk.setData('/app/x', '2');
    await zk.delete('/app/x');
    await zk.create('/other');
    await out.line('WatchedEvent state:SyncConnected type:NodeDeleted path:/app/x');
    expect(out.stdout).toEqual([
      ...block('NodeCreated', '/app/x'),
      ...block('NodeDataChanged', '/app/x'),
      ...block('NodeDeleted', '/app/x'),
    ]);
    out.clear();
    // ZooKeeper's client tells the removed watcher with an event of its own; zkCli prints it.
    expect(await run('removewatches /app')).toEqual({
      code: 0,
      stdout: block('PersistentWatchRemoved', '/app'),
      stderr: [],
    });
    await zk.create('/app/y');
    // Events would have arrived before the sync's answer: none did.
    expect((await run('sync')).stdout).toEqual(['Sync is OK']);
    expect((await run('removewatches /app')).stderr).toEqual(['KeeperErrorCode = No such watcher for /app']);
  });

  it('addWatch -m PERSISTENT watches the node alone; a bad mode is a usage error', async () => {
    await zk.create('/p');
    await run('addWatch -m PERSISTENT /p');
    await zk.create('/p/kid');
    await zk.create('/p/kid/grandkid');
    await zk.setData('/p', 'x');
    await out.line('WatchedEvent state:SyncConnected type:NodeDataChanged path:/p');
    expect(out.stdout).toEqual([...block('NodeChildrenChanged', '/p'), ...block('NodeDataChanged', '/p')]);
    expect((await run('addWatch -m SOMETIMES /p')).code).toBe(ExitCode.USAGE);
  });

  it('removewatches -d and -c remove one class of watch, each with its own event', async () => {
    await zk.create('/rw');
    await run('get -w /rw; ls -w /rw');
    expect((await run('removewatches /rw -d')).stdout).toEqual(block('DataWatchRemoved', '/rw'));
    expect((await run('removewatches /rw -d')).stderr).toEqual(['KeeperErrorCode = No such watcher for /rw']);
    expect((await run('removewatches /rw -c -l')).stdout).toEqual(block('ChildWatchRemoved', '/rw'));
    await zk.setData('/rw', 'x');
    await zk.create('/rw/x');
    // Events would have arrived before the sync's answer: none did.
    expect((await run('sync')).stdout).toEqual(['Sync is OK']);
  });

  it('printwatches off silences events, printwatches alone says which', async () => {
    await zk.create('/pw');
    expect((await run('printwatches')).stdout).toEqual(['printwatches is on']);
    await run('printwatches off; addWatch /pw');
    await zk.setData('/pw', 'x');
    expect((await run('sync')).stdout).toEqual(['Sync is OK']);
    expect((await run('printwatches')).stdout).toEqual(['printwatches is off']);
    await run('printwatches on');
    await zk.setData('/pw', 'y');
    await out.line('WatchedEvent state:SyncConnected type:NodeDataChanged path:/pw');
    expect(out.stdout).toEqual(block('NodeDataChanged', '/pw'));
    expect((await run('printwatches maybe')).code).toBe(ExitCode.USAGE);
  });

  it('watch and unwatch are kept as other names of addWatch and removewatches', async () => {
    await zk.create('/old');
    await run('watch /old');
    await zk.setData('/old', 'x');
    await out.line('WatchedEvent state:SyncConnected type:NodeDataChanged path:/old');
    out.clear();
    expect((await run('unwatch /old')).stdout).toEqual(block('PersistentWatchRemoved', '/old'));
  });

  it("getEphemerals lists this session's ephemeral nodes under a path prefix, as [a, b]", async () => {
    await run('create /e; create -e /e/one; create -e /e2; create /e/p; create -e /e/p/two; create -e /x');
    const other = await service.connect();
    await other.create('/e/theirs', '', { mode: CreateMode.EPHEMERAL });
    expect((await run('getEphemerals /e')).stdout).toEqual(['[/e/one, /e/p/two, /e2]']);
    expect((await run('getEphemerals /e/')).stdout).toEqual(['[/e/one, /e/p/two]']);
    expect((await run('getEphemerals')).stdout).toEqual(['[/e/one, /e/p/two, /e2, /x]']);
    expect(await run('getEphemerals /nope')).toEqual({ code: 0, stdout: ['[]'], stderr: [] });
  });

  it('getAllChildrenNumber counts the descendants at every depth', async () => {
    await run('create /n; create /n/a; create /n/a/b; create /n/c');
    expect((await run('getAllChildrenNumber /n')).stdout).toEqual(['3']);
    expect((await run('getAllChildrenNumber /n/c')).stdout).toEqual(['0']);
    expect((await run('getAllChildrenNumber /none')).stderr).toEqual(['Node does not exist: /none']);
  });

  it('getAcl prints a node’s ACL as zkCli does; a node created without one is open', async () => {
    await zk.create('/acl');
    expect((await run('getAcl /acl')).stdout).toEqual(["'world,'anyone", ': cdrwa']);
    expect((await run('getAcl -s /acl')).stdout).toHaveLength(13);
    expect((await run('getAcl /none')).stderr).toEqual(['Node does not exist: /none']);
    expect((await run('getAcl /zookeeper/config')).stdout).toEqual(["'world,'anyone", ': r']);
  });

  it('addauth, create with an ACL, setAcl with -v, -s and -R: zkCli syntax and output', async () => {
    expect(await run('addauth digest bob:pw')).toEqual({ code: 0, stdout: [], stderr: [] });
    expect(
      (await run('create /locked x digest:bob:ikIaKsbtGweaHnb/jKn7OHqbunM=:cdrwa,world:anyone:r')).stdout,
    ).toEqual(['Created /locked']);
    expect((await run('getAcl /locked')).stdout).toEqual([
      "'digest,'bob:ikIaKsbtGweaHnb/jKn7OHqbunM=",
      ': cdrwa',
      "'world,'anyone",
      ': r',
    ]);
    expect(await run('create /bad x world:nobody:r')).toEqual({
      code: ExitCode.FAILED,
      stdout: [],
      stderr: ['KeeperErrorCode = InvalidACL for /bad', 'Acl is not valid : /bad'],
    });
    expect((await run('setAcl -v 7 /locked world:anyone:cdrwa')).stderr).toEqual([
      'version No is not valid : /locked',
    ]);
    const set = await run('setAcl -s -v 0 /locked auth::cdrwa');
    expect(set.code).toBe(0);
    expect(set.stdout).toContain('aclVersion = 1');
    expect((await run('getAcl /locked')).stdout).toEqual([
      "'digest,'bob:ikIaKsbtGweaHnb/jKn7OHqbunM=",
      ': cdrwa',
    ]);
    await run('create /tree; create /tree/a; create /tree/a/b');
    expect((await run('setAcl -R /tree world:anyone:r')).code).toBe(0);
    for (const p of ['/tree', '/tree/a', '/tree/a/b'])
      expect((await run(`getAcl ${p}`)).stdout, p).toEqual(["'world,'anyone", ': r']);
    expect((await run('set /tree/a x')).stderr).toEqual(['Insufficient permission : /tree/a']);
    // zkCli reports an entry it cannot read and a perm letter it does not know, and goes on.
    const odd = await run('create /odd x world:anyone:rq,nocolon');
    expect(odd.stderr).toEqual(['Unknown perm type: q', 'nocolon does not have the form scheme:id:perm']);
    expect((await run('getAcl /odd')).stdout).toEqual(["'world,'anyone", ': r']);
  });

  it('a session without WRITE cannot change a node, in the shell as anywhere', async () => {
    await zk.create('/ro', 'v', { acl: [{ perms: 1, id: { scheme: 'world', id: 'anyone' } }] });
    expect(await run('set /ro w')).toEqual({
      code: ExitCode.FAILED,
      stdout: [],
      stderr: ['Insufficient permission : /ro'],
    });
    expect((await run('get /ro')).stdout).toEqual(['v']);
  });

  it('addauth with an unknown scheme fails with AuthFailed and ends the session', async () => {
    const r = await run('addauth kerberos x');
    expect(r.code).toBe(ExitCode.FAILED);
    // zkCli hears of it as a session event, and prints it as one.
    expect(r.stdout).toEqual(['', 'WATCHER::', '', 'WatchedEvent state:AuthFailed type:None path:null']);
    expect(r.stderr).toEqual([]);
    expect(zk.state).toBe('CLOSED');
  });

  it('/zookeeper answers reads as ZooKeeper 3.8: [config, quota] with empty data; writes are refused', async () => {
    expect((await run('ls /zookeeper')).stdout).toEqual(['[config, quota]']);
    expect((await run('get /zookeeper/config')).stdout).toEqual(['']);
    expect((await run('stat /zookeeper')).stdout).toContain('numChildren = 2');
    expect((await run('ls /zookeeper/quota')).stdout).toEqual(['[]']);
    expect((await run('stat /zookeeper/nothing')).stderr).toEqual([
      'Node does not exist: /zookeeper/nothing',
    ]);
    const refused = await run('create /zookeeper/mine');
    expect(refused.code).toBe(ExitCode.FAILED);
    expect(refused.stderr).toEqual([
      'Arguments are not valid : /zookeeper/mine (/zookeeper/mine is reserved)',
    ]);
  });

  it("version prints the shell version in zkCli's words", async () => {
    expect((await run('version')).stdout).toEqual([
      `ZooKeeper CLI version: FaaSKeeper shell ${cliVersion()} (zkCli 3.8 commands)`,
    ]);
  });

  it('redo runs a command of the history again and records it, as zkCli does', async () => {
    await run('create /rd; ls /rd');
    await zk.create('/rd/new');
    expect((await run('redo 1')).stdout).toEqual(['[new]']);
    expect((await run('history')).stdout).toEqual([
      '0 - create /rd',
      '1 - ls /rd',
      '2 - ls /rd',
      '3 - history',
    ]);
    expect((await run('redo 9')).code).toBe(ExitCode.USAGE);
  });

  it('history lists the last 11 commands, numbered from 0', async () => {
    await run('create /h; ls /');
    expect((await run('history')).stdout).toEqual(['0 - create /h', '1 - ls /', '2 - history']);
    for (let i = 0; i < 10; i++) await run(`exists /h${i}`);
    const listed = (await run('history')).stdout;
    expect(listed).toHaveLength(11);
    expect(listed[0]).toBe('3 - exists /h0');
    expect(listed.at(-1)).toBe('13 - history');
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
    expect(r.stderr[0]).toMatch(/^Arguments are not valid : relative \(path must start with \//);
  });

  it("data over 1 MiB is refused before it is sent, with BADARGUMENTS in zkCli's words", async () => {
    const r = await run(`create /big ${'x'.repeat(MAX_DATA_BYTES + 1)}`);
    expect(r.code).toBe(ExitCode.FAILED);
    expect(r.stderr[0]).toMatch(/^Arguments are not valid : \/big \(data is at least 1048577 bytes/);
    expect(await zk.exists('/big')).toBeNull();
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
      stderr: ['KeeperErrorCode = Session expired for /'],
    });
  });
});

describe("zkCli's formats", () => {
  it("prints times as Java's Date.toString() does, in UTC", () => {
    expect(zkDate(Date.UTC(2026, 11, 4, 21, 50, 0))).toBe('Fri Dec 04 21:50:00 UTC 2026');
    expect(zkDate(0)).toBe('Thu Jan 01 00:00:00 UTC 1970');
    expect(zkDate(Date.UTC(2024, 1, 29, 9, 5, 7, 999))).toBe('Thu Feb 29 09:05:07 UTC 2024');
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

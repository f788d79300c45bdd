/**
 * Apache ZooKeeper's C client (3.8.0, the one zkpython, PHP, Perl and many native clients are built on),
 * reached from Node through the `zookeeper` package (node-zookeeper, which compiles the C client it
 * ships into an addon), runs one scenario against a real ZooKeeper and against the gateway: creates in
 * every mode, with container (opcode 19) and TTL (opcode 21) nodes, reads with watches, versioned
 * writes and deletes, errors, getACL, sync, and an ephemeral going with its session. The normalised
 * transcripts must be equal line by line.
 */
import { createRequire } from 'node:module';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { keepTranscript, lineDiff, Ranks, timeRelation } from '../support/normalise.js';
import { describeWithPeers, missingPeers } from '../support/peers.js';
import { type RunningServer, startReferenceZooKeeper, startTestGateway } from '../support/servers.js';

const missing = missingPeers(['zookeeper']);
const describeIfPeers = describeWithPeers(missing, 'the C client compatibility tests');

/** The Stat object node-zookeeper builds from the C client's `struct Stat`. */
interface CStat {
  czxid: number;
  mzxid: number;
  pzxid: number;
  ctime: number | Date;
  mtime: number | Date;
  version: number;
  cversion: number;
  aversion: number;
  ephemeralOwner: string;
  dataLength: number;
  numChildren: number;
}
type Rc = number;
type WatchCb = (type: number, state: number, path: string) => void;
/** The callback API of node-zookeeper used here (its bundled typings describe an ambient module). */
interface CZooKeeper {
  connect(options: Record<string, unknown>, cb: (error: unknown) => void): void;
  close(): void;
  a_create(
    path: string,
    data: Buffer | null,
    flags: number,
    cb: (rc: Rc, error: string, path: string) => void,
  ): number;
  a_createTtl(
    path: string,
    data: Buffer | null,
    flags: number,
    ttl: number,
    cb: (rc: Rc, error: string, path: string) => void,
  ): number;
  a_exists(path: string, watch: boolean, cb: (rc: Rc, error: string, stat: CStat | null) => void): number;
  aw_exists(path: string, watchCb: WatchCb, cb: (rc: Rc, error: string, stat: CStat | null) => void): number;
  aw_get(
    path: string,
    watchCb: WatchCb,
    cb: (rc: Rc, error: string, stat: CStat | null, data: Buffer | null) => void,
  ): number;
  a_get(
    path: string,
    watch: boolean,
    cb: (rc: Rc, error: string, stat: CStat | null, data: Buffer | null) => void,
  ): number;
  aw_get_children2(
    path: string,
    watchCb: WatchCb,
    cb: (rc: Rc, error: string, children: string[] | null, stat: CStat | null) => void,
  ): number;
  a_set(
    path: string,
    data: Buffer | null,
    version: number,
    cb: (rc: Rc, error: string, stat: CStat | null) => void,
  ): number;
  a_delete_(path: string, version: number, cb: (rc: Rc, error: string) => void): number;
  a_get_acl(path: string, cb: (rc: Rc, error: string, acl: unknown, stat: CStat | null) => void): number;
  a_sync(path: string, cb: (rc: Rc, error: string, path: string) => void): number;
}
interface CZooKeeperModule {
  new (): CZooKeeper;
  constants: Record<string, number>;
}

const ZooKeeper = createRequire(import.meta.url)('zookeeper') as CZooKeeperModule;
const C = ZooKeeper.constants;
const constant = (name: string): number => {
  const value = C[name];
  if (value === undefined) throw new Error(`node-zookeeper has no constant ${name}`);
  return value;
};
const EVENT_NAMES = new Map([
  [constant('ZOO_CREATED_EVENT'), 'CREATED'],
  [constant('ZOO_DELETED_EVENT'), 'DELETED'],
  [constant('ZOO_CHANGED_EVENT'), 'CHANGED'],
  [constant('ZOO_CHILD_EVENT'), 'CHILD'],
]);
/** Error codes by number, for readable transcripts. */
const RC_NAMES = new Map(
  Object.entries(C)
    .filter(([name]) => /^Z[A-Z]+$/.test(name))
    .map(([name, code]) => [code, name]),
);

/** Runs the scenario against `connectString` and returns its normalised transcript. */
async function scenario(connectString: string): Promise<string[]> {
  const out: string[] = [];
  const zxids = new Ranks('Z');
  const sessions = new Ranks('S');
  const events: string[] = [];
  const rc = (code: Rc) => (code === 0 ? 'ok' : (RC_NAMES.get(code) ?? String(code)));
  const stat = (s: CStat | null) =>
    s === null
      ? 'null'
      : `{czxid=${zxids.of(String(s.czxid))} mzxid=${zxids.of(String(s.mzxid))} pzxid=${zxids.of(String(s.pzxid))} ` +
        `times=${timeRelation(s)} ` +
        `version=${s.version} cversion=${s.cversion} aversion=${s.aversion} ` +
        `owner=${s.ephemeralOwner === '0' ? 'none' : sessions.of(s.ephemeralOwner)} dataLength=${s.dataLength} numChildren=${s.numChildren}}`;
  const data = (d: Buffer | null) => (d === null ? 'null' : `'${d.toString('utf8')}'`);
  const watcher =
    (who: string): WatchCb =>
    (type, _state, path) => {
      events.push(`  ${who} event ${EVENT_NAMES.get(type) ?? type} ${path}`);
    };

  const open = () =>
    new Promise<CZooKeeper>((resolve, reject) => {
      const zk = new ZooKeeper();
      zk.connect(
        {
          connect: connectString,
          timeout: 10_000,
          debug_level: constant('ZOO_LOG_LEVEL_ERROR'),
          host_order_deterministic: true,
          data_as_buffer: true,
        },
        (error) => (error ? reject(error) : resolve(zk)),
      );
    });
  /** Calls an async C-client function and waits for its completion. */
  const call = <A extends unknown[]>(start: (cb: (...args: A) => void) => number) =>
    new Promise<A>((resolve, reject) => {
      const code = start((...args: A) => resolve(args));
      if (code !== 0) reject(new Error(`C client refused the call: ${code}`));
    });
  /** Polls until `done` holds; fails naming `what` after 10 s. */
  const eventually = async (done: () => boolean, what: string) => {
    const deadline = Date.now() + 10_000;
    while (!done()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };
  const clients: CZooKeeper[] = [];
  /** Every client round-trips a sync and an exists of `paths`: events of earlier changes are in by then. */
  const barrier = async (...paths: string[]) => {
    for (const zk of clients) {
      await call<[Rc, string, string]>((cb) => zk.a_sync('/', cb));
      for (const p of paths) await call<[Rc, string, CStat | null]>((cb) => zk.a_exists(p, false, cb));
    }
    out.push(...events.splice(0));
  };

  const a = await open();
  const b = await open();
  clients.push(a, b);
  const create = async (
    who: string,
    zk: CZooKeeper,
    path: string,
    value: string | null,
    mode: string,
    ttl?: number,
  ) => {
    const flags = constant(mode);
    // node-zookeeper stringifies a null value into the four bytes 'null': no data goes as an empty buffer.
    const buffer = Buffer.from(value ?? '');
    const [code, , created] =
      ttl === undefined
        ? await call<[Rc, string, string]>((cb) => zk.a_create(path, buffer, flags, cb))
        : await call<[Rc, string, string]>((cb) => zk.a_createTtl(path, buffer, flags, ttl, cb));
    out.push(
      `${who} create ${path} ${mode}${ttl === undefined ? '' : ` ttl=${ttl}`} -> ${code === 0 ? created : rc(code)}`,
    );
  };
  const exists = async (who: string, zk: CZooKeeper, path: string) => {
    const [code, , s] = await call<[Rc, string, CStat | null]>((cb) => zk.a_exists(path, false, cb));
    out.push(`${who} exists ${path} -> ${code === 0 ? stat(s) : rc(code)}`);
  };
  const get = async (who: string, zk: CZooKeeper, path: string, watch: boolean) => {
    const [code, , s, d] = watch
      ? await call<[Rc, string, CStat | null, Buffer | null]>((cb) => zk.aw_get(path, watcher(who), cb))
      : await call<[Rc, string, CStat | null, Buffer | null]>((cb) => zk.a_get(path, false, cb));
    out.push(
      `${who} get ${path}${watch ? ' watch' : ''} -> ${code === 0 ? `${data(d)} ${stat(s)}` : rc(code)}`,
    );
  };
  const set = async (who: string, zk: CZooKeeper, path: string, value: string | null, version: number) => {
    const buffer = Buffer.from(value ?? '');
    const [code, , s] = await call<[Rc, string, CStat | null]>((cb) => zk.a_set(path, buffer, version, cb));
    out.push(`${who} set ${path} v${version} -> ${code === 0 ? stat(s) : rc(code)}`);
  };
  const del = async (who: string, zk: CZooKeeper, path: string, version: number) => {
    const [code] = await call<[Rc, string]>((cb) => zk.a_delete_(path, version, cb));
    out.push(`${who} delete ${path} v${version} -> ${rc(code)}`);
  };

  await create('A', a, '/c', 'root', 'ZOO_PERSISTENT');
  await create('A', a, '/c', 'again', 'ZOO_PERSISTENT');
  await create('A', a, '/c/missing/x', null, 'ZOO_PERSISTENT');
  await create('A', a, '/c/e', 'e', 'ZOO_EPHEMERAL');
  await create('A', a, '/c/e/x', null, 'ZOO_PERSISTENT');
  for (let i = 0; i < 3; i++) await create('A', a, '/c/s-', 's', 'ZOO_PERSISTENT_SEQUENTIAL');
  await create('A', a, '/c/es-', null, 'ZOO_EPHEMERAL_SEQUENTIAL');
  await create('A', a, '/c/cont', 'c', 'ZOO_CONTAINER');
  await create('A', a, '/c/ttl', 't', 'ZOO_PERSISTENT_WITH_TTL', 60_000);
  await create('A', a, '/c/ts-', null, 'ZOO_PERSISTENT_SEQUENTIAL_WITH_TTL', 60_000);
  await create('A', a, '/c/empty', '', 'ZOO_PERSISTENT');
  await exists('A', a, '/c/ttl');
  await exists('A', a, '/c/cont');
  await exists('A', a, '/c/e');
  await get('A', a, '/c/empty', false);
  await get('A', a, '/c/ts-0000000007', false);
  await barrier('/c');

  await get('A', a, '/c', true);
  await set('B', b, '/c', 'changed', -1);
  await barrier('/c');
  await set('B', b, '/c', 'stale', 0);
  await set('B', b, '/c', 'again', 1);
  await barrier('/c');
  const [existsCode] = await call<[Rc, string, CStat | null]>((cb) =>
    a.aw_exists('/c/new', watcher('A'), cb),
  );
  out.push(`A exists /c/new watch -> ${rc(existsCode)}`);
  await create('B', b, '/c/new', 'n', 'ZOO_PERSISTENT');
  await barrier('/c/new');
  const [childrenCode, , children, childrenStat] = await call<[Rc, string, string[] | null, CStat | null]>(
    (cb) => a.aw_get_children2('/c', watcher('A'), cb),
  );
  out.push(
    `A get_children2 /c watch -> ${rc(childrenCode)} [${[...(children ?? [])].sort().join(', ')}] ${stat(childrenStat)}`,
  );
  await create('B', b, '/c/k', null, 'ZOO_PERSISTENT');
  await barrier('/c/k');
  await del('B', b, '/c/k', 5);
  await del('B', b, '/c/k', 0);
  // After a delete under /c, ZooKeeper's next sequential suffix still counts creations, not cversion.
  await create('B', b, '/c/s-', 's', 'ZOO_PERSISTENT_SEQUENTIAL');
  await del('B', b, '/c', -1);
  await del('B', b, '/c/nope', -1);
  const [aclCode, , acl, aclStat] = await call<[Rc, string, unknown, CStat | null]>((cb) =>
    a.a_get_acl('/c', cb),
  );
  out.push(`A get_acl /c -> ${rc(aclCode)} ${JSON.stringify(acl)} ${stat(aclStat)}`);
  const [syncCode, , syncPath] = await call<[Rc, string, string]>((cb) => a.a_sync('/c', cb));
  out.push(`A sync /c -> ${rc(syncCode)} ${syncPath}`);

  // The session holding the ephemerals ends: B's watch on one of them fires and both are gone.
  await get('B', b, '/c/e', true);
  a.close();
  clients.splice(0, 1);
  // The C client's close blocks this thread for up to 1.5 s waiting for the server's answer; the
  // gateway runs on this thread too, so it takes the close only after that and A's session ends
  // later: B's watch event on A's ephemeral says it has ended (at once on ZooKeeper).
  await eventually(() => events.includes('  B event DELETED /c/e'), "A's session to end");
  await barrier('/c/e');
  await exists('B', b, '/c/e');
  const [, , left] = await call<[Rc, string, string[] | null, CStat | null]>((cb) =>
    b.aw_get_children2('/c', () => {}, cb),
  );
  out.push(`B children of /c after A closed -> [${[...(left ?? [])].sort().join(', ')}]`);
  b.close();
  return out;
}

let zookeeper: RunningServer | undefined;
let expected: string[];

beforeAll(async () => {
  if (missing !== undefined) return;
  zookeeper = await startReferenceZooKeeper();
  expected = await scenario(zookeeper.connectString);
  keepTranscript('c-client.zookeeper.txt', expected.join('\n'));
}, 60_000);

afterAll(async () => {
  await zookeeper?.close();
});

describeIfPeers('C client scenario on Apache ZooKeeper (the reference)', () => {
  it('creates container and TTL nodes, names sequential nodes, reports errors and fires watches', () => {
    const text = expected.join('\n');
    for (const line of [
      'A create /c ZOO_PERSISTENT -> ZNODEEXISTS',
      'A create /c/missing/x ZOO_PERSISTENT -> ZNONODE',
      'A create /c/e/x ZOO_PERSISTENT -> ZNOCHILDRENFOREPHEMERALS',
      'A create /c/s- ZOO_PERSISTENT_SEQUENTIAL -> /c/s-0000000002',
      'A create /c/cont ZOO_CONTAINER -> /c/cont',
      'A create /c/ttl ZOO_PERSISTENT_WITH_TTL ttl=60000 -> /c/ttl',
      'A create /c/ts- ZOO_PERSISTENT_SEQUENTIAL_WITH_TTL ttl=60000 -> /c/ts-0000000007',
      "A get /c/empty -> ''",
      "A get /c/ts-0000000007 -> '' {",
      '  A event CHANGED /c',
      'B set /c v0 -> ZBADVERSION',
      '  A event CREATED /c/new',
      '  A event CHILD /c',
      'B delete /c/k v5 -> ZBADVERSION',
      'B create /c/s- ZOO_PERSISTENT_SEQUENTIAL -> /c/s-0000000011',
      'B delete /c v-1 -> ZNOTEMPTY',
      '  B event DELETED /c/e',
      'B exists /c/e -> ZNONODE',
    ]) {
      expect(text).toContain(line);
    }
    expect(expected.find((l) => l.startsWith('A exists /c/e ->'))).toContain('owner=S0');
    expect(expected.at(-1)).not.toMatch(/\be\b|es-/);
  });
});

describeIfPeers('C client scenario on the gateway', () => {
  let gateway: RunningServer | undefined;
  let actual: string[];

  beforeAll(async () => {
    gateway = await startTestGateway();
    actual = await scenario(gateway.connectString);
    keepTranscript('c-client.gateway.txt', actual.join('\n'));
  }, 60_000);

  afterAll(async () => {
    await gateway?.close();
  });

  it('gives the same normalised transcript as Apache ZooKeeper, line by line', () => {
    const diff = lineDiff(expected, actual);
    expect(diff, diff.join('\n')).toEqual([]);
  });
});

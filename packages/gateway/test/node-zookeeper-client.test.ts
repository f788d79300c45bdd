/**
 * node-zookeeper-client 1.1.3 (the 3.4 protocol, old handshake form) against the gateway: every op
 * it has, watches, ephemerals, multi, errors, auth, reconnect and expiry.
 */
import { createEmbeddedService, type Deployment, type FaaSKeeperClient } from '@faaskeeper/core';
import zookeeper from 'node-zookeeper-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Gateway, type GatewayLogEntry, startGateway } from '../src/index.js';
import {
  call,
  codeOf,
  connectZk,
  expectSequentialNames,
  long,
  next,
  startProxy,
  type Zk,
} from './nzc-helpers.js';

const E = zookeeper.Exception;
const buf = (s: string) => Buffer.from(s);

describe('node-zookeeper-client on the gateway', () => {
  let gw: Gateway;
  let zk: Zk;
  let other: Zk;
  const logs: GatewayLogEntry[] = [];

  beforeAll(async () => {
    gw = await startGateway({ port: 0, log: (l) => logs.push(l) });
    zk = await connectZk(gw.connectString);
    other = await connectZk(gw.connectString);
  });
  afterAll(async () => {
    zk.close();
    other.close();
    await gw.close();
  });

  it('creates, reads, updates and deletes nodes with ZooKeeper stats', async () => {
    const [path] = await call<[string]>((cb) => zk.create('/crud', buf('v1'), cb));
    expect(path).toBe('/crud');
    const [data, stat] = await call<[Buffer, zookeeper.Stat]>((cb) => zk.getData('/crud', cb));
    expect(data.toString()).toBe('v1');
    expect(stat.version).toBe(0);
    expect(stat.dataLength).toBe(2);
    expect(long(stat.czxid)).toBeGreaterThan(0);
    expect(long(stat.mzxid)).toBe(long(stat.czxid));
    expect(long(stat.ephemeralOwner)).toBe(0);
    const [set] = await call<[zookeeper.Stat]>((cb) => zk.setData('/crud', buf('v22'), 0, cb));
    expect(set.version).toBe(1);
    expect(set.dataLength).toBe(3);
    expect(long(set.mzxid)).toBeGreaterThan(long(stat.mzxid));
    const [exists] = await call<[zookeeper.Stat | null]>((cb) => zk.exists('/crud', cb));
    expect(exists?.version).toBe(1);
    await call((cb) => zk.create('/crud/a', cb));
    await call((cb) => zk.create('/crud/b', cb));
    const [children, pstat] = await call<[string[], zookeeper.Stat]>((cb) => zk.getChildren('/crud', cb));
    expect(children.sort()).toEqual(['a', 'b']);
    expect(pstat.numChildren).toBe(2);
    expect(pstat.cversion).toBe(2);
    await call((cb) => zk.remove('/crud/a', -1, cb));
    await call((cb) => zk.remove('/crud/b', 0, cb));
    await call((cb) => zk.remove('/crud', 1, cb));
    const [gone] = await call<[zookeeper.Stat | null]>((cb) => zk.exists('/crud', cb));
    expect(gone).toBeNull();
  });

  it('maps errors to ZooKeeper codes: NONODE, NODEEXISTS, BADVERSION, NOTEMPTY, NOCHILDRENFOREPHEMERALS', async () => {
    expect(await codeOf(call((cb) => zk.getData('/missing', cb)))).toBe(E.NO_NODE);
    expect(await codeOf(call((cb) => zk.create('/missing/child', cb)))).toBe(E.NO_NODE);
    await call((cb) => zk.create('/err', cb));
    expect(await codeOf(call((cb) => zk.create('/err', cb)))).toBe(E.NODE_EXISTS);
    expect(await codeOf(call((cb) => zk.setData('/err', buf('x'), 7, cb)))).toBe(E.BAD_VERSION);
    await call((cb) => zk.create('/err/kid', cb));
    expect(await codeOf(call((cb) => zk.remove('/err', -1, cb)))).toBe(E.NOT_EMPTY);
    await call((cb) => zk.create('/err/eph', zookeeper.CreateMode.EPHEMERAL, cb));
    expect(await codeOf(call((cb) => zk.create('/err/eph/kid', cb)))).toBe(E.NO_CHILDREN_FOR_EPHEMERALS);
  });

  it('names sequential nodes with a 10-digit counter of the parent', async () => {
    await expectSequentialNames(zk);
  });

  it('fires watches with the right event types, once per change', async () => {
    await call((cb) => zk.create('/w', buf('0'), cb));
    const dataEvent = next<zookeeper.Event>(
      (d) => zk.getData('/w', d, () => undefined),
      10_000,
      'data watch',
    );
    const existsEvents: zookeeper.Event[] = [];
    await call((cb) => zk.exists('/w', (e) => existsEvents.push(e), cb));
    const childEvent = next<zookeeper.Event>(
      (d) => zk.getChildren('/w', d, () => undefined),
      10_000,
      'child watch',
    );
    const createdEvent = next<zookeeper.Event>(
      (d) => zk.exists('/w/new', d, () => undefined),
      10_000,
      'exists watch',
    );
    // Replies come in request order: once this one is in, the watches above are set.
    await call((cb) => zk.exists('/w', cb));
    await call((cb) => other.setData('/w', buf('1'), cb));
    expect((await dataEvent).getType()).toBe(zookeeper.Event.NODE_DATA_CHANGED);
    await call((cb) => other.create('/w/new', cb));
    expect((await createdEvent).getType()).toBe(zookeeper.Event.NODE_CREATED);
    expect((await childEvent).getType()).toBe(zookeeper.Event.NODE_CHILDREN_CHANGED);
    expect((await childEvent).getPath()).toBe('/w');
    // The exists watch and the data watch were one server-side data watch: one notification.
    expect(existsEvents.map((e) => e.getType())).toEqual([zookeeper.Event.NODE_DATA_CHANGED]);
    const deleted = next<zookeeper.Event>(
      (d) => zk.exists('/w/new', d, () => undefined),
      10_000,
      'delete watch',
    );
    // Replies come in request order: once this one is in, the exists watch above is set.
    await call((cb) => zk.exists('/', cb));
    await call((cb) => other.remove('/w/new', -1, cb));
    expect((await deleted).getType()).toBe(zookeeper.Event.NODE_DELETED);
  });

  it('deletes a session’s ephemeral nodes when it closes', async () => {
    const temp = await connectZk(gw.connectString);
    await call((cb) => temp.create('/eph', zookeeper.CreateMode.EPHEMERAL, cb));
    const [stat] = await call<[zookeeper.Stat]>((cb) => other.exists('/eph', cb));
    expect(long(stat.ephemeralOwner)).toBe(Number(temp.getSessionId().readBigInt64BE(0)));
    const gone = next<zookeeper.Event>(
      (d) => other.exists('/eph', d, () => undefined),
      10_000,
      'ephemeral deletion',
    );
    // Replies come in request order: once this one is in, the exists watch above is set.
    await call((cb) => other.exists('/', cb));
    temp.close();
    expect((await gone).getType()).toBe(zookeeper.Event.NODE_DELETED);
  });

  it('applies a transaction atomically and rolls a failed one back', async () => {
    const [results] = await call<[{ type: number; path?: string }[]]>((cb) =>
      zk
        .transaction()
        .create('/tx')
        .create('/tx/a', buf('a'))
        .setData('/tx/a', buf('b'))
        .check('/tx')
        .commit(cb),
    );
    expect(results.map((r) => r.type)).toEqual([1, 1, 5, 13]);
    expect(results[1]?.path).toBe('/tx/a');
    const failed = await new Promise<{ error: unknown; results: { type: number; err?: number }[] }>(
      (resolve) =>
        zk
          .transaction()
          .create('/tx/b')
          .remove('/tx/missing')
          .create('/tx/c')
          .commit((error, res) => resolve({ error, results: res })),
    );
    expect(failed.error).toBeTruthy();
    expect((failed.error as zookeeper.Exception).getCode()).toBe(E.NO_NODE);
    const [b] = await call<[zookeeper.Stat | null]>((cb) => zk.exists('/tx/b', cb));
    expect(b).toBeNull();
    // node-zookeeper-client sends version 0 as -1 (`version || -1`): test a real mismatch with 5.
    expect(await codeOf(call((cb) => zk.transaction().setData('/tx/a', buf('c'), 5).commit(cb)))).toBe(
      E.BAD_VERSION,
    );
  });

  it('answers getACL with world:anyone for an open node; setACL bumps the aversion and checks it', async () => {
    await call((cb) => zk.create('/acl', cb));
    const [acls, stat] = await call<[zookeeper.ACL[], zookeeper.Stat]>((cb) => zk.getACL('/acl', cb));
    expect(acls).toHaveLength(1);
    expect((acls[0] as unknown as { permission: number }).permission).toBe(31);
    expect(acls[0]?.id.scheme).toBe('world');
    expect(acls[0]?.id.id).toBe('anyone');
    expect(stat.version).toBe(0);
    const open = [new zookeeper.ACL(31, new zookeeper.Id('world', 'anyone'))];
    const [after] = await call<[zookeeper.Stat]>((cb) => zk.setACL('/acl', open, -1, cb));
    expect(after.aversion).toBe(1);
    expect(await codeOf(call((cb) => zk.setACL('/acl', open, 3, cb)))).toBe(E.BAD_VERSION);
    expect(await codeOf(call((cb) => zk.setACL('/nope', open, -1, cb)))).toBe(E.NO_NODE);
  });

  it('accepts digest auth and fails an unknown scheme with AuthFailed', async () => {
    const authed = await connectZk(gw.connectString);
    authed.addAuthInfo('digest', buf('alice:secret'));
    await call((cb) => authed.create('/auth-ok', cb));
    authed.close();
    const bad = await connectZk(gw.connectString);
    const failed = next<void>(
      (d) => bad.once('authenticationFailed', () => d()),
      10_000,
      'authenticationFailed',
    );
    bad.addAuthInfo('kerberos', buf('x'));
    await failed;
    bad.close();
  });
});

describe('sessions across connections', () => {
  let gw: Gateway;
  let cores: FaaSKeeperClient[];
  let service: ReturnType<typeof createEmbeddedService>;

  beforeAll(async () => {
    service = createEmbeddedService();
    cores = [];
    // The gateway's core clients, so a test can partition one (a FaaSKeeper session lost).
    const deployment = new Proxy(service, {
      get(target, prop) {
        if (prop === 'connect')
          return async (options: Parameters<Deployment['connect']>[0]) => {
            const client = await target.connect(options);
            cores.push(client);
            return client;
          };
        const value = Reflect.get(target, prop);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    }) as Deployment;
    gw = await startGateway({ port: 0, deployment, minSessionTimeoutMs: 1000, log: () => undefined });
  });
  afterAll(async () => {
    await gw.close();
    await service.close();
  });

  it('keeps the session, its ephemerals and watches across a dropped connection', async () => {
    const proxy = await startProxy(gw);
    const zk = await connectZk(proxy.connectString, { sessionTimeout: 8000 });
    const watcher = await connectZk(gw.connectString);
    const id = zk.getSessionId().toString('hex');
    await call((cb) => zk.create('/keep', buf('0'), zookeeper.CreateMode.EPHEMERAL, cb));
    const changed = next<zookeeper.Event>(
      (d) => zk.getData('/keep', d, () => undefined),
      15_000,
      'watch after reconnect',
    );
    // Replies come in request order: once this one is in, the data watch above is set.
    await call((cb) => zk.exists('/keep', cb));
    const disconnected = next<void>((d) => zk.once('disconnected', () => d()), 5000, 'disconnected');
    const reconnected = next<void>((d) => zk.once('connected', () => d()), 15_000, 'reconnected');
    proxy.cut();
    await disconnected;
    // Changed while the client is away: setWatches on reconnect fires the watch at once.
    await call((cb) => watcher.setData('/keep', buf('1'), cb));
    await reconnected;
    expect(zk.getSessionId().toString('hex')).toBe(id);
    expect((await changed).getType()).toBe(zookeeper.Event.NODE_DATA_CHANGED);
    const [stat] = await call<[zookeeper.Stat]>((cb) => watcher.exists('/keep', cb));
    expect(stat.ephemeralOwner.toString('hex')).toBe(id);
    zk.close();
    watcher.close();
    await proxy.close();
  });

  it('answers a resume with a wrong password Expired', async () => {
    const zk = await connectZk(gw.connectString);
    const wrong = Buffer.alloc(16, 7);
    const thief = zookeeper.createClient(gw.connectString, {
      sessionTimeout: 5000,
      spinDelay: 50,
      retries: 0,
      ...({ sessionId: zk.getSessionId(), sessionPassword: wrong } as object),
    });
    const expired = next<void>((d) => thief.once('expired', () => d()), 10_000, 'expired');
    thief.connect();
    await expired;
    thief.close();
    zk.close();
  });

  it('tells the client Expired when its FaaSKeeper session expires', async () => {
    const zk = await connectZk(gw.connectString, { sessionTimeout: 1000 });
    const core = cores.at(-1)!;
    expect(core.sessionNumber).toBe(Number(zk.getSessionId().readBigInt64BE(0)));
    const expired = next<void>((d) => zk.once('expired', () => d()), 15_000, 'expired');
    // The gateway loses the deployment: every client of it is cut off, the one whose link the
    // gateway's shared lease is renewed through among them, so that nothing renews the session.
    for (const c of cores) service.partition(c);
    await new Promise((r) => setTimeout(r, 2500));
    await service.heartbeat();
    for (const c of cores) service.heal(c);
    await expired;
    expect(core.state).toBe('EXPIRED');
    zk.close();
  });
});

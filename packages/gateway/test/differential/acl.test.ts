/**
 * Differential test of ACLs: one scripted scenario — digest auth, create with ACLs, every op
 * refused or allowed by them, getACL with and without ADMIN, setACL and its aversion, invalid ACLs,
 * multi, ip entries, a forged and a real super digest, a failed auth — run on the raw wire against Apache
 * ZooKeeper 3.8 (started with a super digest) and against the gateway over an embedded deployment
 * with the same super digest. Error codes, ACLs and ACL versions must match line for line.
 */
import { createEmbeddedService, type EmbeddedService, generateDigest } from '@faaskeeper/core';
import { startZooKeeper, type ZooKeeperServer } from '@faaskeeper/zookeeper-reference';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { OpCode } from '../../src/codes.js';
import { type Gateway, startGateway } from '../../src/index.js';
import { MultiRequest, MultiResponse } from '../../src/jute/multi.js';
import * as R from '../../src/jute/records.js';
import { bytes, closedBy, RawClient } from '../raw-client.js';
import { describeWithPeers, missingPeers } from '../support/peers.js';

const missing = missingPeers(['zookeeper']);
const describeIfPeers = describeWithPeers(missing, 'the ACL differential test');

const SUPER_DIGEST = generateDigest('super:superpw');
const GATEWAY_KEY = 'the key this deployment and its gateway share';
const BOB = generateDigest('bob:pw');
const ALL = 31;
const bobAll = { perms: ALL, id: { scheme: 'digest', id: BOB } };
const worldRead = { perms: 1, id: { scheme: 'world', id: 'anyone' } };
const open = [{ perms: ALL, id: { scheme: 'world', id: 'anyone' } }];
type Acl = typeof open;

/** Runs the scenario on the server at `port`; returns what each step answered. */
async function scenario(port: number): Promise<string[]> {
  const lines: string[] = [];
  const [bob, eve, admin] = [
    await RawClient.open(port),
    await RawClient.open(port),
    await RawClient.open(port),
  ];
  const step = async (who: string, what: string, type: number, codec?: unknown, value?: unknown) => {
    const reply = await (who === 'bob' ? bob : who === 'eve' ? eve : admin).call(
      type,
      codec as never,
      value as never,
    );
    let detail = '';
    if (reply.err === 0 && type === OpCode.getACL) {
      const { acl, stat } = R.GetACLResponse.read(reply.r);
      detail = ` ${acl.map((a) => `${a.id.scheme}:${a.id.id}:${a.perms}`).join(',')} aversion=${stat.aversion}`;
    } else if (reply.err === 0 && type === OpCode.setACL)
      detail = ` aversion=${R.StatResponse.read(reply.r).stat.aversion}`;
    else if (type === OpCode.multi)
      detail = ` ${MultiResponse.read(reply.r)
        .map((r) => (r.type === -1 ? r.err : r.type))
        .join(',')}`;
    lines.push(`${who} ${what}: ${reply.err}${detail}`);
  };
  const auth = async (who: RawClient, name: string, scheme: string, text: string) => {
    who.send(OpCode.auth, R.AuthPacket, { type: 0, scheme, auth: bytes(text) }, -4);
    lines.push(`${name} auth ${scheme} ${text}: ${(await who.reply()).err}`);
  };
  const create = (path: string, acl: Acl) => ({ path, data: bytes('x'), acl, flags: 0 });
  const pw = (path: string) => ({ path, watch: false });

  await auth(bob, 'bob', 'digest', 'bob:pw');
  await step(
    'bob',
    'create /d bob-all+world-read',
    OpCode.create,
    R.CreateRequest,
    create('/d', [bobAll, worldRead]),
  );
  await step('eve', 'setData /d', OpCode.setData, R.SetDataRequest, {
    path: '/d',
    data: bytes('y'),
    version: -1,
  });
  await step('eve', 'getData /d', OpCode.getData, R.PathWatchRequest, pw('/d'));
  await step('eve', 'create /d/c', OpCode.create, R.CreateRequest, create('/d/c', open));
  await step('bob', 'create /d/c', OpCode.create, R.CreateRequest, create('/d/c', open));
  await step('eve', 'delete /d/c', OpCode.delete, R.PathVersionRequest, { path: '/d/c', version: -1 });
  await step('eve', 'delete /d/missing', OpCode.delete, R.PathVersionRequest, {
    path: '/d/missing',
    version: -1,
  });
  await step('eve', 'setData /d/c (open child)', OpCode.setData, R.SetDataRequest, {
    path: '/d/c',
    data: null,
    version: -1,
  });
  await step('eve', 'getACL /d', OpCode.getACL, R.PathRequest, { path: '/d' });
  await step('bob', 'getACL /d', OpCode.getACL, R.PathRequest, { path: '/d' });
  await step('eve', 'setACL /d', OpCode.setACL, R.SetACLRequest, { path: '/d', acl: open, version: -1 });
  await step('bob', 'setACL /d v5', OpCode.setACL, R.SetACLRequest, { path: '/d', acl: open, version: 5 });
  await step('bob', 'setACL /d empty', OpCode.setACL, R.SetACLRequest, { path: '/d', acl: [], version: 5 });
  await step('bob', 'setACL /d bob-all v0', OpCode.setACL, R.SetACLRequest, {
    path: '/d',
    acl: [bobAll],
    version: 0,
  });
  await step('eve', 'getData /d', OpCode.getData, R.PathWatchRequest, pw('/d'));
  await step('eve', 'getChildren /d', OpCode.getChildren2, R.PathWatchRequest, pw('/d'));
  await step('eve', 'exists /d', OpCode.exists, R.PathWatchRequest, pw('/d'));
  await step('eve', 'getACL /d', OpCode.getACL, R.PathRequest, { path: '/d' });
  await step(
    'eve',
    'create /e auth',
    OpCode.create,
    R.CreateRequest,
    create('/e', [{ perms: ALL, id: { scheme: 'auth', id: '' } }]),
  );
  await step(
    'bob',
    'create /e auth',
    OpCode.create,
    R.CreateRequest,
    create('/e', [{ perms: ALL, id: { scheme: 'auth', id: '' } }]),
  );
  await step('bob', 'getACL /e', OpCode.getACL, R.PathRequest, { path: '/e' });
  for (const [name, acl] of [
    ['empty', []],
    ['world:nobody', [{ perms: ALL, id: { scheme: 'world', id: 'nobody' } }]],
    ['digest:bob', [{ perms: ALL, id: { scheme: 'digest', id: 'bob' } }]],
    ['ip:127.0.0.1/33', [{ perms: ALL, id: { scheme: 'ip', id: '127.0.0.1/33' } }]],
    ['super:', [{ perms: ALL, id: { scheme: 'super', id: '' } }]],
    ['nope:x', [{ perms: ALL, id: { scheme: 'nope', id: 'x' } }]],
  ] as [string, Acl][]) {
    await step('bob', `create /d (exists) ${name}`, OpCode.create, R.CreateRequest, create('/d', acl));
  }
  // Permission bits are kept as given, unknown bits and none at all included.
  const world = (perms: number) => [{ perms, id: { scheme: 'world', id: 'anyone' } }];
  await step('bob', 'create /p99 world:anyone:99', OpCode.create, R.CreateRequest, create('/p99', world(99)));
  await step('eve', 'getACL /p99', OpCode.getACL, R.PathRequest, { path: '/p99' });
  await step('eve', 'setData /p99', OpCode.setData, R.SetDataRequest, {
    path: '/p99',
    data: bytes('y'),
    version: -1,
  });
  await step('bob', 'create /p0 world:anyone:0', OpCode.create, R.CreateRequest, create('/p0', world(0)));
  await step('eve', 'getACL /p0', OpCode.getACL, R.PathRequest, { path: '/p0' });
  await step(
    'bob',
    'create /pneg world:anyone:-1',
    OpCode.create,
    R.CreateRequest,
    create('/pneg', world(-1)),
  );
  await step('eve', 'getACL /pneg', OpCode.getACL, R.PathRequest, { path: '/pneg' });
  await step(
    'bob',
    'create /ipnet ip:10.0.0.0/8',
    OpCode.create,
    R.CreateRequest,
    create('/ipnet', [{ perms: ALL, id: { scheme: 'ip', id: '10.0.0.0/8' } }]),
  );
  await step('eve', 'getData /ipnet', OpCode.getData, R.PathWatchRequest, pw('/ipnet'));
  // Every client here is at 127.0.0.1: ZooKeeper gives each connection that ip identity, and the
  // gateway has it attested to the writer.
  await step(
    'bob',
    'create /iphost ip:127.0.0.1:r',
    OpCode.create,
    R.CreateRequest,
    create('/iphost', [{ perms: 1, id: { scheme: 'ip', id: '127.0.0.1' } }]),
  );
  await step('eve', 'getData /iphost', OpCode.getData, R.PathWatchRequest, pw('/iphost'));
  await step('eve', 'setData /iphost', OpCode.setData, R.SetDataRequest, {
    path: '/iphost',
    data: bytes('y'),
    version: -1,
  });
  await step(
    'bob',
    'create /iplo ip:127.0.0.0/8:cdrwa',
    OpCode.create,
    R.CreateRequest,
    create('/iplo', [{ perms: ALL, id: { scheme: 'ip', id: '127.0.0.0/8' } }]),
  );
  await step('eve', 'setData /iplo', OpCode.setData, R.SetDataRequest, {
    path: '/iplo',
    data: bytes('y'),
    version: -1,
  });
  await step('eve', 'getACL /iplo', OpCode.getACL, R.PathRequest, { path: '/iplo' });
  await step('eve', 'multi create /ok, setData /d', OpCode.multi, MultiRequest, [
    { type: 1, req: create('/ok', open) },
    { type: 5, req: { path: '/d', data: bytes('z'), version: -1 } },
  ]);
  await step('eve', 'exists /ok', OpCode.exists, R.PathWatchRequest, pw('/ok'));
  await step('eve', 'multi check /d', OpCode.multi, MultiRequest, [
    { type: 13, req: { path: '/d', version: 1 } },
  ]);
  await auth(eve, 'eve', 'digest', 'super:guess');
  await auth(eve, 'eve', 'digest', SUPER_DIGEST);
  await step('eve', 'getData /d', OpCode.getData, R.PathWatchRequest, pw('/d'));
  await step('eve', 'setData /d', OpCode.setData, R.SetDataRequest, {
    path: '/d',
    data: bytes('y'),
    version: -1,
  });
  await auth(admin, 'admin', 'digest', 'super:superpw');
  await step('admin', 'getData /d', OpCode.getData, R.PathWatchRequest, pw('/d'));
  await step('admin', 'setACL /d world-read', OpCode.setACL, R.SetACLRequest, {
    path: '/d',
    acl: [worldRead],
    version: 1,
  });
  await step('eve', 'getData /d', OpCode.getData, R.PathWatchRequest, pw('/d'));
  await step('eve', 'getACL /zookeeper/config', OpCode.getACL, R.PathRequest, { path: '/zookeeper/config' });
  for (const p of ['/d/c', '/d', '/e', '/ipnet', '/iphost', '/iplo', '/p99', '/p0', '/pneg'])
    await step('admin', `delete ${p}`, OpCode.delete, R.PathVersionRequest, { path: p, version: -1 });
  await auth(eve, 'eve', 'nope', 'x');
  await closedBy(eve.socket);
  lines.push('eve connection closed');
  bob.close();
  admin.close();
  return lines;
}

describeIfPeers('ACLs: the gateway answers as ZooKeeper 3.8', () => {
  let zookeeper: ZooKeeperServer | undefined;
  let service: EmbeddedService | undefined;
  let gateway: Gateway | undefined;

  beforeAll(async () => {
    zookeeper = await startZooKeeper({
      systemProperties: { 'zookeeper.DigestAuthenticationProvider.superDigest': SUPER_DIGEST },
    });
    service = createEmbeddedService({ superDigest: SUPER_DIGEST, gatewayKey: GATEWAY_KEY });
    gateway = await startGateway({
      port: 0,
      deployment: service,
      gatewayKey: GATEWAY_KEY,
      log: () => undefined,
    });
  }, 120_000);
  afterAll(async () => {
    await gateway?.close();
    await service?.close();
    await zookeeper?.stop();
  });

  it('the same ACL scenario gives the same codes, ACLs and ACL versions', async () => {
    const reference = await scenario(zookeeper!.port);
    const ours = await scenario(gateway!.port);
    expect(ours).toEqual(reference);
    // Pinned, so that both cannot drift together unnoticed.
    expect(reference).toContain('eve setData /d: -102');
    expect(reference).toContain('eve delete /d/missing: -102');
    expect(reference).toContain(`eve getACL /d: 0 digest:bob:x:31,world:anyone:1 aversion=0`);
    expect(reference).toContain('bob setACL /d v5: -103');
    expect(reference).toContain('eve create /e auth: -114');
    expect(reference.find((l) => l.startsWith('eve multi create'))).toMatch(/ 0,-102$/);
    expect(reference).toContain('admin setACL /d world-read: 0 aversion=2');
    expect(reference).toContain('eve auth nope x: -115');
    expect(reference).toContain('eve getACL /p99: 0 world:anyone:99 aversion=0');
    expect(reference).toContain('eve getACL /p0: -102');
    expect(reference).toContain('eve getData /iphost: 0');
    expect(reference).toContain('eve setData /iphost: -102');
    expect(reference).toContain('eve setData /iplo: 0');
  }, 120_000);
});

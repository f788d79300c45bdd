/**
 * ZooKeeper 3.8's ACLs on the embedded deployment: the writer checks every write, the client
 * checks every read, and nothing a session without a permission tries has any effect. Digests and
 * error orders pinned here were checked against ZooKeeper 3.8 with zkCli (see the gateway's
 * differential test for the scripted comparison).
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  type ACL,
  attestAddress,
  CreateMode,
  createEmbeddedService,
  type EmbeddedService,
  encodeMessage,
  type FaaSKeeperClient,
  FaaSKeeperError,
  generateDigest,
  Ids,
  Perms,
  PROTOCOL_VERSION,
  parseAclText,
  permString,
  WRITER_GROUP,
} from '../../src/index.js';

const SUPER_PASSWORD = 'super:superpw';
// Computed independently (Python's hashlib) and accepted by ZooKeeper 3.8 as its super digest.
const SUPER_DIGEST = 'super:g9oN2HttPfn8MMWJZ2r45Np/LIA=';
// ZooKeeper 3.8 printed this id for `addauth digest bob:pw` then `create /b x auth::cdrwa`.
const BOB = 'bob:ikIaKsbtGweaHnb/jKn7OHqbunM=';

const bobAll: ACL[] = [{ perms: Perms.ALL, id: { scheme: 'digest', id: BOB } }];
const readOnlyToOthers: ACL[] = [...bobAll, { perms: Perms.READ, id: { scheme: 'world', id: 'anyone' } }];

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'OK';
  } catch (error) {
    if (error instanceof FaaSKeeperError) return error.code;
    throw error;
  }
}

let service: EmbeddedService | undefined;
afterEach(async () => {
  await service?.close();
  service = undefined;
});

async function start(superDigest?: string): Promise<{ bob: FaaSKeeperClient; eve: FaaSKeeperClient }> {
  service = createEmbeddedService(superDigest === undefined ? {} : { superDigest });
  const bob = await service.connect();
  await bob.addAuth('digest', 'bob:pw');
  const eve = await service.connect();
  return { bob, eve };
}

describe('digest ids', () => {
  it('are user:base64(sha1("user:password")), as ZooKeeper 3.8 computes them', () => {
    expect(generateDigest('bob:pw')).toBe(BOB);
    expect(generateDigest(SUPER_PASSWORD)).toBe(SUPER_DIGEST);
    // No colon: the whole text is the user (ZooKeeper 3.8 printed this for `addauth digest foo`).
    expect(generateDigest('foo')).toBe('foo:C+7Hteo/D9vJXQ3UfzxbwnXaijM=');
  });

  it("zkCli's ACL text parses to entries and prints back as its letters", () => {
    const { acl, problems } = parseAclText('world:anyone:cdrwa,digest:u:h:r,nocolon,ip:1.2.3.4:rx');
    expect(acl).toEqual([
      { perms: Perms.ALL, id: { scheme: 'world', id: 'anyone' } },
      { perms: Perms.READ, id: { scheme: 'digest', id: 'u:h' } },
      { perms: Perms.READ, id: { scheme: 'ip', id: '1.2.3.4' } },
    ]);
    expect(problems).toEqual(['nocolon does not have the form scheme:id:perm', 'Unknown perm type: x']);
    expect(permString(Perms.ALL)).toBe('cdrwa');
    expect(permString(Perms.CREATE | Perms.WRITE | Perms.ADMIN)).toBe('cwa');
  });
});

describe('ACLs on writes', () => {
  it('a node created without an ACL is open to everyone (OPEN_ACL_UNSAFE)', async () => {
    const { bob, eve } = await start();
    await bob.create('/open', 'x');
    const { acl, stat } = await eve.getACL('/open');
    expect(acl).toEqual(Ids.OPEN_ACL_UNSAFE);
    expect(stat.aversion).toBe(0);
    await eve.setData('/open', 'y');
    await eve.delete('/open');
  });

  it('a session without WRITE cannot change a node', async () => {
    const { bob, eve } = await start();
    await bob.create('/n', 'before', { acl: readOnlyToOthers });
    const before = await bob.getData('/n');
    expect(await code(eve.setData('/n', 'after'))).toBe('NOAUTH');
    expect(await code(eve.multi([{ op: 'setData', path: '/n', data: 'after' }]))).toBe('NOAUTH');
    const after = await bob.getData('/n');
    expect(new TextDecoder().decode(after.data)).toBe('before');
    expect(after.stat).toEqual(before.stat);
    // The owner still can.
    expect((await bob.setData('/n', 'owner')).version).toBe(1);
  });

  it('create needs CREATE and delete needs DELETE on the parent; a child does not inherit the ACL', async () => {
    const { bob, eve } = await start();
    await bob.create('/p', '', { acl: readOnlyToOthers });
    expect(await code(eve.create('/p/c', 'x'))).toBe('NOAUTH');
    expect(await code(eve.create('/p/c', 'x', { mode: CreateMode.EPHEMERAL }))).toBe('NOAUTH');
    expect(await code(eve.create('/p/c', 'x', { mode: CreateMode.CONTAINER }))).toBe('NOAUTH');
    expect(await code(eve.create('/p/c', 'x', { mode: CreateMode.PERSISTENT_WITH_TTL, ttlMs: 1000 }))).toBe(
      'NOAUTH',
    );
    await bob.create('/p/c', 'x');
    expect((await eve.getACL('/p/c')).acl).toEqual(Ids.OPEN_ACL_UNSAFE);
    await eve.setData('/p/c', 'child is open');
    // NOAUTH whether the child exists or not (ZooKeeper 3.8 checks the parent first).
    expect(await code(eve.delete('/p/c'))).toBe('NOAUTH');
    expect(await code(eve.delete('/p/missing'))).toBe('NOAUTH');
    expect((await bob.getChildren('/p')).children).toEqual(['c']);
    await bob.delete('/p/c');
  });

  it('multi checks each op and applies nothing when one is denied', async () => {
    const { bob, eve } = await start();
    await bob.create('/m', '', { acl: readOnlyToOthers });
    await bob.create('/secret', '', { acl: bobAll });
    const failed = await eve
      .multi([
        { op: 'create', path: '/ok', data: 'x' },
        { op: 'create', path: '/m/c', data: 'x' },
      ])
      .catch((e: FaaSKeeperError) => e);
    expect((failed as FaaSKeeperError).code).toBe('NOAUTH');
    expect((failed as FaaSKeeperError).results?.map((r) => r.code)).toEqual(['OK', 'NOAUTH']);
    expect(await eve.exists('/ok')).toBeNull();
    // check reveals the version: it needs READ.
    expect(await code(eve.multi([{ op: 'check', path: '/secret', version: 0 }]))).toBe('NOAUTH');
    expect(await code(eve.multi([{ op: 'check', path: '/m', version: 0 }]))).toBe('OK');
  });

  it('the auth scheme stands for the creator, and needs an authenticated session', async () => {
    const { bob, eve } = await start();
    expect(await code(eve.create('/c', 'x', { acl: Ids.CREATOR_ALL_ACL }))).toBe('INVALIDACL');
    await bob.create('/c', 'x', { acl: Ids.CREATOR_ALL_ACL });
    expect((await bob.getACL('/c')).acl).toEqual(bobAll);
    expect(await code(eve.getData('/c'))).toBe('NOAUTH');
  });

  it('invalid ACLs are refused with INVALIDACL, before NODEEXISTS', async () => {
    const { bob } = await start();
    const bad: ACL[][] = [
      [],
      [{ perms: Perms.ALL, id: { scheme: 'world', id: 'nobody' } }],
      [{ perms: Perms.ALL, id: { scheme: 'digest', id: 'bob' } }],
      [{ perms: Perms.ALL, id: { scheme: 'digest', id: 'bob:' } }],
      [{ perms: Perms.ALL, id: { scheme: 'ip', id: '127.0.0.1/33' } }],
      [{ perms: Perms.ALL, id: { scheme: 'ip', id: 'localhost' } }],
      [{ perms: Perms.ALL, id: { scheme: 'super', id: '' } }],
      [{ perms: Perms.ALL, id: { scheme: 'nope', id: 'x' } }],
    ];
    for (const acl of bad)
      expect(await code(bob.create('/i', 'x', { acl })), JSON.stringify(acl)).toBe('INVALIDACL');
    await bob.create('/i', 'x', {
      acl: [{ perms: Perms.READ, id: { scheme: 'ip', id: '10.0.0.1/8' } }, ...bobAll],
    });
    expect(await code(bob.create('/i', 'x', { acl: [{ perms: 1, id: { scheme: 'x', id: '' } }] }))).toBe(
      'INVALIDACL',
    );
    expect(await code(bob.create('/i', 'x'))).toBe('NODEEXISTS');
  });
});

describe('the deployment itself', () => {
  it('reaps an emptied container and expires ephemerals whatever the ACLs say', async () => {
    const { bob, eve } = await start();
    // Nobody but bob may delete children of /locked; the container under it holds eve's ephemeral.
    await bob.create('/locked', '', {
      acl: [...bobAll, { perms: Perms.CREATE | Perms.READ, id: { scheme: 'world', id: 'anyone' } }],
    });
    await bob.create('/locked/box', '', {
      mode: CreateMode.CONTAINER,
      acl: [{ perms: Perms.CREATE | Perms.READ, id: { scheme: 'world', id: 'anyone' } }],
    });
    await eve.create('/locked/box/e', '', { mode: CreateMode.EPHEMERAL });
    await eve.close();
    await bob.sync();
    expect(await bob.exists('/locked/box/e')).toBeNull();
    expect(await bob.exists('/locked/box')).toBeNull();
  });
});

describe('ACLs on reads', () => {
  it('a session without READ cannot obtain a node’s data or children', async () => {
    const { bob, eve } = await start();
    await bob.create('/r', 'secret', {
      acl: [...bobAll, { perms: Perms.ADMIN, id: { scheme: 'world', id: 'anyone' } }],
    });
    await bob.create('/r/kid', '');
    expect(await code(eve.getData('/r'))).toBe('NOAUTH');
    expect(await code(eve.getChildren('/r'))).toBe('NOAUTH');
    const fired: string[] = [];
    expect(await code(eve.getData('/r', { watch: (e) => fired.push(e.type) }))).toBe('NOAUTH');
    expect(await code(eve.getChildren('/r', { watch: (e) => fired.push(e.type) }))).toBe('NOAUTH');
    // exists needs no permission (ZooKeeper 3.8), and ADMIN alone lets getACL through, digests hidden.
    expect((await eve.exists('/r'))?.numChildren).toBe(1);
    expect((await eve.getACL('/r')).acl[0]).toEqual(bobAll[0]);
    // READ without ADMIN: digest ids lose their hash (ZooKeeper 3.8 printed 'digest,'bob:x).
    await bob.create('/red', '', { acl: readOnlyToOthers });
    expect((await eve.getACL('/red')).acl).toEqual([
      { perms: Perms.ALL, id: { scheme: 'digest', id: 'bob:x' } },
      readOnlyToOthers[1],
    ]);
    expect((await bob.getACL('/red')).acl).toEqual(readOnlyToOthers);
    // The refused watches were never set: a change fires nothing for eve.
    await bob.setData('/r', 'changed');
    await bob.create('/r/kid2', '');
    await eve.sync();
    expect(fired).toEqual([]);
    await bob.create('/hidden', '', { acl: bobAll });
    expect(await code(eve.getACL('/hidden'))).toBe('NOAUTH');
  });
});

describe('setACL', () => {
  it('needs ADMIN, checks the aversion, and changes nothing but the ACL and aversion', async () => {
    const { bob, eve } = await start();
    await bob.create('/s', 'data', { acl: readOnlyToOthers });
    const before = (await bob.getData('/s')).stat;
    expect(await code(eve.setACL('/s', Ids.OPEN_ACL_UNSAFE))).toBe('NOAUTH');
    // INVALIDACL before NONODE, NOAUTH before BADVERSION (ZooKeeper 3.8's order).
    expect(await code(eve.setACL('/nowhere', []))).toBe('INVALIDACL');
    expect(await code(eve.setACL('/s', Ids.OPEN_ACL_UNSAFE, 5))).toBe('NOAUTH');
    expect(await code(bob.setACL('/s', Ids.OPEN_ACL_UNSAFE, 5))).toBe('BADVERSION');
    const stat = await bob.setACL('/s', Ids.READ_ACL_UNSAFE, 0);
    expect(stat).toEqual({ ...before, aversion: 1 });
    expect(await bob.getACL('/s')).toEqual({ acl: Ids.READ_ACL_UNSAFE, stat });
    expect(new TextDecoder().decode((await eve.getData('/s')).data)).toBe('data');
    // Now nobody holds ADMIN or WRITE: even the creator is locked out.
    expect(await code(bob.setData('/s', 'x'))).toBe('NOAUTH');
    expect(await code(bob.setACL('/s', Ids.OPEN_ACL_UNSAFE, 1))).toBe('NOAUTH');
  });
});

describe('addAuth', () => {
  it('an unknown scheme fails with AUTHFAILED and ends the session', async () => {
    const { eve } = await start();
    expect(await code(eve.addAuth('nope', 'x'))).toBe('AUTHFAILED');
    expect(eve.state).toBe('CLOSED');
  });

  it('a forged super digest grants nothing', async () => {
    const { bob, eve } = await start(SUPER_DIGEST);
    await bob.create('/bank', '', { acl: bobAll });
    await bob.create('/bank/vault', 'gold', { acl: bobAll });
    const before = (await bob.getData('/bank/vault')).stat;
    const bankBefore = (await bob.getData('/bank')).stat;
    // Wrong password for the user "super", the digest itself sent as the password, and a session
    // of its own that asks for the super scheme by name (refused, and that session ends).
    await eve.addAuth('digest', 'super:guess');
    await eve.addAuth('digest', SUPER_DIGEST);
    const mallory = await service!.connect();
    expect(await code(mallory.addAuth('super', SUPER_PASSWORD))).toBe('AUTHFAILED');
    expect(await code(mallory.setData('/bank/vault', 'lead'))).toBe('SESSIONEXPIRED');
    expect(await code(eve.getData('/bank/vault'))).toBe('NOAUTH');
    expect(await code(eve.getChildren('/bank'))).toBe('NOAUTH');
    expect(await code(eve.setData('/bank/vault', 'lead'))).toBe('NOAUTH');
    expect(await code(eve.delete('/bank/vault'))).toBe('NOAUTH');
    expect(await code(eve.create('/bank/mine', ''))).toBe('NOAUTH');
    expect(await code(eve.setACL('/bank/vault', Ids.OPEN_ACL_UNSAFE))).toBe('NOAUTH');
    // A super entry in an ACL is no way in either: the scheme is unknown to ACLs.
    expect(
      await code(eve.create('/x', '', { acl: [{ perms: Perms.ALL, id: { scheme: 'super', id: '' } }] })),
    ).toBe('INVALIDACL');
    // No write and no ACL change happened.
    expect((await bob.getData('/bank/vault')).stat).toEqual(before);
    expect((await bob.getData('/bank')).stat).toEqual(bankBefore);
    expect((await bob.getACL('/bank/vault')).acl).toEqual(bobAll);
    // The real password is super.
    const admin = await service!.connect();
    await admin.addAuth('digest', SUPER_PASSWORD);
    expect(new TextDecoder().decode((await admin.getData('/bank/vault')).data)).toBe('gold');
    await admin.setACL('/bank/vault', Ids.READ_ACL_UNSAFE);
    expect((await bob.getACL('/bank/vault')).stat.aversion).toBe(1);
  });

  it('raw requests on the writer queue cannot claim identities either', async () => {
    const { bob } = await start(SUPER_DIGEST);
    await bob.create('/bank', '', { acl: bobAll });
    await bob.create('/bank/vault', 'gold', { acl: bobAll });
    const before = (await bob.getData('/bank/vault')).stat;
    const mallory = await service!.connect();
    const raw = (seq: number, op: object) => ({
      body: encodeMessage({ v: PROTOCOL_VERSION, session: mallory.sessionNumber, seq, id: `m:${seq}`, op }),
      group: WRITER_GROUP,
      dedupId: `m:${seq}`,
    });
    await service!.ports.writerQueue.send([
      // Fields a request does not have are dropped before the writer looks at it.
      raw(100, {
        type: 'setData',
        path: '/bank/vault',
        data: new Uint8Array(1),
        version: -1,
        auth: [{ scheme: 'super', id: '' }],
      }),
      raw(101, { type: 'addAuth', scheme: 'super', auth: '' }),
      raw(102, {
        type: 'setACL',
        path: '/bank/vault',
        acl: Ids.OPEN_ACL_UNSAFE,
        version: -1,
        ids: [{ scheme: 'super', id: '' }],
      }),
      raw(103, { type: 'delete', path: '/bank/vault', version: -1 }),
    ]);
    // The queue is one ordered stream: once bob's sync is answered, the raw requests were applied.
    await bob.sync();
    expect((await bob.getData('/bank/vault')).stat).toEqual(before);
    expect((await bob.getACL('/bank/vault')).acl).toEqual(bobAll);
  });

  it('an ip identity needs the gateway key: a forged or replayed attestation fails', async () => {
    const KEY = 'gateway key';
    service = createEmbeddedService({ gatewayKey: KEY });
    const bob = await service.connect();
    await bob.addAuth('digest', 'bob:pw');
    await bob.create('/lan', 'x', {
      acl: [...bobAll, { perms: Perms.READ, id: { scheme: 'ip', id: '10.1.0.0/16' } }],
    });
    const guest = await service.connect();
    await guest.addAuth('ip', attestAddress(KEY, guest.sessionNumber, '10.1.2.3'));
    expect(new TextDecoder().decode((await guest.getData('/lan')).data)).toBe('x');
    expect(await code(guest.setData('/lan', 'y'))).toBe('NOAUTH');
    const forger = await service.connect();
    expect(
      await code(forger.addAuth('ip', attestAddress('guessed key', forger.sessionNumber, '10.1.2.3'))),
    ).toBe('AUTHFAILED');
    const replayer = await service.connect();
    // The guest's attestation names the guest's session: worthless to any other.
    expect(await code(replayer.addAuth('ip', attestAddress(KEY, guest.sessionNumber, '10.1.2.3')))).toBe(
      'AUTHFAILED',
    );
    expect(await code(replayer.getData('/lan'))).toBe('SESSIONEXPIRED');
  });

  it('without a configured super digest, no password is super', async () => {
    const { bob, eve } = await start();
    await bob.create('/vault', 'gold', { acl: bobAll });
    await eve.addAuth('digest', SUPER_PASSWORD);
    expect(await code(eve.getData('/vault'))).toBe('NOAUTH');
  });
});

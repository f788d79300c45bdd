// Sessions kept alive by one group lease (a gateway's sessions, `session/lease-group.ts`), on the
// embedded deployment with a manual clock: idle members cost one renewal per period between them,
// a member whose client went away expires within its timeout of that moment, and a group renewal
// racing the heartbeat's expiry wins, as a session's own renewal does.
import { afterEach, describe, expect, it } from 'vitest';
import {
  CreateMode,
  createEmbeddedService,
  type EmbeddedService,
  type FaaSKeeperClient,
  GROUP_RENEWAL_SHARE,
  groupLeaseId,
  groupMembership,
  LeaseGroup,
  type LeaseRenewer,
  leaseId,
  ManualClock,
  MemoryLeaseRenewer,
  type MemorySystemStore,
  newSessionKey,
  settle,
  signGroupRenewal,
  signRenewal,
} from '../../src/index.js';

const sessionTimeoutMs = 3000;
const clockSkewMs = 1000;
const heartbeatIntervalMs = 500;
const MEMBERS = 5;

const open: EmbeddedService[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((d) => d.close()));
});

/** Moves the clock in steps of 100 ms, letting timers, functions and clients run between steps. */
async function advance(clock: ManualClock, ms: number): Promise<void> {
  for (let done = 0; done < ms; done += 100) {
    await clock.advance(Math.min(100, ms - done));
    await settle(20);
  }
}

interface Setup {
  service: EmbeddedService;
  clock: ManualClock;
  store: MemorySystemStore;
  group: () => LeaseGroup;
  members: FaaSKeeperClient[];
  /** The members' session keys, by session id. */
  keys: Map<number, Uint8Array>;
  /** The group's key (its renewals are signed with it). */
  groupKey: Uint8Array;
  /** A client outside the group, to look at the tree. */
  other: FaaSKeeperClient;
  /** Commits that remove `lease/<id>` call this first, once armed (races). */
  beforeLeaseDelete: { session?: string | undefined; run?: () => Promise<void> };
}

/** An embedded deployment whose first `MEMBERS` sessions share one group lease, each with an ephemeral. */
async function deploy(): Promise<Setup> {
  const clock = new ManualClock();
  let store: MemorySystemStore | undefined;
  const beforeLeaseDelete: Setup['beforeLeaseDelete'] = {};
  const service = createEmbeddedService({
    clock,
    sessionTimeoutMs,
    clockSkewMs,
    heartbeatIntervalMs,
    wrap: {
      systemStore: (inner) => {
        store = inner as MemorySystemStore;
        return {
          capabilities: inner.capabilities,
          get: (k) => inner.get(k),
          getMany: (k) => inner.getMany(k),
          list: (k) => inner.list(k),
          query: (k, prefix, page) => inner.query(k, prefix, page),
          increment: (k, by) => inner.increment(k, by),
          transact: async (ops) => {
            const { session, run } = beforeLeaseDelete;
            if (
              session !== undefined &&
              run !== undefined &&
              ops.some((o) => o.kind === 'lease' && o.id === session && o.type === 'delete')
            ) {
              beforeLeaseDelete.session = undefined;
              await run();
            }
            return inner.transact(ops);
          },
        };
      },
    },
  });
  open.push(service);
  let group: LeaseGroup | undefined;
  const lease = (own: LeaseRenewer): LeaseRenewer => {
    if (own.groups === undefined) throw new Error('the embedded lease store offers no groups');
    group ??= new LeaseGroup(own.groups, { clock, key: groupKey });
    return group.renewer(own);
  };
  const groupKey = newSessionKey();
  const keys = new Map<number, Uint8Array>();
  const members = await Promise.all(
    Array.from({ length: MEMBERS }, () => {
      const sessionKey = newSessionKey();
      return service.connect({ lease, sessionKey }).then((zk) => {
        keys.set(zk.sessionNumber, sessionKey);
        return zk;
      });
    }),
  );
  const other = await service.connect();
  for (const [i, zk] of members.entries()) {
    await zk.create(`/m${i}`, '', { mode: CreateMode.EPHEMERAL });
    expect(await group!.cover(zk.sessionNumber, sessionTimeoutMs, keys.get(zk.sessionNumber)!)).toBe(
      'renewed',
    );
  }
  return {
    service,
    clock,
    store: store!,
    group: () => group!,
    members,
    keys,
    groupKey,
    other,
    beforeLeaseDelete,
  };
}

/** The version of a lease item (each write bumps it), or undefined when absent. */
async function leaseVersion(store: MemorySystemStore, id: string): Promise<number | undefined> {
  return (await store.get({ kind: 'lease', id }))?.version;
}

describe('sessions sharing one group lease (embedded)', () => {
  it('idle members live on the group renewals alone: no member lease is written, one group renewal per period', async () => {
    const { clock, store, group, groupKey, members, keys, other } = await deploy();
    const own = (zk: FaaSKeeperClient) => leaseId(keys.get(zk.sessionNumber)!, zk.sessionNumber);
    const before = await Promise.all(members.map((zk) => leaseVersion(store, own(zk))));
    const groupBefore = (await leaseVersion(store, groupLeaseId(groupKey, group().id)))!;
    const window = 5 * sessionTimeoutMs;
    await advance(clock, window);
    await other.sync('/');
    for (const [i, zk] of members.entries()) {
      expect(zk.state).toBe('CONNECTED');
      expect(await other.exists(`/m${i}`), `member ${i} kept its ephemeral`).not.toBeNull();
    }
    // Not one member's lease was written while idle; the group was renewed every half timeout.
    expect(await Promise.all(members.map((zk) => leaseVersion(store, own(zk))))).toEqual(before);
    const renewals = (await leaseVersion(store, groupLeaseId(groupKey, group().id)))! - groupBefore;
    const period = sessionTimeoutMs * GROUP_RENEWAL_SHARE;
    expect(renewals).toBeGreaterThanOrEqual(Math.floor(window / period) - 1);
    expect(renewals).toBeLessThanOrEqual(Math.ceil(window / period) + 1);
  });

  it('a member held when its client left expires within its timeout of that moment, while the others live', async () => {
    const { clock, group, members, other } = await deploy();
    const [gone, ...rest] = members;
    const heldAt = clock.now();
    expect(await group().hold(gone!.sessionNumber)).toBe('renewed');
    // Before its timeout plus the skew it lives; after it (and a heartbeat run), it is gone.
    await advance(clock, sessionTimeoutMs);
    expect(await other.exists('/m0')).not.toBeNull();
    await advance(clock, heldAt + sessionTimeoutMs + clockSkewMs + 2 * heartbeatIntervalMs - clock.now());
    await other.sync('/');
    expect(await other.exists('/m0'), 'the held member ended').toBeNull();
    // Its client (whose channel is paused while idle) learns it at its next request.
    await expect(gone!.create('/after')).rejects.toMatchObject({ code: 'SESSIONEXPIRED' });
    expect(gone!.state).toBe('EXPIRED');
    for (const [i, zk] of rest.entries()) {
      expect(zk.state).toBe('CONNECTED');
      expect(await other.exists(`/m${i + 1}`)).not.toBeNull();
    }
  });

  it('a held member whose client came back within its timeout joins again and lives on', async () => {
    const { clock, group, members, keys, other } = await deploy();
    const back = members[0]!;
    await group().hold(back.sessionNumber);
    await advance(clock, sessionTimeoutMs / 2);
    expect(await group().cover(back.sessionNumber, sessionTimeoutMs, keys.get(back.sessionNumber)!)).toBe(
      'renewed',
    );
    await advance(clock, 3 * sessionTimeoutMs);
    await other.sync('/');
    expect(back.state).toBe('CONNECTED');
    expect(await other.exists('/m0')).not.toBeNull();
  });

  it('members expire once their group is no longer renewed (its process stopped)', async () => {
    const { clock, group, members, other } = await deploy();
    group().close();
    await advance(clock, sessionTimeoutMs + clockSkewMs + 3 * heartbeatIntervalMs);
    await other.sync('/');
    for (const [i, zk] of members.entries()) {
      expect(zk.state).toBe('EXPIRED');
      expect(await other.exists(`/m${i}`)).toBeNull();
    }
  });

  it("a group renewal racing the heartbeat's expiry wins: the expiry commits on the group item's version", async () => {
    const setup = await deploy();
    const { clock, store, group, groupKey, members, keys, other } = setup;
    const target = members[0]!;
    let raced = 0;
    setup.beforeLeaseDelete.session = leaseId(keys.get(target.sessionNumber)!, target.sessionNumber);
    setup.beforeLeaseDelete.run = async () => {
      raced++;
      // The process renews its group between the writer's check and its commit.
      await new MemoryLeaseRenewer(store).groups.renewGroup(
        { owner: group().id, id: groupLeaseId(groupKey, group().id) },
        signGroupRenewal(groupKey, group().id, clock.now()),
      );
    };
    group().close();
    await advance(clock, sessionTimeoutMs + clockSkewMs + heartbeatIntervalMs + 200);
    expect(raced, 'the expiry reached its commit').toBe(1);
    await other.sync('/');
    expect(await other.exists('/m0'), 'the renewed member kept its ephemeral').not.toBeNull();
    // Its closed group fails its renewals (DISCONNECTED), but its session was not ended.
    expect(target.state).not.toBe('EXPIRED');
  });

  it('members ended while the group could not be renewed learn it from their renewals once it can', async () => {
    const { service, clock, members, other } = await deploy();
    // The group is renewed through the first member's link: cut, nothing renews any member.
    service.partition(members[0]!);
    await advance(clock, sessionTimeoutMs + clockSkewMs + 3 * heartbeatIntervalMs);
    await other.sync('/');
    for (let i = 0; i < MEMBERS; i++) expect(await other.exists(`/m${i}`)).toBeNull();
    service.heal(members[0]!);
    // The first renewal after the gap checks every member; each is told at its next renewal.
    await advance(clock, 2 * sessionTimeoutMs);
    expect(members.map((zk) => zk.state)).toEqual(members.map(() => 'EXPIRED'));
  });

  it("the heartbeat removes a stopped process's group lease that no session names, and only that", async () => {
    const { service, clock, store, group, groupKey, members } = await deploy();
    const groups = new MemoryLeaseRenewer(store).groups;
    // A group of a process that stopped over an hour ago, one of a process that started a moment
    // ago (no member yet), and the live group (named by members).
    const stoppedKey = newSessionKey();
    const stopped = { owner: 12345, id: groupLeaseId(stoppedKey, 12345) };
    await groups.renewGroup(stopped, signGroupRenewal(stoppedKey, 12345, clock.now() - 2 * 3_600_000));
    const startedKey = newSessionKey();
    const started = { owner: 6789, id: groupLeaseId(startedKey, 6789) };
    await group().hold(members[0]!.sessionNumber);
    await advance(clock, sessionTimeoutMs + clockSkewMs + 2 * heartbeatIntervalMs);
    await groups.renewGroup(started, signGroupRenewal(startedKey, 6789, clock.now()));
    await service.heartbeat();
    expect(await leaseVersion(store, stopped.id)).toBeUndefined();
    expect(await leaseVersion(store, started.id)).toBeDefined();
    expect(await leaseVersion(store, groupLeaseId(groupKey, group().id))).toBeDefined();
  });

  it('a client that leaves while its join is in flight is held all the same (the leave follows the join)', async () => {
    const { clock, store, group, members, keys } = await deploy();
    const zk = members[0]!;
    const key = keys.get(zk.sessionNumber)!;
    await group().hold(zk.sessionNumber);
    const joining = group().cover(zk.sessionNumber, sessionTimeoutMs, key);
    const at = clock.now();
    const leaving = group().hold(zk.sessionNumber, at);
    expect(await joining).toBe('renewed');
    expect(await leaving).toBe('renewed');
    expect((await store.get({ kind: 'lease', id: leaseId(key, zk.sessionNumber) }))?.value).toEqual(
      signRenewal(key, zk.sessionNumber, at),
    );
    expect(group().covered).toBe(MEMBERS - 1);
  });

  it('a member that moved to another group cannot be taken out by the first (leave is conditional)', async () => {
    const { store, group, members, keys } = await deploy();
    const zk = members[0]!;
    const groups = new MemoryLeaseRenewer(store).groups;
    const key = keys.get(zk.sessionNumber)!;
    const other = groupMembership(key, zk.sessionNumber, 777, newSessionKey());
    const own = { owner: zk.sessionNumber, id: leaseId(key, zk.sessionNumber) };
    expect(await groups.join(own, 777, other)).toBe('renewed');
    expect(await group().hold(zk.sessionNumber, 1)).toBe('absent');
    expect((await store.get({ kind: 'lease', id: own.id }))?.value).toEqual(other);
  });
});

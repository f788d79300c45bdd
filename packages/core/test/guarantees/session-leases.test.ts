// Sessions kept alive by leases (docs/guarantees.md "Sessions"), on the embedded deployment: the
// races the lease opens between a client's renewal and the heartbeat's expiry need hooks into the
// system store that only the embedded deployment offers. The portable session suite (expiry,
// partitions, close) runs on every deployment in src/testkit/guarantees/sessions.ts.
import { afterEach, describe, expect, it } from 'vitest';
import {
  CreateMode,
  createEmbeddedService,
  type EmbeddedService,
  type EmbeddedServiceOptions,
  type FaaSKeeperClient,
  LEASE_FOLD_ID,
  type LeaseFold,
  leaseId,
  ManualClock,
  MemoryLeaseRenewer,
  type MemorySystemStore,
  newSessionKey,
  type SystemStore,
  settle,
  signRenewal,
} from '../../src/index.js';

const sessionTimeoutMs = 3000;
const clockSkewMs = 1000;
const heartbeatIntervalMs = 500;

const open: EmbeddedService[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((d) => d.close()));
});

/** An embedded deployment on a manual clock, with the session settings of the session suite. */
function deploy(options: EmbeddedServiceOptions = {}): { service: EmbeddedService; clock: ManualClock } {
  const clock = new ManualClock();
  const service = createEmbeddedService({
    clock,
    sessionTimeoutMs,
    clockSkewMs,
    heartbeatIntervalMs,
    ...options,
  });
  open.push(service);
  return { service, clock };
}

/** Moves the clock in steps of 100 ms, letting timers, functions and clients run between steps. */
async function advance(clock: ManualClock, ms: number): Promise<void> {
  for (let done = 0; done < ms; done += 100) {
    await clock.advance(Math.min(100, ms - done));
    await settle(20);
  }
}

/** The lease value of a client's session (the client's clock at its last renewal), or undefined. */
async function leaseOf(store: SystemStore, zk: FaaSKeeperClient): Promise<unknown> {
  // Found by its session's number: its id's tag comes from the session key, which the test may not know.
  return (await store.list('lease')).find((l) => l.id.startsWith(`${zk.sessionId}.`))?.value;
}

/** The latest renewal the deployment knows of a session: its lease item or its folded renewal. */
async function lastRenewal(store: SystemStore, zk: FaaSKeeperClient): Promise<number> {
  const fold = (await store.get<LeaseFold>({ kind: 'meta', id: LEASE_FOLD_ID }))?.value ?? {};
  const lease = await leaseOf(store, zk);
  const at = (lease as { at?: unknown } | undefined)?.at;
  return Math.max(typeof at === 'number' ? at : 0, fold[zk.sessionId] ?? 0);
}

describe('sessions kept alive by leases (embedded)', () => {
  it("a lease renewal racing the heartbeat's expiry wins: the expiry's commit fails and the writer sees the renewal", async () => {
    let raw: MemorySystemStore | undefined;
    /** Armed: the next commit that removes the session's lease first sees the client renew it. */
    let raceSession: string | undefined;
    let raced = 0;
    // The client's session key, so that the racing renewal is its own (signed) one.
    const key = newSessionKey();
    const { service, clock } = deploy({
      wrap: {
        systemStore: (inner) => {
          raw = inner as MemorySystemStore;
          return {
            capabilities: inner.capabilities,
            get: (k) => inner.get(k),
            getMany: (k) => inner.getMany(k),
            list: (k) => inner.list(k),
            query: (k, prefix, page) => inner.query(k, prefix, page),
            increment: (k, by) => inner.increment(k, by),
            transact: async (ops) => {
              const target = raceSession;
              if (
                target !== undefined &&
                ops.some(
                  (o) => o.kind === 'lease' && o.id === leaseId(key, Number(target)) && o.type === 'delete',
                )
              ) {
                raceSession = undefined;
                raced++;
                // The renewal lands between the writer's check and its commit.
                expect(
                  await new MemoryLeaseRenewer(inner as MemorySystemStore).renew(
                    { owner: Number(target), id: leaseId(key, Number(target)) },
                    signRenewal(key, Number(target), clock.now()),
                  ),
                ).toBe('renewed');
              }
              return inner.transact(ops);
            },
          };
        },
      },
    });
    const [zk, other] = await Promise.all([service.connect({ sessionKey: key }), service.connect()]);
    await zk.create('/mine', '', { mode: CreateMode.EPHEMERAL });
    expect(raw).toBeDefined();
    service.partition(zk);
    raceSession = zk.sessionId;
    // Past the deadline plus the skew: the heartbeat asks the writer to end the session.
    await advance(clock, sessionTimeoutMs + clockSkewMs + heartbeatIntervalMs + 200);
    expect(raced, 'the expiry reached its commit').toBe(1);
    service.heal(zk);
    await advance(clock, sessionTimeoutMs);
    await other.sync('/');
    expect(await other.exists('/mine'), 'the renewed session kept its ephemeral').not.toBeNull();
    expect(zk.state).toBe('CONNECTED');
    expect(await zk.create('/after')).toBe('/after');
  });

  it('a renewal after expiry finds no lease, cannot revive the session, and the client sees EXPIRED', async () => {
    const { service, clock } = deploy();
    const key = newSessionKey();
    const [zk, other] = await Promise.all([service.connect({ sessionKey: key }), service.connect()]);
    await zk.create('/mine', '', { mode: CreateMode.EPHEMERAL });
    service.partition(zk);
    await advance(clock, sessionTimeoutMs + clockSkewMs + 2 * heartbeatIntervalMs);
    await service.heartbeat();
    await other.sync('/');
    expect(await other.exists('/mine')).toBeNull();
    expect(await leaseOf(service.ports.systemStore, zk), 'the lease went with the session').toBeUndefined();
    // The store refuses a renewal of the ended session; it creates nothing.
    const renewer = new MemoryLeaseRenewer(service.ports.systemStore as MemorySystemStore);
    const at = { owner: zk.sessionNumber, id: leaseId(key, zk.sessionNumber) };
    expect(await renewer.renew(at, signRenewal(key, zk.sessionNumber, clock.now()))).toBe('absent');
    expect(await leaseOf(service.ports.systemStore, zk)).toBeUndefined();
    expect(await service.ports.systemStore.get({ kind: 'session', id: zk.sessionId })).toBeUndefined();
    service.heal(zk);
    await advance(clock, sessionTimeoutMs);
    expect(zk.state).toBe('EXPIRED');
  });

  it('renewals queued by many idle clients cost one fold write per heartbeat run (queue mode)', async () => {
    let foldWrites = 0;
    const { service, clock } = deploy({
      leaseRenewals: 'queue',
      wrap: {
        systemStore: (inner) => ({
          capabilities: inner.capabilities,
          get: (k) => inner.get(k),
          getMany: (k) => inner.getMany(k),
          list: (k) => inner.list(k),
          query: (k, prefix, page) => inner.query(k, prefix, page),
          increment: (k, by) => inner.increment(k, by),
          transact: (ops) => {
            if (ops.some((o) => o.kind === 'meta' && o.id === LEASE_FOLD_ID)) foldWrites++;
            return inner.transact(ops);
          },
        }),
      },
    });
    const clients = await Promise.all(Array.from({ length: 8 }, () => service.connect()));
    foldWrites = 0;
    const idleMs = 4 * sessionTimeoutMs;
    await advance(clock, idleMs);
    const runs = idleMs / heartbeatIntervalMs;
    // 8 clients renewing every second (a third of the timeout): ≈ 320 renewals, folded in at most
    // one write per run.
    expect(foldWrites).toBeGreaterThan(0);
    expect(foldWrites).toBeLessThanOrEqual(runs);
    const fold = (await service.ports.systemStore.get<LeaseFold>({ kind: 'meta', id: LEASE_FOLD_ID }))?.value;
    expect(Object.keys(fold ?? {}).sort()).toEqual(clients.map((c) => c.sessionId).sort());
    expect(clients.map((c) => c.state)).toEqual(Array(8).fill('CONNECTED'));
    // An ended session leaves the fold at the next run.
    await clients[0]!.close();
    await advance(clock, 2 * heartbeatIntervalMs);
    const after = (await service.ports.systemStore.get<LeaseFold>({ kind: 'meta', id: LEASE_FOLD_ID }))
      ?.value;
    expect(Object.keys(after ?? {})).not.toContain(clients[0]!.sessionId);
  });
});

describe('an idle client stops taking channel messages while it is owed none (embedded)', () => {
  it('pauses its channel when idle without watches, takes it up again for a request, and keeps it while it holds a watch', async () => {
    let open = 0;
    const { service, clock } = deploy({
      wrapClientChannel: (channel) => ({
        maxMessageBytes: channel.maxMessageBytes,
        ...(channel.pausable === undefined ? {} : { pausable: channel.pausable }),
        send: (session, messages, inc, tag) => channel.send(session, messages, inc, tag),
        remove: (session, inc, tag) => channel.remove(session, inc, tag),
        subscribe: async (session, onMessages, inc, tag) => {
          const sub = await channel.subscribe(session, onMessages, inc, tag);
          open++;
          return {
            close: async () => {
              open--;
              await sub.close();
            },
          };
        },
      }),
    });
    const [zk, other] = await Promise.all([service.connect(), service.connect()]);
    expect(open).toBe(2);
    await advance(clock, 2 * sessionTimeoutMs);
    expect(open, 'idle clients without watches take no channel messages').toBe(0);
    expect(zk.state).toBe('CONNECTED');
    // A request takes the channel up again, and its reply arrives.
    expect(await zk.create('/x')).toBe('/x');
    // A watch keeps it: the event it is owed arrives however long the client idles.
    const events: string[] = [];
    await zk.exists('/y', { watch: (e) => events.push(`${e.type} ${e.path}`) });
    await advance(clock, 2 * sessionTimeoutMs);
    expect(open, 'only the watching client takes channel messages').toBe(1);
    await other.create('/y');
    await advance(clock, 200);
    expect(events).toEqual(['NodeCreated /y']);
    await advance(clock, 2 * sessionTimeoutMs);
    expect(open, 'its watch fired: idle again').toBe(0);
    expect([zk.state, other.state]).toEqual(['CONNECTED', 'CONNECTED']);
  });
});

describe.each(['store', 'queue'] as const)(
  'sessions kept alive by leases, renewals through the %s (embedded)',
  (mode) => {
    it('an idle session lives on by lease renewals alone: nothing goes through the writer queue', async () => {
      let sends = 0;
      const { service, clock } = deploy({
        leaseRenewals: mode,
        wrap: {
          writerQueue: (inner) => ({
            name: inner.name,
            capabilities: inner.capabilities,
            send: (messages) => {
              sends += messages.length;
              return inner.send(messages);
            },
            receive: (o) => inner.receive(o),
            ack: (r) => inner.ack(r),
            release: (r) => inner.release(r),
          }),
        },
      });
      const zk = await service.connect();
      await zk.create('/mine', '', { mode: CreateMode.EPHEMERAL });
      const opened = await lastRenewal(service.ports.systemStore, zk);
      const before = sends;
      // Five session timeouts of idleness: without renewals the session would have expired.
      await advance(clock, 5 * sessionTimeoutMs);
      expect(sends - before, 'requests sent through the writer queue while idle').toBe(0);
      expect(zk.state).toBe('CONNECTED');
      const renewed = await lastRenewal(service.ports.systemStore, zk);
      // Renewed at least every 0.6 of the timeout: the lease is that recent (a queued renewal counts
      // once the heartbeat folded it, at most one heartbeat interval later).
      expect(renewed).toBeGreaterThan(opened);
      expect(clock.now() - renewed).toBeLessThanOrEqual(
        0.6 * sessionTimeoutMs + (mode === 'queue' ? heartbeatIntervalMs : 0),
      );
      expect(await zk.exists('/mine')).not.toBeNull();
    });

    it('DISCONNECTED after two thirds of the timeout without an answered renewal, CONNECTED once one is answered, never while healthy', async () => {
      const { service, clock } = deploy({ leaseRenewals: mode });
      const zk = await service.connect();
      const states: string[] = [];
      zk.on('state', (s) => states.push(s));
      await advance(clock, 3 * sessionTimeoutMs);
      expect(states, 'a healthy idle client stays CONNECTED').toEqual([]);
      service.partition(zk);
      await advance(clock, (2 * sessionTimeoutMs) / 3 + 100);
      expect(zk.state).toBe('DISCONNECTED');
      service.heal(zk);
      // Renewals are retried every tenth of the timeout while DISCONNECTED.
      await advance(clock, sessionTimeoutMs / 10 + 100);
      expect(zk.state).toBe('CONNECTED');
      await advance(clock, 3 * sessionTimeoutMs);
      expect(states).toEqual(['DISCONNECTED', 'CONNECTED']);
    });

    it('a client that stops renewing loses its ephemerals within its timeout plus the skew margin', async () => {
      const { service, clock } = deploy({ leaseRenewals: mode });
      const [zk, other] = await Promise.all([service.connect(), service.connect()]);
      await zk.create('/mine', '', { mode: CreateMode.EPHEMERAL });
      await advance(clock, 2 * sessionTimeoutMs); // renewals under way
      await service.heartbeat(); // folds what is queued (queue mode): the last renewal is known
      const last = await lastRenewal(service.ports.systemStore, zk);
      service.partition(zk);
      // Not before its last renewal plus timeout plus skew ...
      await advance(clock, last + sessionTimeoutMs + clockSkewMs - clock.now() - 100);
      await service.heartbeat();
      await other.sync('/');
      expect(await other.exists('/mine')).not.toBeNull();
      // ... and gone once that has passed and the heartbeat ran.
      await advance(clock, 200 + heartbeatIntervalMs);
      await other.sync('/');
      expect(await other.exists('/mine')).toBeNull();
    });
  },
);

describe('lease items no session claims (docs/guarantees.md "Lease availability")', () => {
  it("the heartbeat removes other clients' lease items when it lists the leases, and keeps every session's lease, even one its session listing missed", async () => {
    let hidden: string | undefined;
    let store: SystemStore | undefined;
    const { service, clock } = deploy({
      wrap: {
        systemStore: (inner) => {
          store = inner;
          return {
            ...inner,
            capabilities: inner.capabilities,
            get: (k) => inner.get(k),
            getMany: (k) => inner.getMany(k),
            query: (k, prefix, page) => inner.query(k, prefix, page),
            increment: (k, by) => inner.increment(k, by),
            transact: (ops) => inner.transact(ops),
            // A session opened after the heartbeat's session listing: its lease is in the lease
            // listing, its session item not in the session one.
            list: async <T>(kind: Parameters<SystemStore['list']>[0]) => {
              const items = await inner.list<T>(kind);
              return kind === 'session' ? items.filter((i) => i.id !== hidden) : items;
            },
          } as SystemStore;
        },
      },
    });
    const [zk, late] = await Promise.all([service.connect(), service.connect()]);
    await zk.create('/mine', '', { mode: CreateMode.EPHEMERAL });
    const put = (id: string, value: unknown) =>
      store!.transact([{ type: 'put', kind: 'lease', id, value, expect: 'any' }]);
    const now = clock.now();
    const garbage = [
      zk.sessionId,
      `${zk.sessionId}.${'A'.repeat(22)}`,
      '987654321.junk',
      'not-a-session',
      `g77.${'B'.repeat(22)}`,
      `g78.${'C'.repeat(22)}`,
      `g79.${'D'.repeat(22)}`,
    ];
    await put(garbage[0]!, { at: now, mac: 'A'.repeat(43) });
    await put(garbage[1]!, now);
    await put(garbage[2]!, { g: 77, k: 'x' });
    await put(garbage[3]!, 'x');
    await put(garbage[4]!, { at: now + 3_600_000, mac: 'x' }); // a time ahead: would stay for good
    await put(garbage[5]!, { at: now - 2 * 3_600_000, mac: 'x' }); // a group stopped long ago
    await put(garbage[6]!, 'unreadable');
    hidden = late.sessionId;
    // Idle past the request deadline: the heartbeat lists the leases (zk lives by its renewals).
    await advance(clock, sessionTimeoutMs + clockSkewMs + 2 * heartbeatIntervalMs);
    await service.heartbeat();
    const left = new Set((await store!.list('lease')).map((l) => l.id));
    for (const id of garbage) expect(left.has(id), id).toBe(false);
    expect([...left].filter((id) => id.startsWith(`${zk.sessionId}.`))).toHaveLength(1);
    expect(
      [...left].filter((id) => id.startsWith(`${late.sessionId}.`)),
      'the missed session keeps its lease',
    ).toHaveLength(1);
    hidden = undefined;
    await advance(clock, sessionTimeoutMs);
    expect(zk.state).toBe('CONNECTED');
    expect(late.state).toBe('CONNECTED');
    expect(await late.exists('/mine')).not.toBeNull();
  });
});

describe('a flood of lease items (docs/guarantees.md "Lease availability")', () => {
  it('is removed at most 100 items a heartbeat run, and the run still sends its expiries', async () => {
    // Heartbeat runs only when the test asks for one.
    const { service, clock } = deploy({ heartbeatIntervalMs: 3_600_000 });
    const store = service.ports.systemStore;
    const [zk, gone, other] = await Promise.all([service.connect(), service.connect(), service.connect()]);
    await gone.create('/gone', '', { mode: CreateMode.EPHEMERAL });
    const flood = Array.from({ length: 250 }, (_, i) => `${zk.sessionId}.${String(i).padStart(22, 'x')}`);
    for (const id of flood)
      await store.transact([{ type: 'put', kind: 'lease', id, value: { at: 0, mac: 'x' }, expect: 'any' }]);
    const count = async () => {
      const ids = new Set((await store.list('lease')).map((l) => l.id));
      return flood.filter((id) => ids.has(id)).length;
    };
    service.partition(gone);
    await advance(clock, sessionTimeoutMs + clockSkewMs + 100);
    await service.heartbeat();
    expect(await count(), 'one run removes 100').toBe(150);
    await other.sync('/');
    expect(await other.exists('/gone'), 'the expiry went out however many items wait').toBeNull();
    await service.heartbeat();
    expect(await count()).toBe(50);
    await service.heartbeat();
    expect(await count()).toBe(0);
    expect(zk.state).toBe('CONNECTED');
  });
});

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
  ManualClock,
  MemoryLeaseRenewer,
  type MemorySystemStore,
  type SystemStore,
  settle,
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
  return (await store.get({ kind: 'lease', id: zk.sessionId }))?.value;
}

describe('sessions kept alive by leases (embedded)', () => {
  it('an idle session lives on by lease renewals alone: nothing goes through the writer queue', async () => {
    let sends = 0;
    const { service, clock } = deploy({
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
    const opened = await leaseOf(service.ports.systemStore, zk);
    const before = sends;
    // Five session timeouts of idleness: without renewals the session would have expired.
    await advance(clock, 5 * sessionTimeoutMs);
    expect(sends - before, 'requests sent through the writer queue while idle').toBe(0);
    expect(zk.state).toBe('CONNECTED');
    const renewed = await leaseOf(service.ports.systemStore, zk);
    expect(typeof renewed).toBe('number');
    // Renewed at least every 0.6 of the timeout: the lease is that recent.
    expect(renewed as number).toBeGreaterThan(opened as number);
    expect(clock.now() - (renewed as number)).toBeLessThanOrEqual(0.6 * sessionTimeoutMs);
    expect(await zk.exists('/mine')).not.toBeNull();
  });

  it("a lease renewal racing the heartbeat's expiry wins: the expiry's commit fails and the writer sees the renewal", async () => {
    let raw: MemorySystemStore | undefined;
    /** Armed: the next commit that removes the session's lease first sees the client renew it. */
    let raceSession: string | undefined;
    let raced = 0;
    const { service, clock } = deploy({
      wrap: {
        systemStore: (inner) => {
          raw = inner as MemorySystemStore;
          return {
            capabilities: inner.capabilities,
            get: (k) => inner.get(k),
            getMany: (k) => inner.getMany(k),
            list: (k) => inner.list(k),
            increment: (k, by) => inner.increment(k, by),
            transact: async (ops) => {
              const target = raceSession;
              if (
                target !== undefined &&
                ops.some((o) => o.kind === 'lease' && o.id === target && o.type === 'delete')
              ) {
                raceSession = undefined;
                raced++;
                // The renewal lands between the writer's check and its commit.
                expect(
                  await new MemoryLeaseRenewer(inner as MemorySystemStore).renew(Number(target), clock.now()),
                ).toBe('renewed');
              }
              return inner.transact(ops);
            },
          };
        },
      },
    });
    const [zk, other] = await Promise.all([service.connect(), service.connect()]);
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
    const [zk, other] = await Promise.all([service.connect(), service.connect()]);
    await zk.create('/mine', '', { mode: CreateMode.EPHEMERAL });
    service.partition(zk);
    await advance(clock, sessionTimeoutMs + clockSkewMs + 2 * heartbeatIntervalMs);
    await service.heartbeat();
    await other.sync('/');
    expect(await other.exists('/mine')).toBeNull();
    expect(await leaseOf(service.ports.systemStore, zk), 'the lease went with the session').toBeUndefined();
    // The store refuses a renewal of the ended session; it creates nothing.
    const renewer = new MemoryLeaseRenewer(service.ports.systemStore as MemorySystemStore);
    expect(await renewer.renew(zk.sessionNumber, clock.now())).toBe('absent');
    expect(await leaseOf(service.ports.systemStore, zk)).toBeUndefined();
    expect(await service.ports.systemStore.get({ kind: 'session', id: zk.sessionId })).toBeUndefined();
    service.heal(zk);
    await advance(clock, sessionTimeoutMs);
    expect(zk.state).toBe('EXPIRED');
  });

  it('a client that stops renewing loses its ephemerals within its timeout plus the skew margin', async () => {
    const { service, clock } = deploy();
    const [zk, other] = await Promise.all([service.connect(), service.connect()]);
    await zk.create('/mine', '', { mode: CreateMode.EPHEMERAL });
    await advance(clock, 2 * sessionTimeoutMs); // renewals under way
    const last = (await leaseOf(service.ports.systemStore, zk)) as number;
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
});

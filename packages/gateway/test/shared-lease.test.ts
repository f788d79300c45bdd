/**
 * The sessions of one gateway share one lease (docs/gateway.md "Idle sessions share one lease"):
 * while their clients are connected, each session's lease names the gateway's group and nothing
 * renews it alone; a session whose client's connection closed leaves the group, its lease set to
 * that moment, and joins again when its client comes back. Read from the embedded deployment's
 * system store.
 */
import {
  coveringGroup,
  createEmbeddedService,
  type EmbeddedService,
  groupOf,
  leaseIdOf,
  type SessionItem,
  type SignedRenewal,
  verifiedRenewal,
} from '@faaskeeper/core';
import { afterEach, describe, expect, it } from 'vitest';
import { Err, OpCode } from '../src/codes.js';
import { type Gateway, startGateway } from '../src/index.js';
import * as R from '../src/jute/records.js';
import { RawClient, sleep } from './raw-client.js';

const TIMEOUT_MS = 4000;

let service: EmbeddedService | undefined;
let gateway: Gateway | undefined;
const clients: RawClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await gateway?.close();
  await service?.close();
  gateway = undefined;
  service = undefined;
});

async function start(shareLease?: boolean): Promise<{ service: EmbeddedService; gateway: Gateway }> {
  service = createEmbeddedService();
  gateway = await startGateway({
    port: 0,
    deployment: service,
    secret: 'shared-lease',
    log: () => undefined,
    ...(shareLease === undefined ? {} : { shareLease }),
  });
  return { service, gateway };
}

async function open(port: number, resume: Partial<R.ConnectRequest> = {}): Promise<RawClient> {
  const c = await RawClient.open(port, { timeOut: TIMEOUT_MS, ...resume });
  clients.push(c);
  return c;
}

/** The lease item of a session (value and version), read from the deployment's system store. */
async function lease(s: EmbeddedService, c: RawClient) {
  // Under the id its session key gives (the gateway derives the key: read it from the session item).
  const session = await s.ports.systemStore.get<SessionItem>({
    kind: 'session',
    id: String(c.connect.sessionId),
  });
  return session === undefined
    ? undefined
    : s.ports.systemStore.get({ kind: 'lease', id: leaseIdOf(session.value) });
}

/** Waits until `check` holds (or `ms` passed), then returns its last answer. */
async function eventually(check: () => Promise<boolean>, ms = 3000): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await sleep(30);
  }
  return check();
}

describe('the sessions of one gateway share one lease', () => {
  it('connected sessions name one group lease and renew nothing alone while idle', async () => {
    const { service, gateway } = await start();
    const cs = await Promise.all([0, 1, 2].map(() => open(gateway.port)));
    const leases = await Promise.all(cs.map((c) => lease(service, c)));
    const groups = leases.map((l) => coveringGroup(l?.value));
    expect(groups[0]).toBeDefined();
    expect(groups).toEqual([groups[0], groups[0], groups[0]]);
    // The functions can check the group's renewal for a member: its membership opens with the
    // member's session key (and gives the group item's id) and the group's renewal carries the
    // group key's MAC.
    const member = await service.ports.systemStore.get<SessionItem>({
      kind: 'session',
      id: String(cs[0]!.connect.sessionId),
    });
    const groupId = groupOf(member!.value, leases[0]!.value)!.id;
    const group = await service.ports.systemStore.get({ kind: 'lease', id: groupId });
    const groupValue = group?.value as SignedRenewal;
    expect(typeof groupValue.at).toBe('number');
    expect(
      verifiedRenewal(member!.value, leases[0]!.value, (id) => (id === groupId ? groupValue : undefined)),
    ).toBe(groupValue.at);
    // The group renews its lease within the sessions' timeout (every half timeout), its renewal
    // waited for: a timer that fires late on a loaded machine is still within the timeout.
    const joinedAt = Date.now();
    expect(
      await eventually(
        async () =>
          ((await service.ports.systemStore.get({ kind: 'lease', id: groupId }))?.version ?? 0) >
          group!.version,
        TIMEOUT_MS,
      ),
      'the group lease renewed within the timeout',
    ).toBe(true);
    // Idle for more than a renewal period of the sessions' own (0.6 of the timeout): none renewed.
    await sleep(Math.max(0, joinedAt + TIMEOUT_MS * 0.75 - Date.now()));
    const after = await Promise.all(cs.map((c) => lease(service, c)));
    expect(after.map((l) => l?.version)).toEqual(leases.map((l) => l?.version));
    // The sessions live and serve.
    for (const c of cs)
      expect((await c.call(OpCode.exists, R.PathWatchRequest, { path: '/', watch: false })).err).toBe(Err.OK);
  });

  it("a session whose client's connection closed leaves the group, held at that moment, and joins again when the client comes back", async () => {
    const { service, gateway } = await start();
    const c = await open(gateway.port);
    const group = coveringGroup((await lease(service, c))?.value);
    expect(group).toBeDefined();
    const { sessionId, passwd } = c.connect;
    const leftAt = Date.now();
    c.close();
    expect(
      await eventually(async () => coveringGroup((await lease(service, c))?.value) === undefined),
      'the lease left the group',
    ).toBe(true);
    const held = (await lease(service, c))!;
    const heldAt = (held.value as SignedRenewal).at;
    expect(heldAt).toBeGreaterThanOrEqual(leftAt);
    expect(heldAt).toBeLessThanOrEqual(Date.now());
    // Nothing renews it while the client is away.
    await sleep(TIMEOUT_MS * 0.4);
    expect((await lease(service, c))?.version).toBe(held.version);
    const back = await open(gateway.port, { sessionId, passwd });
    expect(back.connect.sessionId).toBe(sessionId);
    expect(
      await eventually(async () => coveringGroup((await lease(service, back))?.value) === group),
      'the lease joined the group again',
    ).toBe(true);
  });

  it('with shareLease false every session renews its own lease', async () => {
    const { service, gateway } = await start(false);
    const c = await open(gateway.port);
    const before = (await lease(service, c))!;
    expect(coveringGroup(before.value)).toBeUndefined();
    // Renewed every 0.6 of the timeout, its renewal waited for: within the timeout, before the
    // lease would run out, whatever a loaded machine does to the timer.
    expect(
      await eventually(async () => (await lease(service, c))!.version > before.version, TIMEOUT_MS),
      'the session renewed its own lease within the timeout',
    ).toBe(true);
  });
});

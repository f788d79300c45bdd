// Group leases on DynamoDB Local (a gateway's sessions sharing one renewal, docs/gateway.md "Idle
// sessions share one lease"): what `DynamoDbLeaseRenewer.groups` writes is what the heartbeat and
// the writer read through the system store, each call one write unit, and joins and leaves are
// conditional as the port says.
import {
  CountingMeter,
  coveringGroup,
  groupLeaseId,
  groupMembership,
  leaseId,
  newSessionKey,
  signGroupRenewal,
  signRenewal,
} from '@faaskeeper/core';
import { afterEach, describe, expect, it } from 'vitest';
import { DynamoDbLeaseRenewer } from '../src/dynamodb-lease.js';
import { DynamoDbSystemStore } from '../src/dynamodb-system-store.js';
import { METER_KEYS } from '../src/meter.js';
import { requireLocalStack, uniqueName, useLocalStack } from './support.js';

const stack = useLocalStack();
const drop: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const d of drop.splice(0)) await d();
});

async function setup() {
  const { clients } = await stack();
  const table = uniqueName('system');
  await DynamoDbSystemStore.createTable(clients.dynamodb, table);
  const store = new DynamoDbSystemStore({ client: clients.dynamodb, table });
  drop.push(() => store.dropTable());
  const meter = new CountingMeter();
  const renewer = new DynamoDbLeaseRenewer({ client: clients.dynamodb, table, meter });
  /** A session's lease as the writer creates it with the session. */
  const openLease = (session: number, time: number) =>
    store.transact([{ type: 'put', kind: 'lease', id: leaseAt(session).id, value: time, expect: 'absent' }]);
  const value = async (id: string) => (await store.get({ kind: 'lease', id }))?.value;
  return { store, meter, groups: renewer.groups, renewer, openLease, value };
}

const groupKey = newSessionKey();
const sessionKey = newSessionKey();
const groupRenewal = (group: number, at: number) => signGroupRenewal(groupKey, group, at);
const renewal = (session: number, at: number) => signRenewal(sessionKey, session, at);
const member = (session: number, group: number) => groupMembership(sessionKey, session, group, groupKey);
/** A session's lease item (its id from the session key) and a group's (from the group key). */
const leaseAt = (session: number) => ({ owner: session, id: leaseId(sessionKey, session) });
const groupAt = (group: number) => ({ owner: group, id: groupLeaseId(groupKey, group) });

describe('DynamoDbLeaseRenewer group leases (DynamoDB Local)', () => {
  it('renewGroup creates the group item and moves it forward, one write unit each', async (ctx) => {
    if (!requireLocalStack(ctx)) return;
    const { meter, groups, value } = await setup();
    await groups.renewGroup(groupAt(42), groupRenewal(42, 1000));
    expect(await value(groupAt(42).id)).toEqual(groupRenewal(42, 1000));
    await groups.renewGroup(groupAt(42), groupRenewal(42, 2000));
    expect(await value(groupAt(42).id)).toEqual(groupRenewal(42, 2000));
    expect(meter.snapshot()[METER_KEYS.dynamodbWriteUnits]).toBe(2);
  });

  it('join names the group in an existing lease, and never creates one', async (ctx) => {
    if (!requireLocalStack(ctx)) return;
    const { groups, openLease, value } = await setup();
    await openLease(7, 500);
    expect(await groups.join(leaseAt(7), 42, member(7, 42))).toBe('renewed');
    expect(coveringGroup(await value(leaseAt(7).id))).toBe(42);
    expect(await groups.join(leaseAt(8), 42, member(8, 42))).toBe('absent');
    expect(await value(leaseAt(8).id)).toBeUndefined();
  });

  it('leave sets the lease to a time only while it still names the group', async (ctx) => {
    if (!requireLocalStack(ctx)) return;
    const { groups, openLease, renewer, value } = await setup();
    await openLease(7, 500);
    await groups.join(leaseAt(7), 42, member(7, 42));
    expect(await groups.leave(leaseAt(7), 42, renewal(7, 900))).toBe('renewed');
    expect(await value(leaseAt(7).id)).toEqual(renewal(7, 900));
    // Taken by another group (a resume through another gateway): the first cannot take it out, nor
    // can a group whose number the other's begins with.
    await groups.join(leaseAt(7), 43, member(7, 43));
    expect(await groups.leave(leaseAt(7), 42, renewal(7, 950))).toBe('absent');
    expect(await groups.leave(leaseAt(7), 4, renewal(7, 950))).toBe('absent');
    expect(coveringGroup(await value(leaseAt(7).id))).toBe(43);
    // A session's own renewal still works on a lease that left its group.
    await groups.leave(leaseAt(7), 43, renewal(7, 960));
    expect(await renewer.renew(leaseAt(7), renewal(7, 1000))).toBe('renewed');
    expect(await value(leaseAt(7).id)).toEqual(renewal(7, 1000));
    expect(await groups.leave(leaseAt(9), 42, renewal(9, 1000))).toBe('absent');
  });
});

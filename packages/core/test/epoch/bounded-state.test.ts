// Ordered notifications cost nothing on the writes after a fire: the writer state and the records
// written after M watchers were notified are as large as after one watcher was (the epoch map
// that used to hold one entry per notified session until its next request is gone).
import { describe, expect, it } from 'vitest';
import {
  createEmbeddedService,
  encodeMessage,
  type FaaSKeeperClient,
  WRITER_STATE_ID,
  type WriterState,
} from '../../src/index.js';
import { drain, unwrapPort } from '../../src/testkit/faults/index.js';

const WRITER_SESSION = 4_242_424_242_424;

/** Sizes after `watchers` sessions were notified and another node was then written. */
async function sizesAfterFire(watchers: number): Promise<{ state: number; record: number; marker: number }> {
  const service = createEmbeddedService({});
  // The same id in both runs: the state holds the writer's last batch, whose session id would
  // otherwise change the size by its digits (a random 52-bit id has 1 to 16).
  const writer = await service.connect({ sessionId: WRITER_SESSION });
  await writer.create('/x', 'v0');
  await writer.create('/other', 'o0');
  const clients: FaaSKeeperClient[] = [];
  for (let i = 0; i < watchers; i++) clients.push(await service.connect());
  let fired = 0;
  for (const c of clients) await c.getData('/x', { watch: () => fired++ });
  await writer.setData('/x', 'v1');
  await writer.setData('/other', 'o1');
  await drain(service);
  expect(fired).toBe(watchers);
  const system = unwrapPort(service.ports.systemStore);
  const user = unwrapPort(service.ports.userStore);
  const state = (await system.get<WriterState>({ kind: 'meta', id: WRITER_STATE_ID }))!.value;
  const record = (await user.get('/other'))!;
  // The fire's zxid is on the later record: a reader holding watches knows to look at its marker.
  expect(record.ev).toBe(record.txZxid - 1);
  const marker = await user.getMarker(clients[0]!.sessionNumber);
  expect(marker).toEqual([record.txZxid - 1]);
  for (const c of clients) await c.close();
  await writer.close();
  await service.close();
  return {
    state: encodeMessage(state).length,
    record: encodeMessage(record).length,
    marker: JSON.stringify(marker).length,
  };
}

describe('no state that grows with the watchers notified (ordered notifications)', () => {
  it('keeps the writer state, the next record and each marker the same size for 1 and 300 watchers', async () => {
    const one = await sizesAfterFire(1);
    const many = await sizesAfterFire(300);
    // Equal up to the digits of larger zxids (the watchers' random session ids are not in them).
    expect(Math.abs(many.state - one.state)).toBeLessThanOrEqual(16);
    expect(Math.abs(many.record - one.record)).toBeLessThanOrEqual(8);
    expect(many.marker).toBeLessThanOrEqual(one.marker + 8);
    expect(many.state).toBeLessThan(2048);
  }, 60_000);
});

import { describe, expect, it } from 'vitest';
import { eventZxids, markersFor, withoutEpochMap } from '../../src/epoch/pending-events.js';
import { mayOweEvent, owedByEpochMap, owedByMarker } from '../../src/epoch/read-rule.js';
import { rootStat } from '../../src/model/stat.js';
import { MARKER_EVENTS } from '../../src/ports/user-store.js';
import { encodeMessage } from '../../src/protocol/codec.js';
import type { DistributorBatch, DistributorItem, NodeRecord } from '../../src/protocol/messages.js';
import { DistributorBatchSchema, PROTOCOL_VERSION } from '../../src/protocol/messages.js';
import { decodeChecked } from '../../src/protocol/validate.js';

const stat = rootStat();

const record = (txZxid: number, fields: Partial<NodeRecord> = {}): NodeRecord => ({
  data: new Uint8Array(0),
  stat,
  txZxid,
  ...fields,
});

const txn = (zxid: number, sessions: number[], closed: number[] = []): DistributorItem => ({
  type: 'txn',
  zxid,
  writes: [],
  events: sessions.map((session) => ({ session, type: 'NodeDataChanged', path: '/x', classes: ['data'] })),
  ...(closed.length === 0
    ? {}
    : { closed: closed.map((session) => ({ session, state: 'CLOSED' as const })) }),
});

const batch = (n: number, ev: number, items: DistributorItem[]): DistributorBatch => ({
  v: PROTOCOL_VERSION,
  batch: n,
  zxid: Math.max(ev, ...items.map((i) => i.zxid)),
  ev,
  items,
});

describe('the ev read rule (ordered notifications)', () => {
  it('owes nothing when no event was sent up to the record, or the channel is past it', () => {
    expect(mayOweEvent(record(7), 0)).toBe(false);
    expect(mayOweEvent(record(7, { ev: 5 }), 5)).toBe(false);
    expect(mayOweEvent(record(7, { ev: 5 }), 6)).toBe(false);
    expect(mayOweEvent(record(7, { ev: 5 }), 4)).toBe(true);
  });

  it('waits for the latest event in the marker up to the record', () => {
    expect(owedByMarker([3, 6, 9], 7)).toBe(6);
    expect(owedByMarker([3, 6, 9], 9)).toBe(9);
    expect(owedByMarker([3, 6, 9], 100)).toBe(9);
  });

  it('waits for the oldest event of a marker newer than the record: the owed one comes before it', () => {
    expect(owedByMarker([8, 9], 7)).toBe(8);
  });

  it('owes nothing when no event was ever sent to the session', () => {
    expect(owedByMarker(undefined, 7)).toBeUndefined();
    expect(owedByMarker([], 7)).toBeUndefined();
  });

  it('still honours the epoch map of records written before ev, capped at the record', () => {
    expect(owedByEpochMap(record(9, { epoch: { '42': 6, '43': 8 } }), '42')).toBe(6);
    expect(owedByEpochMap(record(9, { epoch: { '42': 12 } }), '42')).toBe(9);
    expect(owedByEpochMap(record(9, { epoch: { '43': 8 } }), '42')).toBeUndefined();
  });
});

describe('ev and markers, the distributor side', () => {
  it("stamps each txn with the latest event-sending zxid up to it, from the batch's ev", () => {
    const at = eventZxids([
      batch(1, 4, [txn(5, []), txn(6, [7]), txn(7, [])]),
      batch(2, 6, [txn(8, []), txn(9, [7, 8])]),
    ]);
    expect([...at]).toEqual([
      [5, 4],
      [6, 6],
      [7, 6],
      [8, 6],
      [9, 9],
    ]);
  });

  it('does not count an event to a session its own txn closes', () => {
    const at = eventZxids([batch(1, 2, [txn(3, [7], [7]), txn(4, [])])]);
    expect(at.get(3)).toBe(2);
    expect(markersFor([batch(1, 2, [txn(3, [7], [7])])]).size).toBe(0);
  });

  it('keeps per session the latest events, ascending and at most MARKER_EVENTS', () => {
    const items = Array.from({ length: MARKER_EVENTS + 4 }, (_, i) => txn(i + 1, [7, 7]));
    const markers = markersFor([batch(1, 0, items), batch(2, items.length, [txn(items.length + 1, [8])])]);
    const seven = markers.get(7)!;
    expect(seven).toHaveLength(MARKER_EVENTS);
    expect(seven[0]).toBe(5);
    expect(seven.at(-1)).toBe(MARKER_EVENTS + 4);
    expect(markers.get(8)).toEqual([MARKER_EVENTS + 5]);
  });

  it('applies a batch of the first layout still in the queue: its epoch map stands in for ev', () => {
    const old = { v: PROTOCOL_VERSION, batch: 4, zxid: 9, epoch: { '1': 6, '2': 8 }, items: [txn(9, [])] };
    const decoded = decodeChecked(DistributorBatchSchema, encodeMessage(old));
    expect(decoded.ok).toBe(true);
    if (decoded.ok) expect(eventZxids([decoded.value]).get(9)).toBe(8);
  });

  it("turns a first-layout writer state's epoch map into lastEventZxid", () => {
    const state = withoutEpochMap({ zxid: 20, batch: 3, epoch: { '1': 12, '2': 15 }, persistentWatches: [] });
    expect(state).toEqual({ zxid: 20, batch: 3, lastEventZxid: 15, persistentWatches: [] });
    const empty = withoutEpochMap({ zxid: 20, batch: 3, epoch: {}, persistentWatches: [] });
    expect(empty).toEqual({ zxid: 20, batch: 3, persistentWatches: [] });
  });
});

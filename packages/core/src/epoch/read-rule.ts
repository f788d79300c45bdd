/*
 * Ordered notifications, the reader's side (DESIGN.md §4, docs/guarantees.md "Ordered
 * notifications"): a client sees a watch event before it sees any data written after the change
 * that fired it.
 *
 * Events travel on the session's channel, while reads go straight to the user store, so a read
 * could otherwise return data newer than an event still on its way. Each record carries `ev`, the
 * latest transaction up to its own `txZxid` that sent anyone an event, and the distributor writes
 * the marker `owed/<session>` (the zxids of the latest events sent to the session) before the
 * records of the batch that sends them. A client that has taken its channel up to `C`:
 * - `ev ≤ C`: no event up to the record can be owed to it beyond what it took: no wait;
 * - otherwise it reads its marker (after the record, so the marker covers every event up to
 *   `txZxid`) and waits until `C` reaches the latest event in it up to `txZxid`, or, when every
 *   event in it is newer than the record, the oldest one (the events owed are older still and come
 *   first on the ordered channel).
 */

import type { NodeRecord } from '../protocol/messages.js';

/**
 * Whether the record may owe `sessionId` an event the client has not taken, i.e. whether the
 * client must consult its marker ({@link owedByMarker}) before using the record.
 *
 * @param record - a node record (or tombstone) as read from the user store
 * @param channel - the zxid up to which the client has taken every channel message (`C`)
 */
export function mayOweEvent(record: NodeRecord, channel: number): boolean {
  return record.ev !== undefined && record.ev > channel;
}

/**
 * The channel position a session must reach before it may use a record written at `txZxid`,
 * given its marker: the latest event in it up to `txZxid`, or the oldest when all are newer;
 * `undefined` when the marker names nothing (no event was ever sent to the session).
 *
 * @param marker - the session's marker as read after the record (ascending zxids)
 * @param txZxid - the record's `txZxid`
 */
export function owedByMarker(marker: readonly number[] | undefined, txZxid: number): number | undefined {
  if (marker === undefined || marker.length === 0) return undefined;
  let owed: number | undefined;
  for (const e of marker) if (e <= txZxid) owed = e;
  return owed ?? marker[0];
}

/**
 * The first layout's rule, for records written before `ev` (they carry the per-session `epoch`
 * map): the event the map names for the session, capped at the record's own `txZxid` (the map is
 * the whole batch's; an event of a later change is not one the record's data comes after).
 *
 * @param sessionId - the reading session, as the decimal string the map is keyed by
 */
export function owedByEpochMap(record: NodeRecord, sessionId: string): number | undefined {
  const pending = record.epoch?.[sessionId];
  return pending === undefined ? undefined : Math.min(pending, record.txZxid);
}

/**
 * Ordered notifications, the writer's and distributor's side (docs/guarantees.md "Ordered
 * notifications", docs/scale.md "The design" §2): a client sees a watch event before any data
 * written after the change that fired it.
 *
 * Nothing here grows with the number of watchers or sessions: the writer keeps one scalar,
 * `lastEventZxid` (the latest transaction that sent any event), and hands it to the distributor
 * with each batch (`ev`); the distributor stamps each record with the value as of the record's own
 * transaction, and writes, before any record of the batch, a small marker per session it sends
 * events to (`owed/<session>`: the zxids of those events). A reader that meets a record with
 * `ev` past its channel position reads its own marker to learn which event it must wait for (the
 * client's side of the rule is in `epoch/read-rule.ts`).
 */
import { MARKER_EVENTS } from '../ports/user-store.js';
import type { DistributorBatch, DistributorItem, WriterState } from '../protocol/messages.js';

type TxnItem = Extract<DistributorItem, { type: 'txn' }>;

/**
 * Whether the transaction sends a watch event to a session that outlives it. Events to the
 * sessions it closes are left out: those read nothing any more, so nothing is owed to them.
 */
export function sendsEvents(item: TxnItem): boolean {
  return ownedEvents(item).length > 0;
}

/** The events of `item` to sessions that outlive it. */
function ownedEvents(item: TxnItem): TxnItem['events'] {
  const closed = item.closed;
  if (closed === undefined || closed.length === 0) return item.events;
  return item.events.filter((e) => !closed.some((c) => c.session === e.session));
}

/**
 * The `ev` of each transaction of `batches` (in order): the latest zxid up to and including the
 * transaction that sent an event, starting from the first batch's `ev`. A later batch's own `ev`
 * is at least the running value (the writer committed it after the earlier batch), so the larger
 * of the two is carried on: a redelivered batch handed back together with newer ones cannot move
 * it back.
 */
export function eventZxids(batches: readonly DistributorBatch[]): Map<number, number> {
  const at = new Map<number, number>();
  let ev = 0;
  for (const batch of batches) {
    ev = Math.max(ev, batch.ev ?? 0, ...Object.values(batch.epoch ?? {}));
    for (const item of batch.items) {
      if (item.type !== 'txn') continue;
      if (sendsEvents(item)) ev = Math.max(ev, item.zxid);
      at.set(item.zxid, ev);
    }
  }
  return at;
}

/**
 * The markers to write before the records of `batches`: per session that outlives the event, the
 * zxids of the latest {@link MARKER_EVENTS} events sent to it by these batches, ascending.
 *
 * A marker holds only the events of the last invocation that sent the session any (the earlier
 * ones are not read back: that would cost a GET per notified session). That suffices: the reader
 * waits for the latest event in it up to the record it read, and when every event in it is newer
 * than the record, for the oldest one — a wait for an event surely on its way, which comes after
 * every older event on the ordered channel.
 */
export function markersFor(batches: readonly DistributorBatch[]): Map<number, number[]> {
  const markers = new Map<number, number[]>();
  for (const batch of batches)
    for (const item of batch.items) {
      if (item.type !== 'txn') continue;
      for (const e of ownedEvents(item)) {
        let list = markers.get(e.session);
        if (list === undefined) {
          list = [];
          markers.set(e.session, list);
        }
        if (list.at(-1) !== item.zxid) list.push(item.zxid);
        if (list.length > MARKER_EVENTS) list.shift();
      }
    }
  return markers;
}

/**
 * A writer state as this layout keeps it: a state written by the first layout still holds the
 * per-session `epoch` map, which becomes `lastEventZxid` (its largest entry, so that every record
 * written from now on tells a reader an event may be owed up to there). The map itself is dropped
 * with the next commit; the sessions it named get no marker until their next event (the migration
 * step that writes their markers is listed in docs/scale.md).
 */
export function withoutEpochMap(state: WriterState): WriterState {
  if (state.epoch === undefined) return state;
  const { epoch, ...rest } = state;
  const newest = Math.max(state.lastEventZxid ?? 0, ...Object.values(epoch));
  return newest > 0 ? { ...rest, lastEventZxid: newest } : rest;
}

/*
 * Ordered notifications, the reader's side (DESIGN.md §4, docs/guarantees.md "Ordered
 * notifications"): a client sees a watch event before it sees any data written after the change
 * that fired it.
 */

import type { NodeRecord } from '../protocol/messages.js';

/**
 * The channel position a session must have reached before it may use `record`: the zxid of a watch
 * event owed to it, or `undefined` when the record owes it nothing.
 *
 * Events travel on the session's channel, while reads go straight to the user store, so a read
 * could otherwise return data newer than an event still on its way. The writer keeps an epoch (per
 * session, the highest zxid of an event sent to it and not yet acknowledged) and the distributor
 * stamps it on every record it writes. When the record names `sessionId`, the reader waits until
 * it has taken every channel message up to that zxid. The wait is capped at the record's own
 * `txZxid`: the epoch is the one of the whole distributor batch, and an event fired by a change
 * after the record's transaction is not one the record's data comes after (the record shows the
 * state before that change), so waiting for it would only delay the read.
 *
 * @param record - a node record (or tombstone) as read from the user store
 * @param sessionId - the reading session, as the decimal string the epoch map is keyed by
 * @returns `min(record.epoch[sessionId], record.txZxid)`, or `undefined` when the epoch does not
 *   name the session
 */
export function owedEventZxid(record: NodeRecord, sessionId: string): number | undefined {
  const pending = record.epoch?.[sessionId];
  return pending === undefined ? undefined : Math.min(pending, record.txZxid);
}

/**
 * The epoch, writer and distributor side: for each session, the highest zxid of a watch event sent
 * to it that it has not acknowledged yet.
 *
 * Guarantee kept: ordered notifications — a client sees a watch event before any data written
 * after the change that fired it. The writer records every event it sends here, commits the map
 * with its state, and hands it to the distributor with each batch; the distributor stamps it on
 * every record it writes, so a reader of such a record waits for the event first (the client's
 * side of the rule is in `epoch/read-rule.ts`). A request's `ack` releases the session's entry.
 */
import type { DistributorBatch, WatchNotification } from '../protocol/messages.js';

/** Unacknowledged events per session id (as a string key): the highest zxid of each. */
export type Epoch = Record<string, number>;

/**
 * Records that `events`, fired by the transaction `zxid`, are on their way to their sessions —
 * except to the sessions that transaction ends (`ended`): they read nothing any more, and no ack
 * of theirs would ever release the entry.
 */
export function recordEvents(
  epoch: Epoch,
  events: readonly WatchNotification[],
  zxid: number,
  ended: readonly number[] = [],
): void {
  for (const e of events) {
    if (ended.includes(e.session)) continue;
    const sid = String(e.session);
    epoch[sid] = Math.max(epoch[sid] ?? 0, zxid);
  }
}

/**
 * Releases a session's entry once its client has taken every event up to it from its channel
 * (`ack` is the highest zxid the client took); records written later stop naming the session.
 */
export function releaseOnAck(epoch: Epoch, session: number, ack: number | undefined): void {
  if (ack === undefined) return;
  const sid = String(session);
  const pending = epoch[sid];
  if (pending !== undefined && pending <= ack) delete epoch[sid];
}

/** A closed session is owed nothing: its entry goes with it. */
export function forgetSession(epoch: Epoch, session: number): void {
  delete epoch[String(session)];
}

/**
 * The epoch the distributor stamps on the records of one invocation: the last batch's, which covers
 * every event of the earlier ones still unacknowledged; `undefined` when no event is pending.
 */
export function epochToStamp(last: DistributorBatch): Epoch | undefined {
  return Object.keys(last.epoch).length === 0 ? undefined : last.epoch;
}

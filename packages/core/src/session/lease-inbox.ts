/**
 * Lease renewals through a queue, for clouds whose store writes cost more than a message (GCP:
 * a Datastore write is $1.80 per million, a small Pub/Sub message about $0.04): the client
 * publishes its renewal, and the heartbeat drains the queue in batches at the start of each run and
 * folds the renewals into one system-store item (`meta/lease-fold`: the latest renewal per session),
 * one write per run whatever the number of clients. See docs/guarantees.md "Sessions".
 *
 * Guarantee kept: sessions — a renewal counts from the moment the heartbeat folds it; the heartbeat
 * folds before it decides, and the writer's expiry re-check reads the fold. Renewals are acked only
 * once folded, so a run that fails leaves them for the next. Only a renewal whose MAC the session's
 * key verifies is folded (`lease.ts`): anyone may publish to the lease queue, and the fold, which
 * only the heartbeat writes, then holds nothing the session's owner did not sign.
 */
import { ConditionFailedError } from '../ports/errors.js';
import type { Queue } from '../ports/queue.js';
import type { LeaseKey, LeaseRenewal, LeaseRenewer } from '../ports/session-lease.js';
import type { SystemStore } from '../ports/system-store.js';
import type { SessionItem } from '../protocol/messages.js';
import { type SignedRenewal, verifiedRenewal } from './lease.js';

/** The id of the `meta` item that holds folded renewals: session id → latest renewal time. */
export const LEASE_FOLD_ID = 'lease-fold';

/** Folded renewals, by session id. */
export type LeaseFold = Record<string, number>;

/** How often a run tries to write the fold when other runs write it too. */
const FOLD_ATTEMPTS = 5;

/** Most receives one heartbeat run makes on the lease queue (each takes up to the queue's batch). */
const MAX_RECEIVES = 50;

/** A client's renewals as messages on a queue (the heartbeat folds them). */
export class QueueLeaseRenewer implements LeaseRenewer {
  /**
   * A third of the timeout, as ZooKeeper pings: a message costs next to nothing (Pub/Sub: ≈ $0.04
   * per million at its 1,000-byte minimum), and a renewal counts only once the heartbeat has pulled
   * it, so the margin matters more than the count.
   */
  readonly renewalShare = 1 / 3;

  constructor(private readonly queue: Queue) {}

  /**
   * Publishes the renewal of session `lease.owner` (the lease item's id is not needed: the fold is
   * keyed by session, and only the heartbeat writes it); `'renewed'` once the queue took it
   * (whether the session lives is told on the channel).
   */
  async renew(lease: LeaseKey, renewal: SignedRenewal): Promise<LeaseRenewal> {
    const session = lease.owner;
    const id = `${session}:${renewal.at}`;
    // A group of its own: renewals need no order (the latest wins), and a per-session group would
    // hand the heartbeat only the oldest of a session's queued renewals per run.
    const body = JSON.stringify({ s: session, at: renewal.at, mac: renewal.mac });
    await this.queue.send([{ body, group: id, dedupId: id }]);
    return 'renewed';
  }
}

/** A renewal message's content, or undefined for anything else (a hostile or garbled message). */
function renewalOf(body: string): { session: string; renewal: { at: unknown; mac: unknown } } | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    // Not JSON: not a renewal. Acked with the rest, so it cannot block the queue.
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const { s, at, mac } = parsed as { s?: unknown; at?: unknown; mac?: unknown };
  if (typeof s !== 'number' || !Number.isSafeInteger(s) || s <= 0) return undefined;
  return { session: String(s), renewal: { at, mac } };
}

/**
 * Drains the lease queue and folds its renewals into the fold item, keeping only sessions in
 * `live` (the ones the heartbeat just listed, by id; an ended session's entry goes) and only
 * renewals signed with the session's key (others are acked and dropped). Returns the fold.
 * @throws ConditionFailedError when other runs kept writing the fold (the renewals stay queued).
 */
export async function foldRenewals(
  store: SystemStore,
  queue: Queue,
  live: ReadonlyMap<string, SessionItem>,
  visibilityTimeoutMs: number,
): Promise<LeaseFold> {
  const receipts: string[] = [];
  const latest = new Map<string, number>();
  for (let i = 0; i < MAX_RECEIVES; i++) {
    const batch = await queue.receive({ max: queue.capabilities.maxBatch, visibilityTimeoutMs, waitMs: 0 });
    if (batch.length === 0) break;
    for (const m of batch) {
      receipts.push(m.receipt);
      const r = renewalOf(m.body);
      const session = r === undefined ? undefined : live.get(r.session);
      // Forged, unsigned or of an ended session: acked with the rest and not folded.
      const at = session === undefined ? undefined : verifiedRenewal(session, r!.renewal, () => undefined);
      if (at !== undefined && at > (latest.get(r!.session) ?? Number.NEGATIVE_INFINITY))
        latest.set(r!.session, at);
    }
  }
  let fold: LeaseFold = {};
  // Another run may write the fold meanwhile (scheduler runs overlapping): read again and merge.
  for (let attempt = 1; ; attempt++) {
    const item = await store.get<LeaseFold>({ kind: 'meta', id: LEASE_FOLD_ID });
    const merged = merge(item?.value ?? {}, latest, live);
    fold = merged.fold;
    if (!merged.changed) break;
    try {
      await store.transact([
        { type: 'put', kind: 'meta', id: LEASE_FOLD_ID, value: fold, expect: item?.version ?? 'absent' },
      ]);
      break;
    } catch (error) {
      if (!(error instanceof ConditionFailedError) || attempt >= FOLD_ATTEMPTS) throw error;
    }
  }
  if (receipts.length > 0) await queue.ack(receipts);
  return fold;
}

/** `before` with the newer renewals of `latest`, keeping only sessions in `live`. */
function merge(
  before: LeaseFold,
  latest: ReadonlyMap<string, number>,
  live: ReadonlyMap<string, unknown>,
): { fold: LeaseFold; changed: boolean } {
  const fold: LeaseFold = {};
  let changed = false;
  for (const [session, at] of Object.entries(before)) {
    if (live.has(session)) fold[session] = at;
    else changed = true;
  }
  for (const [session, at] of latest) {
    if (!live.has(session) || at <= (fold[session] ?? Number.NEGATIVE_INFINITY)) continue;
    fold[session] = at;
    changed = true;
  }
  return { fold, changed };
}

/** The folded renewal time of `session` in a fold item's value, if any. */
export function foldedRenewal(fold: unknown, session: number): number | undefined {
  if (typeof fold !== 'object' || fold === null) return undefined;
  const at = (fold as LeaseFold)[String(session)];
  return typeof at === 'number' ? at : undefined;
}

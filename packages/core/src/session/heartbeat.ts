/**
 * The heartbeat: the scheduled function that notices sessions and TTL nodes past their deadline.
 *
 * Guarantee kept: sessions — a client that vanished without closing has its session (and its
 * ephemeral nodes) ended after its timeout plus the clock-skew margin, counted from its last
 * admitted request or lease renewal, whichever is later (`lease.ts`). It only asks; the writer
 * checks again and ends the session as an ordinary write, so every client sees it at one zxid.
 */
import { type Clock, systemClock } from '../ports/clock.js';
import { ConditionFailedError } from '../ports/errors.js';
import type { Queue } from '../ports/queue.js';
import type { ScheduledHandler } from '../ports/runtime.js';
import type { SystemItem, SystemStore } from '../ports/system-store.js';
import { encodeMessage } from '../protocol/codec.js';
import {
  PROTOCOL_VERSION,
  type SessionItem,
  type SystemNodeItem,
  type WriteRequest,
  type WriterState,
} from '../protocol/messages.js';
import { readThroughLog, unpackState, WRITER_STATE_ID } from '../writer/redo-log.js';
import { WRITER_GROUP } from '../writer/writer.js';
import {
  coveringGroup,
  groupLeaseId,
  groupRenewedAt,
  leaseId,
  sessionDeadline,
  verifiedRenewal,
} from './lease.js';
import { foldedRenewal, foldRenewals } from './lease-inbox.js';

export interface HeartbeatOptions {
  systemStore: SystemStore;
  writerQueue: Queue;
  clock?: Clock;
  /** Clocks of different functions differ by up to this much; expiry waits it out. */
  clockSkewMs?: number;
  /** Where clients queue their lease renewals, when they do not write leases themselves (GCP). */
  leaseQueue?: Queue;
}

/**
 * How long a group lease no session names may go unrenewed before the heartbeat removes it: far
 * longer than any session timeout, so that only the group of a process that stopped is removed.
 */
const STALE_GROUP_MS = 3_600_000;

/** How long renewals a run received stay hidden: longer than a run takes to fold and ack them. */
const LEASE_QUEUE_VISIBILITY_MS = 60_000;

/**
 * Removes the group leases (`lease-group.ts`) of processes that stopped: no session's lease names
 * them and they were not renewed for {@link STALE_GROUP_MS}. Each process makes a group of its own,
 * so without this every restart of a gateway would leave an item in the lease listing for good.
 */
async function dropStaleGroups(
  store: SystemStore,
  leases: readonly SystemItem[],
  now: number,
): Promise<void> {
  const named = new Set<string>();
  for (const l of leases) {
    const g = coveringGroup(l.value);
    if (g !== undefined) named.add(groupLeaseId(g));
  }
  for (const l of leases) {
    if (!l.id.startsWith('g') || named.has(l.id)) continue;
    const at = groupRenewedAt(l.value) ?? (typeof l.value === 'number' ? l.value : undefined);
    if (at === undefined || at + STALE_GROUP_MS >= now) continue;
    try {
      await store.transact([{ type: 'delete', kind: 'lease', id: l.id, expect: l.version }]);
    } catch (error) {
      // Renewed since the listing: its process is alive after all, and the group stays.
      if (!(error instanceof ConditionFailedError)) throw error;
    }
  }
}

/**
 * The heartbeat function: finds sessions past their deadline and TTL nodes past their TTL, and
 * asks the writer to end them. The writer checks again before acting (the session may have been
 * renewed meanwhile), so that the removal gets a zxid and fires watches like any write.
 */
export function createHeartbeat(options: HeartbeatOptions): ScheduledHandler {
  const clock = options.clock ?? systemClock;
  const skew = options.clockSkewMs ?? 1000;
  let run = 0;
  return async () => {
    const now = clock.now();
    run++;
    const requests: WriteRequest[] = [];
    const tag = `${now.toString(36)}.${run}.${Math.random().toString(36).slice(2, 8)}`;
    // The writer's last commit may not be applied yet (its invocation crashed right after the
    // commit, and the retry has not replayed it): its log holds the newer items, read through it.
    const stored = await options.systemStore.get<WriterState>({ kind: 'meta', id: WRITER_STATE_ID });
    const log = stored === undefined ? undefined : unpackState(stored.value).log;
    const sessions = readThroughLog(await options.systemStore.list<SessionItem>('session'), 'session', log);
    // Renewals queued by clients (GCP) are folded first, so that the decisions below see them.
    const fold =
      options.leaseQueue === undefined
        ? undefined
        : await foldRenewals(
            options.systemStore,
            options.leaseQueue,
            new Map(sessions.map((s) => [String(s.value.id), s.value])),
            LEASE_QUEUE_VISIBILITY_MS,
          );
    // Sessions past their request-renewed deadline; only then are the leases read (one listing).
    // With a lease queue clients never write their lease items (the writer's, from the open, add
    // nothing to `expiresAt`): not read, as Datastore bills a listing per item.
    const overdue = sessions.filter((item) => item.value.expiresAt + skew < now);
    const listed =
      overdue.length === 0 || options.leaseQueue !== undefined ? [] : await options.systemStore.list('lease');
    const leases = new Map(listed.map((l) => [l.id, l.value]));
    await dropStaleGroups(options.systemStore, listed, now);
    for (const item of overdue) {
      const id = item.value.id;
      // Only a renewal its owner signed counts (docs/guarantees.md "Security model").
      const renewed = verifiedRenewal(item.value, leases.get(leaseId(id)), (lease) => leases.get(lease));
      if (sessionDeadline(item.value, renewed, foldedRenewal(fold, id)) + skew < now) {
        requests.push({
          v: PROTOCOL_VERSION,
          id: `hb:${tag}:s${item.value.id}`,
          session: 0,
          seq: 0,
          op: { type: 'expireSession', target: item.value.id },
        });
      }
    }
    const ttl = readThroughLog(await options.systemStore.list<{ path: string }>('ttl'), 'ttl', log);
    if (ttl.length > 0) {
      const read = await options.systemStore.getMany<SystemNodeItem>(
        ttl.map((t) => ({ kind: 'node', id: t.id })),
      );
      const nodes = ttl.map((t, i) => {
        const item = read[i];
        return readThroughLog(
          item === undefined ? [] : [item],
          'node',
          log?.filter((op) => op.id === t.id),
        )[0];
      });
      nodes.forEach((n, i) => {
        const node = n?.value.node;
        if (node === undefined || node.kind !== 'ttl' || node.stat.numChildren > 0) return;
        if (node.stat.mtime + (node.ttlMs ?? 0) + skew < now) {
          requests.push({
            v: PROTOCOL_VERSION,
            id: `hb:${tag}:t${i}`,
            session: 0,
            seq: 0,
            op: { type: 'expireTtl', path: ttl[i]!.id, mzxid: node.stat.mzxid },
          });
        }
      });
    }
    const max = options.writerQueue.capabilities.maxBatch;
    for (let i = 0; i < requests.length; i += max) {
      await options.writerQueue.send(
        requests
          .slice(i, i + max)
          .map((r) => ({ body: encodeMessage(r), group: WRITER_GROUP, dedupId: r.id })),
      );
    }
  };
}

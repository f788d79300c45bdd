/**
 * The heartbeat: the scheduled function that notices sessions and TTL nodes past their deadline.
 *
 * Guarantee kept: sessions — a client that vanished without closing has its session (and its
 * ephemeral nodes) ended after its timeout plus the clock-skew margin, counted from its last
 * admitted request or lease renewal, whichever is later (`lease.ts`). It only asks; the writer
 * checks again and ends the session as an ordinary write, so every client sees it at one zxid.
 */
import type { Channel } from '../ports/channel.js';
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
import { withChildStat } from '../writer/child-stats.js';
import { readThroughLog, unpackState, WRITER_STATE_ID } from '../writer/redo-log.js';
import { WRITER_GROUP } from '../writer/writer.js';
import {
  groupOf,
  groupRenewedAt,
  isGroupLeaseId,
  leaseIdOf,
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
  /** The session channels: each run reaps what ended sessions left ({@link Channel.reap}, if any). */
  channel?: Channel;
}

/**
 * How long a group lease no session names may go unrenewed before the heartbeat removes it: far
 * longer than any session timeout, so that only the group of a process that stopped is removed.
 */
const STALE_GROUP_MS = 3_600_000;

/**
 * Most lease items one run removes (`dropUnclaimedLeases`): a flood of garbage items is then
 * removed over several runs, and never keeps a run from its expiries (done before the removals).
 */
const MAX_LEASE_DROPS_PER_RUN = 100;

/** How long renewals a run received stay hidden: longer than a run takes to fold and ack them. */
const LEASE_QUEUE_VISIBILITY_MS = 60_000;

/** Deletes lease item `id` on the version read; a write since (a renewal, a re-open) keeps it. */
async function dropLeaseItem(store: SystemStore, item: SystemItem): Promise<void> {
  try {
    await store.transact([{ type: 'delete', kind: 'lease', id: item.id, expect: item.version }]);
  } catch (error) {
    // Written since the listing: a renewal of a live group, or an item re-created; looked at again
    // at the next listing.
    if (!(error instanceof ConditionFailedError)) throw error;
  }
}

/**
 * Removes lease items no session claims, when the leases are listed anyway (no read of its own):
 * the lease item of a session is the one under the id only its key gives (`leaseIdOf`), and a group
 * item is claimed by a session whose lease puts it under the group (`groupOf`). Everything else
 * goes:
 * - group items (`g…`) no session claims and not renewed for {@link STALE_GROUP_MS} (each gateway
 *   process makes a group of its own, so every restart would otherwise leave one for good), or
 *   whose time is no time or lies ahead (an unclaimed group's MAC cannot be checked: a time ahead
 *   would keep it for good);
 * - items under a listed session's number but not its lease id: another client's writes (clients
 *   may write any item of the lease partition: docs/guarantees.md "Lease availability"), or a lease
 *   from before leases were keyed by the session key;
 * - items under any other number, once a second look finds no session (applied or in the writer's
 *   log) whose lease they are: the session may have opened after the session listing, its lease
 *   created in the same commit, so the listing alone does not tell.
 * Each removal is one write, made only for items someone wrote outside the protocol, or left by a
 * stopped process: an idle deployment removes nothing. At most {@link MAX_LEASE_DROPS_PER_RUN} a run.
 */
async function dropUnclaimedLeases(
  store: SystemStore,
  leases: readonly SystemItem[],
  sessions: readonly SystemItem<SessionItem>[],
  now: number,
  skew: number,
): Promise<void> {
  const claimed = new Set<string>();
  const values = new Map(leases.map((l) => [l.id, l.value]));
  for (const { value: session } of sessions) {
    const id = leaseIdOf(session);
    claimed.add(id);
    const group = groupOf(session, values.get(id));
    if (group !== undefined) claimed.add(group.id);
  }
  const numbers = new Set(sessions.map((s) => String(s.value.id)));
  const sure: SystemItem[] = [];
  const unsure: SystemItem[] = [];
  for (const l of leases) {
    if (claimed.has(l.id)) continue;
    if (isGroupLeaseId(l.id)) {
      const at = groupRenewedAt(l.value);
      if (at === undefined || at > now + skew || at + STALE_GROUP_MS < now) sure.push(l);
    } else if (numbers.has(numberOf(l.id) ?? '')) sure.push(l);
    else unsure.push(l);
  }
  for (const l of sure.slice(0, MAX_LEASE_DROPS_PER_RUN)) await dropLeaseItem(store, l);
  const room = MAX_LEASE_DROPS_PER_RUN - Math.min(sure.length, MAX_LEASE_DROPS_PER_RUN);
  await dropUnclaimedByNumber(store, unsure.slice(0, room));
}

/**
 * Removes those of `unsure` (lease items under numbers the session listing did not show) that are
 * no session's lease on a second look: the sessions they name, as they are now (through the
 * writer's log: a session's item may be applied after the commit that created its lease).
 */
async function dropUnclaimedByNumber(store: SystemStore, unsure: readonly SystemItem[]): Promise<void> {
  if (unsure.length === 0) return;
  const stored = await store.get<WriterState>({ kind: 'meta', id: WRITER_STATE_ID });
  const log = stored === undefined ? undefined : unpackState(stored.value).log;
  const named = new Set(unsure.map((l) => numberOf(l.id)).filter((n) => n !== undefined));
  const read = await store.getMany<SessionItem>([...named].map((id) => ({ kind: 'session', id })));
  const found = readThroughLog(
    read.filter((r) => r !== undefined),
    'session',
    log?.filter((op) => op.kind === 'session' && named.has(op.id)),
  );
  const leasesNow = new Set(found.map((s) => leaseIdOf(s.value)));
  for (const l of unsure) if (!leasesNow.has(l.id)) await dropLeaseItem(store, l);
}

/** The session number a session-shaped lease item id (`<session>.<tag>`, or a bare id) begins with. */
function numberOf(id: string): string | undefined {
  const head = id.split('.', 1)[0]!;
  return /^[1-9][0-9]{0,15}$/.test(head) ? head : undefined;
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
    const state = stored === undefined ? undefined : unpackState(stored.value);
    const log = state?.log;
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
    for (const item of overdue) {
      const id = item.value.id;
      // Only the item under the id the session key gives is its lease (docs/guarantees.md "Lease
      // availability"), and only a renewal its owner signed counts ("Security model").
      const renewed = verifiedRenewal(item.value, leases.get(leaseIdOf(item.value)), (lease) =>
        leases.get(lease),
      );
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
        // A TTL node's numChildren may be kept in the writer state (writer/child-stats.ts).
        const node = withChildStat(n?.value, state?.childStats?.[ttl[i]!.id])?.node;
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
    // Last, so that however many items other clients wrote, the expiries above went out first.
    if (listed.length > 0) await dropUnclaimedLeases(options.systemStore, listed, sessions, now, skew);
    // What ended sessions' channels still keep for their clients, once they had time to read it.
    await options.channel?.reap?.();
  };
}

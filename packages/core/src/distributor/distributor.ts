/**
 * The distributor: applies committed batches to the user store and sends replies and events.
 *
 * Guarantees kept: single system image (records stamped with their zxid, the watermark moved only
 * after every record of the batches is written, deletions as tombstones until then), ordered
 * notifications (records carry `ev`, markers are written before the watermark; messages go out
 * per session in zxid order), durability
 * (replies only after the data is readable). Every step is idempotent under redelivery.
 */
import { worldReadable } from '../acl/model.js';
import { eventZxids, markersFor } from '../epoch/pending-events.js';
import { rootStat } from '../model/stat.js';
import type { Channel } from '../ports/channel.js';

import type { BatchHandler, BatchResult } from '../ports/runtime.js';
import type { UserStore, Zone } from '../ports/user-store.js';
import type { ChannelBody, ChildEntry, NodeRecord } from '../protocol/messages.js';
import { mapLimit } from '../util/map-limit.js';
import { closingRecord } from './closing-record.js';
import { batchesOf, ChannelKeys, protectedChildren, stubOf } from './inputs.js';
import { type ChannelAddress, Outbox } from './outbox.js';

export interface DistributorOptions {
  userStore: UserStore;
  channel: Channel;
  /** How many user-store writes run at once. */
  concurrency?: number;
  /**
   * The deployment's channel secret, shared with the writer: every channel message but the few
   * `leftUnsealed` names is sealed with its session's channel key (session/auth.ts). Absent: sent
   * as they are.
   */
  channelSecret?: string;
  /** Test hook: awaited between two record writes, to observe the store mid-batch. */
  betweenWrites?: (path: string) => Promise<void>;
  log?: (message: string, details?: Record<string, unknown>) => void;
}

const EMPTY = new Uint8Array(0);

/**
 * The distributor function (ZooKeeper's followers): applies committed batches to the user store in
 * zxid order, publishes the watermark, and then delivers replies and watch events on each session's
 * channel in zxid order.
 *
 * Order of effects, which the guarantees rest on:
 * 0. the marker `owed/<session>` of each session the batches send events to (ordered
 *    notifications: a reader who meets a record with `ev` past its channel reads it, so it must be
 *    in place before the watermark makes any record of the batches usable);
 * 1. every record of the batches is written, each stamped with its txn's zxid and `ev`
 *    (deleted nodes as tombstones), so a reader who meets a record newer than the watermark waits;
 *    with them, every child index entry the batches add (new children's, deleted children's
 *    tombstones);
 * 2. the watermark moves to the batches' last zxid: all of them become visible at once. A call
 *    of one batch instead writes one of its records last, stamped `complete`, and every other
 *    record names it (`closer`): readers take it as the watermark ({@link closingRecord});
 * 3. tombstones are removed, and the index entries of deleted children (live entry, then tombstone);
 * 4. channel messages go out, per session in zxid order (replies only after the data is readable);
 * 5. the channels of sessions that ended are removed;
 * 6. so are their markers.
 * Protected nodes (ACL without `world:anyone` READ): the record goes to the protected zone and a
 * stub (Stat, no data) to the open zone, protected first, both in step 1; their child index entries
 * go to the protected zone. A node whose ACL moves it between zones has its entries copied to the
 * new zone in step 1 and removed from the old one in step 3, with the old zone's record: a reader
 * never meets a missing node, nor, once the watermark covers the change, data it may not read.
 * A retry repeats them all with the same result; clients drop duplicate messages by their order key.
 */
export function createDistributor(options: DistributorOptions): BatchHandler {
  const { userStore, channel } = options;
  const concurrency = options.concurrency ?? 16;
  const keys = new ChannelKeys(options.channelSecret);

  return async (messages, context): Promise<BatchResult> => {
    const batches = batchesOf(messages, options.log);
    if (batches.length === 0) return { failed: [] };

    const state = new Map<string, NodeRecord | null>();
    const dirty = new Set<string>();
    const load = async (path: string): Promise<NodeRecord | null> => {
      if (state.has(path)) return state.get(path)!;
      const r = (await userStore.get(path)) ?? null;
      const live = r === null || r.deleted ? null : r.protected === true ? await full(path) : r;
      state.set(path, live);
      return live;
    };
    // A stub's record: written to the protected zone before the stub, so it is there.
    const full = async (path: string): Promise<NodeRecord> => {
      const r = await userStore.get(path, 'protected');
      if (r === undefined) throw new Error(`the protected record of ${path} is missing beside its stub`);
      return r;
    };
    // The zone of each node written, as of the end of the batches (deleted: where its record was).
    const zoneOf = (r: NodeRecord | null, deletedProtected: boolean): Zone =>
      (r === null ? deletedProtected : !worldReadable(r.acl)) ? 'protected' : 'open';
    const deletedProtected = new Set<string>();
    // Nodes whose ACL moved them between zones (`moved` writes), and those of redelivered batches.
    const moved = new Set<string>();
    const staleMoved = new Set<string>();

    const outbox = new Outbox();
    const post = outbox.post.bind(outbox);

    const last = batches[batches.length - 1]!;
    // Ordered notifications: each record carries the latest event-sending zxid up to its own txn.
    const evAt = eventZxids(batches);
    // A redelivered batch at or below the watermark is applied already, and later batches may have
    // overwritten its records since: writing them again would roll readers back. Only its
    // messages go out again (clients drop the ones they had). For a batch the writer committed
    // in this invocation just now (inline), the writer says how far batches are applied: its zxid
    // before the commit. The watermark is not read then.
    const applied = context.appliedThrough ?? (await userStore.getWatermark());
    const staleDeletes = new Set<string>();
    // Child index entries: written with the records (new lives and tombstones), and the ended
    // lives' entries removed after the watermark, as node tombstones are (a redelivered batch
    // removes them again, never writes them: they may be gone already).
    const kidPuts: ChildEntry[] = [];
    const kidRemovals: ChildEntry[] = [];
    const retired: ChannelAddress[] = [];
    const ended: ChannelAddress[] = [];
    for (const batch of batches) {
      let n = 0;
      const stale = batch.zxid <= applied;
      // Where each resumed session's messages go, moving on at each `moved` item.
      const routes = new Map(Object.entries(batch.routes ?? {}));
      const at = (session: number, inc?: number): ChannelAddress => ({
        session,
        inc: inc ?? routes.get(String(session)) ?? 0,
      });
      for (const item of batch.items) {
        if (item.type === 'txn') {
          if (stale)
            for (const w of item.writes) {
              if (!w.put) staleDeletes.add(w.path);
              if (w.put && w.moved === true) staleMoved.add(w.path);
            }
          for (const k of item.kids ?? []) {
            if (!stale) kidPuts.push(k);
            if (k.dzxid !== undefined) kidRemovals.push(k);
          }
          for (const w of stale ? [] : item.writes) {
            if (w.put) {
              // A write without data (a child added) keeps the node's data, null or not.
              const kept = w.data === undefined ? await load(w.path) : null;
              const data = w.data ?? kept?.data ?? EMPTY;
              const record: NodeRecord = { data, stat: w.stat, txZxid: item.zxid };
              if ((w.data === undefined ? kept?.nullData : w.nullData) === true) record.nullData = true;
              // Every put carries the node's current ACL when it is not open (see tree/nodes.ts).
              if (w.acl !== undefined) record.acl = w.acl;
              const ev = evAt.get(item.zxid) ?? 0;
              if (ev > 0) record.ev = ev;
              state.set(w.path, record);
              if (w.moved === true) moved.add(w.path);
            } else {
              state.set(w.path, null);
              if (w.protected === true) deletedProtected.add(w.path);
              else deletedProtected.delete(w.path);
            }
            dirty.add(w.path);
          }
          for (const e of item.events) {
            post(at(e.session), [batch.batch, n++], item.zxid, {
              type: 'event',
              event: { type: e.type, path: e.path },
              classes: e.classes,
            });
          }
          for (const c of item.closed ?? []) {
            post(at(c.session), [batch.batch, n++], item.zxid, { type: 'session', state: c.state });
            ended.push(at(c.session));
          }
          if (item.reply !== undefined) {
            post(
              at(item.reply.session, item.reply.inc),
              [batch.batch, n++],
              item.zxid,
              { type: 'reply', seq: item.reply.seq, result: item.reply.result },
              item.reply.inc !== undefined,
            );
          }
        } else if (item.type === 'reply') {
          const body: ChannelBody = { type: 'reply', seq: item.to.seq };
          if (item.result !== undefined) body.result = item.result;
          if (item.error !== undefined) body.error = item.error;
          post(
            at(item.to.session, item.to.inc),
            [batch.batch, n++],
            item.zxid,
            body,
            item.to.inc !== undefined,
          );
        } else if (item.type === 'moved') {
          // The replaced incarnation learns it: its client stops and removes its channel, which
          // stays until then so that the notice is read (or until the session ends: `retired`).
          const from = { session: item.session, inc: item.from };
          post(from, [batch.batch, n++], item.zxid, { type: 'session', state: 'MOVED' });
          routes.set(String(item.session), item.to);
        } else if (item.type === 'retired') {
          for (const inc of item.incarnations) retired.push({ session: item.session, inc });
        } else {
          // A read through the writer (with a watch, or of a protected node): the node as of this
          // point in zxid order. Only what the writer checked the session may have: no data for
          // getACL (ADMIN alone lets it through), neither data nor ACL for exists (needs nothing).
          const r = await load(item.path);
          const withData = item.aclOnly !== true && item.statOnly !== true;
          const record: NodeRecord | null =
            r === null
              ? null
              : {
                  data: withData ? r.data : EMPTY,
                  ...(r.nullData === true && withData ? { nullData: true } : {}),
                  stat: r.stat,
                  txZxid: r.txZxid,
                  ...(r.acl === undefined || item.statOnly === true ? {} : { acl: r.acl }),
                };
          const result: ChannelBody & { type: 'reply' } = {
            type: 'reply',
            seq: item.to.seq,
            result: { type: 'read', record },
          };
          // A protected node's children: its reader cannot list them, so they come with the record.
          if (item.children === true && r !== null && !worldReadable(r.acl))
            result.result = {
              type: 'read',
              record,
              children: await protectedChildren(userStore, item.path, r, kidPuts, moved.has(item.path)),
            };
          post(at(item.to.session, item.to.inc), [batch.batch, n++], item.zxid, result);
        }
      }
    }

    // 0. markers of the sessions sent events, before any record: a redelivered batch at or below
    // the watermark writes none (a newer marker may have replaced its own since, and going back
    // to an older one would let a reader miss a newer owed event).
    const markers = markersFor(batches.filter((b) => b.zxid > applied));
    await mapLimit([...markers], concurrency, ([session, events]) => userStore.putMarker(session, events));
    // 1. records (deleted nodes as tombstones stamped with the deleting zxid)
    const lastZxidOf = new Map<string, number>();
    for (const batch of batches)
      for (const item of batch.zxid <= applied ? [] : batch.items)
        if (item.type === 'txn') for (const w of item.writes) lastZxidOf.set(w.path, item.zxid);
    const tombstones: string[] = [];
    // Every record but the closing one names it: a reader that meets one waits for that record.
    const closed = (r: NodeRecord): NodeRecord => (closer === undefined ? r : { ...r, closer });
    const writeRecord = async (path: string) => {
      const r = state.get(path) ?? null;
      if (options.betweenWrites !== undefined) await options.betweenWrites(path);
      if (r !== null && !worldReadable(r.acl)) {
        // The record first: whoever follows the stub (the distributor) finds it.
        await userStore.put(path, closed(r), 'protected');
        await userStore.put(path, closed(stubOf(r)));
      } else if (r === null) {
        tombstones.push(path);
        const txZxid = lastZxidOf.get(path)!;
        const tomb: NodeRecord = { data: EMPTY, stat: rootStat(), txZxid, deleted: true };
        const ev = evAt.get(txZxid) ?? 0;
        if (ev > 0) tomb.ev = ev;
        await userStore.put(path, closed(tomb));
      } else {
        await userStore.put(path, path === closer ? { ...r, complete: true } : closed(r));
      }
    };
    // Each parent's zone at the end of the batches: where its new entries go.
    const parentZone = async (parent: string): Promise<Zone> => {
      const r = state.has(parent) ? state.get(parent)! : await load(parent);
      return zoneOf(r, deletedProtected.has(parent));
    };
    // Entries to carry from the old zone to the new one of each node that changed zone.
    const carried: { entries: ChildEntry[]; from: Zone; to: Zone; path: string }[] = [];
    await mapLimit([...moved], concurrency, async (path) => {
      const r = state.get(path) ?? null;
      if (r === null) return;
      const to = zoneOf(r, false);
      const from: Zone = to === 'open' ? 'protected' : 'open';
      carried.push({ entries: await userStore.listChildren(path, from), from, to, path });
    });
    // A call that applies one batch closes with one of its records, stamped `complete` and
    // written last, and leaves the watermark where it is (see `closingRecord`).
    const redelivered = messages.some((m) => m.attempt > 1);
    const closer = closingRecord(batches, applied, dirty, state, moved, redelivered);
    // Child entries beside the records, in one pool: all must be in place before the watermark or
    // the closing record.
    const writes: (() => Promise<void>)[] = [
      ...kidPuts.map((k) => async () => userStore.putChild(k, await parentZone(k.parent))),
      ...carried.flatMap((c) => c.entries.map((k) => () => userStore.putChild(k, c.to))),
      ...[...dirty].filter((path) => path !== closer).map((path) => () => writeRecord(path)),
    ];
    await mapLimit(writes, concurrency, (write) => write());
    // 2. the watermark, or the closing record (readers take it as the watermark)
    const wm = Math.max(last.zxid, applied);
    if (closer !== undefined) await writeRecord(closer);
    else if (wm > applied) await userStore.putWatermark(wm);
    // 3. tombstones go (also those an earlier attempt left when it stopped after the watermark)
    await mapLimit(tombstones, concurrency, async (path) => {
      await userStore.delete(path);
      if (deletedProtected.has(path) || moved.has(path)) await userStore.delete(path, 'protected');
    });
    // The old zone of nodes that changed zone: its entries, and a record left in the protected zone.
    await mapLimit(carried, concurrency, async ({ entries, from, path }) => {
      await mapLimit(entries, concurrency, (k) => userStore.deleteChild(k, from));
      if (from === 'protected') await userStore.delete(path, 'protected');
    });
    // A redelivered batch's zone change: the attempt before copied the entries before moving the
    // watermark, and may have stopped before removing the old zone's.
    await mapLimit(
      [...staleMoved].filter((path) => !dirty.has(path)),
      concurrency,
      async (path) => {
        const r = await userStore.get(path);
        if (r === undefined || r.deleted === true) return;
        const from: Zone = r.protected === true ? 'open' : 'protected';
        const left = await userStore.listChildren(path, from);
        await mapLimit(left, concurrency, (k) => userStore.deleteChild(k, from));
        if (from === 'protected') await userStore.delete(path, 'protected');
      },
    );
    // The live entry of an ended life goes first, then its tombstone: a listing between the two
    // still learns the life ended. Both go only now, after the parent's record with the new pzxid
    // is written, so a reader whose listing misses them sees the parent move on and lists again.
    // A store that keeps the tombstone in place of the live entry removes the life in one call.
    await mapLimit(kidRemovals, concurrency, async (tombstone) => {
      const { dzxid: _ended, ...live } = tombstone;
      const zone = await parentZone(tombstone.parent);
      if (userStore.childTombstoneInPlace !== true) await userStore.deleteChild(live, zone);
      await userStore.deleteChild(tombstone, zone);
    });
    await mapLimit([...staleDeletes], concurrency, async (path) => {
      if (dirty.has(path)) return;
      const r = await userStore.get(path);
      if (r?.deleted && r.txZxid <= applied) {
        await userStore.delete(path);
        // Whether or not the node was protected: removing a missing record is not an error.
        await userStore.delete(path, 'protected');
      }
    });
    // 4. messages
    await outbox.send(channel, keys, wm, concurrency);
    // 5. channels of ended sessions and of the incarnations they replaced go, the secret one and
    // the bootstrap one (which its client removes once it has its key, unless it stopped before;
    // an adapter keeps what a listening client has not read yet)
    await mapLimit([...ended, ...retired], concurrency, async (to) => {
      const tag = keys.tag(to.session, to.inc);
      if (tag !== undefined) await channel.remove(to.session, to.inc, tag);
      // With a secret channel, the bootstrap one carried only the open or resume reply.
      await channel.remove(to.session, to.inc, undefined, { drained: tag !== undefined });
    });
    // A refused resume's bootstrap channel: its client reads the answer and stops; the adapter
    // removes the channel later if the client cannot (Channel.abandon).
    if (channel.abandon !== undefined)
      await mapLimit(outbox.refusedResumes(), concurrency, (to) => channel.abandon!(to.session, to.inc));
    // 6. the markers of ended sessions: nothing is owed to them any more
    const endedSessions = new Set(ended.map((to) => to.session));
    await mapLimit([...endedSessions], concurrency, (session) => userStore.putMarker(session, []));
    return { failed: [] };
  };
}

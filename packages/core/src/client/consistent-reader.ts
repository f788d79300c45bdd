/*
 * Consistent reads (docs/guarantees.md "Single system image" and "Ordered notifications"). A direct
 * read goes straight to the user store, after the client's earlier requests (FIFO client order);
 * a record newer than the watermark waits until its whole transaction is visible (no half
 * transactions, no going back in time), unless it is `complete` (the only record of its batch,
 * which stands in for the watermark); a record naming a watch event still owed to this session
 * waits until the channel has delivered it (the event comes before the data written after it).
 */

import { mayOweEvent, owedByEpochMap, owedByMarker } from '../epoch/read-rule.js';
import { FaaSKeeperError } from '../model/errors.js';
import { parentOf, ROOT } from '../model/path.js';
import type { Clock } from '../ports/clock.js';
import type { UserStore } from '../ports/user-store.js';
import type { NodeRecord, ReadWatchKind } from '../protocol/messages.js';
import { type Backoff, retry } from '../runtime/retry.js';
import { type ChildrenRead, readChildren } from './children-reader.js';
import type { FifoOrder } from './fifo-order.js';
import type { OpOf, ReplyFor } from './replies.js';
import type { Watcher } from './types.js';
import type { WatchRegistry } from './watch-registry.js';

/** The poll of the watermark found it behind (a failed read counts as behind); `cause`: the read's error. */
class WatermarkBehind extends Error {
  constructor(cause?: unknown) {
    super('watermark behind', cause === undefined ? undefined : { cause });
  }
}

/** A node's record turned into a protected stub during a direct listing of its children. */
class NowProtected extends Error {
  constructor() {
    super('the node became protected');
  }
}

/** A failed store read while reading `path`: the client lost its connection to the deployment. */
const readFailed =
  (path: string) =>
  (error: unknown): never => {
    throw new FaaSKeeperError('CONNECTIONLOSS', `CONNECTIONLOSS: reading ${path} failed`, {
      path,
      cause: error,
    });
  };

/** Back-off of the watermark poll. */
const WATERMARK_POLL: Backoff = { immediate: 3, baseMs: 4, maxMs: 20 };

/** Sends a request through the writer; `onReply` runs as the reply is taken from the channel. */
export type WatchedReadRequest = (
  op: OpOf<'watchedRead'>,
  onReply: (result: ReplyFor<'watchedRead'>) => void,
) => Promise<ReplyFor<'watchedRead'>>;

/** The client's reads, and how far its view of the deployment has come. */
export class ConsistentReader {
  private channel = 0;
  private wm = 0;
  private waiters: { zxid: number; resolve: () => void }[] = [];
  /**
   * The session's marker as last read, and the watermark known before that read: the marker then
   * covered every event up to `covers` (the distributor writes it before the watermark moves), so
   * it answers for any record up to `covers` without another read.
   */
  private marker: { covers: number; events: number[] | undefined } | undefined;

  constructor(
    private readonly userStore: UserStore,
    private readonly clock: Clock,
    private readonly opTimeoutMs: number,
    private readonly sessionId: string,
    private readonly order: FifoOrder,
    private readonly watches: WatchRegistry,
    private readonly watchedRead: WatchedReadRequest,
    /**
     * A read waits for the channel to reach `zxid` (+∞: for a reply still to come): events held
     * behind another read's reply up to it must go on (see channel-inbox.ts `EventHold`).
     */
    private readonly awaitsChannel: (zxid: number) => void = () => {},
  ) {}

  /** The highest zxid this client has taken from its channel (sent as `ack` with each request). */
  get channelZxid(): number {
    return this.channel;
  }

  /** The highest watermark this client knows: every transaction up to it is visible in the user store. */
  get watermark(): number {
    return this.wm;
  }

  /** A newer watermark was heard (from a channel message or the store). */
  advanceWatermark(wm: number): void {
    if (wm > this.wm) this.wm = wm;
  }

  /** Every channel message up to `zxid` has been taken: reads waiting for an event up to it go on. */
  advanceChannel(zxid: number): void {
    if (zxid <= this.channel) return;
    this.channel = zxid;
    const ready = this.waiters.filter((w) => w.zxid <= zxid);
    if (ready.length > 0) {
      this.waiters = this.waiters.filter((w) => w.zxid > zxid);
      for (const w of ready) w.resolve();
    }
  }

  /** Whether a read waits for a channel message (an event it is owed). */
  get waiting(): boolean {
    return this.waiters.length > 0;
  }

  /** The session ended: reads waiting for the channel go on (there is nothing more to wait for). */
  release(): void {
    for (const w of this.waiters) w.resolve();
    this.waiters = [];
  }

  /**
   * A node's record, or null when it does not exist: straight from the user store, or (with a
   * watch) through the writer so that the watch is set atomically with the read.
   */
  async read(path: string, kind: ReadWatchKind, watcher: Watcher | undefined): Promise<NodeRecord | null> {
    if (watcher !== undefined) return (await this.readThroughWriter(path, kind, watcher)).record;
    const record = await this.order.read(() => this.readRecord(path));
    // A protected node's stub serves `exists`; its data only the writer's path can give.
    if (record?.protected !== true || kind === 'exists') return record;
    return (await this.readThroughWriter(path, kind, undefined)).record;
  }

  /**
   * A node's record for getACL: direct, or for a protected node through the writer, which checks
   * READ or ADMIN and answers without the data.
   */
  async readAcl(path: string): Promise<NodeRecord | null> {
    const record = await this.order.read(() => this.readRecord(path));
    if (record?.protected !== true) return record;
    return (await this.readThroughWriter(path, 'data', undefined, true)).record;
  }

  /**
   * A read through the writer, answered by the distributor at its point in zxid order: with a
   * watch, set atomically with the read; without, a protected node's record (and, for `children`,
   * its children), READ checked by the writer against the session's identities.
   */
  private readThroughWriter(
    path: string,
    kind: ReadWatchKind,
    watcher: Watcher | undefined,
    acl = false,
  ): Promise<ReplyFor<'watchedRead'>> {
    if (watcher === undefined)
      return this.watchedRead(
        { type: 'watchedRead', path, watch: kind, unwatched: true, ...(acl ? { acl: true as const } : {}) },
        // Nothing to register: no watch is set.
        () => {},
      );
    return this.watchedRead({ type: 'watchedRead', path, watch: kind }, ({ record }) => {
      // Registered as the reply is taken, before any later channel message: no event can slip by.
      if (kind !== 'children') this.watches.add(path, 'data', watcher);
      else if (record !== null) this.watches.add(path, 'children', watcher);
    });
  }

  /**
   * A node's children and the Stat they belong to, from the user store's child index (see
   * children-reader.ts); with a watch, the first record comes through the writer, which sets it.
   * `admit` refuses a missing node or one the client may not read.
   */
  async readChildren(
    path: string,
    watcher: Watcher | undefined,
    admit: (record: NodeRecord | null) => NodeRecord,
  ): Promise<ChildrenRead> {
    // A protected node's children come with its record from the distributor (no listing).
    const answered = (reply: ReplyFor<'watchedRead'>): ChildrenRead | undefined => {
      if (reply.children === undefined) return undefined;
      return { children: [...reply.children].sort(), stat: admit(reply.record).stat };
    };
    // A listing of the index; `protected` when the node is (or became) a stub: its entries are
    // out of reach, and the read goes through the writer (outside the FIFO hold of a direct read,
    // which a request issued inside it would wait for forever).
    const direct = async (first: NodeRecord | null): Promise<ChildrenRead | 'protected'> => {
      if (first?.protected === true) return 'protected';
      try {
        return await readChildren(first, {
          path,
          admit,
          reread: async () => {
            const again = await this.readRecord(path);
            if (again?.protected === true) throw new NowProtected();
            return again;
          },
          list: () => this.userStore.listChildren(path),
          clock: this.clock,
          deadline: this.clock.now() + this.opTimeoutMs,
        });
      } catch (error) {
        if (error instanceof NowProtected) return 'protected';
        throw error;
      }
    };
    const fromReply = async (reply: ReplyFor<'watchedRead'>): Promise<ChildrenRead> => {
      const done = answered(reply) ?? (await direct(reply.record));
      if (done !== 'protected') return done;
      // Protected again since the reply: ask the writer again (each ask is a later point in zxid
      // order). Its reply comes after whatever the channel holds back now.
      this.awaitsChannel(Number.POSITIVE_INFINITY);
      return fromReply(await this.readThroughWriter(path, 'children', undefined));
    };
    if (watcher !== undefined) return fromReply(await this.readThroughWriter(path, 'children', watcher));
    const done = await this.order.read(async () => direct(await this.readRecord(path)));
    return done === 'protected' ? fromReply(await this.readThroughWriter(path, 'children', undefined)) : done;
  }

  private async readRecord(path: string): Promise<NodeRecord | null> {
    const deadline = this.clock.now() + this.opTimeoutMs;
    let record: NodeRecord | undefined;
    try {
      record = await this.userStore.get(path);
    } catch (error) {
      readFailed(path)(error);
    }
    if (record !== undefined) {
      // A `complete` record is the watermark at its zxid (its batch wrote it last, after every
      // earlier batch was applied whole): nothing to wait for. A record that names the record
      // closing its batch waits for that record instead of the watermark.
      if (record.complete === true) this.advanceWatermark(record.txZxid);
      else if (record.txZxid > this.wm)
        await this.awaitWatermark(record.txZxid, deadline, path, this.probe(record.txZxid, record.closer));
      const known = this.owedEvent(record, path);
      const owed = typeof known === 'object' ? await known : known;
      if (owed !== undefined && this.channel < owed) await this.awaitChannel(owed, deadline, path);
      if (!record.deleted) return record;
    }
    // A missing node carries no `ev`, yet its deletion may be newer than a watch event still on
    // its way to us. The deletion rewrote the parent's record, which carries `ev`: reading
    // the parent waits as needed. Only a client holding watches can be owed an event.
    if (path !== ROOT && this.watches.holdsWatches()) await this.readRecord(parentOf(path));
    return null;
  }

  /**
   * The channel position this client must reach before it may use `record` (ordered
   * notifications, `epoch/read-rule.ts`), or `undefined` when the record owes it nothing. Only a
   * client holding watches can be owed an event: a watch is held from the reply that set it until
   * its event is taken, and a removal answers after every event sent before it.
   */
  private owedEvent(record: NodeRecord, path: string): number | undefined | Promise<number | undefined> {
    const old = owedByEpochMap(record, this.sessionId);
    if (old !== undefined) return old;
    // Most records owe nothing, known without a read (nor a promise: this is every direct read).
    if (!mayOweEvent(record, this.channel) || !this.watches.holdsWatches()) return undefined;
    return this.owedByMarker(record, path);
  }

  /** {@link owedEvent} by the session's marker, read again when it may not cover the record. */
  private async owedByMarker(record: NodeRecord, path: string): Promise<number | undefined> {
    if (this.marker === undefined || this.marker.covers < record.txZxid) {
      // The record's transaction is visible (waited for above), so `wm` ≥ its `txZxid`.
      const covers = Math.max(this.wm, record.txZxid);
      const events = await this.userStore.getMarker(Number(this.sessionId)).catch(readFailed(path));
      if (this.marker === undefined || covers > this.marker.covers) this.marker = { covers, events };
    }
    return owedByMarker(this.marker.events, record.txZxid);
  }

  /**
   * How far the store is visible, as one read shows it: the watermark, or, for a record of a batch
   * that closes with the record at `closer`, that record (docs/guarantees.md "Single system
   * image"): at `zxid` or later, or gone, the batch is in place (and a `complete` one is the
   * watermark at its own zxid); older, the distributor has not reached it yet.
   */
  private probe(zxid: number, closer: string | undefined): () => Promise<number> {
    if (closer === undefined) return () => this.userStore.getWatermark();
    return async () => {
      const c = await this.userStore.get(closer);
      if (c === undefined) return zxid;
      if (c.txZxid < zxid) return this.wm;
      if (c.complete === true) return c.txZxid;
      // Rewritten by a later one-batch call (it names its own closer): this batch was in place
      // before that call began. Naming none, by a call of several batches (a redelivery), which
      // wrote it beside the others and moves the watermark last: read the watermark.
      return c.closer !== undefined ? zxid : this.userStore.getWatermark();
    };
  }

  /**
   * Waits until the whole transaction `zxid` (and all before it) is visible. A poll of `probe`
   * (the watermark, or the record closing the batch), run by the one retry helper: still behind
   * `zxid` (or a failed read, which may be just as stale) is the failure retried until the
   * deadline, on the client's clock.
   */
  private async awaitWatermark(
    zxid: number,
    deadline: number,
    path: string,
    probe: () => Promise<number>,
  ): Promise<void> {
    try {
      await retry(
        async () => {
          const wm = await probe().catch((error: unknown) => {
            // Retried like a stale watermark: the deadline bounds it, and the timeout names the path.
            throw new WatermarkBehind(error);
          });
          this.advanceWatermark(wm);
          if (this.wm < zxid) throw new WatermarkBehind();
        },
        {
          clock: this.clock,
          isTransient: (error) => error instanceof WatermarkBehind,
          deadline,
          // The distributor usually moves the watermark within a few ms: poll at once a few times,
          // then back off, at most 20 ms apart.
          backoff: WATERMARK_POLL,
        },
      );
    } catch (error) {
      if (!(error instanceof WatermarkBehind)) throw error;
      throw new FaaSKeeperError(
        'OPERATIONTIMEOUT',
        `OPERATIONTIMEOUT: ${path} stayed ahead of the watermark`,
        { path, cause: error.cause ?? error },
      );
    }
  }

  /** Waits until this client has taken every channel message up to `zxid` (ordered notifications). */
  private awaitChannel(zxid: number, deadline: number, path: string): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const timer = this.clock.setTimeout(
        () => {
          this.waiters = this.waiters.filter((w) => w !== waiter);
          reject(
            new FaaSKeeperError(
              'OPERATIONTIMEOUT',
              `OPERATIONTIMEOUT: waiting for a watch event before reading ${path}`,
              { path },
            ),
          );
        },
        Math.max(0, deadline - this.clock.now()),
      );
      const waiter = {
        zxid,
        resolve: () => {
          this.clock.clearTimeout(timer);
          resolve();
        },
      };
      this.waiters.push(waiter);
      // After the waiter is in place: events let through now are taken at once, and advance it.
      this.awaitsChannel(zxid);
    });
  }
}

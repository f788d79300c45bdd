/**
 * One chunk of a writer batch: the requests applied together and committed in one system-store
 * transaction, and the output the distributor gets for it.
 *
 * Guarantee kept: atomicity — everything a chunk changes lives in its {@link Overlay} and its
 * in-memory writer state until the commit, so a request (or a chunk) that does not fit rolls back
 * whole; the output lists replies and transactions in zxid order.
 */
import type { AuthConfig } from '../acl/check.js';
import type { FaaSKeeperError } from '../model/errors.js';
import type { Clock } from '../ports/clock.js';
import {
  type DistributorBatch,
  type DistributorItem,
  PROTOCOL_VERSION,
  type ReplyResult,
  type Requester,
  type WriterState,
} from '../protocol/messages.js';
import { withIncarnation } from '../session/resume.js';
import type { Overlay } from './overlay.js';
import { Txn } from './txn.js';

/** The sessions `items` send channel messages to. */
function recipients(items: readonly DistributorItem[]): Set<number> {
  const out = new Set<number>();
  for (const item of items) {
    if (item.type === 'txn') {
      for (const e of item.events) out.add(e.session);
      for (const c of item.closed ?? []) out.add(c.session);
      if (item.reply !== undefined) out.add(item.reply.session);
    } else if (item.type !== 'moved' && item.type !== 'retired') out.add(item.to.session);
  }
  return out;
}

/** A point a chunk can return to: its writer state and how much output it had. */
export interface ChunkSnapshot {
  state: WriterState;
  items: number;
  endedRoutes: number;
}

/**
 * The working set the request handlers (tree, watch, session, epoch) operate on: the overlay of the
 * system store, the writer state as it will be committed, and the output collected so far.
 */
export class Chunk {
  readonly items: DistributorItem[] = [];
  /** Incarnations of resumed sessions when the chunk began. */
  private readonly startRoutes: Readonly<Record<string, number>> | undefined;
  /** `lastEventZxid` as the chunk began: the batch's `ev`, from which the distributor counts on. */
  private readonly startEv: number;
  /** Sessions ended in this chunk: their incarnation routes go once the output has them. */
  endedRoutes = new Set<number>();

  constructor(
    readonly overlay: Overlay,
    public state: WriterState,
    readonly clock: Clock,
    /** Clocks of different functions differ by up to this much; expiry waits it out. */
    readonly skew: number,
    /** The deployment's super digest and gateway key, for `addAuth`. */
    readonly auth: AuthConfig = {},
  ) {
    this.startRoutes = state.incarnations;
    this.startEv = state.lastEventZxid ?? 0;
  }

  /** A new transaction with the next zxid, timed by the writer's clock. */
  nextTxn(): Txn {
    return new Txn(this.state.zxid + 1, this.clock.now());
  }

  snapshot(): ChunkSnapshot {
    // persistentWatches is only ever replaced, never mutated; incarnations likewise
    // (`withIncarnation`); the scalars are copied with the object.
    return {
      state: { ...this.state },
      items: this.items.length,
      endedRoutes: this.endedRoutes.size,
    };
  }

  restore(s: ChunkSnapshot): void {
    this.state = s.state;
    this.items.length = s.items;
    // Insertion order: the entries added after the snapshot are the last ones.
    this.endedRoutes = new Set([...this.endedRoutes].slice(0, s.endedRoutes));
  }

  /**
   * What the distributor gets once the chunk is committed, with the incarnation routes of resumed
   * sessions it sends to as they stood when the chunk began (a `moved` item changes a session's
   * route from its place in the chunk on). The routes of sessions the chunk ended are dropped from
   * the state then.
   */
  output(): DistributorBatch {
    const batch: DistributorBatch = {
      v: PROTOCOL_VERSION,
      batch: this.state.batch + 1,
      zxid: this.state.zxid,
      ev: this.startEv,
      items: this.items,
    };
    const all = this.startRoutes;
    if (all !== undefined || this.endedRoutes.size > 0) {
      const routes: Record<string, number> = {};
      for (const session of recipients(this.items)) {
        const inc = all?.[String(session)];
        if (inc !== undefined) routes[String(session)] = inc;
      }
      if (Object.keys(routes).length > 0) batch.routes = routes;
      for (const session of this.endedRoutes) this.state = withIncarnation(this.state, session, undefined);
    }
    return batch;
  }

  /** A reply that changes nothing (an error, a ping, a sync), at the current zxid. */
  reply(to: Requester, result?: ReplyResult, error?: FaaSKeeperError): void {
    const item: DistributorItem = { type: 'reply', zxid: this.state.zxid, to };
    if (result !== undefined) item.result = result;
    if (error !== undefined) {
      item.error = { code: error.code, message: error.message };
      if (error.path !== undefined) item.error.path = error.path;
      if (error.results !== undefined) item.error.results = error.results;
    }
    this.items.push(item);
  }
}

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
import type { Overlay } from './overlay.js';
import { Txn } from './txn.js';

/** A point a chunk can return to: its writer state and how much output it had. */
export interface ChunkSnapshot {
  state: WriterState;
  items: number;
}

/**
 * The working set the request handlers (tree, watch, session, epoch) operate on: the overlay of the
 * system store, the writer state as it will be committed, and the output collected so far.
 */
export class Chunk {
  readonly items: DistributorItem[] = [];

  constructor(
    readonly overlay: Overlay,
    public state: WriterState,
    readonly clock: Clock,
    /** Clocks of different functions differ by up to this much; expiry waits it out. */
    readonly skew: number,
    /** The deployment's super digest and gateway key, for `addAuth`. */
    readonly auth: AuthConfig = {},
  ) {}

  /** A new transaction with the next zxid, timed by the writer's clock. */
  nextTxn(): Txn {
    return new Txn(this.state.zxid + 1, this.clock.now());
  }

  snapshot(): ChunkSnapshot {
    // persistentWatches is only ever replaced, never mutated; epoch is mutated, so it is copied.
    return { state: { ...this.state, epoch: { ...this.state.epoch } }, items: this.items.length };
  }

  restore(s: ChunkSnapshot): void {
    this.state = s.state;
    this.items.length = s.items;
  }

  /** What the distributor gets once the chunk is committed. */
  output(): DistributorBatch {
    return {
      v: PROTOCOL_VERSION,
      batch: this.state.batch + 1,
      zxid: this.state.zxid,
      epoch: { ...this.state.epoch },
      items: this.items,
    };
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

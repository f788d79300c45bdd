import type { FaaSKeeperClient } from '../index.js';
import { exclusiveDriver } from './lock-internals.js';
import { ReentrantLock } from './reentrant-lock.js';
import type { RecipeOptions } from './util.js';

/** Node-name prefix of a mutex contender (Curator's `lock-`). */
export const MUTEX_LOCK_NAME = 'lock-';

/**
 * A distributed mutex (Apache Curator's `InterProcessMutex`).
 *
 * Each acquirer creates an ephemeral sequential node `_c_<guid>-lock-<seq>` under the lock path;
 * the lowest sequence holds the lock. Every other acquirer sets a one-shot `exists` watch on the
 * node just before its own, so a release (or the holder's session expiring) wakes exactly one
 * waiter. The guid makes the create safe when its reply is lost: the mutex looks for its own node
 * before creating again, so no orphan node blocks the queue.
 *
 * Guarantees: at most one holder at a time among live sessions; waiters get the lock in the order
 * they asked for it (FIFO); a holder whose session ends loses the lock to the next in line.
 * Re-entrant per instance (see {@link ReentrantLock}); two instances exclude each other.
 */
export class Mutex extends ReentrantLock {
  /** A mutex on `path` (created, with its ancestors, on first use). */
  constructor(zk: FaaSKeeperClient, path: string, options: RecipeOptions = {}) {
    super(zk, path, MUTEX_LOCK_NAME, [MUTEX_LOCK_NAME], exclusiveDriver, options);
  }
}

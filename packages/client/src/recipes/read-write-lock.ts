import type { FaaSKeeperClient } from '../index.js';
import { exclusiveDriver, type LockDriver } from './lock-internals.js';
import { ReentrantLock } from './reentrant-lock.js';
import { type RecipeOptions, stripProtected } from './util.js';

/** Node-name prefix of a reader (Curator's `__READ__`). */
export const READ_LOCK_NAME = '__READ__';
/** Node-name prefix of a writer (Curator's `__WRIT__`). */
export const WRITE_LOCK_NAME = '__WRIT__';

const isWriter = (name: string) => stripProtected(name).startsWith(WRITE_LOCK_NAME);

/**
 * A distributed read-write lock (Apache Curator's `InterProcessReadWriteLock`): any number of
 * readers, or one writer.
 *
 * Readers and writers queue as ephemeral sequential nodes under one path (`__READ__<seq>` and
 * `__WRIT__<seq>`). A writer holds the lock when its node is the first of all; otherwise it watches
 * the node just before it. A reader holds the lock when no writer is before it; otherwise it watches
 * the last writer before it — readers that follow one writer all wake when it leaves, writers only
 * one at a time. Queueing is fair: a reader arriving after a waiting writer waits for it.
 *
 * The holder of the write lock may also take the read lock of the same instance (a downgrade:
 * take the read lock, then release the write lock); the reverse would deadlock and is not allowed.
 * Both locks are re-entrant per instance.
 */
export class ReadWriteLock {
  /** The shared lock. */
  readonly readLock: ReentrantLock;
  /** The exclusive lock. */
  readonly writeLock: ReentrantLock;

  /** A read-write lock on `path` (created, with its ancestors, on first use). */
  constructor(zk: FaaSKeeperClient, path: string, options: RecipeOptions = {}) {
    const names = [READ_LOCK_NAME, WRITE_LOCK_NAME];
    this.writeLock = new ReentrantLock(zk, path, WRITE_LOCK_NAME, names, exclusiveDriver, options);
    const writeLock = this.writeLock;
    const readDriver: LockDriver = (sorted, ourIndex) => {
      // Our own write lock does not block our read lock (downgrade).
      if (writeLock.isAcquired()) return { acquired: true };
      for (let i = ourIndex - 1; i >= 0; i--) {
        const name = sorted[i]!;
        if (isWriter(name)) return { acquired: false, watch: name };
      }
      return { acquired: true };
    };
    this.readLock = new ReentrantLock(zk, path, READ_LOCK_NAME, names, readDriver, options);
  }
}

/**
 * @faaskeeper/client/recipes — Apache Curator's coordination recipes on a FaaSKeeper client:
 * locks, leader election, barriers and a tree cache.
 * @packageDocumentation
 */
export { Barrier, DoubleBarrier, type DoubleBarrierOptions, READY_NODE } from './barrier.js';
export {
  LATCH_NAME,
  LeaderLatch,
  type LeaderLatchOptions,
  type LeaderLatchState,
} from './leader-latch.js';
export { MUTEX_LOCK_NAME, Mutex } from './mutex.js';
export { READ_LOCK_NAME, ReadWriteLock, WRITE_LOCK_NAME } from './read-write-lock.js';
export { ReentrantLock } from './reentrant-lock.js';
export { type CachedNode, TreeCache, type TreeCacheEvent } from './tree-cache.js';
export { PROTECTED_PREFIX, type RecipeOptions, type TimeoutOption } from './util.js';

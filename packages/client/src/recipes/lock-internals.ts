import type { Clock } from '@faaskeeper/core';
import { CreateMode, type Data, type FaaSKeeperClient, FaaSKeeperError } from '../index.js';
import {
  createProtected,
  deleteQuietly,
  dropWatch,
  ensurePath,
  join,
  nameOf,
  sortedSequential,
  waitFor,
  watchOnce,
} from './util.js';

/** What a lock driver decides for one contender: it holds the lock, or which node it must wait on. */
export type LockDecision = { acquired: true } | { acquired: false; watch: string };

/**
 * The rule of one kind of lock over the sorted contenders (Curator's `LockInternalsDriver`):
 * `sorted` holds every contender's node name in sequence order, `ourIndex` is ours.
 */
export type LockDriver = (sorted: readonly string[], ourIndex: number) => LockDecision;

/** The exclusive rule: the lowest sequence holds the lock; everybody else waits on the node just before it. */
export const exclusiveDriver: LockDriver = (sorted, ourIndex) =>
  ourIndex === 0 ? { acquired: true } : { acquired: false, watch: sorted[ourIndex - 1]! };

/**
 * The shared algorithm of the lock recipes (Curator's `LockInternals`): an ephemeral sequential
 * node under the lock path, a driver that says whether it holds the lock, and otherwise a one-shot
 * `exists` watch on exactly the node the driver names — so a release wakes one waiter, not all of
 * them (no herd effect).
 */
export class LockInternals {
  constructor(
    private readonly zk: FaaSKeeperClient,
    /** The lock's path: contenders' nodes are its children. */
    readonly basePath: string,
    /** Every node-name prefix the driver sorts together (a read-write lock has two). */
    private readonly lockNames: readonly string[],
    private readonly clock: Clock,
  ) {}

  /**
   * Creates a contender node named `lockName` and waits until `driver` says it holds the lock.
   * @returns the node's path, or null when `deadline` passed first (the node is then deleted).
   * @throws FaaSKeeperError SESSIONEXPIRED when the session ends while waiting; the node is gone with it.
   */
  async attempt(
    lockName: string,
    driver: LockDriver,
    deadline: number | undefined,
    data: Data = '',
  ): Promise<string | null> {
    await ensurePath(this.zk, this.basePath);
    const ourPath = await createProtected(
      this.zk,
      this.basePath,
      lockName,
      data,
      CreateMode.EPHEMERAL_SEQUENTIAL,
    );
    try {
      const held = await this.waitToHold(ourPath, driver, deadline);
      if (!held) await deleteQuietly(this.zk, ourPath);
      return held ? ourPath : null;
    } catch (error) {
      // Never leave a contender node behind a failed attempt: it would block everybody after it.
      await deleteQuietly(this.zk, ourPath).catch(() => undefined);
      throw error;
    }
  }

  /** Deletes a held lock's node. */
  async release(ourPath: string): Promise<void> {
    await deleteQuietly(this.zk, ourPath);
  }

  /** The contenders' node names, in sequence order. */
  async contenders(): Promise<string[]> {
    try {
      const { children } = await this.zk.getChildren(this.basePath);
      return sortedSequential(children, this.lockNames);
    } catch (error) {
      if (error instanceof FaaSKeeperError && error.code === 'NONODE') return [];
      throw error;
    }
  }

  private async waitToHold(ourPath: string, driver: LockDriver, deadline: number | undefined) {
    const ourName = nameOf(ourPath);
    for (;;) {
      const sorted = await this.contenders();
      const ourIndex = sorted.indexOf(ourName);
      if (ourIndex < 0)
        // Our ephemeral node is gone: only the end of our session removes it.
        throw new FaaSKeeperError('NONODE', `NONODE: lock node ${ourPath} disappeared`, { path: ourPath });
      const decision = driver(sorted, ourIndex);
      if (decision.acquired) return true;
      const watchPath = join(this.basePath, decision.watch);
      const { watcher, fired } = watchOnce();
      if ((await this.zk.exists(watchPath, { watch: watcher })) === null) {
        // Gone between the listing and the watch: look again (and drop the watch, which would
        // otherwise wait for a node that is never created again).
        await dropWatch(this.zk, watchPath, watcher);
        continue;
      }
      if (!(await waitFor(this.zk, fired, deadline, this.clock))) {
        await dropWatch(this.zk, watchPath, watcher);
        return false;
      }
    }
  }
}

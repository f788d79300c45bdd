import type { FaaSKeeperClient } from '../index.js';
import { FaaSKeeperError } from '../index.js';
import { type LockDriver, LockInternals } from './lock-internals.js';
import { clockOf, deadlineOf, type RecipeOptions, type TimeoutOption } from './util.js';

/**
 * A lock held through one contender node, re-entrant per instance: the base of {@link Mutex} and of
 * the two halves of {@link ReadWriteLock}.
 *
 * `acquire()` on an instance that holds the lock only counts; the lock is released by the matching
 * number of `release()` calls. Two instances (on the same client or not) are two contenders.
 */
export class ReentrantLock {
  private readonly internals: LockInternals;
  private readonly recipeOptions: RecipeOptions;
  private ourPath: string | undefined;
  private holds = 0;
  private busy: Promise<unknown> = Promise.resolve();

  /** @internal Use {@link Mutex} or {@link ReadWriteLock}. */
  constructor(
    protected readonly zk: FaaSKeeperClient,
    /** The lock's path: every contender's node is a child of it. */
    readonly path: string,
    private readonly lockName: string,
    lockNames: readonly string[],
    private readonly driver: LockDriver,
    options: RecipeOptions = {},
  ) {
    this.recipeOptions = options;
    this.internals = new LockInternals(zk, path, lockNames, clockOf(options));
  }

  /**
   * Waits for the lock.
   * @returns true once held; false when `timeoutMs` passed first (its node is then deleted).
   * @throws FaaSKeeperError SESSIONEXPIRED when the session ends while waiting.
   */
  acquire(options: TimeoutOption = {}): Promise<boolean> {
    const deadline = deadlineOf(clockOf(this.recipeOptions), options);
    // Concurrent calls on one instance run one after the other (the later ones then re-enter).
    const run = this.busy.then(async () => {
      if (this.holds > 0) {
        this.holds++;
        return true;
      }
      const path = await this.internals.attempt(this.lockName, this.driver, deadline);
      if (path === null) return false;
      this.ourPath = path;
      this.holds = 1;
      return true;
    });
    this.busy = run.catch(() => undefined);
    return run;
  }

  /**
   * Releases one hold; the last one deletes the node, which wakes the next waiter.
   * @throws FaaSKeeperError APIERROR when this instance does not hold the lock.
   */
  async release(): Promise<void> {
    const path = this.ourPath;
    if (this.holds === 0 || path === undefined)
      throw new FaaSKeeperError('APIERROR', `APIERROR: lock ${this.path} is not held by this instance`);
    this.holds--;
    if (this.holds > 0) return;
    this.ourPath = undefined;
    await this.internals.release(path);
  }

  /** True while this instance holds the lock and its session lives. */
  isAcquired(): boolean {
    return this.holds > 0 && this.zk.state !== 'EXPIRED' && this.zk.state !== 'CLOSED';
  }

  /** The path of this instance's node while it holds the lock. */
  get nodePath(): string | undefined {
    return this.ourPath;
  }

  /** The contenders' node names in sequence order (for a mutex: the first holds the lock). */
  participantNodes(): Promise<string[]> {
    return this.internals.contenders();
  }
}

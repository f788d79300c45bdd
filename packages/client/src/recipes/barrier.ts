import { randomUUID } from 'node:crypto';
import type { Clock } from '@faaskeeper/core';
import { CreateMode, type FaaSKeeperClient, FaaSKeeperError, isFaaSKeeperError } from '../index.js';
import {
  clockOf,
  deadlineOf,
  deleteQuietly,
  dropWatch,
  ensurePath,
  join,
  type RecipeOptions,
  type TimeoutOption,
  waitFor,
  watchOnce,
  withRetry,
} from './util.js';

/**
 * A barrier (Apache Curator's `DistributedBarrier`): while its node exists, everybody who waits on
 * it waits; removing the node lets them all through.
 *
 * `waitOnBarrier()` sets an `exists` watch on the node and returns when it is deleted. The node is
 * persistent: a barrier outlives the session that set it.
 */
export class Barrier {
  private readonly clock: Clock;

  /** A barrier whose node is `path`. */
  constructor(
    private readonly zk: FaaSKeeperClient,
    readonly path: string,
    options: RecipeOptions = {},
  ) {
    this.clock = clockOf(options);
  }

  /** Sets the barrier (creates its node and missing ancestors); setting it twice is fine. */
  async setBarrier(): Promise<void> {
    const parent = this.path.slice(0, this.path.lastIndexOf('/')) || '/';
    await ensurePath(this.zk, parent);
    await withRetry(async () => {
      try {
        await this.zk.create(this.path);
      } catch (error) {
        if (!isFaaSKeeperError(error, 'NODEEXISTS')) throw error;
      }
    });
  }

  /** Removes the barrier: every waiter goes through. Removing a missing barrier is fine. */
  async removeBarrier(): Promise<void> {
    await deleteQuietly(this.zk, this.path);
  }

  /**
   * Waits until the barrier is removed.
   * @returns true when it is (or was) not set; false when `timeoutMs` passed first.
   * @throws FaaSKeeperError SESSIONEXPIRED when the session ends while waiting.
   */
  async waitOnBarrier(options: TimeoutOption = {}): Promise<boolean> {
    const deadline = deadlineOf(this.clock, options);
    for (;;) {
      const { watcher, fired } = watchOnce();
      if ((await this.zk.exists(this.path, { watch: watcher })) === null) {
        await dropWatch(this.zk, this.path, watcher);
        return true;
      }
      if (!(await waitFor(this.zk, fired, deadline, this.clock))) {
        await dropWatch(this.zk, this.path, watcher);
        return false;
      }
    }
  }
}

/** Name of the node that tells members a double barrier is full (Curator's `ready`). */
export const READY_NODE = 'ready';

/** Options of a {@link DoubleBarrier}. */
export interface DoubleBarrierOptions extends RecipeOptions {
  /** This member's node name under the barrier path. Default: a random UUID. */
  memberId?: string;
}

/**
 * A double barrier (Apache Curator's `DistributedDoubleBarrier`): `enter()` waits until `memberQty`
 * members have entered, then all go on together; `leave()` waits until every member has left.
 *
 * Enter: each member creates an ephemeral node under the barrier path; the member that sees the
 * quota reached creates `ready`, whose creation (an `exists` watch on it) releases every member.
 * Leave: each member deletes its node; the lowest member waits on the highest, every other member
 * deletes its node and waits on the lowest — a leave wakes at most one member per departure wave
 * (no herd). The last one out deletes `ready`.
 *
 * Members that crash leave with their session (ephemeral nodes). A member whose session ends while
 * waiting gets SESSIONEXPIRED.
 */
export class DoubleBarrier {
  private readonly clock: Clock;
  private readonly memberName: string;
  private readonly ourPath: string;
  private readonly readyPath: string;

  /** A double barrier of `memberQty` members at `path`. */
  constructor(
    private readonly zk: FaaSKeeperClient,
    readonly path: string,
    readonly memberQty: number,
    options: DoubleBarrierOptions = {},
  ) {
    if (!Number.isSafeInteger(memberQty) || memberQty < 1)
      throw new FaaSKeeperError('BADARGUMENTS', `BADARGUMENTS: bad memberQty ${String(memberQty)}`);
    this.clock = clockOf(options);
    this.memberName = options.memberId ?? randomUUID();
    this.ourPath = join(path, this.memberName);
    this.readyPath = join(path, READY_NODE);
  }

  /**
   * Enters and waits until `memberQty` members are in.
   * @returns true when the barrier filled; false when `timeoutMs` passed first (this member is then out again).
   */
  async enter(options: TimeoutOption = {}): Promise<boolean> {
    const deadline = deadlineOf(this.clock, options);
    await ensurePath(this.zk, this.path);
    const first = watchOnce();
    const readyExists = (await this.zk.exists(this.readyPath, { watch: first.watcher })) !== null;
    await withRetry(async () => {
      try {
        await this.zk.create(this.ourPath, '', { mode: CreateMode.EPHEMERAL });
      } catch (error) {
        // A retried create whose first attempt took effect: the node is ours (ephemeral of this session).
        if (!isFaaSKeeperError(error, 'NODEEXISTS')) throw error;
      }
    });
    if (readyExists) {
      await dropWatch(this.zk, this.readyPath, first.watcher);
      return true;
    }
    if ((await this.members()).length >= this.memberQty) {
      // The last one in opens the barrier for everybody watching `ready`.
      await withRetry(async () => {
        try {
          await this.zk.create(this.readyPath);
        } catch (error) {
          if (!isFaaSKeeperError(error, 'NODEEXISTS')) throw error;
        }
      });
      await dropWatch(this.zk, this.readyPath, first.watcher);
      return true;
    }
    if (await waitFor(this.zk, first.fired, deadline, this.clock)) return true;
    // Timed out: step out again so the members who stay do not count us.
    await dropWatch(this.zk, this.readyPath, first.watcher);
    await deleteQuietly(this.zk, this.ourPath);
    return false;
  }

  /**
   * Leaves and waits until every member has left.
   * @returns true when all left; false when `timeoutMs` passed first.
   */
  async leave(options: TimeoutOption = {}): Promise<boolean> {
    const deadline = deadlineOf(this.clock, options);
    let ourNodeShouldExist = true;
    let result = true;
    for (;;) {
      const members = (await this.members()).sort();
      if (members.length === 0) break;
      const ourIndex = members.indexOf(this.memberName);
      if (ourIndex < 0 && ourNodeShouldExist)
        throw new FaaSKeeperError('NONODE', `NONODE: member node ${this.ourPath} is missing`, {
          path: this.ourPath,
        });
      if (members.length === 1) {
        if (ourNodeShouldExist) await deleteQuietly(this.zk, this.ourPath);
        break;
      }
      let watched: string;
      if (ourIndex === 0) {
        // The lowest member waits for the highest to go, keeping its node so the others wait on it.
        watched = join(this.path, members[members.length - 1]!);
      } else {
        watched = join(this.path, members[0]!);
        if (ourNodeShouldExist) await deleteQuietly(this.zk, this.ourPath);
        ourNodeShouldExist = false;
      }
      const { watcher, fired } = watchOnce();
      if ((await this.zk.exists(watched, { watch: watcher })) === null) {
        await dropWatch(this.zk, watched, watcher);
        continue;
      }
      if (!(await waitFor(this.zk, fired, deadline, this.clock))) {
        await dropWatch(this.zk, watched, watcher);
        result = false;
        break;
      }
    }
    if (result) await deleteQuietly(this.zk, this.readyPath);
    return result;
  }

  /** The member node names now in the barrier. */
  private async members(): Promise<string[]> {
    try {
      const { children } = await this.zk.getChildren(this.path);
      return children.filter((c) => c !== READY_NODE);
    } catch (error) {
      if (isFaaSKeeperError(error, 'NONODE')) return [];
      throw error;
    }
  }
}

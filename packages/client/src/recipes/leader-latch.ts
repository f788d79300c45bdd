import { EventEmitter } from 'node:events';
import type { Clock, TimerHandle } from '@faaskeeper/core';
import { CreateMode, type FaaSKeeperClient, FaaSKeeperError, type SessionState } from '../index.js';
import {
  clockOf,
  createProtected,
  deadlineOf,
  deleteQuietly,
  dropWatch,
  ensurePath,
  isSessionEnded,
  join,
  nameOf,
  type RecipeOptions,
  sortedSequential,
  type TimeoutOption,
} from './util.js';

/** Node-name prefix of a latch participant (Curator's `latch-`). */
export const LATCH_NAME = 'latch-';

/** Options of a {@link LeaderLatch}. */
export interface LeaderLatchOptions extends RecipeOptions {
  /** This participant's id, stored as its node's data (see {@link LeaderLatch.leaderId}). Default: the session id. */
  id?: string;
}

/** The life of a latch: not started, started, closed. */
export type LeaderLatchState = 'LATENT' | 'STARTED' | 'CLOSED';

/**
 * Leader election with a latch (Apache Curator's `LeaderLatch`).
 *
 * Each participant creates an ephemeral sequential node `_c_<guid>-latch-<seq>` (data: its id)
 * under the latch path; the lowest sequence is the leader. Every other participant watches only
 * the node just before its own (`exists` watch), so when a leader leaves one participant checks
 * again, not all of them. The leader watches its own node: if it is deleted from outside, the
 * leader steps down and joins again at the end of the line.
 *
 * Leadership is lost — `notLeader` is emitted and {@link hasLeadership} turns false — when the
 * latch closes, when the session is DISCONNECTED (the leader cannot know whether it still holds
 * the lock, so it must stop acting as leader; Curator does the same on SUSPENDED), and when the
 * session EXPIRES or is closed (its node is gone; the latch cannot run on this client any more).
 * After a disconnection that did not expire the session the latch looks again and, if its node is
 * still first, becomes leader again.
 */
export class LeaderLatch extends EventEmitter<{ isLeader: []; notLeader: []; error: [unknown] }> {
  private latchState: LeaderLatchState = 'LATENT';
  private leader = false;
  private ourPath: string | undefined;
  private readonly clock: Clock;
  private readonly id: string;
  private checking: Promise<void> = Promise.resolve();
  private readonly waiters = new Set<() => void>();
  private readonly onState = (state: SessionState) => this.handleState(state);

  /** A latch on `path` (created, with its ancestors, on start). */
  constructor(
    private readonly zk: FaaSKeeperClient,
    readonly path: string,
    options: LeaderLatchOptions = {},
  ) {
    super();
    this.clock = clockOf(options);
    this.id = options.id ?? zk.sessionId;
  }

  /** The latch's state. */
  get state(): LeaderLatchState {
    return this.latchState;
  }

  /** This participant's id. */
  get participantId(): string {
    return this.id;
  }

  /** This participant's node path, once created. */
  get nodePath(): string | undefined {
    return this.ourPath;
  }

  /**
   * Joins the election; resolves once this participant's node exists and leadership was checked.
   * @throws FaaSKeeperError APIERROR when started twice.
   */
  async start(): Promise<void> {
    if (this.latchState !== 'LATENT')
      throw new FaaSKeeperError('APIERROR', `APIERROR: latch ${this.path} already started`);
    this.latchState = 'STARTED';
    this.zk.on('state', this.onState);
    await ensurePath(this.zk, this.path);
    this.ourPath = await createProtected(
      this.zk,
      this.path,
      LATCH_NAME,
      this.id,
      CreateMode.EPHEMERAL_SEQUENTIAL,
    );
    if (this.latchState !== 'STARTED') {
      await deleteQuietly(this.zk, this.ourPath);
      return;
    }
    await this.check();
  }

  /** True while this participant is the leader. */
  hasLeadership(): boolean {
    return this.latchState === 'STARTED' && this.leader;
  }

  /**
   * Waits until this participant is the leader.
   * @returns true when leader; false when `timeoutMs` passed or the latch closed or lost its session first.
   */
  await(options: TimeoutOption = {}): Promise<boolean> {
    const deadline = deadlineOf(this.clock, options);
    if (this.hasLeadership()) return Promise.resolve(true);
    if (this.latchState === 'CLOSED' || isSessionEnded(this.zk.state)) return Promise.resolve(false);
    return new Promise<boolean>((resolve) => {
      let timer: TimerHandle | undefined;
      const wake = () => {
        if (timer !== undefined) this.clock.clearTimeout(timer);
        this.waiters.delete(wake);
        resolve(this.hasLeadership());
      };
      this.waiters.add(wake);
      if (deadline !== undefined)
        timer = this.clock.setTimeout(wake, Math.max(0, deadline - this.clock.now()));
    });
  }

  /** The id of the current leader (its node's data), or undefined when there is none. */
  async leaderId(): Promise<string | undefined> {
    const sorted = await this.participants();
    for (const name of sorted) {
      try {
        const { data } = await this.zk.getData(join(this.path, name));
        return new TextDecoder().decode(data);
      } catch (error) {
        if (!(error instanceof FaaSKeeperError && error.code === 'NONODE')) throw error;
      }
    }
    return undefined;
  }

  /** The participants' node names in order (the first is the leader). */
  async participants(): Promise<string[]> {
    const { children } = await this.zk.getChildren(this.path);
    return sortedSequential(children, [LATCH_NAME]);
  }

  /** Leaves the election: deletes this participant's node (the next one becomes leader). */
  async close(): Promise<void> {
    if (this.latchState === 'CLOSED') return;
    this.latchState = 'CLOSED';
    this.zk.off('state', this.onState);
    this.setLeadership(false);
    this.wakeWaiters();
    const path = this.ourPath;
    this.ourPath = undefined;
    await this.checking;
    if (path !== undefined) await deleteQuietly(this.zk, path);
  }

  // ---- internals ---------------------------------------------------------------------------

  /** Checks leadership, one check at a time (a watch event and a reconnection may both ask). */
  private check(): Promise<void> {
    const run = this.checking.then(() => this.checkOnce());
    this.checking = run.catch((error) => {
      // Reported, never thrown from here: nobody awaits a check started by a watch event.
      if (this.latchState === 'STARTED' && !isSessionEnded(this.zk.state) && this.listenerCount('error') > 0)
        this.emit('error', error);
    });
    return run;
  }

  private async checkOnce(): Promise<void> {
    const ourPath = this.ourPath;
    if (this.latchState !== 'STARTED' || ourPath === undefined || isSessionEnded(this.zk.state)) return;
    const sorted = await this.participants();
    const ourIndex = sorted.indexOf(nameOf(ourPath));
    if (ourIndex < 0) {
      // Our node is gone while the session lives (deleted by hand): join again, as Curator resets.
      this.setLeadership(false);
      this.ourPath = await createProtected(
        this.zk,
        this.path,
        LATCH_NAME,
        this.id,
        CreateMode.EPHEMERAL_SEQUENTIAL,
      );
      return this.checkOnce();
    }
    // The leader watches its own node (so that it steps down if the node is deleted from outside);
    // everybody else watches only the node just before its own.
    const watched = ourIndex === 0 ? ourPath : join(this.path, sorted[ourIndex - 1]!);
    if (ourIndex > 0) this.setLeadership(false);
    const watcher = () => {
      if (this.latchState === 'STARTED') void this.check();
    };
    if ((await this.zk.exists(watched, { watch: watcher })) === null) {
      await dropWatch(this.zk, watched, watcher);
      return this.checkOnce();
    }
    if (ourIndex === 0) this.setLeadership(this.zk.state === 'CONNECTED');
  }

  private handleState(state: SessionState): void {
    if (this.latchState !== 'STARTED') return;
    if (state === 'DISCONNECTED') this.setLeadership(false);
    else if (state === 'CONNECTED') void this.check();
    else if (isSessionEnded(state)) {
      this.setLeadership(false);
      this.wakeWaiters();
    }
  }

  private setLeadership(leader: boolean): void {
    if (this.leader === leader) return;
    this.leader = leader;
    this.emit(leader ? 'isLeader' : 'notLeader');
    if (leader) this.wakeWaiters();
  }

  private wakeWaiters(): void {
    for (const wake of [...this.waiters]) wake();
  }
}

import { randomUUID } from 'node:crypto';
import { type Clock, retry, systemClock, type TimerHandle } from '@faaskeeper/core';
import {
  type CreateMode,
  type Data,
  type FaaSKeeperClient,
  FaaSKeeperError,
  isFaaSKeeperError,
  type SessionState,
  type Watcher,
} from '../index.js';

/** Options every waiting recipe takes. */
export interface RecipeOptions {
  /**
   * Clock for recipe timeouts (`timeoutMs`). Defaults to the process clock; tests pass the
   * deployment's ManualClock so timeouts move with `clock.advance()`.
   */
  clock?: Clock;
}

/** Options of a wait that may give up. */
export interface TimeoutOption {
  /** Give up after this many ms (on the recipe's clock); absent: wait as long as the session lives. */
  timeoutMs?: number;
}

/** Prefix of a protected node name: `_c_<guid>-`, as Apache Curator's protection mode names nodes. */
export const PROTECTED_PREFIX = '_c_';

const SEQUENCE_DIGITS = 10;

/** True for the errors after which a write may or may not have taken effect. */
export function isConnectionError(error: unknown): boolean {
  return isFaaSKeeperError(error, 'CONNECTIONLOSS') || isFaaSKeeperError(error, 'OPERATIONTIMEOUT');
}

/** True once the session can no longer be used. */
export function isSessionEnded(state: SessionState): boolean {
  return state === 'EXPIRED' || state === 'CLOSED';
}

/** A new per-attempt guid for a protected node name. */
export function newGuid(): string {
  return randomUUID();
}

/** The node name without its protected prefix `_c_<guid>-` (when it has one). */
export function stripProtected(name: string): string {
  if (!name.startsWith(PROTECTED_PREFIX)) return name;
  const dash = name.indexOf('-', PROTECTED_PREFIX.length + 36);
  return dash < 0 ? name : name.slice(dash + 1);
}

/** The sequence number ZooKeeper appended to a sequential node's name (its last 10 digits). */
export function sequenceOf(name: string): number {
  return Number.parseInt(name.slice(-SEQUENCE_DIGITS), 10);
}

/** The children whose name (protected prefix removed) starts with one of `lockNames`, by sequence. */
export function sortedSequential(children: readonly string[], lockNames: readonly string[]): string[] {
  return children
    .filter((c) => {
      const bare = stripProtected(c);
      return lockNames.some((n) => bare.startsWith(n) && /^\d{10}$/.test(bare.slice(n.length)));
    })
    .sort((a, b) => sequenceOf(a) - sequenceOf(b));
}

/** `parent/name`, treating `/` right. */
export function join(parent: string, name: string): string {
  return parent === '/' ? `/${name}` : `${parent}/${name}`;
}

/** Last path segment. */
export function nameOf(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/** How often a write that hit a connection error is tried again before the error is thrown. */
const RETRIES = 3;

/**
 * The recipes' retry policy: up to {@link RETRIES} more attempts after CONNECTIONLOSS or
 * OPERATIONTIMEOUT, at once (the client has already waited out its operation timeout, or seen its
 * connection fail, before either is thrown). No wait happens, so the clock is never read.
 */
const CONNECTION_RETRY = {
  clock: systemClock,
  isTransient: isConnectionError,
  maxAttempts: RETRIES + 1,
  backoff: { baseMs: 0, maxMs: 0 },
} as const;

/**
 * Retries `op` after CONNECTIONLOSS / OPERATIONTIMEOUT (the recipe's operations are idempotent
 * where this is used: creating an existing parent, deleting a missing node).
 */
export function withRetry<T>(op: () => Promise<T>): Promise<T> {
  return retry(op, CONNECTION_RETRY);
}

/**
 * Creates `path` and every missing ancestor as persistent nodes (Curator's
 * `creatingParentsIfNeeded`); an existing node is fine.
 */
export async function ensurePath(zk: FaaSKeeperClient, path: string): Promise<void> {
  if (path === '/') return;
  if ((await zk.exists(path)) !== null) return;
  const parts = path.split('/').filter((p) => p !== '');
  let current = '';
  for (const part of parts) {
    current += `/${part}`;
    await withRetry(async () => {
      try {
        await zk.create(current);
      } catch (error) {
        if (!isFaaSKeeperError(error, 'NODEEXISTS')) throw error;
      }
    });
  }
}

/** Deletes `path`, retrying after connection errors; a missing node (or an ended session) is fine. */
export async function deleteQuietly(zk: FaaSKeeperClient, path: string): Promise<void> {
  if (isSessionEnded(zk.state)) return; // ephemeral nodes went with the session
  try {
    await withRetry(() => zk.delete(path));
  } catch (error) {
    if (isFaaSKeeperError(error, 'NONODE') || isFaaSKeeperError(error, 'SESSIONEXPIRED')) return;
    throw error;
  }
}

/**
 * Finds this attempt's protected node among `parent`'s children. `sync` first: it goes through the
 * writer after the lost create (the client's requests are applied in order), so a create that was
 * applied is visible to the read that follows.
 */
async function findProtected(zk: FaaSKeeperClient, parent: string, prefix: string): Promise<string | null> {
  await zk.sync(parent);
  const { children } = await zk.getChildren(parent);
  const mine = children.find((c) => c.startsWith(prefix));
  return mine === undefined ? null : join(parent, mine);
}

/**
 * Creates `parent/_c_<guid>-<name>` safely when the reply is lost (Curator's protection mode):
 * after CONNECTIONLOSS or OPERATIONTIMEOUT it looks for a child carrying the guid before creating
 * again, so a create that took effect is adopted instead of leaving an orphan node.
 * @returns the created path.
 */
export async function createProtected(
  zk: FaaSKeeperClient,
  parent: string,
  name: string,
  data: Data,
  mode: CreateMode,
): Promise<string> {
  const prefix = `${PROTECTED_PREFIX}${newGuid()}-`;
  const path = join(parent, `${prefix}${name}`);
  return retry(async () => {
    try {
      return await zk.create(path, data, { mode });
    } catch (error) {
      if (!isConnectionError(error)) throw error;
      // The create may have taken effect unseen: adopt the node if it is there, else create again
      // (or, after the last attempt, throw the create's error).
      const found = await withRetry(() => findProtected(zk, parent, prefix)).catch((lookup: unknown) => {
        // Not knowing whether the node is there is no worse than the lost create: try again.
        if (isConnectionError(lookup)) return null;
        throw lookup;
      });
      if (found !== null) return found;
      throw error;
    }
  }, CONNECTION_RETRY);
}

/** A one-shot watcher and the promise of its first event. */
export function watchOnce(): { watcher: Watcher; fired: Promise<void> } {
  let resolve!: () => void;
  const fired = new Promise<void>((r) => {
    resolve = r;
  });
  return { watcher: () => resolve(), fired };
}

/**
 * Waits for `fired`, the deadline (resolves `false`) or the end of the session (rejects with
 * SESSIONEXPIRED, because the client drops its watches then and `fired` would never settle).
 */
export function waitFor(
  zk: FaaSKeeperClient,
  fired: Promise<void>,
  deadline: number | undefined,
  clock: Clock,
): Promise<boolean> {
  return new Promise<boolean>((resolve, reject) => {
    let timer: TimerHandle | undefined;
    const onState = (state: SessionState) => {
      if (isSessionEnded(state)) {
        done();
        reject(new FaaSKeeperError('SESSIONEXPIRED', `SESSIONEXPIRED: the session ended (${state})`));
      }
    };
    const done = () => {
      if (timer !== undefined) clock.clearTimeout(timer);
      zk.off('state', onState);
    };
    if (isSessionEnded(zk.state)) {
      onState(zk.state);
      return;
    }
    if (deadline !== undefined && clock.now() >= deadline) {
      resolve(false);
      return;
    }
    zk.on('state', onState);
    if (deadline !== undefined) {
      timer = clock.setTimeout(
        () => {
          done();
          resolve(false);
        },
        Math.max(0, deadline - clock.now()),
      );
    }
    fired.then(() => {
      done();
      resolve(true);
    });
  });
}

/** The deadline of a wait, on `clock`. */
export function deadlineOf(clock: Clock, options: TimeoutOption): number | undefined {
  const t = options.timeoutMs;
  if (t === undefined) return undefined;
  if (!Number.isFinite(t) || t < 0)
    throw new FaaSKeeperError('BADARGUMENTS', `BADARGUMENTS: bad timeoutMs ${String(t)}`);
  return clock.now() + t;
}

/** The recipe clock from options. */
export function clockOf(options: RecipeOptions): Clock {
  return options.clock ?? systemClock;
}

/** Removes a one-shot watch that can no longer be useful (best effort: it would only fire once, later). */
export async function dropWatch(zk: FaaSKeeperClient, path: string, watcher: Watcher): Promise<void> {
  if (isSessionEnded(zk.state)) return;
  try {
    await zk.removeWatches(path, watcher);
  } catch {
    // NOWATCHER (it fired meanwhile) or a connection error: nothing left to clean, or nothing we can do.
  }
}

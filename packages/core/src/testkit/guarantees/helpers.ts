import { afterEach, expect } from 'vitest';
import type { ClientOptions, FaaSKeeperClient } from '../../client/client.js';
import type { WatchedEvent } from '../../client/types.js';
import type { DeploymentOptions } from '../../deployment/deployment.js';
import { ManualClock } from '../../memory/manual-clock.js';
import { type ErrorCode, ErrorCodes, FaaSKeeperError } from '../../model/errors.js';
import type { Channel, ChannelSubscription } from '../../ports/channel.js';
import { LimitExceededError } from '../../ports/errors.js';
import type { SystemStore } from '../../ports/system-store.js';
import type { DeploymentTarget, TestDeployment } from '../target.js';

/** UTF-8 text of node data. */
export const text = (data: Uint8Array): string => new TextDecoder().decode(data);

/** A fresh deployment of the target, driven by a ManualClock of its own, closed after the test. */
export interface Harness {
  deployment: TestDeployment;
  /** Nothing moves in time unless the test advances it (session expiry, TTLs, timeouts). */
  clock: ManualClock;
  connect(options?: ClientOptions): Promise<FaaSKeeperClient>;
}

/**
 * What a guarantee suite uses to run its tests on one target: deployments closed after each test,
 * and the target's notions of "let it run" and "long enough that it would have happened".
 */
export interface GuaranteeKit {
  readonly target: DeploymentTarget;
  /** Starts a fresh deployment on a fresh ManualClock, closed automatically after the current test. */
  deploy(options?: Omit<DeploymentOptions, 'clock'>): Promise<Harness>;
  /** Runs `fn` after the current test, before its deployments close (to release held gates). */
  onCleanup(fn: () => void): void;
  /**
   * Moves the clock forward in small steps, letting functions and clients run between steps as they
   * would in real time (pings go out, the heartbeat runs, queued work completes).
   */
  advance(clock: ManualClock, ms: number, stepMs?: number): Promise<void>;
  /** Waits long enough that something which must not happen would very likely have happened. */
  quiet(): Promise<void>;
  /** Resolves once `done()` holds, letting the deployment run between checks; fails after a while. */
  eventually(done: () => boolean, what: string): Promise<void>;
  /** Runs the heartbeat now and waits until the writer has handled what it sent (via `zk.sync`). */
  heartbeatNow(deployment: TestDeployment, zk: FaaSKeeperClient): Promise<void>;
}

/**
 * The kit of one suite on `target`. Call inside a `describe` (it registers the `afterEach` that
 * releases held gates and closes the test's deployments).
 */
export function guaranteeKit(target: DeploymentTarget): GuaranteeKit {
  const open: Promise<TestDeployment | undefined>[] = [];
  const cleanups: (() => void)[] = [];
  afterEach(async () => {
    // Unblock whatever a failed test left paused, so that the deployment can shut down.
    for (const fn of cleanups.splice(0)) fn();
    const deployments = await Promise.all(open.splice(0));
    await Promise.all(deployments.map((d) => d?.close()));
  }, target.testTimeoutMs);
  return {
    target,
    async deploy(options = {}) {
      const clock = new ManualClock();
      // Registered before it resolves, so that a test failing meanwhile still closes it.
      const started = target.deploy({ ...options, clock });
      open.push(started.catch(() => undefined));
      const deployment = await started;
      return { deployment, clock, connect: (o) => deployment.connect(o) };
    },
    onCleanup: (fn) => {
      cleanups.push(fn);
    },
    async advance(clock, ms, stepMs = 100) {
      for (let done = 0; done < ms; done += stepMs) {
        await clock.advance(Math.min(stepMs, ms - done));
        await target.settle();
      }
    },
    quiet: () => target.quiet(),
    async eventually(done, what) {
      // Half the test's budget: failing here names what never came, where a test timeout would not.
      const deadline = Date.now() + target.testTimeoutMs / 2;
      while (!done()) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await target.settle();
      }
    },
    async heartbeatNow(deployment, zk) {
      await deployment.heartbeat();
      await zk.sync('/');
    },
  };
}

/**
 * Asserts that `promise` rejects with a FaaSKeeperError of `code`, with ZooKeeper's errno for it.
 * Returns the error for further checks.
 */
export async function expectError(promise: Promise<unknown>, code: ErrorCode): Promise<FaaSKeeperError> {
  let caught: unknown;
  try {
    await promise;
  } catch (error) {
    caught = error;
  }
  expect(caught, `expected ${code}`).toBeInstanceOf(FaaSKeeperError);
  const error = caught as FaaSKeeperError;
  expect(error.code).toBe(code);
  expect(error.errno).toBe(ErrorCodes[code]);
  return error;
}

/** A watcher that records `"<type> <path>"` for every event it gets. */
export function recorder(): { watcher: (e: WatchedEvent) => void; events: string[] } {
  const events: string[] = [];
  return { watcher: (e) => events.push(`${e.type} ${e.path}`), events };
}

/** Tracks whether a promise has settled, without awaiting it. */
export function track<T>(promise: Promise<T>): { readonly done: boolean; promise: Promise<T> } {
  const state = { done: false, promise };
  promise.then(
    () => {
      state.done = true;
    },
    () => {
      state.done = true;
    },
  );
  return state;
}

/** A gate: `wait()` blocks until `open()`. */
export function gate(): { wait: () => Promise<void>; open: () => void } {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { wait: () => opened, open };
}

/**
 * A system store that takes at most `max` items per transaction (refusing more, as DynamoDB does
 * past 100) and says so in its capabilities, so that the writer must split or refuse: a smaller
 * limit than the real store's, to test the splitting on any deployment.
 */
export function limitTransactionItems(store: SystemStore, max: number): SystemStore {
  const capabilities = {
    ...store.capabilities,
    maxTransactionItems: Math.min(max, store.capabilities.maxTransactionItems),
  };
  return {
    capabilities,
    get: (key) => store.get(key),
    getMany: (keys) => store.getMany(keys),
    list: (kind) => store.list(kind),
    query: (kind, prefix, page) => store.query(kind, prefix, page),
    transact: async (ops) => {
      if (ops.length > capabilities.maxTransactionItems)
        throw new LimitExceededError('transaction item count', ops.length, capabilities.maxTransactionItems);
      return store.transact(ops);
    },
    increment: (key, by) => store.increment(key, by),
  };
}

/**
 * Slow network paths to chosen clients: pass {@link ChannelDelays.wrapClientChannel} as the
 * deployment's `wrapClientChannel`, then hold back delivery to a session and release it later, in
 * order. Held deliveries are released after the test.
 */
export class ChannelDelays {
  private readonly held = new Map<number, string[][]>();
  private readonly holding = new Set<number>();
  private readonly subscribers = new Map<number, (messages: string[]) => void>();

  constructor(kit: GuaranteeKit) {
    kit.onCleanup(() => {
      for (const session of [...this.holding]) this.release(session);
    });
  }

  /** The deployment option: each client's channel goes through this controller. */
  readonly wrapClientChannel = (inner: Channel): Channel => {
    const subscribe = (
      session: number,
      onMessages: (messages: string[]) => void,
      incarnation?: number,
      tag?: string,
    ): Promise<ChannelSubscription> => {
      // A client's bootstrap and secret channels share its one subscriber (client/session-channel.ts).
      this.subscribers.set(session, onMessages);
      return inner.subscribe(
        session,
        (messages) => {
          if (this.holding.has(session)) {
            const list = this.held.get(session) ?? [];
            list.push(messages);
            this.held.set(session, list);
          } else onMessages(messages);
        },
        incarnation,
        tag,
      );
    };
    return {
      maxMessageBytes: inner.maxMessageBytes,
      send: (session, messages, incarnation, tag) => inner.send(session, messages, incarnation, tag),
      remove: (session, incarnation, tag) => inner.remove(session, incarnation, tag),
      subscribe,
    };
  };

  /** Holds back every later delivery to `session`. */
  hold(session: number): void {
    this.holding.add(session);
  }

  /** How many message batches are held for `session`. */
  heldCount(session: number): number {
    return this.held.get(session)?.length ?? 0;
  }

  /** Delivers what was held for `session`, in order, and stops holding. */
  release(session: number): void {
    this.holding.delete(session);
    const batches = this.held.get(session) ?? [];
    this.held.delete(session);
    const deliver = this.subscribers.get(session);
    for (const b of batches) deliver?.(b);
  }
}

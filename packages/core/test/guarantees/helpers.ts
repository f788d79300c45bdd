import { afterEach, expect } from 'vitest';
import {
  type Channel,
  type ChannelSubscription,
  type ClientOptions,
  createEmbeddedService,
  type EmbeddedService,
  type EmbeddedServiceOptions,
  type ErrorCode,
  ErrorCodes,
  type FaaSKeeperClient,
  FaaSKeeperError,
  ManualClock,
  settle,
  type WatchedEvent,
} from '../../src/index.js';

/** UTF-8 text of node data. */
export const text = (data: Uint8Array): string => new TextDecoder().decode(data);

/** A running embedded deployment driven by a ManualClock, closed after the test. */
export interface Harness {
  service: EmbeddedService;
  clock: ManualClock;
  connect(options?: ClientOptions): Promise<FaaSKeeperClient>;
}

const open: EmbeddedService[] = [];
const cleanups: (() => void)[] = [];
afterEach(async () => {
  // Unblock whatever a failed test left paused, so that the deployment can shut down.
  for (const fn of cleanups.splice(0)) fn();
  const services = open.splice(0);
  await Promise.all(services.map((s) => s.close()));
});

/** Runs `fn` after the current test, before its deployments close (to release held gates). */
export function onCleanup(fn: () => void): void {
  cleanups.push(fn);
}

/**
 * Starts an embedded deployment on a fresh ManualClock (nothing moves in time unless the test
 * advances it), closed automatically after the current test.
 */
export function harness(options: Omit<EmbeddedServiceOptions, 'clock'> = {}): Harness {
  const clock = new ManualClock();
  const service = createEmbeddedService({ ...options, clock });
  open.push(service);
  return { service, clock, connect: (o) => service.connect(o) };
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

/**
 * Moves the clock forward in small steps, letting functions and clients run between steps as they
 * would in real time (pings go out, the heartbeat runs, queued work completes).
 */
export async function advance(clock: ManualClock, ms: number, stepMs = 100): Promise<void> {
  for (let done = 0; done < ms; done += stepMs) {
    await clock.advance(Math.min(stepMs, ms - done));
    await settle(3);
  }
}

/** Runs the heartbeat now and waits until the writer has handled what it sent (via `zk.sync`). */
export async function heartbeatNow(service: EmbeddedService, zk: FaaSKeeperClient): Promise<void> {
  await service.heartbeat();
  await zk.sync('/');
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
 * A channel wrapper that can hold back delivery to chosen sessions (a slow network path to one
 * client) and release it later, in order.
 */
export class DelayingChannel implements Channel {
  readonly maxMessageBytes: number;
  private readonly held = new Map<number, string[][]>();
  private readonly holding = new Set<number>();
  private readonly subscribers = new Map<number, (messages: string[]) => void>();

  constructor(private readonly inner: Channel) {
    this.maxMessageBytes = inner.maxMessageBytes;
    onCleanup(() => {
      for (const session of [...this.holding]) this.release(session);
    });
  }

  send(session: number, messages: string[]): Promise<void> {
    return this.inner.send(session, messages);
  }

  remove(session: number): Promise<void> {
    return this.inner.remove(session);
  }

  subscribe(session: number, onMessages: (messages: string[]) => void): Promise<ChannelSubscription> {
    this.subscribers.set(session, onMessages);
    return this.inner.subscribe(session, (messages) => {
      if (this.holding.has(session)) {
        const list = this.held.get(session) ?? [];
        list.push(messages);
        this.held.set(session, list);
      } else onMessages(messages);
    });
  }

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

import { AsyncLocalStorage } from 'node:async_hooks';
import type { PortWrappers } from '../../deployment/deployment.js';
import type { Channel } from '../../ports/channel.js';
import { TransientError } from '../../ports/errors.js';
import type { Queue, ReceiveOptions } from '../../ports/queue.js';
import type { SystemStore } from '../../ports/system-store.js';
import type { UserStore } from '../../ports/user-store.js';
import { interceptPort, PORT_METHODS, yieldTurns } from './intercept.js';
import { Rng } from './prng.js';

/** Probabilities (0..1) of each injected fault, per call or per delivery. */
export interface FaultPlan {
  /** A store, queue-send or channel-send call fails with TransientError before it runs (throttling). */
  transient: number;
  /** A store, queue-send or channel-send call takes effect, then fails with TransientError (a timeout). */
  timeoutAfterEffect: number;
  /** A call waits a few event-loop turns first. */
  delay: number;
  /** Queue: an ack is lost, so handled messages are handed out again (a duplicate delivery). */
  duplicateDelivery: number;
  /** Queue: a receive waits a few turns before it looks (delayed delivery). */
  delayedDelivery: number;
  /** Queue: a receive takes fewer messages than allowed (a batch split, in group order). */
  splitBatch: number;
  /** Channel: a batch of messages is delivered twice. */
  channelDuplicate: number;
  /** Channel: delivery of a session's messages pauses (later messages wait behind; never reordered). */
  channelDelay: number;
}

/** Kinds of injected faults, as counted in {@link FaultStats}. */
export type FaultKind = keyof FaultPlan | 'crash' | 'partition' | 'clockSkew';

/** How many faults of each kind a run injected. */
export type FaultStats = Record<FaultKind, number>;

/** A fresh all-zero {@link FaultStats}. */
export function emptyFaultStats(): FaultStats {
  return {
    transient: 0,
    timeoutAfterEffect: 0,
    delay: 0,
    duplicateDelivery: 0,
    delayedDelivery: 0,
    splitBatch: 0,
    channelDuplicate: 0,
    channelDelay: 0,
    crash: 0,
    partition: 0,
    clockSkew: 0,
  };
}

/** Adds `b` into `a`. */
export function addFaultStats(a: FaultStats, b: FaultStats): void {
  for (const k of Object.keys(a) as FaultKind[]) a[k] += b[k];
}

/** A plan with every fault switched off. */
export const NO_FAULTS: FaultPlan = {
  transient: 0,
  timeoutAfterEffect: 0,
  delay: 0,
  duplicateDelivery: 0,
  delayedDelivery: 0,
  splitBatch: 0,
  channelDuplicate: 0,
  channelDelay: 0,
};

/** A moderate mix of every fault: frequent enough to hit each path many times in 100 operations. */
export const DEFAULT_FAULTS: FaultPlan = {
  transient: 0.03,
  timeoutAfterEffect: 0.03,
  delay: 0.05,
  duplicateDelivery: 0.05,
  delayedDelivery: 0.05,
  splitBatch: 0.2,
  channelDuplicate: 0.05,
  channelDelay: 0.05,
};

/** A storm: every fault about three times as often as {@link DEFAULT_FAULTS}; operations time out. */
export const STORM_FAULTS: FaultPlan = {
  transient: 0.08,
  timeoutAfterEffect: 0.08,
  delay: 0.15,
  duplicateDelivery: 0.12,
  delayedDelivery: 0.12,
  splitBatch: 0.4,
  channelDuplicate: 0.12,
  channelDelay: 0.12,
};

/** Seeded fault injection for the ports of an embedded deployment. */
export interface FaultInjector {
  /** Pass as `createEmbeddedService({ wrap })`. */
  readonly wrap: Required<PortWrappers>;
  readonly stats: FaultStats;
  /** Faults are off until enabled (bootstrap and final checks run fault-free). */
  enable(): void;
  disable(): void;
  readonly enabled: boolean;
  /** Runs `fn` with faults suspended for the calls it makes (e.g. a checker's own reads). */
  quietly<T>(fn: () => Promise<T>): Promise<T>;
}

/**
 * Creates seeded wrappers for the SystemStore, UserStore, both queues and the Channel that inject
 * the faults of DESIGN.md §5 with the probabilities of `plan`. The same seed and the same order of
 * calls give the same faults.
 */
export function createFaultInjector(seed: number, plan: Partial<FaultPlan> = DEFAULT_FAULTS): FaultInjector {
  const p: FaultPlan = { ...NO_FAULTS, ...plan };
  const root = new Rng(seed);
  const stats = emptyFaultStats();
  const quiet = new AsyncLocalStorage<boolean>();
  let enabled = false;
  const active = () => enabled && quiet.getStore() !== true;

  // Failures of a call: throttled before, or timed out after it took effect; maybe delayed first.
  const failing = (rng: Rng, what: string) => {
    return async (method: string, _args: unknown[], call: (args?: unknown[]) => Promise<unknown>) => {
      if (!active()) return call();
      if (rng.chance(p.delay)) {
        stats.delay++;
        await yieldTurns(rng.between(1, 4));
      }
      if (rng.chance(p.transient)) {
        stats.transient++;
        throw new TransientError(`injected throttling: ${what}.${method}`);
      }
      const result = await call();
      if (rng.chance(p.timeoutAfterEffect)) {
        stats.timeoutAfterEffect++;
        throw new TransientError(`injected timeout after the call took effect: ${what}.${method}`);
      }
      return result;
    };
  };

  const store = <T extends object>(inner: T, methods: readonly string[], what: string): T => {
    const run = failing(root.fork(), what);
    return interceptPort(inner, methods, run);
  };

  const queue = (inner: Queue): Queue => {
    const rng = root.fork();
    const sendFaults = failing(rng, inner.name);
    return interceptPort(inner, PORT_METHODS.queue, async (method, args, call) => {
      if (!active()) return call();
      switch (method) {
        case 'send':
          return sendFaults(method, args, call);
        case 'receive': {
          // The runtime (the platform) is trusted; receive itself never fails, it only varies.
          if (rng.chance(p.delayedDelivery)) {
            stats.delayedDelivery++;
            await yieldTurns(rng.between(1, 6));
          }
          const options = args[0] as ReceiveOptions;
          if (options.max > 1 && rng.chance(p.splitBatch)) {
            stats.splitBatch++;
            return call([{ ...options, max: rng.between(1, options.max - 1) }]);
          }
          return call();
        }
        case 'ack':
          if (rng.chance(p.duplicateDelivery)) {
            // The ack is lost: the handled messages come again, still ahead of later ones.
            stats.duplicateDelivery++;
            return inner.release(args[0] as string[]);
          }
          return call();
        default:
          return call();
      }
    });
  };

  const channel = (inner: Channel): Channel => {
    const rng = root.fork();
    const sendFaults = failing(rng, 'channel');
    return interceptPort(inner, PORT_METHODS.channel, async (method, args, call) => {
      if (method === 'send') return sendFaults(method, args, call);
      if (method !== 'subscribe') return call();
      const [session, onMessages] = args as [number, (messages: string[]) => void];
      // Deliveries of one session go through one pump: delayed or duplicated, never reordered.
      const waiting: string[][] = [];
      let pumping = false;
      const deliver = (batch: string[]) => {
        try {
          onMessages(batch);
        } catch {
          // The client's own failure; the channel port redelivers only on the real channel.
        }
      };
      const pump = async () => {
        if (pumping) return;
        pumping = true;
        try {
          while (waiting.length > 0) {
            if (active() && rng.chance(p.channelDelay)) {
              stats.channelDelay++;
              await yieldTurns(rng.between(1, 6));
            }
            const batch = waiting.shift()!;
            deliver(batch);
            if (active() && rng.chance(p.channelDuplicate)) {
              stats.channelDuplicate++;
              deliver(batch);
            }
          }
        } finally {
          pumping = false;
        }
      };
      // The incarnation and tag as the caller gave them (ports/channel.ts).
      return call([
        session,
        (messages: string[]) => {
          waiting.push(messages);
          void pump();
        },
        ...args.slice(2),
      ]);
    });
  };

  return {
    wrap: {
      systemStore: (s: SystemStore) => store(s, PORT_METHODS.systemStore, 'systemStore'),
      userStore: (s: UserStore) => store(s, PORT_METHODS.userStore, 'userStore'),
      writerQueue: queue,
      distributorQueue: queue,
      channel,
    },
    stats,
    enable() {
      enabled = true;
    },
    disable() {
      enabled = false;
    },
    get enabled() {
      return enabled;
    },
    quietly: (fn) => quiet.run(true, fn),
  };
}

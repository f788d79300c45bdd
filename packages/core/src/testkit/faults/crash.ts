import { AsyncLocalStorage } from 'node:async_hooks';
import type { PortWrappers } from '../../deployment/deployment.js';
import type { Channel } from '../../ports/channel.js';
import type { Queue, ReceivedMessage } from '../../ports/queue.js';
import type { BatchHandler } from '../../ports/runtime.js';
import type { SystemStore } from '../../ports/system-store.js';
import type { UserStore } from '../../ports/user-store.js';
import { interceptPort, PORT_METHODS } from './intercept.js';
import type { Rng } from './prng.js';

/** A function instance dying (the process is gone): thrown from a port call by the crash injector. */
export class CrashError extends Error {
  override name = 'CrashError';
}

/** Where to crash: at the `at`-th port call (0-based) of an invocation, before or after it takes effect. */
export interface CrashPoint {
  at: number;
  when: 'before' | 'after';
}

/** The functions whose invocations can be crashed. */
export type CrashTarget = 'writer' | 'distributor';

/** What a traced invocation did. */
export interface InvocationTrace {
  functionName: CrashTarget;
  /** Its port calls in order (`systemStore.transact`, `userStore.put`, ...). */
  calls: string[];
  /** Whether it crashed. */
  crashed: boolean;
}

interface Invocation {
  trace: InvocationTrace;
  point: CrashPoint | undefined;
  /** Random crashes: each port call crashes (before or after) with this probability. */
  random?: { rng: Rng; probability: number };
}

interface Armed {
  target: CrashTarget;
  point: CrashPoint | undefined;
  match: ((messages: ReceivedMessage[]) => boolean) | undefined;
  resolve: (trace: InvocationTrace) => void;
}

/**
 * Crash injection at the boundaries between a function's port calls. Arm it for one invocation of
 * the writer or the distributor: that invocation's port calls are counted (and traced), and the
 * chosen one throws {@link CrashError} before or after it takes effect; every later call of the
 * dead invocation throws too. The runtime then retries the batch with the same input, untraced.
 */
export class CrashInjector {
  private readonly current = new AsyncLocalStorage<Invocation>();
  private armed: Armed | undefined;
  private random: { rng: Rng; probability: number } | undefined;
  /** Number of crashes injected. */
  crashes = 0;

  /**
   * Random crashes: every invocation of the writer and the distributor (other than an armed one)
   * crashes at each port call, before or after it, with `probability`, drawn from `rng`.
   * `undefined` switches them off.
   */
  setRandomCrashes(random: { rng: Rng; probability: number } | undefined): void {
    this.random = random;
  }

  /** Pass as `createEmbeddedService({ wrapHandler })`. */
  readonly wrapHandler = (functionName: CrashTarget, handler: BatchHandler): BatchHandler => {
    return async (messages, context) => {
      const arm = this.armed;
      if (arm === undefined || arm.target !== functionName || !(arm.match?.(messages) ?? true)) {
        if (this.random === undefined) return this.current.exit(() => handler(messages, context));
        const invocation: Invocation = {
          trace: { functionName, calls: [], crashed: false },
          point: undefined,
          random: this.random,
        };
        return this.current.run(invocation, () => handler(messages, context));
      }
      this.armed = undefined;
      const invocation: Invocation = { trace: { functionName, calls: [], crashed: false }, point: arm.point };
      try {
        return await this.current.run(invocation, () => handler(messages, context));
      } finally {
        arm.resolve(invocation.trace);
      }
    };
  };

  /** Pass as `createEmbeddedService({ wrap })` (compose outside any other wrappers). */
  readonly wrap: Required<PortWrappers> = {
    systemStore: (s: SystemStore) => this.port(s, PORT_METHODS.systemStore, 'systemStore'),
    userStore: (s: UserStore) => this.port(s, PORT_METHODS.userStore, 'userStore'),
    writerQueue: (q: Queue) => this.port(q, PORT_METHODS.queue, 'writerQueue'),
    distributorQueue: (q: Queue) => this.port(q, PORT_METHODS.queue, 'distributorQueue'),
    channel: (c: Channel) => this.port(c, PORT_METHODS.channel, 'channel'),
  };

  /**
   * Traces the next invocation of `target` (whose batch satisfies `match`), crashing it at `point`
   * if given. Resolves with its trace when it ends.
   */
  arm(
    target: CrashTarget,
    point?: CrashPoint,
    match?: (messages: ReceivedMessage[]) => boolean,
  ): Promise<InvocationTrace> {
    return new Promise((resolve) => {
      this.armed = { target, point, match, resolve };
    });
  }

  /** Drops an arming that no invocation took. */
  disarm(): void {
    this.armed = undefined;
  }

  private port<T extends object>(inner: T, methods: readonly string[], name: string): T {
    return interceptPort(inner, methods, async (method, args, call) => {
      if (name === 'channel' && method === 'subscribe') {
        // Deliveries to clients run outside the sending invocation: their calls are not its calls.
        const [session, onMessages] = args as [number, (messages: string[]) => void];
        return call([session, (m: string[]) => this.current.exit(() => onMessages(m)), ...args.slice(2)]);
      }
      const invocation = this.current.getStore();
      if (invocation === undefined) return call();
      const trace = invocation.trace;
      if (trace.crashed) throw new CrashError(`${trace.functionName} already crashed`);
      const k = trace.calls.length;
      trace.calls.push(`${name}.${method}`);
      let point = invocation.point;
      const random = invocation.random;
      if (random?.rng.chance(random.probability))
        point = { at: k, when: random.rng.chance(0.5) ? 'before' : 'after' };
      const hit = point !== undefined && point.at === k;
      if (hit && point?.when === 'before') {
        trace.crashed = true;
        this.crashes++;
        throw new CrashError(`crash before ${name}.${method} (call ${k})`);
      }
      const result = await call();
      if (hit && point?.when === 'after') {
        trace.crashed = true;
        this.crashes++;
        throw new CrashError(`crash after ${name}.${method} (call ${k})`);
      }
      return result;
    });
  }
}

/**
 * Port interception: a wrapper that sees every call of chosen methods, keeps every other member
 * (capabilities, names, test helpers such as `paths()` or `depth`) and can be unwrapped again.
 */

/** Runs (or alters, or refuses) one intercepted call. `call` performs it, with new arguments if given. */
export type Around = (
  method: string,
  args: unknown[],
  call: (args?: unknown[]) => Promise<unknown>,
) => Promise<unknown>;

const INNER = Symbol('faaskeeper.inner');

/** Async methods of each port that wrappers intercept. */
export const PORT_METHODS = {
  systemStore: ['get', 'getMany', 'list', 'transact', 'increment'],
  userStore: [
    'get',
    'put',
    'delete',
    'getWatermark',
    'putWatermark',
    'getMarker',
    'putMarker',
    'putChild',
    'deleteChild',
    'listChildren',
  ],
  queue: ['send', 'receive', 'ack', 'release'],
  channel: ['send', 'subscribe', 'remove'],
} as const;

/** Wraps `inner` so that calls of `methods` go through `around`. */
export function interceptPort<T extends object>(inner: T, methods: readonly string[], around: Around): T {
  const wrapped = new Set(methods);
  return new Proxy(inner, {
    get(target, prop, receiver) {
      if (prop === INNER) return target;
      const value = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function') return value;
      if (typeof prop === 'string' && wrapped.has(prop)) {
        return (...args: unknown[]) =>
          around(prop, args, (next) =>
            (value as (...a: unknown[]) => Promise<unknown>).apply(target, next ?? args),
          );
      }
      return (value as (...a: unknown[]) => unknown).bind(target);
    },
  });
}

/** The innermost port under any number of interception wrappers (checks read through it, fault-free). */
export function unwrapPort<T extends object>(port: T): T {
  let current: T = port;
  for (;;) {
    const inner = (current as { [INNER]?: T })[INNER];
    if (inner === undefined) return current;
    current = inner;
  }
}

/** Lets other callbacks and I/O run `turns` times (a delay measured in event-loop turns, not wall time). */
export async function yieldTurns(turns: number): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

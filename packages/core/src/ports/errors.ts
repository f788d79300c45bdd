/**
 * Errors that adapters raise across a port. No provider SDK error may escape an adapter: it is
 * translated into one of these (or into a {@link FaaSKeeperError} where a user must see it).
 */
export class PortError extends Error {
  override name = 'PortError';
  /** True when the same call may succeed if tried again (throttling, timeouts, contention). */
  readonly retryable: boolean;
  constructor(message: string, options: { retryable?: boolean; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.retryable = options.retryable ?? false;
  }
}

/**
 * A conditional write or transaction failed its condition. `index` names the failing op of a
 * transaction; `current` is the item's version found there (`undefined` when absent).
 */
export class ConditionFailedError extends PortError {
  override name = 'ConditionFailedError';
  readonly index: number;
  readonly current: number | undefined;
  constructor(message: string, index: number, current: number | undefined, cause?: unknown) {
    super(message, { retryable: false, cause });
    this.index = index;
    this.current = current;
  }
}

/** A transient failure: throttling, a timeout, contention. Safe to retry. */
export class TransientError extends PortError {
  override name = 'TransientError';
  constructor(message: string, cause?: unknown) {
    super(message, { retryable: true, cause });
  }
}

/** A value over a service limit (item, message or transaction size). Retrying will not help. */
export class LimitExceededError extends PortError {
  override name = 'LimitExceededError';
  readonly limit: number;
  readonly actual: number;
  constructor(what: string, actual: number, limit: number) {
    super(`${what} is ${actual} bytes, over the limit of ${limit}`, { retryable: false });
    this.limit = limit;
    this.actual = actual;
  }
}

/** True for errors worth retrying. */
export function isRetryable(error: unknown): boolean {
  return error instanceof PortError && error.retryable;
}

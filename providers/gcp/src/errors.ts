import { PortError, TransientError } from '@faaskeeper/core';

/** gRPC status codes the Google client libraries report in `error.code`. */
export const GrpcStatus = {
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  INTERNAL: 13,
  UNAVAILABLE: 14,
} as const;

/** The gRPC status code of a Google client library error, if it has one. */
export function grpcCode(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}

const TRANSIENT = new Set<number>([
  GrpcStatus.CANCELLED,
  GrpcStatus.UNKNOWN,
  GrpcStatus.DEADLINE_EXCEEDED,
  GrpcStatus.RESOURCE_EXHAUSTED,
  GrpcStatus.ABORTED,
  GrpcStatus.INTERNAL,
  GrpcStatus.UNAVAILABLE,
]);

/** True for a gRPC status worth retrying (contention, throttling, timeouts, a lost connection). */
export function isTransientStatus(error: unknown): boolean {
  const code = grpcCode(error);
  if (code !== undefined) return TRANSIENT.has(code);
  // Socket-level failures of the HTTP/2 transport carry Node error codes instead.
  const errno = (error as { code?: unknown } | null)?.code;
  return typeof errno === 'string' && /^(ECONNRESET|ECONNREFUSED|ETIMEDOUT|EPIPE|EAI_AGAIN)$/.test(errno);
}

/**
 * Translates an error of a Google client library into the core's port errors, so that no SDK error
 * escapes an adapter: contention, throttling and timeouts become {@link TransientError}, anything
 * else a non-retryable {@link PortError}. Port errors pass through unchanged.
 */
export function translateError(error: unknown, what: string): PortError {
  if (error instanceof PortError) return error;
  const detail = error instanceof Error ? error.message : String(error);
  if (isTransientStatus(error)) return new TransientError(`${what}: ${detail}`, error);
  return new PortError(`${what}: ${detail}`, { cause: error });
}

/** Runs `call` and translates whatever it throws (see {@link translateError}). */
export async function guard<T>(what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw translateError(error, what);
  }
}

/** Waits `ms` of real time (back-off between retries against a cloud service). */
export function backoff(attempt: number, baseMs = 5, maxMs = 200): Promise<void> {
  const ms = Math.min(maxMs, baseMs * 2 ** attempt) * (0.5 + Math.random() / 2);
  return new Promise((resolve) => setTimeout(resolve, ms));
}

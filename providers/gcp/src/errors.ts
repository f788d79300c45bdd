import { type Backoff, PortError, TransientError } from '@faaskeeper/core';

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

/**
 * The adapters' back-off between retries against a Google service: 2.5–5 ms after the first
 * failure, doubling up to 100–200 ms, jittered so that contending writers do not retry in lockstep.
 */
export const GCP_BACKOFF: Backoff = { baseMs: 5, maxMs: 200, jitter: 'half' };

/**
 * Call options that turn the client library's own retries off, for a call whose failure an
 * adapter's loop retries: one failure, one retry layer.
 *
 * Who retries what on GCP. The client libraries (google-gax) retry the calls their service configs
 * call idempotent: Datastore Lookup and RunQuery (UNAVAILABLE, DEADLINE_EXCEEDED), Pub/Sub Publish,
 * Acknowledge, ModifyAckDeadline and the admin calls. Those are left to them wherever no loop of
 * ours retries the same call. Ours run through the core's `retry` on the adapter's clock: a
 * Datastore transaction (ABORTED and other transient failures; BeginTransaction and Commit are
 * never retried by the library, and the transaction's lookups are made with these options), a
 * record or item re-read while a write changes it under the read (no library retries that), and
 * the channel's pull (the queue's pull is retried by the core's poller): every pull is made with
 * these options.
 */
export const NO_LIBRARY_RETRY = { retry: null };

import { PortError, TransientError } from '@faaskeeper/core';

/** The fields of an AWS SDK v3 service exception (or a network error) this package looks at. */
export interface AwsErrorShape {
  name?: string;
  code?: string;
  message?: string;
  $fault?: 'client' | 'server';
  $retryable?: unknown;
  $metadata?: { httpStatusCode?: number };
}

/** Error names AWS services use for throttling, contention and their own failures. */
const TRANSIENT_NAMES = new Set([
  'ThrottlingException',
  'Throttling',
  'ThrottledException',
  'RequestThrottled',
  'RequestThrottledException',
  'TooManyRequestsException',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'TransactionConflictException',
  'TransactionInProgressException',
  'InternalServerError',
  'InternalFailure',
  'InternalError',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'SlowDown',
  'RequestTimeout',
  'RequestTimeoutException',
  'TimeoutError',
  'KMSThrottlingException',
]);

/** Node network errors worth retrying (the request may or may not have taken effect). */
const NETWORK_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN', 'ENOTFOUND']);

/** The error's name, as SDK exceptions carry it. */
export function awsErrorName(error: unknown): string {
  const e = error as AwsErrorShape | undefined;
  return e?.name ?? e?.code ?? '';
}

/** True for throttling, contention, 5xx answers and network failures. */
export function isTransientAwsError(error: unknown): boolean {
  const e = error as AwsErrorShape | undefined;
  if (e === undefined || e === null) return false;
  if (TRANSIENT_NAMES.has(awsErrorName(e))) return true;
  if (e.code !== undefined && NETWORK_CODES.has(e.code)) return true;
  if (e.$fault === 'server') return true;
  const status = e.$metadata?.httpStatusCode;
  return status !== undefined && (status >= 500 || status === 429);
}

/**
 * Translates an SDK error that no caller handled into the core's port errors: a
 * {@link TransientError} when retrying may help, else a {@link PortError}. Never lets an SDK
 * exception escape an adapter.
 */
export function translateAwsError(what: string, error: unknown): PortError {
  if (error instanceof PortError) return error;
  const name = awsErrorName(error);
  const message = `${what} failed: ${name || 'error'}: ${(error as AwsErrorShape | undefined)?.message ?? String(error)}`;
  return isTransientAwsError(error)
    ? new TransientError(message, error)
    : new PortError(message, { cause: error });
}

/** Runs one SDK call and translates whatever it throws. */
export async function awsCall<T>(what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw translateAwsError(what, error);
  }
}

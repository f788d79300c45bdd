/**
 * How AWS bills the requests the adapters make (list-price units, DESIGN.md §7). Every adapter
 * adds these to the core's `Meter` under the keys below.
 */
export const METER_KEYS = {
  /** DynamoDB write request units: 1 per KB written, 2 per KB in a transaction. */
  dynamodbWriteUnits: 'dynamodb.write-units',
  /** DynamoDB read request units: 1 per 4 KB strongly consistent, 2 per 4 KB in a transaction. */
  dynamodbReadUnits: 'dynamodb.read-units',
  /** S3 PUT, COPY, POST and LIST requests (one price class). */
  s3Put: 's3.put',
  /** S3 GET and HEAD requests (the cheaper class). */
  s3Get: 's3.get',
  /** S3 DELETE requests (free, counted for completeness). */
  s3Delete: 's3.delete',
  /** SQS requests, one per started 64 KiB of payload. */
  sqsRequest: 'sqs.request',
  /** Lambda invocations (requests). */
  lambdaInvocation: 'lambda.invocations',
  /** Lambda compute: duration (rounded up to 1 ms) × memory, in GB-seconds. */
  lambdaGbSeconds: 'lambda.gb-seconds',
} as const;

/** Write request units of writing one item of `bytes` (DynamoDB rounds up to whole KB). */
export function writeUnits(bytes: number, transactional: boolean): number {
  return Math.max(1, Math.ceil(bytes / 1024)) * (transactional ? 2 : 1);
}

/** Read request units of one strongly consistent read of `bytes` (rounded up to 4 KB). */
export function readUnits(bytes: number): number {
  return Math.max(1, Math.ceil(bytes / 4096));
}

/** Billed SQS requests of one call carrying `bytes` of payload (each 64 KiB chunk is a request). */
export function sqsRequests(bytes: number): number {
  return Math.max(1, Math.ceil(bytes / (64 * 1024)));
}

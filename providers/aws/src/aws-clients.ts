import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { SQSClient, type SQSClientConfig } from '@aws-sdk/client-sqs';

/**
 * An adapter's SDK client: either a ready one (shared, configured by the caller) or the config to
 * build one from — never both.
 */
export type ClientOrConfig<Client, Config> =
  | { client: Client; config?: never }
  | { config: Config; client?: never };

/**
 * Attempts of every SDK call, the first included: the SDK's standard retry strategy (exponential
 * back-off with jitter, a retry-token bucket) is the one place that retries throttling, 5xx,
 * request timeouts and network errors, for every call of every adapter. The adapters' own loops
 * (`retry` from the core) retry only what the SDK does not: DynamoDB transaction conflicts
 * (TransactionCanceledException, TransactionConflictException), BatchGetItem's unprocessed keys,
 * a record re-read after its S3 object was replaced, and the channel's long poll, which runs for
 * the subscription's life. Kept at the SDK's default of 3, but set here so that it is chosen, not
 * inherited: a conflicted DynamoDB transaction makes at most `conflictRetries + 1` calls, each
 * retried by the SDK only for failures our loop never retries.
 */
export const SDK_MAX_ATTEMPTS = 3;

/** The SDK retry settings of a client this package builds, unless the caller's config sets its own. */
const sdkRetry = { maxAttempts: SDK_MAX_ATTEMPTS, retryMode: 'standard' } as const;

/** Builds a DynamoDB client from the option, or returns the given one. */
export function dynamoDbClientOf(
  option: ClientOrConfig<DynamoDBClient, DynamoDBClientConfig>,
): DynamoDBClient {
  return option.client ?? new DynamoDBClient({ ...sdkRetry, ...option.config });
}

/** Builds an S3 client from the option, or returns the given one. */
export function s3ClientOf(option: ClientOrConfig<S3Client, S3ClientConfig>): S3Client {
  return option.client ?? new S3Client({ ...sdkRetry, ...option.config });
}

/** Builds an SQS client from the option, or returns the given one. */
export function sqsClientOf(option: ClientOrConfig<SQSClient, SQSClientConfig>): SQSClient {
  return option.client ?? new SQSClient({ ...sdkRetry, ...option.config });
}

/** Endpoints of an AWS-compatible deployment: real AWS when omitted, emulators when given. */
export interface AwsEndpoints {
  region: string;
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  dynamodb?: string;
  sqs?: string;
  s3?: string;
}

function base(endpoints: AwsEndpoints) {
  return {
    ...sdkRetry,
    region: endpoints.region,
    ...(endpoints.credentials === undefined ? {} : { credentials: endpoints.credentials }),
  };
}

/** SDK clients for every service the provider uses, pointed at `endpoints`. */
export interface AwsClients {
  dynamodb: DynamoDBClient;
  s3: S3Client;
  sqs: SQSClient;
  /** Releases the clients' sockets. */
  destroy(): void;
}

/** Creates the three SDK clients for `endpoints` (path-style S3 when an endpoint is given, as emulators need). */
export function createAwsClients(endpoints: AwsEndpoints): AwsClients {
  const dynamodb = new DynamoDBClient({
    ...base(endpoints),
    ...(endpoints.dynamodb === undefined ? {} : { endpoint: endpoints.dynamodb }),
  });
  const s3 = new S3Client({
    ...base(endpoints),
    ...(endpoints.s3 === undefined ? {} : { endpoint: endpoints.s3, forcePathStyle: true }),
  });
  const sqs = new SQSClient({
    ...base(endpoints),
    ...(endpoints.sqs === undefined ? {} : { endpoint: endpoints.sqs }),
  });
  return {
    dynamodb,
    s3,
    sqs,
    destroy() {
      dynamodb.destroy();
      s3.destroy();
      sqs.destroy();
    },
  };
}

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

/** Builds a DynamoDB client from the option, or returns the given one. */
export function dynamoDbClientOf(
  option: ClientOrConfig<DynamoDBClient, DynamoDBClientConfig>,
): DynamoDBClient {
  return option.client ?? new DynamoDBClient(option.config as DynamoDBClientConfig);
}

/** Builds an S3 client from the option, or returns the given one. */
export function s3ClientOf(option: ClientOrConfig<S3Client, S3ClientConfig>): S3Client {
  return option.client ?? new S3Client(option.config as S3ClientConfig);
}

/** Builds an SQS client from the option, or returns the given one. */
export function sqsClientOf(option: ClientOrConfig<SQSClient, SQSClientConfig>): SQSClient {
  return option.client ?? new SQSClient(option.config as SQSClientConfig);
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

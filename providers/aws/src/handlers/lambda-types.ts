/*
 * The few Lambda event shapes the handlers use (as AWS documents them), kept here so that the
 * package needs no types-only dependency.
 */

/** One SQS message in a Lambda event. */
export interface SqsRecord {
  messageId: string;
  receiptHandle: string;
  body: string;
  attributes: {
    ApproximateReceiveCount?: string;
    MessageGroupId?: string;
    [name: string]: string | undefined;
  };
  messageAttributes: Record<string, { stringValue?: string; dataType?: string }>;
  eventSource?: string;
  eventSourceARN?: string;
  awsRegion?: string;
  md5OfBody?: string;
}

/** The event of an SQS event source mapping. */
export interface SqsEvent {
  Records: SqsRecord[];
}

/** A partial batch response: the messages to hand out again. */
export interface SqsBatchResponse {
  batchItemFailures: { itemIdentifier: string }[];
}

/** An EventBridge scheduled event. */
export interface ScheduledEvent {
  'detail-type'?: string;
  source?: string;
  time?: string;
  [key: string]: unknown;
}

/** The part of Lambda's context object the handlers read. */
export interface LambdaContext {
  functionName?: string;
  getRemainingTimeInMillis?: () => number;
  /** The invocation's id; with the next three, what the logger adds to each line. */
  awsRequestId?: string;
  functionVersion?: string;
  invokedFunctionArn?: string;
  memoryLimitInMB?: string;
}

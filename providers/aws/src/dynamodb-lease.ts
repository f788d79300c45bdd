import { type DynamoDBClient, type DynamoDBClientConfig, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { type LeaseRenewal, type LeaseRenewer, type Meter, noMeter } from '@faaskeeper/core';
import { type ClientOrConfig, dynamoDbClientOf } from './aws-clients.js';
import { awsErrorName, translateAwsError } from './aws-errors.js';
import { METER_KEYS, writeUnits } from './meter.js';

/** Options of {@link DynamoDbLeaseRenewer}: the system table, and a ready client or its config. */
export type DynamoDbLeaseRenewerOptions = ClientOrConfig<DynamoDBClient, DynamoDBClientConfig> & {
  /** The deployment's system table (the lease items are `pk` = `lease`, `sk` = session id). */
  table: string;
  /** Counts the write unit each renewal costs. */
  meter?: Meter;
};

/**
 * A client's lease renewals on DynamoDB (docs/guarantees.md "Sessions"): one UpdateItem of the
 * session's lease item in the system table — the renewal time as the item's number value (`n`, as
 * `DynamoDbSystemStore` stores a plain number) and its version bumped — conditioned on the item
 * existing, so that a renewal never creates a lease: a failed condition means the session is gone.
 * One write request unit a renewal, the floor of DynamoDB's pricing; the client's IAM grant for it
 * is limited to UpdateItem on the `lease` partition (`deploy/stack.ts`).
 */
export class DynamoDbLeaseRenewer implements LeaseRenewer {
  private readonly client: DynamoDBClient;
  private readonly table: string;
  private readonly meter: Meter;

  constructor(options: DynamoDbLeaseRenewerOptions) {
    this.client = dynamoDbClientOf(options);
    this.table = options.table;
    this.meter = options.meter ?? noMeter;
  }

  async renew(session: number, at: number): Promise<LeaseRenewal> {
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: { pk: { S: 'lease' }, sk: { S: String(session) } },
          UpdateExpression: 'SET #n = :at ADD #ver :one',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeNames: { '#n': 'n', '#ver': 'version' },
          ExpressionAttributeValues: { ':at': { N: String(at) }, ':one': { N: '1' } },
        }),
      );
      this.meter.add(METER_KEYS.dynamodbWriteUnits, writeUnits(0, false));
      return 'renewed';
    } catch (error) {
      if (awsErrorName(error) === 'ConditionalCheckFailedException') {
        // A failed condition is billed like the write it would have been.
        this.meter.add(METER_KEYS.dynamodbWriteUnits, writeUnits(0, false));
        return 'absent';
      }
      throw translateAwsError('DynamoDB UpdateItem (lease)', error);
    }
  }
}

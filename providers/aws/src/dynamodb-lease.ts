import { type DynamoDBClient, type DynamoDBClientConfig, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import {
  type GroupLeases,
  groupLeaseId,
  type LeaseRenewal,
  type LeaseRenewer,
  type Meter,
  noMeter,
} from '@faaskeeper/core';
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

  /**
   * Group leases (`LeaseGroup`, the gateway's): the group item `lease/g<group>` is set by the same
   * one-unit UpdateItem without a condition (it may be created); a member's lease holds minus its
   * group's number, written by a renewal's UpdateItem (join: the lease must exist; leave: it must
   * still name the group). Every call stays within the client's grant: UpdateItem on the `lease`
   * partition, attributes `n` and `version`.
   */
  readonly groups: GroupLeases = {
    renewGroup: async (group, at) => {
      await this.update(groupLeaseId(group), at, undefined);
    },
    join: (session, group) => this.update(String(session), -group, 'attribute_exists(pk)'),
    leave: (session, group, at) => this.update(String(session), at, '#n = :group', -group),
  };

  constructor(options: DynamoDbLeaseRenewerOptions) {
    this.client = dynamoDbClientOf(options);
    this.table = options.table;
    this.meter = options.meter ?? noMeter;
  }

  async renew(session: number, at: number): Promise<LeaseRenewal> {
    return this.update(String(session), at, 'attribute_exists(pk)');
  }

  /**
   * Sets lease item `id` to `value` and bumps its version, under `condition` (`#n` is the value,
   * `:group` is `group`); `'absent'` when the condition failed.
   */
  private async update(
    id: string,
    value: number,
    condition: string | undefined,
    group?: number,
  ): Promise<LeaseRenewal> {
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: { pk: { S: 'lease' }, sk: { S: id } },
          UpdateExpression: 'SET #n = :at ADD #ver :one',
          ...(condition === undefined ? {} : { ConditionExpression: condition }),
          ExpressionAttributeNames: { '#n': 'n', '#ver': 'version' },
          ExpressionAttributeValues: {
            ':at': { N: String(value) },
            ':one': { N: '1' },
            ...(group === undefined ? {} : { ':group': { N: String(group) } }),
          },
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

import { type DynamoDBClient, type DynamoDBClientConfig, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import {
  type GroupLeases,
  type LeaseKey,
  type LeaseRenewal,
  type LeaseRenewer,
  type Meter,
  noMeter,
  type SignedRenewal,
} from '@faaskeeper/core';
import { type ClientOrConfig, dynamoDbClientOf } from './aws-clients.js';
import { awsErrorName, translateAwsError } from './aws-errors.js';
import { encodeValue } from './dynamodb-values.js';
import { METER_KEYS, writeUnits } from './meter.js';

/** Options of {@link DynamoDbLeaseRenewer}: the system table, and a ready client or its config. */
export type DynamoDbLeaseRenewerOptions = ClientOrConfig<DynamoDBClient, DynamoDBClientConfig> & {
  /**
   * The deployment's system table (the lease items are `pk` = `lease`, `sk` = the lease's id:
   * `<session>.<tag>`, the tag derived from the session key, `session/lease.ts` `leaseId`).
   */
  table: string;
  /** Counts the write unit each renewal costs. */
  meter?: Meter;
};

/**
 * A client's lease renewals on DynamoDB (docs/guarantees.md "Sessions"): one UpdateItem of the
 * session's lease item in the system table (under the id only the session key gives: "Lease
 * availability") — the signed renewal (its time and its MAC under the
 * session key) as the item's value (`value`, the JSON text `DynamoDbSystemStore` stores an object
 * as; the number `n` the writer left at the open removed) and its version bumped — conditioned on
 * the item existing, so that a renewal never creates a lease: a failed condition means the session
 * is gone. One write request unit a renewal (the item stays far under 1 KB), the floor of
 * DynamoDB's pricing; the client's IAM grant for it is limited to UpdateItem on the `lease`
 * partition and these attributes (`deploy/stack.ts`).
 */
export class DynamoDbLeaseRenewer implements LeaseRenewer {
  private readonly client: DynamoDBClient;
  private readonly table: string;
  private readonly meter: Meter;

  /**
   * Group leases (`LeaseGroup`, the gateway's): the group item `lease/g<group>.<tag>` is set by the same
   * one-unit UpdateItem without a condition (it may be created); a member's lease holds its
   * membership (`{"g":<group>,"k":…}`), written by a renewal's UpdateItem (join: the lease must
   * exist; leave: its value must still begin with that group's membership). Every call stays within
   * the client's grant: UpdateItem on the `lease` partition, attributes `value`, `n` and `version`.
   */
  readonly groups: GroupLeases = {
    renewGroup: async (group, renewal) => {
      await this.update(group.id, renewal, undefined);
    },
    join: (lease, _group, membership) => this.update(lease.id, membership, 'attribute_exists(pk)'),
    leave: (lease, group, renewal) =>
      this.update(lease.id, renewal, 'begins_with(#value, :group)', `{"g":${group},`),
  };

  constructor(options: DynamoDbLeaseRenewerOptions) {
    this.client = dynamoDbClientOf(options);
    this.table = options.table;
    this.meter = options.meter ?? noMeter;
  }

  async renew(lease: LeaseKey, renewal: SignedRenewal): Promise<LeaseRenewal> {
    return this.update(lease.id, renewal, 'attribute_exists(pk)');
  }

  /**
   * Sets lease item `id` to `value` (as the system store encodes an object) and bumps its version,
   * under `condition` (`#value` is the value, `:group` is `group`); `'absent'` when the condition
   * failed.
   */
  private async update(
    id: string,
    value: object,
    condition: string | undefined,
    group?: string,
  ): Promise<LeaseRenewal> {
    const text = encodeValue(value).set.value;
    if (text === undefined) throw new TypeError('a lease value must encode as a JSON text');
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: { pk: { S: 'lease' }, sk: { S: id } },
          UpdateExpression: 'SET #value = :value REMOVE #n ADD #ver :one',
          ...(condition === undefined ? {} : { ConditionExpression: condition }),
          ExpressionAttributeNames: { '#value': 'value', '#n': 'n', '#ver': 'version' },
          ExpressionAttributeValues: {
            ':value': text,
            ':one': { N: '1' },
            ...(group === undefined ? {} : { ':group': { S: group } }),
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

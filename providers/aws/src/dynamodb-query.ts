/**
 * The one paged, strongly consistent DynamoDB `Query` loop of this package: the system store's
 * `list` and `query` and the user store's child listing all read through it, so paging, retries and
 * read-unit metering are written once.
 */
import {
  type AttributeValue,
  type DynamoDBClient,
  QueryCommand,
  type QueryCommandInput,
} from '@aws-sdk/client-dynamodb';
import type { Meter } from '@faaskeeper/core';
import { awsCall } from './aws-errors.js';
import { attributesBytes } from './dynamodb-values.js';
import { METER_KEYS, readUnits } from './meter.js';

/** A DynamoDB item as the low-level client returns it. */
export type DynamoItem = Record<string, AttributeValue>;

/** A query without its paging fields, which {@link queryPage} sets. */
export type QueryInput = Omit<QueryCommandInput, 'ExclusiveStartKey' | 'ConsistentRead'>;

/** One page of a query: its items and where the next one starts (absent: the last page). */
export interface DynamoPage {
  items: DynamoItem[];
  next?: DynamoItem;
}

/**
 * Reads one strongly consistent page of `input` from `start`, and meters it: a Query is billed by
 * the bytes it read, rounded up to 4 KB per read unit (`bytesOf` counts an item's bytes as
 * read, which for a projection includes the key attributes it did not return).
 */
export async function queryPage(
  client: DynamoDBClient,
  meter: Meter,
  input: QueryInput,
  start: DynamoItem | undefined,
  bytesOf: (item: DynamoItem) => number = attributesBytes,
): Promise<DynamoPage> {
  const page = await awsCall('DynamoDB Query', () =>
    client.send(
      new QueryCommand({
        ...input,
        ConsistentRead: true,
        ...(start === undefined ? {} : { ExclusiveStartKey: start }),
      }),
    ),
  );
  const items = page.Items ?? [];
  meter.add(METER_KEYS.dynamodbReadUnits, readUnits(items.reduce((n, it) => n + bytesOf(it), 0)));
  return page.LastEvaluatedKey === undefined ? { items } : { items, next: page.LastEvaluatedKey };
}

/** Every page of `input`, in order (see {@link queryPage}). */
export async function* queryPages(
  client: DynamoDBClient,
  meter: Meter,
  input: QueryInput,
  bytesOf?: (item: DynamoItem) => number,
): AsyncGenerator<DynamoItem[]> {
  let start: DynamoItem | undefined;
  do {
    const page = await queryPage(client, meter, input, start, bytesOf);
    yield page.items;
    start = page.next;
  } while (start !== undefined);
}

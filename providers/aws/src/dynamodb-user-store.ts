import { randomUUID } from 'node:crypto';
import {
  type AttributeValue,
  CreateTableCommand,
  DeleteItemCommand,
  DeleteTableCommand,
  type DynamoDBClient,
  type DynamoDBClientConfig,
  GetItemCommand,
  PutItemCommand,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import type { S3Client } from '@aws-sdk/client-s3';
import {
  type ChildEntry,
  type Clock,
  childKey,
  decodeMessage,
  encodeMessage,
  LimitExceededError,
  type Meter,
  type NodeRecord,
  noMeter,
  PortError,
  PROTECTED_PREFIX,
  parseChildKey,
  parseMarker,
  readNodeRecord,
  systemClock,
  type UserStore,
  type Zone,
} from '@faaskeeper/core';
import { type ClientOrConfig, dynamoDbClientOf } from './aws-clients.js';
import { awsCall } from './aws-errors.js';
import { queryPages } from './dynamodb-query.js';
import { attributesBytes, decodeValue, encodeValue } from './dynamodb-values.js';
import { METER_KEYS, readUnits, writeUnits } from './meter.js';
import { REPLACED, rereadReplaced, S3Objects } from './s3-objects.js';

/** Options of {@link DynamoDbUserStore}. */
export type DynamoDbUserStoreOptions = ClientOrConfig<DynamoDBClient, DynamoDBClientConfig> & {
  /** The table (partition key `path`, a string). */
  table: string;
  /**
   * The child index's table (partition key `parent`, sort key `key`: `<name>@<czxid>[~<dzxid>]`).
   * Default `<table>-children` (see {@link childTableOf}).
   */
  childTable?: string;
  /** Where records over the item limit go (without it, they are refused with LimitExceededError). */
  offload?: { client: S3Client; bucket: string; prefix?: string };
  /** Records whose item would exceed this many bytes are offloaded. Default 350 KiB. */
  inlineItemBytes?: number;
  meter?: Meter;
  /** Clock the re-reads of a replaced record run on. Default the system clock. */
  clock?: Clock;
};

type Item = Record<string, AttributeValue>;

/** The child index's table of a user-store table: `<table>-children`. */
export const childTableOf = (table: string): string => `${table}-children`;

/** The sort key of a child's life in the child table: its name and `czxid`, live or ended. */
const lifeKey = (entry: ChildEntry): string => childKey({ name: entry.name, czxid: entry.czxid });

/** The watermark's key: paths always start with `/`, so it is never a node. */
const WATERMARK = '#watermark';

/** The key of a session's marker (`owed/<session>`), likewise never a node's. */
const markerKey = (session: number) => `#owed/${session}`;

/**
 * The partition key of a node (or, in the child table, of a parent) in `zone`: the path in the
 * open zone, `protected/<path>` in the protected one. The client policy reads only keys that start
 * with `/` or `#` (a `dynamodb:LeadingKeys` condition), so never a protected one.
 */
export const zoneKey = (path: string, zone: Zone = 'open'): string =>
  zone === 'open' ? path : `${PROTECTED_PREFIX}${path}`;

/**
 * The user store on DynamoDB (the paper's "key-value" option): one item per node, read strongly
 * consistently. A record too large for an item (node data near the 1 MiB limit) is written to S3
 * first and the item points to it; the item write returns the old item, whose object is then
 * deleted, and a reader that finds an object already gone reads the item again.
 */
export class DynamoDbUserStore implements UserStore {
  /**
   * A life of a child is one item, keyed `<name>@<czxid>`; its tombstone replaces it (attribute
   * `dzxid`), so one delete removes the life: one write unit less per delete than two items.
   * Tombstones a distributor of the layout before wrote as items of their own
   * (`<name>@<czxid>~<dzxid>`) are still listed.
   */
  readonly childTombstoneInPlace = true;
  readonly table: string;
  readonly childTable: string;
  readonly client: DynamoDBClient;
  private readonly meter: Meter;
  private readonly offload: { client: S3Client; bucket: string; prefix: string } | undefined;
  private readonly objects: S3Objects | undefined;
  private readonly inlineItemBytes: number;
  private readonly clock: Clock;

  constructor(options: DynamoDbUserStoreOptions) {
    this.client = dynamoDbClientOf(options);
    this.table = options.table;
    this.childTable = options.childTable ?? childTableOf(options.table);
    this.meter = options.meter ?? noMeter;
    this.clock = options.clock ?? systemClock;
    this.offload = options.offload === undefined ? undefined : { prefix: 'user-data/', ...options.offload };
    this.objects =
      this.offload === undefined
        ? undefined
        : new S3Objects(this.offload.client, this.offload.bucket, 'user-store record', this.meter);
    this.inlineItemBytes = options.inlineItemBytes ?? 350 * 1024;
  }

  /**
   * Creates the table and its child index's table `childTable` (default `<table>-children`;
   * on-demand billing) and waits until both are active.
   */
  static async createTable(
    client: DynamoDBClient,
    table: string,
    childTable = childTableOf(table),
  ): Promise<void> {
    const create = (name: string, keys: [string, 'HASH' | 'RANGE'][]) =>
      awsCall('DynamoDB CreateTable', async () => {
        await client.send(
          new CreateTableCommand({
            TableName: name,
            BillingMode: 'PAY_PER_REQUEST',
            AttributeDefinitions: keys.map(([k]) => ({ AttributeName: k, AttributeType: 'S' })),
            KeySchema: keys.map(([k, type]) => ({ AttributeName: k, KeyType: type })),
          }),
        );
        await waitUntilTableExists({ client, maxWaitTime: 60, minDelay: 1 }, { TableName: name });
      });
    await create(table, [['path', 'HASH']]);
    await create(childTable, [
      ['parent', 'HASH'],
      ['key', 'RANGE'],
    ]);
  }

  /** Deletes the table and its child index's table (tests and `destroy`). */
  async dropTable(): Promise<void> {
    for (const name of [this.table, this.childTable])
      await awsCall('DynamoDB DeleteTable', () =>
        this.client.send(new DeleteTableCommand({ TableName: name })),
      );
  }

  private async getItem(path: string): Promise<Item | undefined> {
    const out = await awsCall('DynamoDB GetItem', () =>
      this.client.send(
        new GetItemCommand({ TableName: this.table, Key: { path: { S: path } }, ConsistentRead: true }),
      ),
    );
    this.meter.add(
      METER_KEYS.dynamodbReadUnits,
      readUnits(out.Item === undefined ? 0 : attributesBytes(out.Item)),
    );
    return out.Item;
  }

  async get(path: string, zone?: Zone): Promise<NodeRecord | undefined> {
    return rereadReplaced(`record of ${path}`, this.clock, async () => {
      const item = await this.getItem(zoneKey(path, zone));
      if (item === undefined) return undefined;
      const key = item.s3?.S;
      if (key === undefined) return readNodeRecord(decodeValue(item));
      const text = await this.loadObject(key);
      return text === undefined ? REPLACED : readNodeRecord(decodeMessage(text));
    });
  }

  async put(path: string, record: NodeRecord, zone?: Zone): Promise<void> {
    const encoded = encodeValue(record);
    const pk = zoneKey(path, zone);
    let item: Item = { path: { S: pk }, ...encoded.set };
    let bytes = encoded.bytes + pk.length + 4;
    if (bytes > this.inlineItemBytes) {
      if (this.offload === undefined)
        throw new LimitExceededError(`user-store record of ${path}`, bytes, this.inlineItemBytes);
      // A protected record's object is outside the offload prefix that clients may read.
      const key = `${zone === 'protected' ? PROTECTED_PREFIX : ''}${this.offload.prefix}${randomUUID()}`;
      await this.storeObject(key, encodeMessage(record));
      item = { path: { S: pk }, s3: { S: key }, txZxid: { N: String(record.txZxid) } };
      bytes = attributesBytes(item);
    }
    const out = await awsCall('DynamoDB PutItem', () =>
      this.client.send(new PutItemCommand({ TableName: this.table, Item: item, ReturnValues: 'ALL_OLD' })),
    );
    this.meter.add(METER_KEYS.dynamodbWriteUnits, writeUnits(bytes, false));
    await this.removeObjectOf(out.Attributes);
  }

  async delete(path: string, zone?: Zone): Promise<void> {
    const out = await awsCall('DynamoDB DeleteItem', () =>
      this.client.send(
        new DeleteItemCommand({
          TableName: this.table,
          Key: { path: { S: zoneKey(path, zone) } },
          ReturnValues: 'ALL_OLD',
        }),
      ),
    );
    this.meter.add(METER_KEYS.dynamodbWriteUnits, 1);
    await this.removeObjectOf(out.Attributes);
  }

  async getWatermark(): Promise<number> {
    const item = await this.getItem(WATERMARK);
    return item?.n?.N === undefined ? 0 : Number(item.n.N);
  }

  async putWatermark(zxid: number): Promise<void> {
    await awsCall('DynamoDB PutItem', () =>
      this.client.send(
        new PutItemCommand({
          TableName: this.table,
          Item: { path: { S: WATERMARK }, n: { N: String(zxid) } },
        }),
      ),
    );
    this.meter.add(METER_KEYS.dynamodbWriteUnits, 1);
  }

  async getMarker(session: number): Promise<number[] | undefined> {
    const item = await this.getItem(markerKey(session));
    const text = item?.e?.S;
    return text === undefined ? undefined : parseMarker(text, `DynamoDB item of marker ${session}`);
  }

  async putMarker(session: number, events: readonly number[]): Promise<void> {
    const key = { path: { S: markerKey(session) } };
    if (events.length === 0) {
      await awsCall('DynamoDB DeleteItem', () =>
        this.client.send(new DeleteItemCommand({ TableName: this.table, Key: key })),
      );
      this.meter.add(METER_KEYS.dynamodbWriteUnits, 1);
      return;
    }
    const item: Item = { ...key, e: { S: JSON.stringify(events) } };
    await awsCall('DynamoDB PutItem', () =>
      this.client.send(new PutItemCommand({ TableName: this.table, Item: item })),
    );
    this.meter.add(METER_KEYS.dynamodbWriteUnits, writeUnits(attributesBytes(item), false));
  }

  async putChild(entry: ChildEntry, zone?: Zone): Promise<void> {
    const item: Item = { parent: { S: zoneKey(entry.parent, zone) }, key: { S: lifeKey(entry) } };
    if (entry.dzxid !== undefined) item.dzxid = { N: String(entry.dzxid) };
    await awsCall('DynamoDB PutItem', () =>
      this.client.send(new PutItemCommand({ TableName: this.childTable, Item: item })),
    );
    this.meter.add(METER_KEYS.dynamodbWriteUnits, writeUnits(attributesBytes(item), false));
  }

  async deleteChild(entry: ChildEntry, zone?: Zone): Promise<void> {
    await awsCall('DynamoDB DeleteItem', () =>
      this.client.send(
        new DeleteItemCommand({
          TableName: this.childTable,
          Key: { parent: { S: zoneKey(entry.parent, zone) }, key: { S: lifeKey(entry) } },
        }),
      ),
    );
    this.meter.add(METER_KEYS.dynamodbWriteUnits, 1);
  }

  async listChildren(parent: string, zone?: Zone): Promise<ChildEntry[]> {
    const pk = zoneKey(parent, zone);
    const entries: ChildEntry[] = [];
    const input = {
      TableName: this.childTable,
      KeyConditionExpression: '#p = :p',
      ExpressionAttributeNames: { '#p': 'parent', '#k': 'key', '#d': 'dzxid' },
      ExpressionAttributeValues: { ':p': { S: pk } },
      ProjectionExpression: '#k, #d',
    };
    // Billed on the whole item read, the partition key the projection leaves out included.
    const bytesOf = (it: Item) => attributesBytes(it) + pk.length + 6;
    for await (const items of queryPages(this.client, this.meter, input, bytesOf))
      for (const it of items) {
        const key = it.key?.S ?? '';
        const entry = parseChildKey(parent, key);
        const dzxid = it.dzxid?.N === undefined ? undefined : Number(it.dzxid.N);
        if (entry === undefined || (dzxid !== undefined && !Number.isSafeInteger(dzxid)))
          throw new PortError(`child index item ${parent} ${key} is not an entry`);
        if (dzxid !== undefined) entry.dzxid = dzxid;
        entries.push(entry);
      }
    return entries;
  }

  private async storeObject(key: string, text: string): Promise<void> {
    await (this.objects as S3Objects).put(key, text);
  }

  private async loadObject(key: string): Promise<string | undefined> {
    if (this.objects === undefined)
      throw new PortError(`record points to S3 object ${key} but the store has no offload bucket`);
    return this.objects.get(key);
  }

  private async removeObjectOf(old: Item | undefined): Promise<void> {
    const key = old?.s3?.S;
    if (key !== undefined) await this.objects?.remove(key);
  }
}

import { createHash } from 'node:crypto';
import {
  type AttributeValue,
  BatchGetItemCommand,
  CreateTableCommand,
  DeleteItemCommand,
  DeleteTableCommand,
  type DynamoDBClient,
  type DynamoDBClientConfig,
  GetItemCommand,
  QueryCommand,
  type TransactWriteItem,
  TransactWriteItemsCommand,
  UpdateItemCommand,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import type { S3Client } from '@aws-sdk/client-s3';
import {
  ConditionFailedError,
  decodeMessage,
  type ExpectedVersion,
  encodeMessage,
  type ItemKey,
  type ItemKind,
  LimitExceededError,
  type Meter,
  noMeter,
  PortError,
  type SystemItem,
  type SystemStore,
  type SystemStoreCapabilities,
  type TransactOp,
  TransientError,
} from '@faaskeeper/core';
import { type ClientOrConfig, dynamoDbClientOf } from './aws-clients.js';
import { awsCall, awsErrorName, translateAwsError } from './aws-errors.js';
import { attributesBytes, decodeValue, encodeValue } from './dynamodb-values.js';
import { METER_KEYS, readUnits, writeUnits } from './meter.js';
import { S3Objects } from './s3-objects.js';

/** DynamoDB's item size limit (400 KB, attribute names included). */
export const DYNAMODB_ITEM_LIMIT = 400 * 1024;
/** Room kept for the key and bookkeeping attributes of an item. */
const ITEM_OVERHEAD = 2 * 1024;

/** Where item values over the DynamoDB item limit go. */
export interface SystemItemOffload {
  client: S3Client;
  bucket: string;
  /** Key prefix of offloaded values. Default `system-items/`. */
  prefix?: string;
}

/** Options of {@link DynamoDbSystemStore}: a table, and a ready client or its config. */
export type DynamoDbSystemStoreOptions = ClientOrConfig<DynamoDBClient, DynamoDBClientConfig> & {
  /** The table (partition key `pk` = kind, sort key `sk` = id, both strings). */
  table: string;
  /**
   * Offload values over `inlineItemBytes` to S3 (the item keeps a pointer); the store then takes
   * items up to `maxItemBytes`. Without it, items over 398 KiB are refused.
   */
  offload?: SystemItemOffload;
  /** Values larger than this go to S3 (with `offload`). Default 350 KiB. */
  inlineItemBytes?: number;
  /** Largest value accepted with `offload`. Default 4 MiB. */
  maxItemBytes?: number;
  /** Counts billed read/write request units. */
  meter?: Meter;
  /** How often a transaction cancelled by a conflicting one is retried before giving up. Default 5. */
  conflictRetries?: number;
};

type Item = Record<string, AttributeValue>;

const keyOf = (k: ItemKey): Item => ({ pk: { S: k.kind }, sk: { S: k.id } });

/** Condition expression (and values) for an expected version; `undefined` for 'any'. */
function conditionOf(expect: ExpectedVersion): { expression: string; values?: Item } | undefined {
  if (expect === 'any') return undefined;
  if (expect === 'absent') return { expression: 'attribute_not_exists(pk)' };
  return { expression: '#ver = :expected', values: { ':expected': { N: String(expect) } } };
}

/**
 * The system store on one DynamoDB table: strongly consistent reads, conditional writes and
 * all-or-nothing transactions (TransactWriteItems; a single-op transaction is one conditional
 * write, at half the cost).
 *
 * Items: `pk` = kind, `sk` = id, `version` (number), the value as JSON text with raw bytes beside it.
 * Limits: 100 ops per transaction. With `offload`, a value over 350 KiB is written to S3 first
 * (key: the item's folder, the version it gets and the content hash, so concurrent writers never
 * overwrite each other's committed value) and the item holds a pointer; after the commit, the
 * item's older values are deleted, and a reader that finds its value already gone reads the item
 * again. Without `offload`, values over 398 KiB are refused with {@link LimitExceededError}.
 * Failed conditions throw {@link ConditionFailedError} with the first failing op's index and the
 * version found there; throttling, 5xx and transaction conflicts (after retries) throw
 * {@link TransientError}.
 */
export class DynamoDbSystemStore implements SystemStore {
  readonly capabilities: SystemStoreCapabilities;
  readonly table: string;
  readonly client: DynamoDBClient;
  private readonly meter: Meter;
  private readonly conflictRetries: number;
  private readonly offload: Required<SystemItemOffload> | undefined;
  private readonly objects: S3Objects | undefined;
  private readonly inlineItemBytes: number;

  constructor(options: DynamoDbSystemStoreOptions) {
    this.client = dynamoDbClientOf(options);
    this.table = options.table;
    this.meter = options.meter ?? noMeter;
    this.conflictRetries = options.conflictRetries ?? 5;
    this.offload =
      options.offload === undefined ? undefined : { prefix: 'system-items/', ...options.offload };
    this.objects =
      this.offload === undefined
        ? undefined
        : new S3Objects(this.offload.client, this.offload.bucket, 'system item', this.meter);
    const inlineLimit = DYNAMODB_ITEM_LIMIT - ITEM_OVERHEAD;
    this.inlineItemBytes = Math.min(inlineLimit, options.inlineItemBytes ?? 350 * 1024);
    this.capabilities = {
      maxTransactionItems: 100,
      maxItemBytes: this.offload === undefined ? inlineLimit : (options.maxItemBytes ?? 4 * 1024 * 1024),
    };
  }

  /** Creates the table (on-demand billing) and waits until it is active. */
  static async createTable(client: DynamoDBClient, table: string): Promise<void> {
    await awsCall('DynamoDB CreateTable', async () => {
      await client.send(
        new CreateTableCommand({
          TableName: table,
          BillingMode: 'PAY_PER_REQUEST',
          AttributeDefinitions: [
            { AttributeName: 'pk', AttributeType: 'S' },
            { AttributeName: 'sk', AttributeType: 'S' },
          ],
          KeySchema: [
            { AttributeName: 'pk', KeyType: 'HASH' },
            { AttributeName: 'sk', KeyType: 'RANGE' },
          ],
        }),
      );
      await waitUntilTableExists({ client, maxWaitTime: 60, minDelay: 1 }, { TableName: table });
    });
  }

  /** Deletes the table (tests and `destroy`). */
  async dropTable(): Promise<void> {
    await awsCall('DynamoDB DeleteTable', () =>
      this.client.send(new DeleteTableCommand({ TableName: this.table })),
    );
  }

  /** The item as the core sees it; `undefined` when its offloaded value vanished (replaced meanwhile). */
  private async toItem<T>(item: Item): Promise<SystemItem<T> | undefined> {
    const pointer = item.s3?.S;
    let value: unknown;
    if (pointer === undefined) value = decodeValue(item);
    else {
      const text = await this.loadValue(pointer);
      if (text === undefined) return undefined;
      value = decodeMessage(text);
    }
    return {
      kind: item.pk?.S as ItemKind,
      id: item.sk?.S as string,
      version: Number(item.version?.N ?? 0),
      value: value as T,
    };
  }

  /** Reads an item whose offloaded value was replaced while it was being read, again. */
  private async reread<T>(key: ItemKey): Promise<SystemItem<T> | undefined> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const out = await awsCall('DynamoDB GetItem', () =>
        this.client.send(
          new GetItemCommand({ TableName: this.table, Key: keyOf(key), ConsistentRead: true }),
        ),
      );
      this.meterRead(out.Item);
      if (out.Item === undefined) return undefined;
      const item = await this.toItem<T>(out.Item);
      if (item !== undefined) return item;
    }
    throw new TransientError(`item ${key.kind}/${key.id} kept changing while being read`);
  }

  private async loadValue(key: string): Promise<string | undefined> {
    if (this.objects === undefined)
      throw new PortError(`item points to S3 object ${key} but the store has no offload bucket`);
    return this.objects.get(key);
  }

  /** The folder of an item's offloaded values (hashed: ids may be long or hold any character). */
  private valueFolder(key: ItemKey): string {
    const digest = createHash('sha256')
      .update(key.kind)
      .update('\u0000')
      .update(key.id)
      .digest('hex')
      .slice(0, 40);
    return `${(this.offload as Required<SystemItemOffload>).prefix}${this.table}/${digest}/`;
  }

  /**
   * Writes an offloaded value. Its key holds the version the item gets and the content's hash, so
   * a concurrent writer never overwrites a value another one committed.
   */
  private async storeValue(key: ItemKey, version: number | undefined, text: string): Promise<string> {
    const hash = createHash('sha256').update(text).digest('hex').slice(0, 40);
    const objectKey = `${this.valueFolder(key)}${version === undefined ? 'x' : String(version).padStart(16, '0')}-${hash}`;
    await (this.objects as S3Objects).put(objectKey, text);
    return objectKey;
  }

  /** Deletes an item's offloaded values older than `version` (after that version committed). */
  private async dropOlderValues(key: ItemKey, version: number): Promise<void> {
    const objects = this.objects as S3Objects;
    const folder = this.valueFolder(key);
    for (const objectKey of await objects.list(folder)) {
      const v = Number(objectKey.slice(folder.length).split('-')[0]);
      if (Number.isFinite(v) && v < version) await objects.remove(objectKey);
    }
  }

  private meterRead(item: Item | undefined): void {
    this.meter.add(METER_KEYS.dynamodbReadUnits, readUnits(item === undefined ? 0 : attributesBytes(item)));
  }

  async get<T = unknown>(key: ItemKey): Promise<SystemItem<T> | undefined> {
    const out = await awsCall('DynamoDB GetItem', () =>
      this.client.send(new GetItemCommand({ TableName: this.table, Key: keyOf(key), ConsistentRead: true })),
    );
    this.meterRead(out.Item);
    if (out.Item === undefined) return undefined;
    return (await this.toItem<T>(out.Item)) ?? this.reread<T>(key);
  }

  async getMany<T = unknown>(keys: ItemKey[]): Promise<(SystemItem<T> | undefined)[]> {
    const found = new Map<string, Item>();
    const id = (kind: string, sk: string) => `${kind}\u0000${sk}`;
    // BatchGetItem refuses duplicate keys and takes at most 100 at a time.
    const unique = [...new Map(keys.map((k) => [id(k.kind, k.id), k])).values()];
    for (let i = 0; i < unique.length; i += 100) {
      let request: Item[] | undefined = unique.slice(i, i + 100).map(keyOf);
      for (let round = 0; request !== undefined && request.length > 0; round++) {
        const keysNow: Item[] = request;
        const out = await awsCall('DynamoDB BatchGetItem', () =>
          this.client.send(
            new BatchGetItemCommand({
              RequestItems: { [this.table]: { Keys: keysNow, ConsistentRead: true } },
            }),
          ),
        );
        const items = out.Responses?.[this.table] ?? [];
        // Billed per item, each rounded up to 4 KB; a miss still costs a unit.
        this.meter.add(
          METER_KEYS.dynamodbReadUnits,
          items.reduce((n, it) => n + readUnits(attributesBytes(it)), 0) + (keysNow.length - items.length),
        );
        for (const it of items) found.set(id(it.pk?.S ?? '', it.sk?.S ?? ''), it);
        request = out.UnprocessedKeys?.[this.table]?.Keys;
        if (request !== undefined && request.length > 0) {
          if (round > 8) throw new TransientError('DynamoDB BatchGetItem left keys unprocessed');
          await new Promise((r) => setTimeout(r, 10 * 2 ** round));
        }
      }
    }
    return Promise.all(
      keys.map(async (k) => {
        const it = found.get(id(k.kind, k.id));
        if (it === undefined) return undefined;
        return (await this.toItem<T>(it)) ?? this.reread<T>(k);
      }),
    );
  }

  async list<T = unknown>(kind: ItemKind): Promise<SystemItem<T>[]> {
    const out: SystemItem<T>[] = [];
    let start: Item | undefined;
    do {
      const from = start;
      const page = await awsCall('DynamoDB Query', () =>
        this.client.send(
          new QueryCommand({
            TableName: this.table,
            KeyConditionExpression: 'pk = :kind',
            ExpressionAttributeValues: { ':kind': { S: kind } },
            ConsistentRead: true,
            ...(from === undefined ? {} : { ExclusiveStartKey: from }),
          }),
        ),
      );
      const items = page.Items ?? [];
      // A query is billed on the total size it read, rounded up to 4 KB.
      this.meter.add(
        METER_KEYS.dynamodbReadUnits,
        readUnits(items.reduce((n, it) => n + attributesBytes(it), 0)),
      );
      for (const it of items) {
        const item = (await this.toItem<T>(it)) ?? (await this.reread<T>({ kind, id: it.sk?.S ?? '' }));
        if (item !== undefined) out.push(item);
      }
      start = page.LastEvaluatedKey;
    } while (start !== undefined);
    return out;
  }

  async transact(ops: TransactOp[]): Promise<void> {
    if (ops.length === 0) return;
    if (ops.length > this.capabilities.maxTransactionItems)
      throw new LimitExceededError(
        'transaction item count',
        ops.length,
        this.capabilities.maxTransactionItems,
      );
    const seen = new Set<string>();
    for (const op of ops) {
      const k = `${op.kind}\u0000${op.id}`;
      if (seen.has(k)) throw new PortError(`transaction touches ${op.kind}/${op.id} twice`);
      seen.add(k);
    }
    const offloaded: { key: ItemKey; version: number | undefined }[] = [];
    const items = await Promise.all(ops.map((op) => this.transactItem(op, offloaded)));
    for (let attempt = 0; ; attempt++) {
      try {
        if (items.length === 1) await this.single(ops[0] as TransactOp, items[0] as TransactWriteItem);
        else await this.multi(ops, items);
        for (const o of offloaded) if (o.version !== undefined) await this.dropOlderValues(o.key, o.version);
        return;
      } catch (error) {
        if (!(error instanceof TransientError) || attempt >= this.conflictRetries) throw error;
        // Contention with a concurrent transaction: back off with jitter and try again.
        await new Promise((r) => setTimeout(r, 5 * 2 ** attempt + Math.random() * 10));
      }
    }
  }

  /** One op as a transaction item; checks the size limit first and offloads a large value. */
  private async transactItem(
    op: TransactOp,
    offloaded: { key: ItemKey; version: number | undefined }[],
  ): Promise<TransactWriteItem> {
    const condition = conditionOf(op.expect);
    const names: Record<string, string> = condition?.values === undefined ? {} : { '#ver': 'version' };
    const common = {
      TableName: this.table,
      Key: keyOf(op),
      ...(condition === undefined ? {} : { ConditionExpression: condition.expression }),
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD' as const,
    };
    if (op.type === 'delete')
      return {
        Delete: {
          ...common,
          ...(Object.keys(names).length > 0 ? { ExpressionAttributeNames: names } : {}),
          ...(condition?.values === undefined ? {} : { ExpressionAttributeValues: condition.values }),
        },
      };
    if (op.type === 'check')
      return {
        ConditionCheck: {
          ...common,
          // A check that expects 'any' still needs a condition: one that always holds.
          ConditionExpression: condition?.expression ?? 'attribute_not_exists(pk) OR attribute_exists(pk)',
          ...(Object.keys(names).length > 0 ? { ExpressionAttributeNames: names } : {}),
          ...(condition?.values === undefined ? {} : { ExpressionAttributeValues: condition.values }),
        },
      };
    let encoded = encodeValue(op.value);
    if (encoded.bytes > this.capabilities.maxItemBytes)
      throw new LimitExceededError(`item ${op.kind}/${op.id}`, encoded.bytes, this.capabilities.maxItemBytes);
    if (encoded.bytes > this.inlineItemBytes && this.offload !== undefined) {
      const version = op.expect === 'absent' ? 1 : op.expect === 'any' ? undefined : op.expect + 1;
      const pointer = await this.storeValue(op, version, encodeMessage(op.value));
      offloaded.push({ key: { kind: op.kind, id: op.id }, version });
      encoded = { set: { s3: { S: pointer } }, remove: ['value', 'bin', 'n'], bytes: pointer.length + 2 };
    } else encoded = { ...encoded, remove: [...encoded.remove, 's3'] };
    const setNames = Object.keys(encoded.set);
    const attrNames: Record<string, string> = { '#ver': 'version' };
    const values: Item = { ':one': { N: '1' }, ...(condition?.values ?? {}) };
    setNames.forEach((name, i) => {
      attrNames[`#s${i}`] = name;
      values[`:s${i}`] = encoded.set[name] as AttributeValue;
    });
    encoded.remove.forEach((name, i) => {
      attrNames[`#r${i}`] = name;
    });
    // ADD on a missing item starts at 0: a created (or re-created) item gets version 1.
    const update = [
      `SET ${setNames.map((_, i) => `#s${i} = :s${i}`).join(', ')}`,
      `REMOVE ${encoded.remove.map((_, i) => `#r${i}`).join(', ')}`,
      'ADD #ver :one',
    ].join(' ');
    return {
      Update: {
        ...common,
        UpdateExpression: update,
        ExpressionAttributeNames: attrNames,
        ExpressionAttributeValues: values,
      },
    };
  }

  private meterWrites(items: TransactWriteItem[], transactional: boolean): void {
    let units = 0;
    for (const it of items) {
      const values = it.Update?.ExpressionAttributeValues ?? {};
      const bytes = 64 + attributesBytes(values); // key, version and names: ~64 bytes
      units += writeUnits(bytes, transactional);
    }
    this.meter.add(METER_KEYS.dynamodbWriteUnits, units);
  }

  /** A single op: a plain conditional write (1 WCU per KB instead of 2). */
  private async single(op: TransactOp, item: TransactWriteItem): Promise<void> {
    try {
      if (item.Update !== undefined) await this.client.send(new UpdateItemCommand(item.Update));
      else if (item.Delete !== undefined) await this.client.send(new DeleteItemCommand(item.Delete));
      else if (item.ConditionCheck !== undefined) {
        // A lone check writes nothing: a consistent read decides it.
        const found = await this.get(op);
        const expect = op.expect;
        const ok =
          expect === 'any' || (expect === 'absent' ? found === undefined : found?.version === expect);
        if (!ok) throw new ConditionFailedError(`condition failed on ${op.kind}/${op.id}`, 0, found?.version);
        return;
      }
      this.meterWrites([item], false);
    } catch (error) {
      if (error instanceof PortError) throw error;
      this.meterWrites([item], false);
      if (awsErrorName(error) === 'ConditionalCheckFailedException') {
        const old = (error as { Item?: Item }).Item;
        throw new ConditionFailedError(
          `condition failed on ${op.kind}/${op.id}: expected ${String(op.expect)}`,
          0,
          old?.version?.N === undefined ? undefined : Number(old.version.N),
          error,
        );
      }
      throw translateAwsError('DynamoDB write', error);
    }
  }

  private async multi(ops: TransactOp[], items: TransactWriteItem[]): Promise<void> {
    try {
      await this.client.send(new TransactWriteItemsCommand({ TransactItems: items }));
      this.meterWrites(items, true);
    } catch (error) {
      this.meterWrites(items, true);
      if (awsErrorName(error) !== 'TransactionCanceledException')
        throw translateAwsError('DynamoDB TransactWriteItems', error);
      const reasons =
        (error as { CancellationReasons?: { Code?: string; Item?: Item }[] }).CancellationReasons ?? [];
      const failing = reasons.findIndex((r) => r.Code === 'ConditionalCheckFailed');
      if (failing >= 0) {
        const op = ops[failing] as TransactOp;
        const old = reasons[failing]?.Item;
        throw new ConditionFailedError(
          `condition failed on ${op.kind}/${op.id}: expected ${String(op.expect)}`,
          failing,
          old?.version?.N === undefined ? undefined : Number(old.version.N),
          error,
        );
      }
      const codes = reasons.map((r) => r.Code ?? 'None');
      if (
        codes.some(
          (c) =>
            c === 'TransactionConflict' || c === 'ThrottlingError' || c === 'ProvisionedThroughputExceeded',
        )
      )
        throw new TransientError(`DynamoDB transaction cancelled: ${codes.join(', ')}`, error);
      if (codes.includes('ItemCollectionSizeLimitExceeded') || codes.includes('ValidationError'))
        throw new PortError(`DynamoDB transaction refused: ${codes.join(', ')}`, { cause: error });
      throw translateAwsError('DynamoDB TransactWriteItems', error);
    }
  }

  async increment(key: ItemKey, by = 1): Promise<number> {
    const out = await awsCall('DynamoDB UpdateItem', () =>
      this.client.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: keyOf(key),
          UpdateExpression: 'ADD #n :by, #ver :one REMOVE #value, #bin, #s3',
          ExpressionAttributeNames: {
            '#n': 'n',
            '#ver': 'version',
            '#value': 'value',
            '#bin': 'bin',
            '#s3': 's3',
          },
          ExpressionAttributeValues: { ':by': { N: String(by) }, ':one': { N: '1' } },
          ReturnValues: 'UPDATED_NEW',
        }),
      ),
    );
    this.meter.add(METER_KEYS.dynamodbWriteUnits, 1);
    return Number(out.Attributes?.n?.N ?? Number.NaN);
  }
}

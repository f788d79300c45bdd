import { createHash, randomUUID } from 'node:crypto';
import {
  type AttributeValue,
  BatchGetItemCommand,
  CreateTableCommand,
  DeleteItemCommand,
  DeleteTableCommand,
  type DynamoDBClient,
  type DynamoDBClientConfig,
  GetItemCommand,
  type TransactWriteItem,
  TransactWriteItemsCommand,
  UpdateItemCommand,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import type { S3Client } from '@aws-sdk/client-s3';
import {
  type Backoff,
  type Clock,
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
  type QueryPage,
  type QueryResult,
  retry,
  type SystemItem,
  type SystemStore,
  type SystemStoreCapabilities,
  systemClock,
  type TransactOp,
  TransientError,
} from '@faaskeeper/core';
import { type ClientOrConfig, dynamoDbClientOf } from './aws-clients.js';
import { awsCall, awsErrorName, translateAwsError } from './aws-errors.js';
import { queryPage, queryPages } from './dynamodb-query.js';
import { attributesBytes, decodeValue, encodeValue } from './dynamodb-values.js';
import { METER_KEYS, readUnits, writeUnits } from './meter.js';
import { REPLACED, rereadReplaced, S3Objects } from './s3-objects.js';

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
  /**
   * How often a write cancelled by a conflicting transaction is retried before giving up. Default 5.
   * Throttling, 5xx and network failures are the SDK's to retry (see `aws-clients.ts`), not these.
   */
  conflictRetries?: number;
  /** Clock the retries' back-offs wait on. Default the system clock. */
  clock?: Clock;
};

type Item = Record<string, AttributeValue>;

/** A put or delete made ready to write: its value encoded, a large one already stored in S3. */
interface PreparedOp {
  op: TransactOp;
  /** The attributes a put sets and removes (`undefined` for delete and check). */
  encoded?: { set: Item; remove: string[] };
  /** The S3 object a put's value went to (`undefined`: the value is inline, or not a put). */
  pointer?: string;
}

/**
 * A write cancelled only because an item's offloaded-value pointer was not the one assumed (its
 * version condition held): which ops, and the pointer each item really holds.
 */
class PointerMismatch extends Error {
  constructor(readonly found: Map<number, string | undefined>) {
    super('offloaded-value pointer changed');
  }
}

/**
 * A write cancelled by a conflicting transaction (TransactionConflictException, or a
 * TransactWriteItems cancelled for a conflict or for throttling of one of its items): failures the
 * SDK does not retry, so {@link DynamoDbSystemStore.transact} does.
 */
class WriteConflict extends TransientError {}

/**
 * Back-off between attempts of a write cancelled by a conflict: 5–10 ms after the first, doubling,
 * jittered so that the writers contending on an item do not collide again in lockstep.
 */
const CONFLICT_BACKOFF: Backoff = { baseMs: 10, maxMs: 1000, jitter: 'half' };

/**
 * Back-off after a write cancelled only because this store's assumed pointer was stale: the first
 * is retried at once (the real pointer is now known); more mean other writers are busy on the item,
 * so let them pass, jittered.
 */
const POINTER_BACKOFF: Backoff = { immediate: 1, baseMs: 5, maxMs: 40, jitter: 'half' };

/** BatchGetItem left keys unprocessed (throttled): the rest is asked for again. */
class KeysLeft extends TransientError {}

/** Back-off before asking again for unprocessed keys: 10 ms doubling, as AWS advises for them. */
const UNPROCESSED_BACKOFF: Backoff = { baseMs: 10, maxMs: 2560 };

/** Whether an item as found (`undefined`: absent) meets an op's expected version. */
function versionHeld(expect: ExpectedVersion, found: Item | undefined): boolean {
  if (expect === 'any') return true;
  if (expect === 'absent') return found === undefined;
  return found?.version?.N === String(expect);
}

/** Whether a write item is conditioned on its item's offloaded-value pointer. */
function checksPointer(item: TransactWriteItem | undefined): boolean {
  const names = item?.Update?.ExpressionAttributeNames ?? item?.Delete?.ExpressionAttributeNames;
  return names?.['#ptr'] !== undefined;
}

/** How many pointers of offloaded values a store remembers (the items it last saw offloaded). */
const KNOWN_POINTERS = 10_000;

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
 * (under a key no other write uses, so an object, once replaced, is never referenced again) and the
 * item holds a pointer. Every put or delete of an item is conditioned on the pointer the item
 * holds (none, or the one last seen), so the commit tells exactly which object it replaced; that
 * object is deleted after the commit, never before (a crash in between leaves an unreferenced
 * object behind: harmless, it is never read). A reader that finds its value already gone reads the
 * item again. Without `offload`, values over 398 KiB are refused with {@link LimitExceededError}.
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
  private readonly clock: Clock;
  private readonly offload: Required<SystemItemOffload> | undefined;
  private readonly objects: S3Objects | undefined;
  private readonly inlineItemBytes: number;
  /**
   * The S3 pointer each offloaded item held when this store last saw it (read or written); items
   * not here are assumed inline. Only an assumption: writes check it, and correct it when wrong.
   */
  private readonly knownPointers = new Map<string, string>();

  constructor(options: DynamoDbSystemStoreOptions) {
    this.client = dynamoDbClientOf(options);
    this.table = options.table;
    this.meter = options.meter ?? noMeter;
    this.conflictRetries = options.conflictRetries ?? 5;
    this.clock = options.clock ?? systemClock;
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
    this.remember({ kind: item.pk?.S as ItemKind, id: item.sk?.S as string }, pointer);
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
  private reread<T>(key: ItemKey): Promise<SystemItem<T> | undefined> {
    return rereadReplaced(`item ${key.kind}/${key.id}`, this.clock, async () => {
      const out = await awsCall('DynamoDB GetItem', () =>
        this.client.send(
          new GetItemCommand({ TableName: this.table, Key: keyOf(key), ConsistentRead: true }),
        ),
      );
      this.meterRead(out.Item);
      if (out.Item === undefined) return undefined;
      return (await this.toItem<T>(out.Item)) ?? REPLACED;
    });
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
   * Writes an offloaded value under a key of its own (the version it should get, for people
   * reading the bucket, and a random id): no other write, not even a retry of this one, uses it.
   */
  private async storeValue(key: ItemKey, version: number | undefined, text: string): Promise<string> {
    const objectKey = `${this.valueFolder(key)}${version === undefined ? 'x' : String(version).padStart(16, '0')}-${randomUUID()}`;
    await (this.objects as S3Objects).put(objectKey, text);
    return objectKey;
  }

  private static itemId(key: ItemKey): string {
    return `${key.kind}\u0000${key.id}`;
  }

  /** Records the pointer an item holds (`undefined`: inline or absent). */
  private remember(key: ItemKey, pointer: string | undefined): void {
    const id = DynamoDbSystemStore.itemId(key);
    this.knownPointers.delete(id);
    if (pointer === undefined) return;
    this.knownPointers.set(id, pointer);
    // Forget the longest-unseen one: a forgotten pointer costs one cancelled write, not correctness.
    if (this.knownPointers.size > KNOWN_POINTERS)
      this.knownPointers.delete(this.knownPointers.keys().next().value as string);
  }

  private meterRead(item: Item | undefined): void {
    this.meter.add(METER_KEYS.dynamodbReadUnits, readUnits(item === undefined ? 0 : attributesBytes(item)));
  }

  async get<T = unknown>(key: ItemKey): Promise<SystemItem<T> | undefined> {
    const out = await awsCall('DynamoDB GetItem', () =>
      this.client.send(new GetItemCommand({ TableName: this.table, Key: keyOf(key), ConsistentRead: true })),
    );
    this.meterRead(out.Item);
    if (out.Item === undefined) {
      this.remember(key, undefined);
      return undefined;
    }
    return (await this.toItem<T>(out.Item)) ?? this.reread<T>(key);
  }

  async getMany<T = unknown>(keys: ItemKey[]): Promise<(SystemItem<T> | undefined)[]> {
    const found = new Map<string, Item>();
    const id = (kind: string, sk: string) => `${kind}\u0000${sk}`;
    // BatchGetItem refuses duplicate keys and takes at most 100 at a time.
    const unique = [...new Map(keys.map((k) => [id(k.kind, k.id), k])).values()];
    for (let i = 0; i < unique.length; i += 100) {
      let request: Item[] = unique.slice(i, i + 100).map(keyOf);
      // Throttled keys come back unprocessed (not as an error the SDK would retry): ask for them
      // again, 10 times in all.
      await retry(
        async () => {
          const keysNow = request;
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
          request = out.UnprocessedKeys?.[this.table]?.Keys ?? [];
          if (request.length > 0) throw new KeysLeft('DynamoDB BatchGetItem left keys unprocessed');
        },
        {
          clock: this.clock,
          isTransient: (error) => error instanceof KeysLeft,
          maxAttempts: 10,
          backoff: UNPROCESSED_BACKOFF,
        },
      );
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
    const input = {
      TableName: this.table,
      KeyConditionExpression: 'pk = :kind',
      ExpressionAttributeValues: { ':kind': { S: kind } },
    };
    for await (const items of queryPages(this.client, this.meter, input))
      out.push(...(await this.itemsOf<T>(kind, items)));
    return out;
  }

  /** A Query on the kind's partition, `begins_with` on the sort key (the id). */
  async query<T = unknown>(kind: ItemKind, prefix: string, page: QueryPage = {}): Promise<QueryResult<T>> {
    const input = {
      TableName: this.table,
      KeyConditionExpression: prefix === '' ? 'pk = :kind' : 'pk = :kind AND begins_with(sk, :prefix)',
      ExpressionAttributeValues: {
        ':kind': { S: kind },
        ...(prefix === '' ? {} : { ':prefix': { S: prefix } }),
      },
      ...(page.limit === undefined ? {} : { Limit: page.limit }),
    };
    const start = page.after === undefined ? undefined : { pk: { S: kind }, sk: { S: page.after } };
    const got = await queryPage(this.client, this.meter, input, start);
    const items = await this.itemsOf<T>(kind, got.items);
    const last = got.items.at(-1)?.sk?.S;
    return got.next === undefined || last === undefined ? { items } : { items, next: last };
  }

  /** Decodes queried items; one whose offloaded value was replaced meanwhile is read again. */
  private async itemsOf<T>(kind: ItemKind, items: Item[]): Promise<SystemItem<T>[]> {
    const out: SystemItem<T>[] = [];
    for (const it of items) {
      const item = (await this.toItem<T>(it)) ?? (await this.reread<T>({ kind, id: it.sk?.S ?? '' }));
      if (item !== undefined) out.push(item);
    }
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
    let prepared = await Promise.all(ops.map((op) => this.prepare(op)));
    // Only conflicts are retried here: throttling, 5xx and network failures were retried by the
    // SDK already (aws-clients.ts), and are thrown as they come.
    const replaced = await retry(
      async (attempt) => {
        // The attempt before may have committed unseen (a timeout): store large values again under
        // new keys, so that a retry never commits a pointer whose object someone may since have
        // deleted as replaced.
        if (attempt > 1 && prepared.some((p) => p.pointer !== undefined))
          prepared = await Promise.all(ops.map((op) => this.prepare(op)));
        return this.writeLearningPointers(ops, prepared);
      },
      {
        clock: this.clock,
        isTransient: (error) => error instanceof WriteConflict,
        maxAttempts: this.conflictRetries + 1,
        backoff: CONFLICT_BACKOFF,
      },
    );
    await this.afterCommit(prepared, replaced);
  }

  /**
   * Writes `prepared`, each put or delete conditioned on the pointer its item holds as far as
   * this store knows; a write cancelled only because that assumption was stale learns the real
   * pointers and is written again (same objects), at most `2 · conflictRetries` times.
   * @returns the pointers the committed ops replaced.
   */
  private async writeLearningPointers(
    ops: TransactOp[],
    prepared: PreparedOp[],
  ): Promise<(string | undefined | null)[]> {
    try {
      return await retry(
        async () => {
          // Once it commits, the assumption was right.
          const replaced = ops.map((op) => this.assumedPointer(op));
          const items = prepared.map((p, i) => this.writeItem(p, replaced[i]));
          try {
            if (items.length === 1) await this.single(ops[0] as TransactOp, items[0] as TransactWriteItem);
            else await this.multi(ops, items);
          } catch (error) {
            // Cancelled, nothing written: learn the real pointers for the next attempt.
            if (error instanceof PointerMismatch)
              for (const [i, pointer] of error.found) this.remember(ops[i] as TransactOp, pointer);
            throw error;
          }
          return replaced;
        },
        {
          clock: this.clock,
          isTransient: (error) => error instanceof PointerMismatch,
          maxAttempts: 2 * this.conflictRetries + 1,
          backoff: POINTER_BACKOFF,
        },
      );
    } catch (error) {
      if (error instanceof PointerMismatch)
        throw new TransientError('system items kept changing under a transaction', error);
      throw error;
    }
  }

  /**
   * The pointer a put or delete assumes its item holds (`undefined`: none); `null` where none is
   * checked (a check, a create of an absent item, or a store without offload).
   */
  private assumedPointer(op: TransactOp): string | undefined | null {
    if (this.objects === undefined || op.type === 'check' || op.expect === 'absent') return null;
    return this.knownPointers.get(DynamoDbSystemStore.itemId(op));
  }

  /**
   * After a commit: the objects the committed ops replaced are referenced by no item any more, and
   * never will be again (keys are not reused): delete them. Best effort: one left behind (an S3
   * error, a crash before this) is unreferenced and harmless.
   */
  private async afterCommit(prepared: PreparedOp[], replaced: (string | undefined | null)[]): Promise<void> {
    const stale: string[] = [];
    prepared.forEach(({ op, pointer }, i) => {
      if (op.type === 'check') return;
      this.remember(op, pointer);
      const old = replaced[i];
      if (typeof old === 'string' && old !== pointer) stale.push(old);
    });
    if (stale.length > 0) await Promise.all(stale.map((key) => (this.objects as S3Objects).remove(key)));
  }

  /** Checks an op's size limit and stores a large put's value in S3 (before any write). */
  private async prepare(op: TransactOp): Promise<PreparedOp> {
    if (op.type !== 'put') return { op };
    let encoded = encodeValue(op.value);
    if (encoded.bytes > this.capabilities.maxItemBytes)
      throw new LimitExceededError(`item ${op.kind}/${op.id}`, encoded.bytes, this.capabilities.maxItemBytes);
    if (encoded.bytes > this.inlineItemBytes && this.offload !== undefined) {
      const version = op.expect === 'absent' ? 1 : op.expect === 'any' ? undefined : op.expect + 1;
      const pointer = await this.storeValue(op, version, encodeMessage(op.value));
      return { op, encoded: { set: { s3: { S: pointer } }, remove: ['value', 'bin', 'n'] }, pointer };
    }
    encoded = { ...encoded, remove: [...encoded.remove, 's3'] };
    return { op, encoded: { set: encoded.set, remove: encoded.remove } };
  }

  /**
   * One op as a transaction item, conditioned on its expected version and, where `pointer` is not
   * `null`, on the offloaded-value pointer its item holds (`undefined`: none).
   */
  private writeItem({ op, encoded }: PreparedOp, pointer: string | undefined | null): TransactWriteItem {
    const version = conditionOf(op.expect);
    const conditions = version === undefined ? [] : [version.expression];
    const names: Record<string, string> = version?.values === undefined ? {} : { '#ver': 'version' };
    const values: Item = { ...(version?.values ?? {}) };
    if (pointer !== null) {
      names['#ptr'] = 's3';
      if (pointer === undefined) conditions.push('attribute_not_exists(#ptr)');
      else {
        conditions.push('#ptr = :ptr');
        values[':ptr'] = { S: pointer };
      }
    }
    const condition = conditions.map((c) => `(${c})`).join(' AND ');
    const common = {
      TableName: this.table,
      Key: keyOf(op),
      ...(condition === '' ? {} : { ConditionExpression: condition }),
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD' as const,
      ...(Object.keys(names).length > 0 ? { ExpressionAttributeNames: names } : {}),
      ...(Object.keys(values).length > 0 ? { ExpressionAttributeValues: values } : {}),
    };
    if (op.type === 'delete') return { Delete: common };
    if (op.type === 'check')
      return {
        ConditionCheck: {
          ...common,
          // A check that expects 'any' still needs a condition: one that always holds.
          ConditionExpression:
            condition === '' ? 'attribute_not_exists(pk) OR attribute_exists(pk)' : condition,
        },
      };
    const { set, remove } = encoded as { set: Item; remove: string[] };
    const setNames = Object.keys(set);
    const attrNames: Record<string, string> = { ...names, '#ver': 'version' };
    const updateValues: Item = { ':one': { N: '1' }, ...values };
    setNames.forEach((name, i) => {
      attrNames[`#s${i}`] = name;
      updateValues[`:s${i}`] = set[name] as AttributeValue;
    });
    remove.forEach((name, i) => {
      attrNames[`#r${i}`] = name;
    });
    // ADD on a missing item starts at 0: a created (or re-created) item gets version 1.
    const update = [
      `SET ${setNames.map((_, i) => `#s${i} = :s${i}`).join(', ')}`,
      `REMOVE ${remove.map((_, i) => `#r${i}`).join(', ')}`,
      'ADD #ver :one',
    ].join(' ');
    return {
      Update: {
        ...common,
        UpdateExpression: update,
        ExpressionAttributeNames: attrNames,
        ExpressionAttributeValues: updateValues,
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
        if (checksPointer(item) && versionHeld(op.expect, old))
          throw new PointerMismatch(new Map([[0, old?.s3?.S]]));
        throw new ConditionFailedError(
          `condition failed on ${op.kind}/${op.id}: expected ${String(op.expect)}`,
          0,
          old?.version?.N === undefined ? undefined : Number(old.version.N),
          error,
        );
      }
      if (awsErrorName(error) === 'TransactionConflictException')
        throw new WriteConflict(`DynamoDB write conflicted with a transaction on ${op.kind}/${op.id}`, error);
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
      // A failed condition is the op's version, or only the pointer this store assumed.
      const failed = reasons.flatMap((r, i) => (r.Code === 'ConditionalCheckFailed' ? [i] : []));
      const pointerOnly = (i: number) =>
        checksPointer(items[i]) && versionHeld((ops[i] as TransactOp).expect, reasons[i]?.Item);
      const failing = failed.find((i) => !pointerOnly(i)) ?? -1;
      if (failing < 0 && failed.length > 0)
        throw new PointerMismatch(new Map(failed.map((i) => [i, reasons[i]?.Item?.s3?.S])));
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
        throw new WriteConflict(`DynamoDB transaction cancelled: ${codes.join(', ')}`, error);
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
          // The item as it was: the new count is its count plus `by` (the update is atomic), and an
          // offloaded value the update removed is known exactly, to delete after the write.
          ReturnValues: 'ALL_OLD',
        }),
      ),
    );
    this.meter.add(METER_KEYS.dynamodbWriteUnits, 1);
    const replaced = out.Attributes?.s3?.S;
    this.remember(key, undefined);
    if (replaced !== undefined) await this.objects?.remove(replaced);
    return Number(out.Attributes?.n?.N ?? 0) + by;
  }
}

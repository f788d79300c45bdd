import {
  type Clock,
  ConditionFailedError,
  decodeMessage,
  encodeMessage,
  type ItemKey,
  type ItemKind,
  LimitExceededError,
  logEligible,
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
  WRITER_STATE_ID,
} from '@faaskeeper/core';
import { and, type Datastore, type Key, PropertyFilter, type Transaction } from '@google-cloud/datastore';
import { BoundedMap } from './bounded-map.js';
import {
  blob,
  chunk,
  DATASTORE_CHUNK_BYTES,
  type DatastoreClientOption,
  datastoreFrom,
  int,
  keyKind,
  keyName,
  namespacedKey,
} from './datastore-client.js';
import {
  GCP_BACKOFF,
  GrpcStatus,
  grpcCode,
  isTransientStatus,
  NO_LIBRARY_RETRY,
  translateError,
} from './errors.js';

/** Options of {@link DatastoreSystemStore}. */
export type DatastoreSystemStoreOptions = DatastoreClientOption & {
  /** Datastore namespace of this deployment (isolates deployments and tests). Default: the default namespace. */
  namespace?: string;
  /** Prefix of the entity kinds (`<prefix>node`, `<prefix>session`, ...). Default `fk_`. */
  kindPrefix?: string;
  /** Where billable operations are counted (`datastore.entity-reads`, `-writes`, `-deletes`). */
  meter?: Meter;
  /** Attempts of a transaction that loses to contention (ABORTED) or fails transiently. Default 12. */
  maxAttempts?: number;
  /** Clock the retries' back-offs wait on. Default the system clock. */
  clock?: Clock;
  /**
   * Whether a transaction that conditions the writer's state item on its version relies on that
   * condition for the items only the writer writes, instead of reading them (see
   * {@link DatastoreSystemStore.transact}). Default true: this store is FaaSKeeper's system store,
   * where the writer commits every change of those items under that condition. `false` checks
   * every op's condition by reading its item, as the port describes for any caller.
   */
  writerStateGuard?: boolean;
};

/**
 * Largest item (its encoded value): three entity chunks. The writer keeps a committed batch, node
 * data included, in its state item, so one Datastore entity (1 MiB) is not enough for 1 MiB of data.
 */
const MAX_ITEM_BYTES = 3 * DATASTORE_CHUNK_BYTES;
/** Datastore takes at most 500 entity mutations per commit; chunks of big items count too. */
const MAX_MUTATIONS = 500;
/** Datastore's limit on the size of one commit is 10 MiB; stay below it with room for keys. */
const MAX_COMMIT_BYTES = 9 * 1024 * 1024;

/** The version of an item and how many chunk entities it has beyond its main one. */
interface Shape {
  version: number;
  chunks: number;
}

interface Stored extends Shape {
  entity: Record<string, unknown>;
}

/**
 * Items whose shape this store remembers (read or written lately): a few hundred bytes each, so a
 * full memo holds well under 10 MB. The oldest are dropped first.
 */
const MAX_SHAPES = 10_000;

interface Encoded {
  parts: Buffer[];
  bytes: number;
}

/**
 * The system store on Cloud Datastore (Firestore in Datastore mode). One entity per item, kind
 * `<prefix><item kind>`, named by the item's id, holding the version (`v`) and the value encoded
 * with the core's wire codec (`d`, bytes kept exact); values above one entity's size spill into
 * chunk entities. `transact` runs a Datastore transaction: it reads the touched items (in a writer
 * commit, not those whose condition the writer state's implies: see `impliedShapes`), checks the
 * version conditions inside the transaction, and commits; optimistic concurrency makes a commit
 * that raced another fail with ABORTED, which is retried with back-off. Datastore errors never
 * escape: contention and timeouts surface as {@link TransientError}.
 */
/** Entities per query page when the caller sets no limit. */
const DATASTORE_QUERY_PAGE = 500;

export class DatastoreSystemStore implements SystemStore {
  /** Datastore allows 500 entities per commit; 400 items leave room for the chunks of big items. */
  /** A transaction bills per entity, as single writes do: the writer commits in one transaction. */
  readonly capabilities: SystemStoreCapabilities = {
    maxTransactionItems: 400,
    maxItemBytes: MAX_ITEM_BYTES,
    transactionsCostMore: false,
  };
  readonly datastore: Datastore;
  private readonly namespace: string | undefined;
  private readonly prefix: string;
  private readonly meter: Meter;
  private readonly maxAttempts: number;
  private readonly clock: Clock;
  private readonly writerStateGuard: boolean;
  /**
   * Shapes of items this store read or wrote lately, by {@link mapKey}: what a transaction that
   * does not read an item needs to remove its chunk entities (see {@link transact}).
   */
  private readonly shapes = new BoundedMap<string, Shape>(MAX_SHAPES);

  constructor(options: DatastoreSystemStoreOptions) {
    this.datastore = datastoreFrom(options);
    this.namespace = options.namespace;
    this.prefix = options.kindPrefix ?? 'fk_';
    this.meter = options.meter ?? noMeter;
    this.maxAttempts = options.maxAttempts ?? 12;
    this.clock = options.clock ?? systemClock;
    this.writerStateGuard = options.writerStateGuard ?? true;
  }

  async get<T = unknown>(key: ItemKey): Promise<SystemItem<T> | undefined> {
    const [item] = await this.getMany<T>([key]);
    return item;
  }

  async getMany<T = unknown>(keys: ItemKey[]): Promise<(SystemItem<T> | undefined)[]> {
    if (keys.length === 0) return [];
    const found = await this.lookup(
      keys.map((k) => this.key(k.kind, k.id)),
      undefined,
    );
    const out: (SystemItem<T> | undefined)[] = [];
    for (const k of keys) {
      const entity = found.get(this.mapKey(this.kind(k.kind), k.id));
      if (entity === undefined) {
        out.push(undefined);
        continue;
      }
      const item = await this.toItem<T>(k.kind, k.id, entity);
      this.remember(k.kind, k.id, this.stored(entity));
      out.push(item);
    }
    return out;
  }

  async list<T = unknown>(kind: ItemKind): Promise<SystemItem<T>[]> {
    let entities: Record<string, unknown>[];
    try {
      const query = this.datastore
        .createQuery(this.namespace ?? '', this.kind(kind))
        .hasAncestor(namespacedKey(this.datastore, this.namespace, this.rootPath));
      [entities] = (await this.datastore.runQuery(query)) as [Record<string, unknown>[], unknown];
    } catch (error) {
      throw translateError(error, `list ${kind}`);
    }
    // A query is billed one read per entity returned, and at least one.
    this.meter.add('datastore.entity-reads', Math.max(1, entities.length));
    return Promise.all(entities.map((e) => this.toItem<T>(kind, keyName(e) ?? '', e)));
  }

  /**
   * A key-range query under the store's root entity: an ancestor query, so strongly consistent
   * (Firestore in Datastore mode answers every query strongly; the ancestor keeps the emulator so).
   * Ids from `prefix` up to `prefix` + the largest code point, after `page.after` when given.
   */
  async query<T = unknown>(kind: ItemKind, prefix: string, page: QueryPage = {}): Promise<QueryResult<T>> {
    const limit = page.limit ?? DATASTORE_QUERY_PAGE;
    const filters: PropertyFilter<'__key__'>[] = [];
    if (page.after !== undefined)
      filters.push(new PropertyFilter('__key__', '>', this.key(kind, page.after)));
    else if (prefix !== '') filters.push(new PropertyFilter('__key__', '>=', this.key(kind, prefix)));
    if (prefix !== '')
      filters.push(new PropertyFilter('__key__', '<', this.key(kind, `${prefix}\u{10FFFF}`)));
    let entities: Record<string, unknown>[];
    let more: string | undefined;
    try {
      let query = this.datastore
        .createQuery(this.namespace ?? '', this.kind(kind))
        .hasAncestor(namespacedKey(this.datastore, this.namespace, this.rootPath))
        .order('__key__')
        .limit(limit);
      if (filters.length > 0) query = query.filter(and(filters));
      const [found, info] = await this.datastore.runQuery(query);
      entities = found as Record<string, unknown>[];
      more = info.moreResults;
    } catch (error) {
      throw translateError(error, `query ${kind} ${prefix}`);
    }
    // A query is billed one read per entity returned, and at least one.
    this.meter.add('datastore.entity-reads', Math.max(1, entities.length));
    const items = await Promise.all(entities.map((e) => this.toItem<T>(kind, keyName(e) ?? '', e)));
    const last = items.at(-1)?.id;
    return entities.length < limit || more === 'NO_MORE_RESULTS' || last === undefined
      ? { items }
      : { items, next: last };
  }

  async transact(ops: TransactOp[]): Promise<void> {
    if (ops.length > this.capabilities.maxTransactionItems)
      throw new LimitExceededError('transaction (ops)', ops.length, this.capabilities.maxTransactionItems);
    const seen = new Set<string>();
    const encoded: (Encoded | undefined)[] = [];
    let commitBytes = 0;
    for (const op of ops) {
      const id = this.mapKey(op.kind, op.id);
      if (seen.has(id)) throw new PortError(`transaction touches ${op.kind} ${op.id} twice`);
      seen.add(id);
      if (op.type === 'put') {
        const e = this.encode(op.kind, op.id, op.value);
        commitBytes += e.bytes;
        encoded.push(e);
      } else encoded.push(undefined);
    }
    if (commitBytes > MAX_COMMIT_BYTES)
      throw new LimitExceededError('transaction', commitBytes, MAX_COMMIT_BYTES);
    const unread = this.impliedShapes(ops);
    await this.withRetry('transaction', async (tx) => {
      const read = ops.filter((_, index) => !unread.has(index));
      const current =
        read.length === 0
          ? new Map()
          : await this.lookup(
              read.map((op) => this.key(op.kind, op.id)),
              tx,
            );
      const stored: (Shape | undefined)[] = ops.map((op, index) =>
        unread.has(index)
          ? unread.get(index)
          : this.stored(current.get(this.mapKey(this.kind(op.kind), op.id))),
      );
      // Conditions are checked on what this transaction read (a commit after a concurrent change
      // aborts); those of the unread items hold by the writer state's condition.
      for (const [index, op] of ops.entries()) {
        const version = stored[index]?.version;
        if (!matches(op.expect, version)) {
          throw new ConditionFailedError(
            `condition failed on ${op.kind} ${op.id}: expected ${op.expect}, found ${version ?? 'absent'}`,
            index,
            version,
          );
        }
      }
      let writes = 0;
      let deletes = 0;
      for (const [index, op] of ops.entries()) {
        const before = stored[index];
        if (op.type === 'check') continue;
        const oldChunks = before?.chunks ?? 0;
        if (op.type === 'delete') {
          if (before === undefined) continue;
          tx.delete([this.key(op.kind, op.id), ...this.chunkKeys(op.kind, op.id, 1, oldChunks)]);
          deletes += 1 + oldChunks;
          continue;
        }
        const parts = encoded[index]!.parts;
        const version = (before?.version ?? 0) + 1;
        tx.save(this.entities(op.kind, op.id, version, parts));
        writes += parts.length;
        if (oldChunks > parts.length - 1) {
          tx.delete(this.chunkKeys(op.kind, op.id, parts.length, oldChunks));
          deletes += oldChunks - (parts.length - 1);
        }
      }
      if (writes + deletes > MAX_MUTATIONS)
        throw new LimitExceededError('transaction (entity mutations)', writes + deletes, MAX_MUTATIONS);
      await tx.commit();
      this.meter.add('datastore.entity-writes', writes);
      if (deletes > 0) this.meter.add('datastore.entity-deletes', deletes);
      for (const [index, op] of ops.entries()) {
        if (op.type === 'delete') this.shapes.delete(this.mapKey(this.kind(op.kind), op.id));
        else if (op.type === 'put')
          this.remember(op.kind, op.id, {
            version: (stored[index]?.version ?? 0) + 1,
            chunks: encoded[index]!.parts.length - 1,
          });
      }
    });
  }

  /**
   * The ops of a transaction whose items it need not read, with the shape each item has under the
   * op's condition. When the transaction conditions the writer's state item on its version (a
   * writer commit, or its check), the condition of an item only the writer writes (core's
   * `logEligible`: nodes, sessions, the TTL index, the writer's meta items, at a version or absent)
   * holds whenever the state's does: the writer changes those items only in commits conditioned on
   * the state's version (the redo log's argument, docs/cost.md), and it read them after it read the
   * state it commits on. So a commit that finds the state unchanged finds those items as the writer
   * read them; a racing commit moves the state and this one fails (or aborts), as before. Datastore
   * bills a read per key a transaction looks up: a setData's commit reads one entity instead of
   * three. A put or delete needs the item's chunk count too (to remove chunks it no longer has):
   * taken from {@link shapes} at the expected version, or the item is read as before.
   */
  private impliedShapes(ops: TransactOp[]): Map<number, Shape | undefined> {
    const unread = new Map<number, Shape | undefined>();
    const guarded =
      this.writerStateGuard &&
      ops.some(
        (op) =>
          op.kind === 'meta' &&
          op.id === WRITER_STATE_ID &&
          op.type !== 'delete' &&
          typeof op.expect === 'number',
      );
    if (!guarded) return unread;
    for (const [index, op] of ops.entries()) {
      if (!logEligible(op)) continue;
      if (op.expect === 'absent') {
        // A delete of an absent item writes nothing: left to the read, which finds it so.
        if (op.type === 'put') unread.set(index, undefined);
        continue;
      }
      const shape = this.shapes.get(this.mapKey(this.kind(op.kind), op.id));
      if (shape?.version === op.expect) unread.set(index, shape);
    }
    return unread;
  }

  /** Notes an item's shape, dropping the oldest past {@link MAX_SHAPES}. */
  private remember(kind: ItemKind, id: string, shape: Shape | undefined): void {
    if (shape === undefined) return;
    this.shapes.set(this.mapKey(this.kind(kind), id), { version: shape.version, chunks: shape.chunks });
  }

  async increment(key: ItemKey, by = 1): Promise<number> {
    let result = 0;
    await this.withRetry('increment', async (tx) => {
      const found = await this.lookup([this.key(key.kind, key.id)], tx);
      const entity = found.get(this.mapKey(this.kind(key.kind), key.id));
      const before =
        entity === undefined ? undefined : await this.toItem<unknown>(key.kind, key.id, entity, tx);
      const value = (typeof before?.value === 'number' ? before.value : 0) + by;
      const parts = this.encode(key.kind, key.id, value).parts;
      tx.save(this.entities(key.kind, key.id, (before?.version ?? 0) + 1, parts));
      await tx.commit();
      this.meter.add('datastore.entity-writes', parts.length);
      result = value;
    });
    return result;
  }

  /**
   * Runs `body` in a fresh transaction, again after contention (ABORTED) or another transient
   * failure, with back-off on the store's clock. This loop is the only retry of a transaction's
   * calls: the client library retries none of them (BeginTransaction and Commit are not idempotent
   * to it, and lookups in a transaction are made with {@link NO_LIBRARY_RETRY}). A
   * {@link ConditionFailedError} or {@link LimitExceededError} from the body rolls back and is
   * thrown as it is.
   */
  private async withRetry(what: string, body: (tx: Transaction) => Promise<void>): Promise<void> {
    try {
      await retry(
        async () => {
          const tx = this.datastore.transaction();
          let committed = false;
          try {
            await tx.run();
            await body(tx);
            committed = true;
          } finally {
            // A rollback that fails leaves a transaction Datastore expires by itself.
            if (!committed) await tx.rollback().catch(() => undefined);
          }
        },
        {
          clock: this.clock,
          isTransient: (error) => !(error instanceof PortError) && isTransientStatus(error),
          maxAttempts: this.maxAttempts,
          backoff: GCP_BACKOFF,
        },
      );
    } catch (error) {
      if (error instanceof PortError) throw error;
      if (!isTransientStatus(error)) throw translateError(error, what);
      const reason = grpcCode(error) === GrpcStatus.ABORTED ? 'contention' : 'transient failures';
      throw new TransientError(`${what}: gave up after ${this.maxAttempts} attempts (${reason})`, error);
    }
  }

  /** Looks keys up (in `tx` when given), answering entities by kind and name. */
  private async lookup(
    keys: Key[],
    tx: Transaction | undefined,
  ): Promise<Map<string, Record<string, unknown>>> {
    const out = new Map<string, Record<string, unknown>>();
    for (let at = 0; at < keys.length; at += 1000) {
      const slice = keys.slice(at, at + 1000);
      let entities: Record<string, unknown>[];
      try {
        [entities] = (await (tx === undefined
          ? this.datastore.get(slice)
          : tx.get(slice, { gaxOptions: NO_LIBRARY_RETRY }))) as [Record<string, unknown>[]];
      } catch (error) {
        if (tx !== undefined) throw error; // withRetry decides
        throw translateError(error, 'lookup');
      }
      // Datastore bills every key looked up, found or not.
      this.meter.add('datastore.entity-reads', slice.length);
      for (const e of entities) out.set(this.mapKey(keyKind(e) ?? '', keyName(e) ?? ''), e);
    }
    return out;
  }

  private async toItem<T>(
    kind: ItemKind,
    id: string,
    entity: Record<string, unknown>,
    tx?: Transaction,
  ): Promise<SystemItem<T>> {
    const s = this.stored(entity)!;
    let bytes = blob(entity.d);
    if (s.chunks > 0) bytes = await this.readChunks(kind, id, s, bytes, tx);
    return { kind, id, version: s.version, value: decodeMessage<T>(bytes.toString('utf8')) };
  }

  /**
   * Reads the chunk entities of a big item. Outside a transaction the item is read again together
   * with its chunks in a read-only transaction, so that the parts belong to one version.
   */
  private async readChunks(
    kind: ItemKind,
    id: string,
    s: Stored,
    first: Buffer,
    tx: Transaction | undefined,
  ): Promise<Buffer> {
    if (tx !== undefined) {
      const found = await this.lookup(this.chunkKeys(kind, id, 1, s.chunks), tx);
      return Buffer.concat([first, ...this.chunkParts(kind, id, s.chunks, found)]);
    }
    // Read again while a write changes the item under the read (a part missing), or on a transient
    // failure of the read-only transaction (whose lookups the library does not retry).
    try {
      return await retry(
        async () => {
          const ro = this.datastore.transaction({ readOnly: true });
          try {
            await ro.run();
            const found = await this.lookup(
              [this.key(kind, id), ...this.chunkKeys(kind, id, 1, s.chunks)],
              ro,
            );
            await ro.commit();
            const main = this.stored(found.get(this.mapKey(this.kind(kind), id)));
            if (main === undefined) throw new TransientError(`${kind} ${id} vanished while read`);
            return Buffer.concat([blob(main.entity.d), ...this.chunkParts(kind, id, main.chunks, found)]);
          } catch (error) {
            // A rollback that fails leaves a transaction Datastore expires by itself.
            await ro.rollback().catch(() => undefined);
            throw error;
          }
        },
        {
          clock: this.clock,
          isTransient: (error) => isTransientStatus(error) || error instanceof TransientError,
          maxAttempts: this.maxAttempts,
          backoff: GCP_BACKOFF,
        },
      );
    } catch (error) {
      throw translateError(error, `read ${kind} ${id}`);
    }
  }

  private chunkParts(
    kind: ItemKind,
    id: string,
    chunks: number,
    found: Map<string, Record<string, unknown>>,
  ): Buffer[] {
    const parts: Buffer[] = [];
    for (let i = 1; i <= chunks; i++) {
      const e = found.get(this.mapKey(this.chunkKind(kind), `${id}#${i}`));
      if (e === undefined) throw new TransientError(`chunk ${i} of ${kind} ${id} is missing`);
      parts.push(blob(e.d));
    }
    return parts;
  }

  private encode(kind: ItemKind, id: string, value: unknown): Encoded {
    const bytes = Buffer.from(encodeMessage(value), 'utf8');
    if (bytes.byteLength > MAX_ITEM_BYTES)
      throw new LimitExceededError(`item ${kind} ${id}`, bytes.byteLength, MAX_ITEM_BYTES);
    return { parts: chunk(bytes), bytes: bytes.byteLength };
  }

  private entities(kind: ItemKind, id: string, version: number, parts: Buffer[]) {
    return parts.map((data, i) =>
      i === 0
        ? {
            key: this.key(kind, id),
            data: { v: version, c: parts.length - 1, d: data },
            excludeFromIndexes: ['d'],
          }
        : { key: this.chunkKey(kind, `${id}#${i}`), data: { d: data }, excludeFromIndexes: ['d'] },
    );
  }

  private stored(entity: Record<string, unknown> | undefined): Stored | undefined {
    if (entity === undefined) return undefined;
    return { version: int(entity.v), chunks: int(entity.c), entity };
  }

  private kind(kind: ItemKind): string {
    return `${this.prefix}${kind}`;
  }

  private chunkKind(kind: ItemKind): string {
    return `${this.prefix}${kind}_chunk`;
  }

  private key(kind: ItemKind, id: string): Key {
    return namespacedKey(this.datastore, this.namespace, [...this.rootPath, this.kind(kind), id]);
  }

  private chunkKey(kind: ItemKind, name: string): Key {
    return namespacedKey(this.datastore, this.namespace, [...this.rootPath, this.chunkKind(kind), name]);
  }

  /**
   * Every item sits under one ancestor: one entity group, so a transaction over hundreds of items is
   * legal everywhere (legacy Datastore and its emulator allow 25 entity groups per transaction;
   * Firestore in Datastore mode has no per-group write limit) and ancestor queries are strongly
   * consistent.
   */
  private get rootPath(): string[] {
    return [`${this.prefix}root`, 'tree'];
  }

  private chunkKeys(kind: ItemKind, id: string, from: number, to: number): Key[] {
    const out: Key[] = [];
    for (let i = from; i <= to; i++) out.push(this.chunkKey(kind, `${id}#${i}`));
    return out;
  }

  private mapKey(kind: string, name: string): string {
    return `${kind}\u0000${name}`;
  }
}

function matches(expect: TransactOp['expect'], version: number | undefined): boolean {
  if (expect === 'any') return true;
  if (expect === 'absent') return version === undefined;
  return version === expect;
}

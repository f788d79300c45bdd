/**
 * The system store: private, strongly consistent, with conditional writes and all-or-nothing
 * transactions (DynamoDB, Datastore, or memory). It holds the authoritative tree metadata,
 * sessions and their leases, watch registrations and the writer's counter.
 */

/**
 * The item families the core keeps. Adapters may lay each out in its own table or partition.
 * `watch` holds one-shot watch registrations past a node item's inline few and `pwatch` persistent
 * watches (one small item each, found by {@link SystemStore.query} on an id prefix; see
 * `watch/`); `cleanup` names registrations that fired and are removed in later commits.
 */
export type ItemKind = 'node' | 'session' | 'meta' | 'ttl' | 'lease' | 'watch' | 'pwatch' | 'cleanup';

export interface ItemKey {
  kind: ItemKind;
  id: string;
}

/** A stored item. `version` starts at 1 and grows by one on every write (optimistic concurrency). */
export interface SystemItem<T = unknown> extends ItemKey {
  version: number;
  value: T;
}

/** A condition on an item's version: a number (must equal), `'absent'`, or `'any'`. */
export type ExpectedVersion = number | 'absent' | 'any';

export type TransactOp =
  | (ItemKey & { type: 'put'; value: unknown; expect: ExpectedVersion })
  | (ItemKey & { type: 'delete'; expect: ExpectedVersion })
  | (ItemKey & { type: 'check'; expect: ExpectedVersion });

/** Where a {@link SystemStore.query} page starts and how many items it may hold. */
export interface QueryPage {
  /** The `next` of the previous page (absent: the first page). */
  after?: string;
  /** Most items in this page (absent: the adapter's own page size). */
  limit?: number;
}

/** One page of a {@link SystemStore.query}: items in id order; `next` is absent on the last page. */
export interface QueryResult<T> {
  items: SystemItem<T>[];
  next?: string;
}

export interface SystemStoreCapabilities {
  /** Most ops in one transaction (DynamoDB 100, Datastore 500). */
  maxTransactionItems: number;
  /** Largest item, in bytes of its JSON encoding (DynamoDB 400 KB, Datastore 1 MiB). */
  maxItemBytes: number;
  /**
   * Whether a transaction bills more than the same writes made one item at a time (DynamoDB: 2
   * write units per KB of each item against 1), so that the writer commits through its redo log
   * (`writer/redo-log.ts`). `false` where they bill alike (Datastore bills per entity, and its
   * items share one entity group, so single writes in parallel contend): the writer keeps one
   * transaction per commit. Absent: true.
   */
  transactionsCostMore?: boolean;
  /**
   * Whether a write bills by the item's size (DynamoDB: a write unit per started KB), so that the
   * writer deflates the last batch and the log its state item carries (`writer/redo-log.ts`
   * packState) at a few dozen microseconds of CPU per commit. `false` where size bills nothing (a
   * memory store): the state is stored as it is. Absent: true.
   */
  writesBilledBySize?: boolean;
}

export interface SystemStore {
  readonly capabilities: SystemStoreCapabilities;
  /** Strongly consistent read; `undefined` when the item is absent. Never throws for a miss. */
  get<T = unknown>(key: ItemKey): Promise<SystemItem<T> | undefined>;
  /** Strongly consistent reads of many items, in the order asked; `undefined` for each miss. */
  getMany<T = unknown>(keys: ItemKey[]): Promise<(SystemItem<T> | undefined)[]>;
  /** Every item of one kind (sessions, TTL index), in no particular order. */
  list<T = unknown>(kind: ItemKind): Promise<SystemItem<T>[]>;
  /**
   * Strongly consistent page of the items of `kind` whose id starts with `prefix`, in ascending
   * id order (the store's own: UTF-16 code units in memory, UTF-8 bytes on DynamoDB and Datastore;
   * they agree on every id this project writes, which are ASCII separators around paths). A page never holds more than `page.limit` items; a page
   * may hold fewer and still have a `next` (adapters page by bytes too). A collection of any size
   * is read page by page, so no answer grows with it.
   */
  query<T = unknown>(kind: ItemKind, prefix: string, page?: QueryPage): Promise<QueryResult<T>>;
  /**
   * Applies every op or none. A failed condition throws {@link ConditionFailedError} naming the
   * first failing op; a put bumps the item's version. At most one op per item.
   */
  transact(ops: TransactOp[]): Promise<void>;
  /** Atomically adds `by` to a numeric counter (created at 0) and returns the new value. */
  increment(key: ItemKey, by?: number): Promise<number>;
}

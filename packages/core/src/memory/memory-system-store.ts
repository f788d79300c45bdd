import { ConditionFailedError, LimitExceededError } from '../ports/errors.js';
import type {
  ExpectedVersion,
  ItemKey,
  ItemKind,
  QueryPage,
  QueryResult,
  SystemItem,
  SystemStore,
  SystemStoreCapabilities,
  TransactOp,
} from '../ports/system-store.js';
import { approximateSize } from '../util/clone.js';
import { type MemoryStoreOptions, valueHandling } from './values.js';

interface Stored {
  version: number;
  value: unknown;
}

const keyOf = (k: ItemKey) => `${k.kind}\u0000${k.id}`;

function matches(stored: Stored | undefined, expect: ExpectedVersion): boolean {
  if (expect === 'any') return true;
  if (expect === 'absent') return stored === undefined;
  return stored !== undefined && stored.version === expect;
}

/** Items per query page when the caller sets no limit (small, so that paging is exercised). */
const MEMORY_QUERY_PAGE = 100;

/**
 * The system store in memory: a Map with copy-in/copy-out (or shared or frozen values: {@link MemoryValues})
 * and all-or-nothing transactions. Every call is asynchronous, like a network call.
 */
export class MemorySystemStore implements SystemStore {
  readonly capabilities: SystemStoreCapabilities;
  private readonly items = new Map<string, Stored>();
  /** Makes a value put the store's own. */
  private readonly keep: <T>(value: T) => T;
  /** What a caller gets of a value the store holds. */
  private readonly handOut: <T>(value: T) => T;

  constructor(capabilities: Partial<SystemStoreCapabilities> = {}, options: MemoryStoreOptions = {}) {
    ({ keep: this.keep, handOut: this.handOut } = valueHandling(options.values));
    this.capabilities = {
      ...capabilities,
      maxTransactionItems: capabilities.maxTransactionItems ?? Number.POSITIVE_INFINITY,
      maxItemBytes: capabilities.maxItemBytes ?? Number.POSITIVE_INFINITY,
    };
  }

  async get<T>(key: ItemKey): Promise<SystemItem<T> | undefined> {
    await undefined;
    const s = this.items.get(keyOf(key));
    return s === undefined
      ? undefined
      : { kind: key.kind, id: key.id, version: s.version, value: this.handOut(s.value) as T };
  }

  async getMany<T>(keys: ItemKey[]): Promise<(SystemItem<T> | undefined)[]> {
    await undefined;
    return keys.map((key) => {
      const s = this.items.get(keyOf(key));
      return s === undefined
        ? undefined
        : { kind: key.kind, id: key.id, version: s.version, value: this.handOut(s.value) as T };
    });
  }

  async list<T>(kind: ItemKind): Promise<SystemItem<T>[]> {
    await undefined;
    const prefix = `${kind}\u0000`;
    const out: SystemItem<T>[] = [];
    for (const [k, s] of this.items) {
      if (k.startsWith(prefix))
        out.push({ kind, id: k.slice(prefix.length), version: s.version, value: this.handOut(s.value) as T });
    }
    return out;
  }

  async query<T>(kind: ItemKind, prefix: string, page: QueryPage = {}): Promise<QueryResult<T>> {
    await undefined;
    const head = `${kind}\u0000`;
    const ids: string[] = [];
    for (const k of this.items.keys()) {
      if (!k.startsWith(head)) continue;
      const id = k.slice(head.length);
      if (id.startsWith(prefix) && (page.after === undefined || id > page.after)) ids.push(id);
    }
    ids.sort();
    const limit = page.limit ?? MEMORY_QUERY_PAGE;
    const items = ids.slice(0, limit).map((id) => {
      const s = this.items.get(`${head}${id}`)!;
      return { kind, id, version: s.version, value: this.handOut(s.value) as T };
    });
    return ids.length > limit ? { items, next: items.at(-1)!.id } : { items };
  }

  async transact(ops: TransactOp[]): Promise<void> {
    await undefined;
    if (ops.length > this.capabilities.maxTransactionItems) {
      throw new LimitExceededError(
        'transaction item count',
        ops.length,
        this.capabilities.maxTransactionItems,
      );
    }
    const seen = new Set<string>();
    for (const op of ops) {
      const k = keyOf(op);
      if (seen.has(k)) throw new Error(`transaction touches ${op.kind}/${op.id} twice`);
      seen.add(k);
      if (op.type === 'put' && Number.isFinite(this.capabilities.maxItemBytes)) {
        const size = approximateSize(op.value);
        if (size > this.capabilities.maxItemBytes)
          throw new LimitExceededError(`item ${op.kind}/${op.id}`, size, this.capabilities.maxItemBytes);
      }
    }
    ops.forEach((op, index) => {
      const current = this.items.get(keyOf(op));
      if (!matches(current, op.expect)) {
        throw new ConditionFailedError(
          `condition failed on ${op.kind}/${op.id}: expected ${String(op.expect)}, found ${current?.version ?? 'absent'}`,
          index,
          current?.version,
        );
      }
    });
    for (const op of ops) {
      const k = keyOf(op);
      if (op.type === 'put')
        this.items.set(k, { version: (this.items.get(k)?.version ?? 0) + 1, value: this.keep(op.value) });
      else if (op.type === 'delete') this.items.delete(k);
    }
  }

  async increment(key: ItemKey, by = 1): Promise<number> {
    await undefined;
    const k = keyOf(key);
    const s = this.items.get(k);
    const value = (typeof s?.value === 'number' ? s.value : 0) + by;
    this.items.set(k, { version: (s?.version ?? 0) + 1, value });
    return value;
  }

  /**
   * Replaces the value of an existing item and bumps its version, as one conditional write (what a
   * client's lease renewal is on DynamoDB: an UpdateItem conditioned on the item existing).
   * @returns false, changing nothing, when the item is absent.
   */
  async update(key: ItemKey, value: unknown): Promise<boolean> {
    await undefined;
    const k = keyOf(key);
    const s = this.items.get(k);
    if (s === undefined) return false;
    this.items.set(k, { version: s.version + 1, value: this.keep(value) });
    return true;
  }

  /** Number of items held (for tests and the final-state checks). */
  get size(): number {
    return this.items.size;
  }
}

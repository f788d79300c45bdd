/**
 * The writer's view of the system store during one chunk.
 *
 * Guarantee kept: atomicity — nothing reaches the store before the chunk's commit (one conditional
 * transaction, or the writer state's redo log: `redo-log.ts`), every item is written on the version
 * it was read at, and a failed request rolls back to its checkpoint.
 */
import type { ItemKey, ItemKind, SystemItem, SystemStore, TransactOp } from '../ports/system-store.js';

interface Entry {
  kind: ItemKind;
  id: string;
  /** Version read from the store (`undefined`: absent); the commit's condition. */
  base: number | undefined;
  value: unknown;
  /** The value as read (or as last committed): what a rollback returns to. */
  read: unknown;
  dirty: boolean;
  /**
   * The value differs from the stored item by changes kept in the writer state instead
   * ({@link Overlay.defer}); not written unless the item is also {@link Overlay.set}.
   */
  deferred: boolean;
}

/**
 * Lays what the writer state keeps of an item over the item as read (`writer/child-stats.ts`);
 * returns the value unchanged when it keeps nothing of it.
 */
export type ReadLayer = (kind: ItemKind, id: string, value: unknown) => unknown;

/** An item of the overlay as it stands. */
export interface OverlayEntry {
  id: string;
  value: unknown;
}

/**
 * An entry of `of`'s item, every field given and in one order: entries made by spreading one
 * another with changed fields took V8's slow path on every change (a few percent of a write).
 */
function entryOf(
  of: { kind: ItemKind; id: string },
  value: unknown,
  base: number | undefined,
  read: unknown,
  dirty: boolean,
  deferred: boolean,
): Entry {
  return { kind: of.kind, id: of.id, base, value, read, dirty, deferred };
}

const NONE: readonly OverlayEntry[] = Object.freeze([]);

/**
 * Where an item's current entry is held: found by kind and id without making a key string (a
 * `kind\0id` key per lookup was a string to build and hash on every read and change of a write),
 * and listed in load order for the commit.
 */
interface Slot {
  entry: Entry;
  /** Its place in the load order. */
  readonly index: number;
}

/**
 * The writer's view of the system store during one batch: items read once, changed in memory,
 * and committed in one conditional transaction. Values are replaced, never mutated, so a
 * checkpoint is a shallow copy and a failed request (or multi) rolls back cheaply.
 */
export class Overlay {
  private readonly byKind = new Map<ItemKind, Map<string, Slot>>();
  /** Every slot, in the order its item was loaded. */
  private readonly slots: Slot[] = [];
  /** Undo journal: the slot each `set` changed and the entry it held, in order. */
  private journal: [Slot, Entry][] = [];
  /**
   * The slots whose entry is {@link Entry.deferred}, kept by every change: the child Stats settled
   * after every request (`child-stats.ts`) read these few, not every item the batch loaded.
   */
  private readonly deferred = new Set<Slot>();

  /**
   * @param known items already read (or just written) by the caller, keyed `kind\0id`, as they
   * stand in the store: taken as read, so that they cost no second read.
   */
  constructor(
    private readonly store: SystemStore,
    known?: ReadonlyMap<string, SystemItem | undefined>,
    /** Laid over every item as it is loaded: the writer state's deferred changes. */
    private readonly layer?: ReadLayer,
  ) {
    for (const [key, item] of known ?? []) {
      const [kind, id] = key.split('\u0000') as [ItemKind, string];
      this.load(kind, id, item);
    }
  }

  private slot(kind: ItemKind, id: string): Slot | undefined {
    return this.byKind.get(kind)?.get(id);
  }

  /** The slot of a loaded item. */
  private loaded(kind: ItemKind, id: string): Slot {
    const slot = this.slot(kind, id);
    if (slot === undefined) throw new Error(`overlay: ${kind}/${id} was not loaded`);
    return slot;
  }

  /** Replaces the entry of `slot`, keeping {@link deferred}. */
  private put(slot: Slot, entry: Entry): void {
    if (entry.deferred !== slot.entry.deferred) {
      if (entry.deferred) this.deferred.add(slot);
      else this.deferred.delete(slot);
    }
    slot.entry = entry;
  }

  /** Whether `kind/id` is loaded (read, or taken as known). */
  has(kind: ItemKind, id: string): boolean {
    return this.slot(kind, id) !== undefined;
  }

  /** Holds `item` as read (with the deferred changes laid over it). */
  private load(kind: ItemKind, id: string, item: SystemItem | undefined): void {
    const stored = item?.value;
    const value = this.layer === undefined ? stored : this.layer(kind, id, stored);
    const entry = entryOf({ kind, id }, value, item?.version, value, false, value !== stored);
    let ids = this.byKind.get(kind);
    if (ids === undefined) {
      ids = new Map();
      this.byKind.set(kind, ids);
    }
    // Callers load only what is not loaded yet.
    const slot: Slot = { entry, index: this.slots.length };
    ids.set(id, slot);
    this.slots.push(slot);
    if (entry.deferred) this.deferred.add(slot);
  }

  /** Reads every key not yet held, in one call. */
  async prefetch(keys: ItemKey[]): Promise<void> {
    const missing: ItemKey[] = [];
    const seen = new Map<ItemKind, Set<string>>();
    for (const k of keys) {
      if (this.has(k.kind, k.id)) continue;
      let ids = seen.get(k.kind);
      if (ids === undefined) {
        ids = new Set();
        seen.set(k.kind, ids);
      }
      if (ids.has(k.id)) continue;
      ids.add(k.id);
      missing.push(k);
    }
    if (missing.length === 0) return;
    const items = await this.store.getMany(missing);
    missing.forEach((k, i) => {
      this.load(k.kind, k.id, items[i]);
    });
  }

  /** The current value (after this batch's changes), or `undefined`. The key must be prefetched. */
  peek<T>(kind: ItemKind, id: string): T | undefined {
    return this.loaded(kind, id).entry.value as T | undefined;
  }

  /**
   * The current value if the item is loaded, without a promise (a hot path's `await` of a value
   * already at hand costs a microtask turn); otherwise the promise {@link get} gives.
   */
  current<T>(kind: ItemKind, id: string): T | undefined | Promise<T | undefined> {
    const slot = this.slot(kind, id);
    return slot === undefined ? this.readThenPeek<T>(kind, id) : (slot.entry.value as T | undefined);
  }

  /**
   * The current value, read first if it is not loaded. Not `async`: most items are loaded (by the
   * batch's prefetch), and an async function frame per read was a noticeable part of a write's
   * garbage; the value is taken at the call either way.
   */
  get<T>(kind: ItemKind, id: string): Promise<T | undefined> {
    const slot = this.slot(kind, id);
    if (slot !== undefined) return Promise.resolve(slot.entry.value as T | undefined);
    return this.readThenPeek<T>(kind, id);
  }

  private async readThenPeek<T>(kind: ItemKind, id: string): Promise<T | undefined> {
    await this.prefetch([{ kind, id }]);
    return this.peek<T>(kind, id);
  }

  /**
   * The items of `kind` whose id starts with `prefix`, as this batch sees them: the store's, read
   * page by page and loaded (so that they can be changed without reading them again), with this
   * batch's own changes over them, in id order. For collections kept as items of their own (watch
   * registrations): one query per page, not one read per item. With `limit`, only the first
   * `limit` items of the store are read (and the batch's own up to the last of them): a bounded
   * step through a collection of any size.
   */
  async query<T>(kind: ItemKind, prefix: string, limit?: number): Promise<{ id: string; value: T }[]> {
    let after: string | undefined;
    let upTo: string | undefined;
    do {
      const page = await this.store.query(kind, prefix, {
        ...(after === undefined ? {} : { after }),
        ...(limit === undefined ? {} : { limit }),
      });
      for (const item of page.items) {
        if (!this.has(kind, item.id)) this.load(kind, item.id, item);
      }
      after = page.next;
      if (limit !== undefined) {
        if (after !== undefined) upTo = page.items.at(-1)?.id ?? after;
        break;
      }
    } while (after !== undefined);
    const out: { id: string; value: T }[] = [];
    for (const [id, { entry: e }] of this.byKind.get(kind) ?? [])
      if (id.startsWith(prefix) && e.value !== undefined && (upTo === undefined || id <= upTo))
        out.push({ id, value: e.value as T });
    return out.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  /** Replaces an item's value (`undefined` deletes it). */
  set(kind: ItemKind, id: string, value: unknown): void {
    const slot = this.loaded(kind, id);
    const e = slot.entry;
    this.journal.push([slot, e]);
    this.put(slot, entryOf(e, value, e.base, e.read, true, false));
  }

  /**
   * Changes an item's value without writing the item: the caller keeps the change elsewhere (the
   * writer state, `writer/child-stats.ts`) and lays it over the item on every later read. An item
   * already {@link set} in this batch stays to be written whole, with this value.
   */
  defer(kind: ItemKind, id: string, value: unknown): void {
    const slot = this.loaded(kind, id);
    const e = slot.entry;
    this.journal.push([slot, e]);
    this.put(slot, entryOf(e, value, e.base, e.read, e.dirty, !e.dirty));
  }

  /**
   * The loaded items of `kind` that hold changes kept elsewhere ({@link defer}, or laid over them as
   * read), in load order, as they stand. A deferred item is never also to be written.
   */
  deferredOf(kind: ItemKind): readonly OverlayEntry[] {
    if (this.deferred.size === 0) return NONE;
    const out: (OverlayEntry & { index: number })[] = [];
    for (const { entry: e, index } of this.deferred)
      if (e.kind === kind) out.push({ id: e.id, value: e.value, index });
    return out.sort((a, b) => a.index - b.index);
  }

  /** A point to roll back to; O(1). */
  checkpoint(): number {
    return this.journal.length;
  }

  /** Undoes every change made since `to` (items read meanwhile stay loaded). */
  rollback(to: number): void {
    while (this.journal.length > to) {
      const [slot, before] = this.journal.pop()!;
      this.put(slot, before);
    }
  }

  /** Number of items the next commit would write. */
  dirtyCount(): number {
    let n = 0;
    for (const { entry: e } of this.slots)
      if (e.dirty && !(e.base === undefined && e.value === undefined)) n++;
    return n;
  }

  /** The values the next commit would write (its redo log holds them all, `redo-log.ts`). */
  dirtyValues(): unknown[] {
    const out: unknown[] = [];
    for (const { entry: e } of this.slots) if (e.dirty && e.value !== undefined) out.push(e.value);
    return out;
  }

  /** The conditional ops that commit every change. */
  commitOps(): TransactOp[] {
    const ops: TransactOp[] = [];
    for (const { entry: e } of this.slots) {
      if (!e.dirty) continue;
      const expect = e.base === undefined ? 'absent' : e.base;
      if (e.value === undefined) {
        if (e.base !== undefined) ops.push({ type: 'delete', kind: e.kind, id: e.id, expect });
      } else {
        ops.push({ type: 'put', kind: e.kind, id: e.id, value: e.value, expect });
      }
    }
    return ops;
  }

  /** After a successful commit: the written values become the new base. */
  committed(): void {
    this.journal = [];
    for (const slot of this.slots) {
      const e = slot.entry;
      if (!e.dirty) continue;
      if (e.value === undefined) slot.entry = entryOf(e, undefined, undefined, undefined, false, e.deferred);
      else
        slot.entry = entryOf(e, e.value, e.base === undefined ? 1 : e.base + 1, e.value, false, e.deferred);
    }
  }
}

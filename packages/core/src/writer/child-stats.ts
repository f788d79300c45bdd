/**
 * Child Stats kept in the writer state: a plain create or delete changes its parent's `cversion`,
 * `pzxid`, `numChildren` and sequential counter in `WriterState.childStats` instead of rewriting
 * the parent's node item. The writer state is written by every commit anyway, so a create or a
 * delete writes one item less (on DynamoDB one write unit, on Datastore one entity write).
 *
 * Guarantees kept (docs/guarantees.md, "Linearized writes"): the writer's view of a node is its
 * item with the state's entry laid over it ({@link childStatLayer}); the state is read at the start
 * of every invocation and committed with every chunk (one conditional put, or the transaction), so
 * the entry changes atomically with the rest of the commit and no invocation can read an item
 * without it. An entry is dropped in the commit that writes the item whole (a setData, setACL, a
 * watch registration, a delete of the node: the item then carries the Stat itself) and names the
 * node's life (`czxid`), so it never applies to a node created again under the same path. The
 * entries are few ({@link MAX_CHILD_STATS}): past that, the least recently used are written to
 * their items (folded) in the same commit. Readers of node items outside the writer (the heartbeat,
 * the testkit's final-state check) read the state too and lay the entries over the items
 * ({@link withChildStat}). The user store is not concerned: the parent's record is written with
 * the whole Stat as before.
 */
import type { SystemItem, SystemStore } from '../ports/system-store.js';
import type { ChildStat, SystemNode, SystemNodeItem, WriterState } from '../protocol/messages.js';
import type { Chunk } from './chunk.js';
import { Overlay, type ReadLayer } from './overlay.js';
import { readThroughLog, unpackState, WRITER_STATE_ID } from './redo-log.js';

/**
 * Most entries the state keeps. Each costs about 60 bytes of state (less deflated); DynamoDB bills
 * the state per started KB on every commit, setData included, so the count stays small.
 */
export const MAX_CHILD_STATS = 8;
/** Most characters of all the entries' paths together (long paths take fewer entries). */
export const MAX_CHILD_STAT_PATH_CHARS = 512;

/** The child-related part of `node`'s metadata. */
export function childStatOf(node: SystemNode): ChildStat {
  const { czxid, cversion, pzxid, numChildren } = node.stat;
  return { czxid, cversion, pzxid, numChildren, created: node.createdChildren ?? cversion };
}

/**
 * `item` with `stat` laid over its node, when both concern the same life of the node and `stat` is
 * not older than the item's own (every child change moves `pzxid` to its zxid): a reader outside
 * the writer that read the state before a commit wrote the item whole keeps the item's.
 */
export function withChildStat<T extends SystemNodeItem | undefined>(item: T, stat: ChildStat | undefined): T {
  const node = item?.node;
  if (stat === undefined || node === undefined || node.stat.czxid !== stat.czxid) return item;
  if (stat.pzxid < node.stat.pzxid) return item;
  const { cversion, pzxid, numChildren } = stat;
  return {
    ...item,
    node: { ...node, createdChildren: stat.created, stat: { ...node.stat, cversion, pzxid, numChildren } },
  };
}

/** The overlay's read layer for the entries of `stats` (`undefined` when there are none). */
export function childStatLayer(stats: WriterState['childStats']): ReadLayer | undefined {
  if (stats === undefined || Object.keys(stats).length === 0) return undefined;
  return (kind, id, value) =>
    kind === 'node' ? withChildStat(value as SystemNodeItem | undefined, stats[id]) : value;
}

/** The writer's overlay of a chunk: `known` items taken as read, `stats` laid over every node item. */
export function writerOverlay(
  store: SystemStore,
  known: ReadonlyMap<string, SystemItem | undefined> | undefined,
  stats: WriterState['childStats'],
): Overlay {
  return new Overlay(store, known, childStatLayer(stats));
}

/**
 * Records `node`'s new child Stat without writing its item: the parent of a create or delete.
 * Everything else of the node must be as it was read (the caller changes only the child fields).
 */
export function deferChildStat(chunk: Chunk, path: string, item: SystemNodeItem, node: SystemNode): void {
  const current = chunk.overlay.peek<SystemNodeItem>('node', path) ?? item;
  if (node.children === undefined) chunk.overlay.defer('node', path, { ...current, node });
  else {
    // An item of layout 1 still holding its child list is written whole once, without the list
    // (`tree/nodes.ts` withoutChildList), so the list goes as before; deferred from then on.
    const { children: _dropped, ...rest } = node;
    chunk.overlay.set('node', path, { ...current, node: rest });
  }
}

/**
 * The entries the state will hold after the chunk's changes so far, least recently used first: the
 * state's entries less those of every loaded node (written whole, gone, or read without it), then
 * one for each deferred node, in load order. Runs after every request of a chunk, so it looks at
 * the state's few entries and the deferred items only, never at every item the chunk loaded; and
 * it returns the state's own entries when nothing changed (they are replaced, never changed).
 */
function entriesAfter(chunk: Chunk): Record<string, ChildStat> {
  const stats = chunk.state.childStats;
  let next: Record<string, ChildStat> | undefined;
  for (const id in stats)
    if (chunk.overlay.has('node', id)) {
      next ??= { ...stats };
      delete next[id];
    }
  const deferred = chunk.overlay.deferredOf('node');
  for (let i = 0; i < deferred.length; i++) {
    const e = deferred[i]!;
    const node = (e.value as SystemNodeItem | undefined)?.node;
    if (node === undefined) continue;
    next ??= { ...stats };
    next[e.id] = childStatOf(node);
  }
  return next ?? stats ?? {};
}

/** Whether `a` and `b` hold the same entries, in whatever order. */
function sameEntries(a: WriterState['childStats'], b: WriterState['childStats']): boolean {
  if (a === b) return true;
  const x = a ?? {};
  const y = b ?? {};
  const keys = Object.keys(x);
  if (keys.length !== Object.keys(y).length) return false;
  return keys.every((k) => {
    const [p, q] = [x[k], y[k]];
    return (
      p !== undefined &&
      q !== undefined &&
      p.czxid === q.czxid &&
      p.cversion === q.cversion &&
      p.pzxid === q.pzxid &&
      p.numChildren === q.numChildren &&
      p.created === q.created
    );
  });
}

/**
 * Brings `chunk.state.childStats` up to the chunk's changes: after each request, so that a request
 * that does not fit is rolled back with the state (`Chunk.restore`). Past the bounds, the least
 * recently used entries are written to their items in this commit. Returns whether the entries
 * changed (not counting their order), that is whether the state must be written.
 */
export function settleChildStats(chunk: Chunk): boolean | Promise<boolean> {
  const next = entriesAfter(chunk);
  const ids = Object.keys(next);
  // Within the bounds (the usual case) without a promise: this runs after every request.
  return overBounds(ids) ? foldThenSettle(chunk, ids) : settle(chunk, next);
}

const overBounds = (ids: string[]) =>
  ids.length > MAX_CHILD_STATS || ids.reduce((n, id) => n + id.length, 0) > MAX_CHILD_STAT_PATH_CHARS;

/** Writes the least recently used entries (`ids` in that order) to their items until within bounds. */
async function foldThenSettle(chunk: Chunk, ids: string[]): Promise<boolean> {
  while (overBounds(ids)) {
    const id = ids.shift()!;
    // Loading lays the entry over the item; set writes it whole, which drops the entry.
    const item = await chunk.overlay.get<SystemNodeItem>('node', id);
    chunk.overlay.set('node', id, item);
  }
  return settle(chunk, entriesAfter(chunk));
}

/** Puts `next` in the state; whether the entries changed. */
function settle(chunk: Chunk, next: Record<string, ChildStat>): boolean {
  if (sameEntries(chunk.state.childStats, next)) return false;
  const { childStats: _old, ...rest } = chunk.state;
  chunk.state = Object.keys(next).length === 0 ? rest : { ...rest, childStats: next };
  return true;
}

/**
 * A node's item as the writer's next invocation sees it: the stored item with the writer state's
 * unapplied log and child Stat laid over it. For readers outside the writer that check a node's
 * Stat in the system store (tests, tools); the writer itself reads through its overlay.
 */
export async function readNodeAsWriter(
  store: SystemStore,
  path: string,
): Promise<SystemNodeItem | undefined> {
  const [stored, item] = await store.getMany<unknown>([
    { kind: 'meta', id: WRITER_STATE_ID },
    { kind: 'node', id: path },
  ]);
  const state = stored === undefined ? undefined : unpackState(stored.value as WriterState);
  const [read] = readThroughLog(
    item === undefined ? [] : [item as SystemItem<SystemNodeItem>],
    'node',
    state?.log?.filter((op) => op.kind === 'node' && op.id === path),
  );
  return withChildStat(read?.value, state?.childStats?.[path]);
}

/**
 * The user store's child index: one entry per life of a child (docs/scale.md, "Children as their
 * own items"), named `<name>@<czxid>` while the child lives and `<name>@<czxid>~<dzxid>` for its
 * tombstone. The zxids are in the name because an object store's listing returns names only: one
 * page of a listing then tells which children were live at which zxid.
 *
 * Guarantee kept: a name is parsed back exactly whatever characters the child's name holds (the
 * suffix is matched from the right and holds only digits).
 */
import type { ChildEntry } from '../protocol/messages.js';

const SUFFIX = /^(.*)@(\d+)(?:~(\d+))?$/s;

/** The entry's name in its parent's index: `<name>@<czxid>`, plus `~<dzxid>` for a tombstone. */
export function childKey(entry: Pick<ChildEntry, 'name' | 'czxid' | 'dzxid'>): string {
  return entry.dzxid === undefined
    ? `${entry.name}@${entry.czxid}`
    : `${entry.name}@${entry.czxid}~${entry.dzxid}`;
}

/** The entry a key of `parent`'s index names, or `undefined` for a key that is not one. */
export function parseChildKey(parent: string, key: string): ChildEntry | undefined {
  const m = SUFFIX.exec(key);
  if (m === null) return undefined;
  const entry: ChildEntry = { parent, name: m[1]!, czxid: Number(m[2]) };
  if (m[3] !== undefined) entry.dzxid = Number(m[3]);
  return Number.isSafeInteger(entry.czxid) && (entry.dzxid === undefined || Number.isSafeInteger(entry.dzxid))
    ? entry
    : undefined;
}

/**
 * The children of a parent as of zxid `at`, from its index entries: the names with a life that
 * began at or before `at` and did not end by then. Sorted.
 */
export function childrenAt(entries: readonly ChildEntry[], at: number): string[] {
  const names = new Set<string>();
  const tombstoned = new Set<string>();
  for (const e of entries)
    if (e.dzxid !== undefined) tombstoned.add(childKey({ name: e.name, czxid: e.czxid }));
  for (const e of entries) {
    if (e.czxid > at) continue;
    if (e.dzxid !== undefined ? e.dzxid > at : !tombstoned.has(childKey(e))) names.add(e.name);
  }
  return [...names].sort();
}

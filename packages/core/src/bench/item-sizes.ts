/**
 * The largest stored item of each kind in a system store, in bytes of its JSON encoding: what the
 * scale benchmark reports and the bound tests pin (docs/scale.md §3: no item grows with the
 * number of sessions or watches).
 */
import type { ItemKind, SystemStore } from '../ports/system-store.js';
import { byteLength, encodeMessage } from '../protocol/codec.js';

/** Every item kind the core writes. */
export const ITEM_KINDS: readonly ItemKind[] = [
  'node',
  'session',
  'meta',
  'ttl',
  'lease',
  'watch',
  'pwatch',
  'cleanup',
];

/** The largest item of one kind and how many there are. */
export interface LargestItem {
  id: string;
  bytes: number;
  count: number;
}

/** The largest item of each kind present in `store` (id and value encoded as the writer puts them). */
export async function largestSystemItems(
  store: SystemStore,
): Promise<Partial<Record<ItemKind, LargestItem>>> {
  const out: Partial<Record<ItemKind, LargestItem>> = {};
  for (const kind of ITEM_KINDS) {
    const items = await store.list(kind);
    for (const item of items) {
      const bytes = byteLength(encodeMessage({ id: item.id, value: item.value }));
      const best = out[kind];
      if (best === undefined || bytes > best.bytes) out[kind] = { id: item.id, bytes, count: items.length };
    }
  }
  return out;
}

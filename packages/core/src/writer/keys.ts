/** Keys of the system-store items the writer reads and writes. */
import type { ItemKey } from '../ports/system-store.js';

/** A node's item: the node (if it exists) and its one-shot watch registrations. */
export const nodeKey = (path: string): ItemKey => ({ kind: 'node', id: path });
/** A session's item. */
export const sessionKey = (id: number): ItemKey => ({ kind: 'session', id: String(id) });

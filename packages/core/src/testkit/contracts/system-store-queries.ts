/** The system store contract's prefix queries (`query`), one vitest case each. */
import { expect } from 'vitest';
import type { ItemKind, SystemStore } from '../../ports/system-store.js';
import { put } from './support.js';

/** Registers the prefix-query cases, each run through `test` on a fresh store. */
export function describeQueryCases(
  test: (title: string, body: (store: SystemStore) => Promise<void>) => void,
): void {
  /** Every item of a query, read page by page with `limit`, and the number of pages. */
  async function queryAll(store: SystemStore, kind: ItemKind, prefix: string, limit?: number) {
    const ids: string[] = [];
    let pages = 0;
    let after: string | undefined;
    do {
      const page = await store.query(kind, prefix, {
        ...(after === undefined ? {} : { after }),
        ...(limit === undefined ? {} : { limit }),
      });
      pages++;
      if (limit !== undefined) expect(page.items.length).toBeLessThanOrEqual(limit);
      ids.push(...page.items.map((i) => i.id));
      after = page.next;
    } while (after !== undefined);
    return { ids, pages };
  }

  test('answers exactly the items of the kind whose id starts with the prefix, in id order', async (store) => {
    await store.transact([
      put({ kind: 'watch', id: '/a#d#7#2' }, { s: 2 }, 'absent'),
      put({ kind: 'watch', id: '/a#d#7#1' }, { s: 1 }, 'absent'),
      put({ kind: 'watch', id: '/a#c#7#1' }, { s: 1 }, 'absent'),
      put({ kind: 'watch', id: '/ab#d#7#1' }, { s: 1 }, 'absent'),
      put({ kind: 'pwatch', id: '/a#d#7#3' }, { s: 3 }, 'absent'),
    ]);
    const page = await store.query<{ s: number }>('watch', '/a#d#');
    expect(page.items).toEqual([
      { kind: 'watch', id: '/a#d#7#1', version: 1, value: { s: 1 } },
      { kind: 'watch', id: '/a#d#7#2', version: 1, value: { s: 2 } },
    ]);
    expect(page.next).toBeUndefined();
    expect((await store.query('watch', '/b')).items).toEqual([]);
    expect((await queryAll(store, 'watch', '')).ids).toEqual([
      '/a#c#7#1',
      '/a#d#7#1',
      '/a#d#7#2',
      '/ab#d#7#1',
    ]);
  });

  test('pages a collection of 250 items by limit, each item once, none after a delete', async (store) => {
    const ids = Array.from({ length: 250 }, (_, i) => `/p#${String(i).padStart(4, '0')}`);
    for (let i = 0; i < ids.length; i += 50)
      await store.transact(ids.slice(i, i + 50).map((id) => put({ kind: 'cleanup', id }, { i }, 'absent')));
    const all = await queryAll(store, 'cleanup', '/p#', 40);
    expect(all.ids).toEqual(ids);
    expect(all.pages).toBeGreaterThanOrEqual(7);
    await store.transact([{ type: 'delete', kind: 'cleanup', id: ids[3]!, expect: 'any' }]);
    expect((await queryAll(store, 'cleanup', '/p#00')).ids).toEqual(
      ids.slice(0, 100).filter((_, i) => i !== 3),
    );
  });
}

/**
 * The watches of ended sessions: removed by the close, or after it when there are too many.
 *
 * Guarantee kept: a session's watches end with it — no registration of a closed session fires or
 * stays. A close removes a short list of registrations in its own transaction. A longer one could
 * exceed the store's transaction limit (DynamoDB: 100 items) and would make the close itself
 * impossible, so it is listed in the writer state (`watchCleanup`) and removed in later commits of
 * the writer, as many per commit as the store takes; until then no event goes to that session.
 * (ZooKeeper, too, drops a closed session's watches apart from the close transaction.)
 */
import type { ItemKey } from '../ports/system-store.js';
import type {
  SessionItem,
  SystemNodeItem,
  WatchCleanup,
  WatchNotification,
  WatchPathsItem,
  WriterState,
} from '../protocol/messages.js';
import type { Chunk } from '../writer/chunk.js';
import { nodeKey } from '../writer/keys.js';
import { PERSISTENT_TAG, pwatchId, watchId } from './items.js';
import { dropOneShot, removeFiredGenerations } from './one-shot.js';
import { migrateLegacyPersistent, removePersistent } from './persistent.js';
import { watchListId } from './session-watches.js';

/** Removes `session`'s registrations behind a remembered path (one-shot, or tagged persistent). */
async function dropWatched(chunk: Chunk, session: number, entry: string): Promise<void> {
  if (entry.startsWith(PERSISTENT_TAG))
    await removePersistent(chunk, session, entry.slice(PERSISTENT_TAG.length), ['persistent', 'recursive']);
  else await dropOneShot(chunk, session, entry, ['data', 'children']);
}

/**
 * Reads ahead, in two calls, every item removing `session`'s registrations behind `entries`
 * touches: the one-shot paths' node items, then their open generations' `watch` items and the
 * persistent paths' `pwatch` items (rather than one read per item as each is removed).
 */
async function prefetchWatched(chunk: Chunk, session: number, entries: readonly string[]): Promise<void> {
  const oneShot = entries.filter((p) => !p.startsWith(PERSISTENT_TAG));
  await chunk.overlay.prefetch(oneShot.map(nodeKey));
  const keys: ItemKey[] = [];
  for (const p of oneShot) {
    const item = chunk.overlay.peek<SystemNodeItem>('node', p);
    if (item?.dataWatchGen !== undefined)
      keys.push({ kind: 'watch', id: watchId(p, 'data', item.dataWatchGen, session) });
    if (item?.childWatchGen !== undefined)
      keys.push({ kind: 'watch', id: watchId(p, 'children', item.childWatchGen, session) });
  }
  for (const e of entries)
    if (e.startsWith(PERSISTENT_TAG))
      for (const recursive of [false, true])
        keys.push({ kind: 'pwatch', id: pwatchId(e.slice(PERSISTENT_TAG.length), session, recursive) });
  await chunk.overlay.prefetch(keys);
}

/** A close removes at most this many one-shot registrations in its own transaction. */
const CLOSE_INLINE_PATHS = 32;

/** Ends the watches of `session`, which is being closed in the current transaction. */
export async function endSessionWatches(chunk: Chunk, session: SessionItem): Promise<void> {
  // Persistent watches of a state written before they were items (see `migrateLegacyPersistent`).
  if (chunk.state.persistentWatches !== undefined)
    chunk.state.persistentWatches = chunk.state.persistentWatches.filter((w) => w.session !== session.id);
  const sealed = session.watchChunks ?? 0;
  if (sealed === 0 && session.watchPaths.length <= CLOSE_INLINE_PATHS) {
    await prefetchWatched(chunk, session.id, session.watchPaths);
    for (const p of session.watchPaths) await dropWatched(chunk, session.id, p);
    return;
  }
  // Too many for this transaction: the session's own list becomes its last sealed one, and the
  // lists are gone through after the close.
  let chunks = sealed;
  if (session.watchPaths.length > 0) {
    chunks++;
    await chunk.overlay.get('meta', watchListId(session.id, chunks));
    chunk.overlay.set('meta', watchListId(session.id, chunks), {
      paths: session.watchPaths,
    } satisfies WatchPathsItem);
  }
  if (chunks > 0)
    chunk.state.watchCleanup = [...(chunk.state.watchCleanup ?? []), { session: session.id, chunks }];
}

/** Whether `session`'s watches are still being removed after its close (its id is not free yet). */
export const endingSession = (state: WriterState, session: number): boolean =>
  state.watchCleanup?.some((c) => c.session === session) ?? false;

/**
 * The events of a transaction that go out: none to a session whose watches are still being removed
 * after its close (its channel is gone). The transaction that closes a session still tells it of
 * its own changes, before it tells it that it ended.
 */
export function deliverableEvents(
  state: WriterState,
  events: readonly WatchNotification[],
  closing: readonly { session: number }[] | undefined,
): WatchNotification[] {
  if (state.watchCleanup === undefined) return [...events];
  const closingNow = new Set((closing ?? []).map((c) => c.session));
  const ended = new Set(state.watchCleanup.map((c) => c.session).filter((s) => !closingNow.has(s)));
  return events.filter((e) => !ended.has(e.session));
}

/**
 * The watch work the writer does in commits of their own, as a string that changes whenever any
 * of it is done (`''`: none): registrations of ended sessions, fired generations, and persistent
 * watches of an older state still to become items.
 */
export function watchWorkLeft(state: WriterState): string {
  const ended = (state.watchCleanup ?? []).map((c) => `${c.session}:${c.chunks}`).join();
  const fired = state.firedGenerations ?? 0;
  const legacy = state.persistentWatches?.length ?? 0;
  return ended === '' && fired === 0 && legacy === 0 ? '' : `${ended}|${fired}|${legacy}`;
}

/**
 * The writer's own watch work, as much as `maxItems` changed items allow: fired generations of
 * one-shot registrations, then persistent watches of an older state, then the registrations of
 * ended sessions listed in `watchCleanup` (newest list first; the lists shrink as they are gone
 * through).
 */
export async function removeEndedWatches(chunk: Chunk, maxItems: number): Promise<void> {
  await removeFiredGenerations(chunk, maxItems);
  await migrateLegacyPersistent(chunk, maxItems);
  const pending: WatchCleanup[] = [...(chunk.state.watchCleanup ?? [])];
  while (pending.length > 0 && chunk.overlay.dirtyCount() + 2 <= maxItems) {
    const { session, chunks } = pending[0]!;
    const id = watchListId(session, chunks);
    const paths = [...((await chunk.overlay.get<WatchPathsItem>('meta', id))?.paths ?? [])];
    await prefetchWatched(chunk, session, paths);
    while (paths.length > 0) {
      const before = chunk.overlay.checkpoint();
      await dropWatched(chunk, session, paths.at(-1)!);
      // Room for the list's own item: it is rewritten or deleted below.
      if (chunk.overlay.dirtyCount() + 1 > maxItems) {
        chunk.overlay.rollback(before);
        break;
      }
      paths.pop();
    }
    if (paths.length > 0) {
      chunk.overlay.set('meta', id, { paths } satisfies WatchPathsItem);
      break;
    }
    chunk.overlay.set('meta', id, undefined);
    if (chunks > 1) pending[0] = { session, chunks: chunks - 1 };
    else pending.shift();
  }
  if (pending.length > 0) chunk.state.watchCleanup = pending;
  else delete chunk.state.watchCleanup;
}

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
import type {
  SessionItem,
  WatchCleanup,
  WatchNotification,
  WatchPathsItem,
  WriterState,
} from '../protocol/messages.js';
import type { Chunk } from '../writer/chunk.js';
import { nodeKey } from '../writer/keys.js';
import { dropOneShot } from './one-shot.js';
import { dropPersistentOf } from './persistent.js';
import { watchListId } from './session-watches.js';

/** A close removes at most this many one-shot registrations in its own transaction. */
const CLOSE_INLINE_PATHS = 32;

/** Ends the watches of `session`, which is being closed in the current transaction. */
export async function endSessionWatches(chunk: Chunk, session: SessionItem): Promise<void> {
  chunk.state.persistentWatches = dropPersistentOf(chunk.state.persistentWatches, session.id);
  const sealed = session.watchChunks ?? 0;
  if (sealed === 0 && session.watchPaths.length <= CLOSE_INLINE_PATHS) {
    await chunk.overlay.prefetch(session.watchPaths.map(nodeKey));
    for (const p of session.watchPaths) await dropOneShot(chunk, session.id, p, ['data', 'children']);
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
 * Removes registrations of ended sessions listed in `watchCleanup`, as many as `maxItems` changed
 * items allow, newest list first; the lists shrink as they are gone through.
 */
export async function removeEndedWatches(chunk: Chunk, maxItems: number): Promise<void> {
  const pending: WatchCleanup[] = [...(chunk.state.watchCleanup ?? [])];
  while (pending.length > 0 && chunk.overlay.dirtyCount() + 2 <= maxItems) {
    const { session, chunks } = pending[0]!;
    const id = watchListId(session, chunks);
    const paths = [...((await chunk.overlay.get<WatchPathsItem>('meta', id))?.paths ?? [])];
    await chunk.overlay.prefetch(paths.map(nodeKey));
    while (paths.length > 0) {
      const before = chunk.overlay.checkpoint();
      await dropOneShot(chunk, session, paths.at(-1)!, ['data', 'children']);
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

/**
 * The watches of ended sessions: removed by the close, or after it when there are too many.
 *
 * Guarantee kept: a session's watches end with it — no registration of a closed session fires or
 * stays. A close removes a short list of registrations in its own transaction. A longer one could
 * exceed the store's transaction limit (DynamoDB: 100 items) and would make the close itself
 * impossible, so the close writes a `cleanup` item for the session (`␁ended␁<session>`, beside the
 * fired generations' ones) and the writer removes its registrations in later commits, as many per
 * commit as the store takes; until then no event goes to that session and its id is not reused.
 * The writer state only counts those items (`endedSessions`), so it does not grow with the sessions
 * being closed; the item and the count change in the same commit, so a crash between two cleanup
 * commits leaves both as the last commit wrote them. (ZooKeeper, too, drops a closed session's
 * watches apart from the close transaction.)
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
import { ENDED_PREFIX, endedId, PERSISTENT_TAG, pwatchId, watchId } from './items.js';
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

/** Counts one more (or, with `-1`, one fewer) ended session with registrations left. */
function countEnded(chunk: Chunk, by: 1 | -1): void {
  const n = (chunk.state.endedSessions ?? 0) + by;
  if (n > 0) chunk.state.endedSessions = n;
  else delete chunk.state.endedSessions;
}

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
  if (chunks === 0) return;
  await chunk.overlay.get('cleanup', endedId(session.id));
  chunk.overlay.set('cleanup', endedId(session.id), { session: session.id, chunks } satisfies WatchCleanup);
  countEnded(chunk, 1);
}

/**
 * Whether `session`'s watches are still being removed after its close (its id is not free yet):
 * one read of its cleanup item, only while some ended session has registrations left.
 */
export async function endingSession(chunk: Chunk, session: number): Promise<boolean> {
  if (chunk.state.watchCleanup?.some((c) => c.session === session)) return true;
  if ((chunk.state.endedSessions ?? 0) === 0) return false;
  return (await chunk.overlay.get('cleanup', endedId(session))) !== undefined;
}

/**
 * The events of a transaction that go out: none to a session whose watches are still being removed
 * after its close (its channel is gone). The transaction that closes a session still tells it of
 * its own changes, before it tells it that it ended. While some ended session has registrations
 * left, a transaction with events reads the ended sessions' cleanup items (one paged query; they
 * are as many as the sessions being closed with long watch lists at that moment).
 */
export function deliverableEvents(
  chunk: Chunk,
  events: readonly WatchNotification[],
  closing: readonly { session: number }[] | undefined,
): WatchNotification[] | Promise<WatchNotification[]> {
  // The usual case, no ended session with registrations left: all of them, without a promise.
  if (
    events.length === 0 ||
    ((chunk.state.endedSessions ?? 0) === 0 && (chunk.state.watchCleanup ?? []).length === 0)
  )
    return [...events];
  return deliverableToLive(chunk, events, closing);
}

async function deliverableToLive(
  chunk: Chunk,
  events: readonly WatchNotification[],
  closing: readonly { session: number }[] | undefined,
): Promise<WatchNotification[]> {
  const legacy = chunk.state.watchCleanup ?? [];
  const closingNow = new Set((closing ?? []).map((c) => c.session));
  const ended = new Set(legacy.map((c) => c.session));
  if ((chunk.state.endedSessions ?? 0) > 0)
    for (const c of await chunk.overlay.query<WatchCleanup>('cleanup', ENDED_PREFIX))
      ended.add(c.value.session);
  for (const s of closingNow) ended.delete(s);
  return events.filter((e) => !ended.has(e.session));
}

/**
 * The watch work the writer does in commits of their own, as a string that changes whenever any
 * of it is done (`''`: none): ended sessions' registrations, fired generations, and persistent
 * watches (or ended sessions) of an older state still to become items.
 */
export function watchWorkLeft(state: WriterState): string {
  const ended = state.endedSessions ?? 0;
  const legacyEnded = state.watchCleanup?.length ?? 0;
  const fired = state.firedGenerations ?? 0;
  const legacy = state.persistentWatches?.length ?? 0;
  return ended + legacyEnded + fired + legacy === 0 ? '' : `${ended}|${legacyEnded}|${fired}|${legacy}`;
}

/** Moves ended sessions listed in a state of the first layout into cleanup items, room allowing. */
async function migrateLegacyEnded(chunk: Chunk, maxItems: number): Promise<void> {
  const legacy = [...(chunk.state.watchCleanup ?? [])];
  while (legacy.length > 0 && chunk.overlay.dirtyCount() + 1 <= maxItems) {
    const c = legacy.shift()!;
    const id = endedId(c.session);
    const there = await chunk.overlay.get<WatchCleanup>('cleanup', id);
    // The move and the state's shorter list commit together, so the item is new; were it there,
    // counting it again would keep the count above the items for good.
    if (there === undefined) {
      chunk.overlay.set('cleanup', id, c);
      countEnded(chunk, 1);
    }
  }
  if (legacy.length > 0) chunk.state.watchCleanup = legacy;
  else delete chunk.state.watchCleanup;
}

/**
 * The writer's own watch work, as much as `maxItems` changed items allow: fired generations of
 * one-shot registrations, then persistent watches and ended sessions of an older state, then the
 * registrations of ended sessions (their cleanup items in id order; a session's lists are gone
 * through newest first and shrink as they are, its item goes with its last list).
 */
export async function removeEndedWatches(chunk: Chunk, maxItems: number): Promise<void> {
  await removeFiredGenerations(chunk, maxItems);
  await migrateLegacyPersistent(chunk, maxItems);
  await migrateLegacyEnded(chunk, maxItems);
  let done = 0;
  while ((chunk.state.endedSessions ?? 0) > 0 && chunk.overlay.dirtyCount() + 3 <= maxItems) {
    // The first page may hold sessions this call already finished (not yet committed).
    const [next] = await chunk.overlay.query<WatchCleanup>('cleanup', ENDED_PREFIX, done + 1);
    if (next === undefined) {
      // Counted but none stored: nothing is left (the count only saves a query when it is 0).
      if (done === 0) delete chunk.state.endedSessions;
      return;
    }
    const { session, chunks } = next.value;
    const id = watchListId(session, chunks);
    const paths = [...((await chunk.overlay.get<WatchPathsItem>('meta', id))?.paths ?? [])];
    await prefetchWatched(chunk, session, paths);
    while (paths.length > 0) {
      const before = chunk.overlay.checkpoint();
      await dropWatched(chunk, session, paths.at(-1)!);
      // Room for the list's own item and the cleanup item: both are rewritten or deleted below.
      if (chunk.overlay.dirtyCount() + 2 > maxItems) {
        chunk.overlay.rollback(before);
        break;
      }
      paths.pop();
    }
    if (paths.length > 0) {
      chunk.overlay.set('meta', id, { paths } satisfies WatchPathsItem);
      return;
    }
    chunk.overlay.set('meta', id, undefined);
    if (chunks > 1) {
      chunk.overlay.set('cleanup', next.id, { session, chunks: chunks - 1 } satisfies WatchCleanup);
      continue;
    }
    chunk.overlay.set('cleanup', next.id, undefined);
    countEnded(chunk, -1);
    done++;
  }
}

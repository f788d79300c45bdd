/**
 * Which paths a session holds watch registrations on, so that its close finds them all (a one-shot
 * registration lives in the watched node's item or a `watch` item, a persistent one in a `pwatch`
 * item; the session points back to them). Persistent watches' paths are listed behind
 * {@link PERSISTENT_TAG}.
 *
 * Guarantee kept: a session's watches end with it — no registration of a closed session is left,
 * however many paths it watched — while no item grows past what a store takes (DynamoDB: 400 KB).
 *
 * The session item keeps the newest paths, bounded in count and bytes. When that list fills up, the
 * paths where the session no longer holds a registration (fired or removed) are forgotten; if the
 * rest still fills half the list, it is sealed into an item of its own (`watches:<session>:<n>`),
 * and the session counts those items. So the lists hold about as many paths as the session has
 * live registrations, each item stays small, and nothing a close must undo is ever forgotten.
 */
import type { SessionItem, SystemNodeItem, WatchPathsItem } from '../protocol/messages.js';
import type { Chunk } from '../writer/chunk.js';
import { nodeKey } from '../writer/keys.js';
import { PERSISTENT_TAG, pwatchId, watchId } from './items.js';

/** Most paths in one list (the session's own, or a sealed one). */
const WATCH_LIST_PATHS = 256;
/** Most bytes of paths in one list: well below any store's item limit. */
const WATCH_LIST_BYTES = 32 * 1024;

/** Id of the `n`th sealed list of `session` (a `meta` item). */
export const watchListId = (session: number, n: number): string => `watches:${session}:${n}`;

/** An upper bound of a list's bytes in an item: UTF-8 takes at most 3 bytes per UTF-16 unit. */
function listBytes(paths: readonly string[]): number {
  let n = 2;
  for (const p of paths) n += p.length * 3 + 3;
  return n;
}

/** Whether a list fits in `share` of the limits (it always may hold one path, however long). */
const fits = (paths: readonly string[], share = 1): boolean =>
  paths.length <= 1 ||
  (paths.length <= WATCH_LIST_PATHS * share && listBytes(paths) <= WATCH_LIST_BYTES * share);

/** Whether `session` still holds a registration behind the remembered `entry`. */
async function holdsRegistration(chunk: Chunk, session: number, entry: string): Promise<boolean> {
  if (entry.startsWith(PERSISTENT_TAG)) {
    const path = entry.slice(PERSISTENT_TAG.length);
    for (const recursive of [false, true])
      if ((await chunk.overlay.get('pwatch', pwatchId(path, session, recursive))) !== undefined) return true;
    return false;
  }
  const item = chunk.overlay.peek<SystemNodeItem>('node', entry);
  if (item?.dataWatches?.includes(session) || item?.childWatches?.includes(session)) return true;
  for (const [cls, gen] of [
    ['data', item?.dataWatchGen],
    ['children', item?.childWatchGen],
  ] as const)
    if (
      gen !== undefined &&
      (await chunk.overlay.get('watch', watchId(entry, cls, gen, session))) !== undefined
    )
      return true;
  return false;
}

/** Remembers that `session` holds a registration on `path` (a path, or a tagged one: see above). */
export async function rememberWatchedPath(chunk: Chunk, session: number, path: string): Promise<void> {
  const sid = String(session);
  const s = (await chunk.overlay.get<SessionItem>('session', sid))!;
  if (s.watchPaths.includes(path)) return;
  let watchPaths = [...s.watchPaths, path];
  let sealed = s.watchChunks ?? 0;
  if (!fits(watchPaths)) {
    // Full: forget the paths whose registrations are gone, and seal the rest if still many.
    await chunk.overlay.prefetch(s.watchPaths.filter((p) => !p.startsWith(PERSISTENT_TAG)).map(nodeKey));
    const live: string[] = [];
    for (const p of s.watchPaths) if (await holdsRegistration(chunk, session, p)) live.push(p);
    if (fits([...live, path], 0.5)) watchPaths = [...live, path];
    else {
      sealed++;
      const id = watchListId(session, sealed);
      await chunk.overlay.get('meta', id);
      chunk.overlay.set('meta', id, { paths: live } satisfies WatchPathsItem);
      watchPaths = [path];
    }
  }
  const next: SessionItem = { ...s, watchPaths };
  if (sealed > 0) next.watchChunks = sealed;
  chunk.overlay.set('session', sid, next);
}

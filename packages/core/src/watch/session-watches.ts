/**
 * Which paths a session holds one-shot watch registrations on, so that its close can remove them
 * (a registration lives in the watched node's item; the session's item points back to it).
 *
 * Guarantee kept: a session's watches end with it — no registration of a closed session is left
 * to fire.
 */
import type { SessionItem } from '../protocol/messages.js';
import type { Chunk } from '../writer/chunk.js';

/** How many recently watched paths a session remembers for cleanup at close. */
const MAX_WATCH_PATHS = 1024;

/** Remembers that `session` holds a registration on `path`. */
export async function rememberWatchedPath(chunk: Chunk, session: number, path: string): Promise<void> {
  const sid = String(session);
  const s = (await chunk.overlay.get<SessionItem>('session', sid))!;
  if (!s.watchPaths.includes(path)) {
    const watchPaths = [...s.watchPaths, path];
    chunk.overlay.set('session', sid, { ...s, watchPaths: watchPaths.slice(-MAX_WATCH_PATHS) });
  }
}

/** The paths where `session` may still hold registrations. */
export function watchedPaths(session: SessionItem): readonly string[] {
  return session.watchPaths;
}

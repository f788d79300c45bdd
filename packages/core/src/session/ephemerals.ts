/**
 * A session's ephemeral nodes, listed in its item.
 *
 * Guarantee kept: an ephemeral node lives exactly as long as its session — the list changes in the
 * transaction that creates or deletes the node, so the session's close finds every one.
 */
import type { SessionItem } from '../protocol/messages.js';
import type { Chunk } from '../writer/chunk.js';

/** Lists `path` as an ephemeral of `session` (which exists: the request was admitted). */
export async function addEphemeral(chunk: Chunk, session: number, path: string): Promise<void> {
  const s = (await chunk.overlay.get<SessionItem>('session', String(session)))!;
  chunk.overlay.set('session', String(session), { ...s, ephemerals: [...s.ephemerals, path] });
}

/** Unlists a deleted ephemeral from its owner (whose item may be gone already: it is closing). */
export async function removeEphemeral(chunk: Chunk, owner: number, path: string): Promise<void> {
  const sid = String(owner);
  const s = await chunk.overlay.get<SessionItem>('session', sid);
  if (s !== undefined)
    chunk.overlay.set('session', sid, { ...s, ephemerals: s.ephemerals.filter((p) => p !== path) });
}

/**
 * Watch registrations as items of their own (`watch`, `pwatch`, `cleanup` in the system store),
 * so that no node item, session item or writer state grows with the number of watchers.
 *
 * Ids put a separator that no ZooKeeper path may hold (U+0001: control characters are refused in
 * paths) between the path and the rest, so that a prefix names exactly one path's registrations.
 */
import type { WatchClass } from '../protocol/messages.js';

/** Separates the fields of an id: not a character a path may hold. */
export const SEP = '\u0001';

/** The one-shot classes a node item holds registrations of. */
export type OneShotClass = Extract<WatchClass, 'data' | 'children'>;

const classTag = (cls: OneShotClass): string => (cls === 'data' ? 'd' : 'c');

/** Fixed width, so that ids sort by generation. */
const gen16 = (gen: number): string => String(gen).padStart(16, '0');

/** Prefix of the overflow registrations of `cls` on `path` in generation `gen`. */
export const watchPrefix = (path: string, cls: OneShotClass, gen: number): string =>
  `${path}${SEP}${classTag(cls)}${SEP}${gen16(gen)}${SEP}`;

/** Id of `session`'s overflow registration of `cls` on `path` in generation `gen`. */
export const watchId = (path: string, cls: OneShotClass, gen: number, session: number): string =>
  `${watchPrefix(path, cls, gen)}${session}`;

/** Value of a `watch` item: whose registration it is. */
export interface WatchRegistration {
  session: number;
}

/** Prefix of every persistent watch on `path`. */
export const pwatchPrefix = (path: string): string => `${path}${SEP}`;

/** Id of `session`'s persistent (or recursive) watch on `path`. */
export const pwatchId = (path: string, session: number, recursive: boolean): string =>
  `${pwatchPrefix(path)}${session}${SEP}${recursive ? 'r' : 'p'}`;

/** Value of a `pwatch` item. */
export interface PersistentRegistration {
  session: number;
  path: string;
  recursive: boolean;
}

/**
 * Value of a `cleanup` item: a generation of overflow registrations that fired (all dead by the
 * generation rule, see `one-shot.ts`) and are deleted by the writer in later bounded commits.
 */
export interface FiredGeneration {
  path: string;
  cls: OneShotClass;
  gen: number;
}

/** Id of the cleanup item of a fired generation. */
export const cleanupId = (g: FiredGeneration): string => watchPrefix(g.path, g.cls, g.gen);

/** Prefix of every fired generation's cleanup item: its path, and every path begins with `/`. */
export const FIRED_PREFIX = '/';

/** Prefix of the cleanup items of ended sessions (not a path: it never meets {@link FIRED_PREFIX}). */
export const ENDED_PREFIX = `${SEP}ended${SEP}`;

/** Id of the cleanup item of ended `session` whose registrations are still to be removed. */
export const endedId = (session: number): string => `${ENDED_PREFIX}${session}`;

/**
 * A session's remembered watched paths (`session-watches.ts`) hold one-shot paths as they are
 * and persistent-watch paths behind this tag (a path begins with `/`, so the two never meet).
 */
export const PERSISTENT_TAG = SEP;

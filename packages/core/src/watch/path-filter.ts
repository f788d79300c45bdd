/**
 * A Bloom filter of the paths that hold persistent watches, kept in the writer state so that a
 * write looks up `pwatch` items only for the ancestors that may hold one: with no persistent watch
 * anywhere a write reads nothing more than before, and the state stays within a fixed size.
 *
 * It grows with the number of watched paths from {@link MIN_BITS} to {@link MAX_BITS} (2 KiB),
 * rebuilt from the `pwatch` items at each doubling (rare: each rebuild reads at most a tenth of the
 * bits in items); past its largest size it keeps taking paths and only its false positives rise
 * (each costs one query that answers nothing). Removing a watch leaves its bits: a rebuild clears them.
 */
import type { PathFilter } from '../protocol/messages.js';

export const MIN_BITS = 256;
/** 2 KiB: the filter's share of the writer state. */
export const MAX_BITS = 16_384;
/** Bits per path below which the filter is rebuilt larger (≈ 2% false positives with 3 hashes). */
const BITS_PER_PATH = 10;
const HASHES = 3;

/** FNV-1a over the path's UTF-16 units, with a seed: two of them give every index (double hashing). */
function fnv(path: string, seed: number): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < path.length; i++) {
    h ^= path.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

function indexes(path: string, m: number): number[] {
  const a = fnv(path, 0);
  const b = fnv(path, 0x5bd1e995) | 1;
  return Array.from({ length: HASHES }, (_, i) => ((a + Math.imul(i, b)) >>> 0) % m);
}

/** Whether `path` may hold a persistent watch (`false`: it holds none). */
export function mayHold(filter: PathFilter | undefined, path: string): boolean {
  if (filter === undefined) return false;
  const bytes = filter.bits;
  const m = bytes.length * 8;
  return indexes(path, m).every((i) => ((bytes[i >> 3] ?? 0) & (1 << (i & 7))) !== 0);
}

/** A filter sized for `count` paths and holding `paths`. */
export function buildFilter(paths: Iterable<string>, count: number): PathFilter | undefined {
  if (count === 0) return undefined;
  let m = MIN_BITS;
  while (m < MAX_BITS && m < count * BITS_PER_PATH * 2) m *= 2;
  const bytes = new Uint8Array(m / 8);
  let n = 0;
  for (const p of paths) {
    for (const i of indexes(p, m)) bytes[i >> 3]! |= 1 << (i & 7);
    n++;
  }
  return { bits: bytes, n };
}

/** Whether adding one more path calls for a larger filter (rebuilt from the stored watches). */
export function needsRebuild(filter: PathFilter | undefined): boolean {
  if (filter === undefined) return false;
  const m = filter.bits.length * 8;
  return m < MAX_BITS && (filter.n + 1) * BITS_PER_PATH > m;
}

/** `filter` with `path` added (a new smallest filter when there is none). */
export function withPath(filter: PathFilter | undefined, path: string): PathFilter {
  if (filter === undefined) return buildFilter([path], 1)!;
  // A copy: states are snapshotted shallowly, and a rolled-back request must not leave its bits.
  const bytes = new Uint8Array(filter.bits);
  const m = bytes.length * 8;
  for (const i of indexes(path, m)) bytes[i >> 3]! |= 1 << (i & 7);
  return { bits: bytes, n: filter.n + 1 };
}

/**
 * Sizing a chunk against the two limits a commit must respect: the system store's transaction
 * (items per transaction) and one distributor message / the writer state item (bytes: the batch's
 * output and the redo log of its item writes).
 *
 * Guarantee kept: a committed chunk can always be committed and forwarded — a chunk that could not
 * would be retried forever and block every write behind it — and a request that alone exceeds a
 * limit is refused (`BADARGUMENTS`) rather than applied in parts. A request ending a session is
 * the exception to the item limit: alone in its chunk it is committed through the redo log
 * (`splitLog`), bound only by the bytes of the state item and the distributor message.
 */
import { byteLength, encodeMessage } from '../protocol/codec.js';
import type { Chunk } from './chunk.js';
import { logEligible, splitLog } from './redo-log.js';

/** The limits of one chunk, and what the requests taken so far use of them. */
export class ChunkBudget {
  private itemBytes = 0;

  constructor(
    /** Most items of one store transaction; one is kept for the writer's own item. */
    private readonly maxItems: number,
    /** Largest committed output: the smaller of the distributor message and store item limits. */
    private readonly maxBytes: number,
    /** Whether the writer state carries the chunk's item writes (the redo log). */
    private readonly logged = true,
  ) {}

  /**
   * Checks the request just applied to `chunk` (whose output had `itemsBefore` items before it).
   * Returns `undefined` when it fits (and counts it), or why it does not — the refusal to give
   * when the request is alone in its chunk.
   */
  overflow(chunk: Chunk, itemsBefore: number, splittable = false): string | undefined {
    // Over the item limit, a `splittable` request (one ending a session, alone in its chunk) is
    // committed with its writer-owned items in the log and only the rest in the transaction
    // (`splitLog`); any other is not (it waits for the next chunk, or is refused alone).
    // (Without an item limit, as in memory, nothing is counted: this runs after every request.)
    const split = Number.isFinite(this.maxItems) && chunk.overlay.dirtyCount() + 1 > this.maxItems;
    if (split) {
      const tooMany = `the request touches more items than one transaction of this store can hold (${this.maxItems})`;
      if (!splittable) return tooMany;
      const direct = chunk.overlay.commitOps().filter((op) => !logEligible(op)).length;
      if (direct + 1 > this.maxItems) return tooMany;
    }
    if (!Number.isFinite(this.maxBytes)) return undefined;
    const added = chunk.items.slice(itemsBefore);
    // The batch's own fields (version, numbers, routes of resumed sessions): small and bounded; and
    // the state's child Stats (`child-stats.ts`) as they stand after this request, a few entries.
    const stats = chunk.state.childStats;
    const envelope = 1024 + (stats === undefined ? 0 : byteLength(JSON.stringify(stats)));
    // The writer state item also carries the chunk's item writes (its redo log, `redo-log.ts`):
    // every value the commit writes, as a whole (a value is replaced, not grown, by a request).
    // Split, the log also holds every deletion (a closing session's ephemerals): counted as ops.
    const values = split
      ? splitLog(chunk.overlay.commitOps()).log
      : this.logged
        ? chunk.overlay.dirtyValues()
        : [];
    // A cheap upper bound first; the exact size only when the bound comes near the limit.
    let addedBytes = encodedSizeBound(added);
    let logBytes = encodedSizeBound(values);
    if (this.itemBytes + addedBytes + logBytes + envelope > this.maxBytes) {
      addedBytes = byteLength(encodeMessage(added)) + 16 * added.length;
      // A logged op around each value: its kind, id and version (split, `values` are the ops).
      logBytes = byteLength(encodeMessage(values)) + (split ? 0 : 64 * values.length);
    }
    if (this.itemBytes + addedBytes + logBytes + envelope > this.maxBytes)
      return `the request's committed result is ${addedBytes + logBytes} bytes, more than one batch can hold (${this.maxBytes}: the distributor message and the writer state item)`;
    this.itemBytes += addedBytes;
    return undefined;
  }
}

/**
 * An upper bound of the bytes {@link encodeMessage} makes of plain data, without encoding it:
 * bytes as base64, every string character as a 6-byte escape at worst.
 */
export function encodedSizeBound(value: unknown): number {
  if (typeof value === 'string') return value.length * 6 + 2;
  if (value === null || typeof value !== 'object') return 24;
  if (value instanceof Uint8Array) return Math.ceil(value.byteLength / 3) * 4 + 16;
  let n = 2;
  if (Array.isArray(value)) for (const v of value) n += encodedSizeBound(v) + 1;
  else for (const k in value) n += k.length * 6 + 4 + encodedSizeBound((value as Record<string, unknown>)[k]);
  return n;
}

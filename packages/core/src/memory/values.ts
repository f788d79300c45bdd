/**
 * How the memory stores (system and user store) keep the values callers put and hand out the ones
 * they get: copied (as a cloud service would), shared or frozen.
 */
import { clone, deepFreeze } from '../util/clone.js';

/**
 * How the memory stores keep the values callers put and hand out the values they get.
 * - `copied` (the default): copied in and copied out, as a cloud service would, so that no caller
 *   shares a reference with the store; what the contract suites check.
 * - `shared`: kept and handed out as they are, no copy: for callers that never change a value
 *   they put or got (the core's functions replace values whole; a gateway's clients only
 *   serialise what they read). A copy in and out was a tenth of a gateway write's CPU time, and
 *   the garbage of it more.
 * - `frozen`: as `shared`, but what is put is frozen in place, all the way down
 *   ({@link deepFreeze}): a caller that changes an object or array it put or got gets a TypeError
 *   (ES modules are strict) instead of changing the store. What proves a set of callers may share;
 *   not faster than copying (V8 freezes an object more slowly than it copies a small one, and
 *   spreads a frozen one several times more slowly). Byte arrays cannot be frozen: they are shared
 *   in both modes, kept only by the rule that no caller writes into a byte array it did not make.
 */
export type MemoryValues = 'copied' | 'shared' | 'frozen';

/** Options of the memory stores beyond a system store's capabilities. */
export interface MemoryStoreOptions {
  /** How values are kept and handed out; default `copied`. */
  values?: MemoryValues;
}

const identity = <T>(value: T): T => value;

/** How a store in `values` mode makes a value put its own, and what a caller gets of one it holds. */
export function valueHandling(values: MemoryValues = 'copied'): {
  keep: <T>(value: T) => T;
  handOut: <T>(value: T) => T;
} {
  if (values === 'copied') return { keep: clone, handOut: clone };
  return { keep: values === 'frozen' ? deepFreeze : identity, handOut: identity };
}

/**
 * The distributor's inputs: the committed batches it is handed, the protected zone's view of a
 * node (its stub, its children), and each session's channel key.
 */
import type { ReceivedMessage } from '../ports/queue.js';
import type { UserStore } from '../ports/user-store.js';
import { inProcessValue } from '../protocol/in-process.js';
import {
  type ChildEntry,
  type DistributorBatch,
  DistributorBatchSchema,
  type NodeRecord,
} from '../protocol/messages.js';
import { decodeChecked } from '../protocol/validate.js';
import { channelKey } from '../session/auth.js';
import { channelTag } from '../session/channel-tag.js';
import { childKey, childrenAt } from '../tree/child-index.js';

/**
 * The batches of `messages`, in batch order. Each is checked whole before anything is applied: a
 * malformed batch is dropped instead of throwing half-way (a throw would redeliver it forever and
 * block every later batch) or moving the watermark to garbage. Only the writer sends here, so an
 * unreadable batch is a bug, not input: it is dropped loudly.
 */
export function batchesOf(
  messages: readonly ReceivedMessage[],
  log?: (message: string, details?: Record<string, unknown>) => void,
): DistributorBatch[] {
  const batches: DistributorBatch[] = [];
  for (const m of messages) {
    // The writer's inline hand-off in this process brings the batch it just built, unencoded: it
    // crossed no boundary, so it is taken as it is (protocol/in-process.ts).
    const local = inProcessValue(m);
    if (local !== undefined) {
      batches.push(local as DistributorBatch);
      continue;
    }
    const decoded = decodeChecked(DistributorBatchSchema, m.body);
    if (decoded.ok) batches.push(decoded.value);
    else log?.('distributor: dropped an unreadable batch', { error: decoded.problem });
  }
  // In batch order, whatever order they came in: a queue that hands a group's redelivered
  // messages back out of order in one receive (Pub/Sub's emulator after a nack) would otherwise
  // have a later batch applied first and an earlier one undo it (a delete after the re-create).
  return batches.sort((a, b) => a.batch - b.batch);
}

const EMPTY = new Uint8Array(0);

/** What the open zone holds of a protected node: its Stat and order fields, no data, no ACL. */
export function stubOf(r: NodeRecord): NodeRecord {
  const stub: NodeRecord = { data: EMPTY, stat: r.stat, txZxid: r.txZxid, protected: true };
  if (r.ev !== undefined) stub.ev = r.ev;
  return stub;
}

/**
 * The children of the protected node `path` (record `r`) at its `pzxid`: the protected zone's
 * entries (and, when `moving`, the open zone's: a zone change of this call has not carried them
 * yet) with those the batches so far add, none of which are removed before the messages go out.
 */
export async function protectedChildren(
  userStore: UserStore,
  path: string,
  r: NodeRecord,
  added: readonly ChildEntry[],
  moving: boolean,
): Promise<string[]> {
  const [inProtected, inOpen] = await Promise.all([
    userStore.listChildren(path, 'protected'),
    moving ? userStore.listChildren(path, 'open') : [],
  ]);
  const all = new Map<string, ChildEntry>();
  for (const k of [...inProtected, ...inOpen, ...added.filter((k) => k.parent === path)])
    all.set(childKey(k), k);
  return childrenAt([...all.values()], r.stat.pzxid);
}

/** `compute(key)`, kept in `cache` (cleared whenever it holds 4,096: the sessions of recent batches). */
function memo<K, V>(cache: Map<K, V>, key: K, compute: () => V): V {
  let value = cache.get(key);
  if (value === undefined) {
    if (cache.size >= 4096) cache.clear();
    value = compute();
    cache.set(key, value);
  }
  return value;
}

/**
 * Channel keys derived once per session (an HMAC each), and the secret tags naming their channels
 * (session/channel-tag.ts, another HMAC per incarnation), kept for the sessions of recent batches.
 */
export class ChannelKeys {
  private readonly keys = new Map<number, Uint8Array>();
  private readonly tags = new Map<string, string>();

  constructor(private readonly secret: string | undefined) {}

  /** The session's channel key; `undefined` when channels are not sealed. */
  of(session: number): Uint8Array | undefined {
    const secret = this.secret;
    if (secret === undefined) return undefined;
    return memo(this.keys, session, () => channelKey(secret, session));
  }

  /** The tag of `session`'s incarnation `inc`'s secret channel; `undefined` when channels are not sealed. */
  tag(session: number, inc: number): string | undefined {
    const key = this.of(session);
    if (key === undefined) return undefined;
    return memo(this.tags, `${session}:${inc}`, () => channelTag(key, session, inc));
  }
}

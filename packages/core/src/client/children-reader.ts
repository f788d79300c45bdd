/*
 * getChildren over the user store's child index (docs/scale.md, "getChildren, consistent with the
 * watermark"). A node's record holds no child list; its children are index entries, one per life
 * of a child, named with the zxids that began and ended it. A read takes the parent's record P1
 * (after the watermark covers it), lists the index, and reads the record again (P2): when P2 has
 * the same pzxid (and is the same node), no child changed in between, and the children at
 * V = pzxid are exactly the entries whose life covers V. Why: every entry with czxid ≤ V was
 * written before the watermark passed P1; an entry of a life ended after V is still listed (live or
 * as its tombstone) unless it was removed, and the distributor removes it only after writing the
 * parent's record with a newer pzxid, which P2 then shows. Otherwise the read lists again.
 */
import { FaaSKeeperError } from '../model/errors.js';
import type { Stat } from '../model/stat.js';
import type { Clock } from '../ports/clock.js';
import type { ChildEntry, NodeRecord } from '../protocol/messages.js';
import { type Backoff, backoffDelay, pause } from '../runtime/retry.js';
import { childrenAt } from '../tree/child-index.js';

/** Pause between listings while the children keep changing: at once twice, then up to 50 ms apart. */
const RELIST: Backoff = { immediate: 2, baseMs: 5, maxMs: 50 };

/** What a consistent read of a node's children needs from the client. */
export interface ChildrenReadPorts {
  path: string;
  /** The node's record as a consistent direct read gives it (watermark and owed events awaited), or null. */
  reread: () => Promise<NodeRecord | null>;
  /** Every index entry under the node (all pages). */
  list: () => Promise<ChildEntry[]>;
  /** The record if the client may read it. @throws FaaSKeeperError NONODE, NOAUTH. */
  admit: (record: NodeRecord | null) => NodeRecord;
  clock: Clock;
  /** When the read gives up (the client's clock): it relists only while children keep changing. */
  deadline: number;
}

/** A node's children (sorted) and the Stat they belong to. */
export interface ChildrenRead {
  children: string[];
  stat: Stat;
}

/**
 * The children of `ports.path` and a Stat of the node whose `pzxid` is the zxid they are the
 * children at; `first` is the node's record as the read began (direct, or a watched read's reply).
 * @throws FaaSKeeperError NONODE, NOAUTH; CONNECTIONLOSS when the listing fails; OPERATIONTIMEOUT
 * when the children changed during every listing until the deadline; SYSTEMERROR when the index
 * disagrees with the node's `numChildren` (an index not migrated, see docs/scale.md "Migration").
 */
export async function readChildren(
  first: NodeRecord | null,
  ports: ChildrenReadPorts,
): Promise<ChildrenRead> {
  const { path, clock } = ports;
  let before = ports.admit(first);
  for (let failures = 1; ; failures++) {
    const entries = await ports.list().catch((error: unknown) => {
      throw new FaaSKeeperError('CONNECTIONLOSS', `CONNECTIONLOSS: listing the children of ${path} failed`, {
        path,
        cause: error,
      });
    });
    const after = ports.admit(await ports.reread());
    if (after.stat.czxid === before.stat.czxid && after.stat.pzxid === before.stat.pzxid) {
      const children = childrenAt(entries, before.stat.pzxid);
      if (children.length !== after.stat.numChildren)
        throw new FaaSKeeperError(
          'SYSTEMERROR',
          `SYSTEMERROR: the child index of ${path} lists ${children.length} children at zxid ${before.stat.pzxid}, its Stat ${after.stat.numChildren}`,
          { path },
        );
      // The later record: the same children, and the Stat never older than one read before.
      return { children, stat: after.stat };
    }
    if (clock.now() > ports.deadline)
      throw new FaaSKeeperError(
        'OPERATIONTIMEOUT',
        `OPERATIONTIMEOUT: the children of ${path} kept changing`,
        {
          path,
        },
      );
    await pause(clock, backoffDelay(RELIST, failures));
    before = after;
  }
}

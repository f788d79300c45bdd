/** The watch operations: setWatches(2), addWatch, checkWatches, removeWatches. */
import { type FaaSKeeperClient, FaaSKeeperError, isFaaSKeeperError } from '@faaskeeper/core';
import { AddWatchMode, Err, EventType } from './codes.js';
import type { OpContext } from './context.js';
import type { JuteReader } from './jute/io.js';
import { AddWatchRequest, PathTypeRequest, SetWatches, SetWatches2 } from './jute/records.js';
import { kindsOf, type WatchKind } from './watches.js';

const isNoNode = (e: unknown) => isFaaSKeeperError(e, 'NONODE');

/**
 * Runs `read` with the `kind` watch armed first (a core event may arrive in the same delivery as
 * the read's reply, before this code runs again); disarms it when the read fails or `keep` says no.
 * A watch the client did not hold yet can only fire after the read's reply (the core sets it as
 * it takes the reply), so its events are held until that reply is written: a ZooKeeper client
 * registers its watcher when the reply comes, and drops an event that comes first. The core client
 * holds a watch's events only until the continuation of this `await read()` has run, which is not
 * yet the reply written: the reply is encoded, waits in the slot order behind earlier ones, and
 * setWatches answers once for many reads; and a watched getChildren whose listing shows a change
 * after the read's point gets that change's event first (test/watch-order.test.ts).
 */
export async function withWatch<T>(
  ctx: OpContext,
  kind: WatchKind,
  path: string,
  read: () => Promise<T>,
  keep: (result: T) => boolean = () => true,
): Promise<T> {
  const reg = ctx.session.watches;
  const had = reg.held(path, [kind]).length > 0;
  reg.arm(kind, path);
  if (!had) {
    const hold = reg.hold(kind, path);
    if (!ctx.afterReply(() => reg.release(hold))) reg.release(hold);
  }
  let result: T;
  try {
    result = await read();
  } catch (error) {
    if (!had) reg.disarm(kind, path);
    throw error;
  }
  if (!keep(result) && !had) reg.disarm(kind, path);
  return result;
}

/**
 * setWatches / setWatches2: re-arms a reconnecting client's watches, firing at once those whose
 * node changed after `relativeZxid` (ZooKeeper's DataTree.setWatches rules). The reads run
 * together; the events go out in ZooKeeper's order: data, exist, then child watches, each list
 * in the client's order.
 */
export async function setWatches(ctx: OpContext, r: JuteReader, v2: boolean): Promise<void> {
  const req = v2
    ? SetWatches2.read(r)
    : { ...SetWatches.read(r), persistentWatches: [], persistentRecursiveWatches: [] };
  const rel = Number(req.relativeZxid);
  const { client, watches } = ctx.session;
  const w = watches.watchers;
  /** The event to fire for one watch at once, or undefined when it stays armed. */
  type Fired = { type: number; path: string } | undefined;
  /**
   * Re-arms a one-shot watch: fires `changed` instead when the node's `zxidOf` is past the
   * client's zxid, NodeDeleted when the node is gone.
   */
  const rearm = async (
    kind: 'data' | 'children',
    path: string,
    read: () => Promise<{ stat: { mzxid: number; pzxid: number } }>,
    zxidOf: 'mzxid' | 'pzxid',
    changed: number,
  ): Promise<Fired> => {
    let fired: Fired;
    try {
      await withWatch(ctx, kind, path, read, (res) => {
        if (res.stat[zxidOf] <= rel) return true;
        fired = { type: changed, path };
        return false;
      });
    } catch (error) {
      if (!isNoNode(error)) throw error;
      fired = { type: EventType.NodeDeleted, path };
    }
    return fired;
  };
  // An exist watch fires NodeCreated when the node is there now, else it waits for the creation.
  const rearmExists = async (path: string): Promise<Fired> => {
    let fired: Fired;
    await withWatch(
      ctx,
      'data',
      path,
      () => client.exists(path, { watch: w.data }),
      (stat) => {
        if (stat === null) return true;
        fired = { type: EventType.NodeCreated, path };
        return false;
      },
    );
    return fired;
  };
  const tasks: Promise<Fired>[] = [
    ...req.dataWatches.map((path) =>
      rearm('data', path, () => client.getData(path, { watch: w.data }), 'mzxid', EventType.NodeDataChanged),
    ),
    ...req.existWatches.map(rearmExists),
    ...req.childWatches.map((path) =>
      rearm(
        'children',
        path,
        () => client.getChildren(path, { watch: w.children }),
        'pzxid',
        EventType.NodeChildrenChanged,
      ),
    ),
    ...req.persistentWatches.map((path) =>
      withWatch(ctx, 'persistent', path, () => client.addWatch(path, w.persistent, 'PERSISTENT')).then(
        () => undefined,
      ),
    ),
    ...req.persistentRecursiveWatches.map((path) =>
      withWatch(ctx, 'recursive', path, () =>
        client.addWatch(path, w.recursive, 'PERSISTENT_RECURSIVE'),
      ).then(() => undefined),
    ),
  ];
  for (const fired of await Promise.all(tasks)) if (fired !== undefined) ctx.notify(fired.type, fired.path);
}

/** addWatch: a persistent or persistent-recursive watch; the node need not exist. */
export async function addWatch(ctx: OpContext, r: JuteReader): Promise<void> {
  const { path, mode } = AddWatchRequest.read(r);
  const client: FaaSKeeperClient = ctx.session.client;
  const w = ctx.session.watches.watchers;
  if (mode === AddWatchMode.Persistent)
    await withWatch(ctx, 'persistent', path, () => client.addWatch(path, w.persistent, 'PERSISTENT'));
  else if (mode === AddWatchMode.PersistentRecursive)
    await withWatch(ctx, 'recursive', path, () => client.addWatch(path, w.recursive, 'PERSISTENT_RECURSIVE'));
  else throw new FaaSKeeperError('BADARGUMENTS', `BADARGUMENTS: bad addWatch mode ${mode}`, { path });
}

/** checkWatches (`remove` false) and removeWatches: NOWATCHER when the client holds no such watch. */
export async function checkOrRemoveWatches(ctx: OpContext, r: JuteReader, remove: boolean): Promise<number> {
  const { path, type } = PathTypeRequest.read(r);
  const kinds = kindsOf(type);
  if (kinds === undefined) return Err.BADARGUMENTS;
  const reg = ctx.session.watches;
  const found = remove ? await reg.remove(path, kinds) : reg.held(path, kinds).length > 0;
  return found ? Err.OK : Err.NOWATCHER;
}

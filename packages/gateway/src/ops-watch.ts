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
 * node changed after `relativeZxid` (ZooKeeper's DataTree.setWatches rules).
 */
export async function setWatches(ctx: OpContext, r: JuteReader, v2: boolean): Promise<void> {
  const req = v2
    ? SetWatches2.read(r)
    : { ...SetWatches.read(r), persistentWatches: [], persistentRecursiveWatches: [] };
  const rel = Number(req.relativeZxid);
  const { client, watches } = ctx.session;
  const w = watches.watchers;
  const fire = (type: number, path: string) => ctx.notify(type, path);
  const tasks: Promise<void>[] = [];
  /**
   * Re-arms a one-shot watch: fires `changed` instead when the node's `zxidOf` is past the
   * client's zxid, NodeDeleted when the node is gone.
   */
  const rearm = (
    kind: 'data' | 'children',
    path: string,
    read: () => Promise<{ stat: { mzxid: number; pzxid: number } }>,
    zxidOf: 'mzxid' | 'pzxid',
    changed: number,
  ) =>
    withWatch(ctx, kind, path, read, (res) => {
      if (res.stat[zxidOf] <= rel) return true;
      fire(changed, path);
      return false;
    }).then(
      () => undefined,
      (e: unknown) => (isNoNode(e) ? fire(EventType.NodeDeleted, path) : Promise.reject(e)),
    );
  for (const path of req.dataWatches)
    tasks.push(
      rearm('data', path, () => client.getData(path, { watch: w.data }), 'mzxid', EventType.NodeDataChanged),
    );
  for (const path of req.childWatches)
    tasks.push(
      rearm(
        'children',
        path,
        () => client.getChildren(path, { watch: w.children }),
        'pzxid',
        EventType.NodeChildrenChanged,
      ),
    );
  // An exist watch fires NodeCreated when the node is there now, else it waits for the creation.
  for (const path of req.existWatches)
    tasks.push(
      withWatch(
        ctx,
        'data',
        path,
        () => client.exists(path, { watch: w.data }),
        (stat) => {
          if (stat === null) return true;
          fire(EventType.NodeCreated, path);
          return false;
        },
      ).then(() => undefined),
    );
  for (const path of req.persistentWatches)
    tasks.push(withWatch(ctx, 'persistent', path, () => client.addWatch(path, w.persistent, 'PERSISTENT')));
  for (const path of req.persistentRecursiveWatches)
    tasks.push(
      withWatch(ctx, 'recursive', path, () => client.addWatch(path, w.recursive, 'PERSISTENT_RECURSIVE')),
    );
  await Promise.all(tasks);
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

/**
 * ZooKeeper opcodes to core client calls. Each call starts synchronously (the core client keeps
 * its calls in the order issued), so requests pipeline while their replies go out in order.
 */
import { type FaaSKeeperClient, generateDigest, isFaaSKeeperError } from '@faaskeeper/core';
import { Err, errnoOf, OpCode } from './codes.js';
import { getDataReply, type OpContext, type Reply, statReply, toJStat } from './context.js';
import { type Codec, encode } from './jute/codec.js';
import type { JuteReader } from './jute/io.js';
import { MultiRequest, MultiResponse } from './jute/multi.js';
import * as R from './jute/records.js';
import { check, create, multi, multiRead } from './ops-multi.js';
import { addWatch, checkOrRemoveWatches, setWatches, withWatch } from './ops-watch.js';

const ok = <T>(codec: Codec<T>, value: T): Reply => ({ err: Err.OK, body: encode(codec, value) });

/** Counts every descendant of `path` (getAllChildrenNumber), level by level. */
export async function countDescendants(client: FaaSKeeperClient, path: string): Promise<number> {
  let level = (await client.getChildren(path)).children.map((c) => (path === '/' ? `/${c}` : `${path}/${c}`));
  let count = 0;
  while (level.length > 0) {
    count += level.length;
    const next: string[] = [];
    for (let i = 0; i < level.length; i += 64) {
      const lists = await Promise.all(
        level.slice(i, i + 64).map((p) =>
          client.getChildren(p).then(
            (r) => r.children.map((c) => `${p}/${c}`),
            // A node deleted during the walk has no descendants left to count.
            (e: unknown) => (isFaaSKeeperError(e, 'NONODE') ? [] : Promise.reject(e)),
          ),
        ),
      );
      for (const l of lists) next.push(...l);
    }
    level = next;
  }
  return count;
}

/**
 * The auth packet (xid -4), as ZooKeeper's providers answer it. digest: the session's core client
 * authenticates with the writer, which keeps the identity for the session's writes (and grants
 * super for the deployment's super digest). ip: the connection's address, as ZooKeeper adds it;
 * the session got it when it was created (attested with the gateway key). Any other scheme fails
 * and closes the connection.
 */
async function auth(ctx: OpContext, r: JuteReader): Promise<Reply> {
  const { scheme, auth: data } = R.AuthPacket.read(r);
  if (scheme === 'digest') {
    const text = new TextDecoder().decode(data);
    await ctx.session.client.addAuth('digest', text);
    const id = generateDigest(text);
    if (!ctx.authIds.some((a) => a.scheme === 'digest' && a.id === id)) ctx.authIds.push({ scheme, id });
    return { err: Err.OK };
  }
  if (scheme === 'ip') {
    ctx.authIds.push({ scheme, id: ctx.address });
    return { err: Err.OK };
  }
  return {
    err: Err.AUTHFAILED,
    close: `authentication failed: no provider for scheme ${scheme}`,
  };
}

async function getEphemerals(ctx: OpContext, prefix: string): Promise<string[]> {
  const { session } = ctx;
  const all = prefix.trim() === '' || prefix.trim() === '/';
  const out: string[] = [];
  await Promise.all(
    [...session.ephemerals].map(async (p) => {
      const stat = await session.client.exists(p);
      if (stat === null || stat.ephemeralOwner !== session.id) session.ephemerals.delete(p);
      else if (all || p.startsWith(prefix)) out.push(p);
    }),
  );
  return out.sort();
}

/**
 * Runs one request and hands its reply to `done` (errors become ZooKeeper's error codes). A
 * callback, not a promise of the reply: one reaction on the operation's own promise, where an
 * `async` wrapper cost a promise and a microtask turn more on every request's way back.
 */
export function dispatch(ctx: OpContext, type: number, r: JuteReader, done: (reply: Reply) => void): void {
  const failed = (error: unknown) => done({ err: errnoOf(error) });
  let running: Promise<Reply>;
  try {
    // The most frequent requests without `run`'s frame: an async function as large as its switch
    // costs its whole frame on every call (about a kilobyte of garbage per request).
    running = type === OpCode.setData ? setData(ctx, r) : run(ctx, type, r);
  } catch (error) {
    // A truncated setData, read before any promise exists; `run` is async and so never throws.
    failed(error);
    return;
  }
  running.then(done, failed);
}

/** A setData: the new Stat, or the client's error (a rejected promise). */
function setData(ctx: OpContext, r: JuteReader): Promise<Reply> {
  const { path, data, version } = R.SetDataRequest.read(r);
  return ctx.session.client.setData(path, data, { version }).then(statReply);
}

async function run(ctx: OpContext, type: number, r: JuteReader): Promise<Reply> {
  const client = ctx.session.client;
  const w = ctx.session.watches.watchers;
  switch (type) {
    case OpCode.create:
    case OpCode.create2:
    case OpCode.createContainer:
    case OpCode.createTTL: {
      const req = type === OpCode.createTTL ? R.CreateTTLRequest.read(r) : R.CreateRequest.read(r);
      const res = await create(ctx, type, req);
      if (res.type === 1) return ok(R.PathResponse, res.res);
      if (res.type === 15) return ok(R.Create2Response, res.res);
      return { err: Err.SYSTEMERROR };
    }
    case OpCode.delete: {
      const { path, version } = R.PathVersionRequest.read(r);
      await client.delete(path, { version });
      return { err: Err.OK };
    }
    case OpCode.exists: {
      const { path, watch } = R.PathWatchRequest.read(r);
      const stat = watch
        ? await withWatch(ctx, 'data', path, () => client.exists(path, { watch: w.data }))
        : await client.exists(path);
      if (stat === null) return { err: Err.NONODE };
      return statReply(stat);
    }
    case OpCode.getData: {
      const { path, watch } = R.PathWatchRequest.read(r);
      const res = watch
        ? await withWatch(ctx, 'data', path, () => client.getData(path, { watch: w.data }))
        : await client.getData(path);
      return getDataReply(res.nullData === true ? null : res.data, res.stat);
    }
    case OpCode.getChildren:
    case OpCode.getChildren2: {
      const { path, watch } = R.PathWatchRequest.read(r);
      const res = watch
        ? await withWatch(ctx, 'children', path, () => client.getChildren(path, { watch: w.children }))
        : await client.getChildren(path);
      return type === OpCode.getChildren
        ? ok(R.GetChildrenResponse, { children: res.children })
        : ok(R.GetChildren2Response, { children: res.children, stat: toJStat(res.stat) });
    }
    case OpCode.getACL: {
      const { path } = R.PathRequest.read(r);
      const { acl, stat } = await client.getACL(path);
      return ok(R.GetACLResponse, { acl, stat: toJStat(stat) });
    }
    case OpCode.setACL: {
      const { path, acl, version } = R.SetACLRequest.read(r);
      return ok(R.StatResponse, { stat: toJStat(await client.setACL(path, acl, version)) });
    }
    case OpCode.sync: {
      const { path } = R.PathRequest.read(r);
      await client.sync(path);
      return ok(R.PathResponse, { path });
    }
    case OpCode.check: {
      const { path, version } = R.PathVersionRequest.read(r);
      return ok(R.StatResponse, { stat: await check(ctx, path, version) });
    }
    case OpCode.multi: {
      const res = await multi(ctx, MultiRequest.read(r));
      return { err: res.err, body: encode(MultiResponse, res.results) };
    }
    case OpCode.multiRead:
      return ok(MultiResponse, await multiRead(ctx, MultiRequest.read(r)));
    case OpCode.auth:
      return await auth(ctx, r);
    case OpCode.setWatches:
    case OpCode.setWatches2:
      await setWatches(ctx, r, type === OpCode.setWatches2);
      return { err: Err.OK };
    case OpCode.addWatch:
      await addWatch(ctx, r);
      return ok(R.ErrorResponse, { err: 0 });
    case OpCode.checkWatches:
    case OpCode.removeWatches:
      return { err: await checkOrRemoveWatches(ctx, r, type === OpCode.removeWatches) };
    case OpCode.getEphemerals: {
      const { prefixPath } = R.GetEphemeralsRequest.read(r);
      return ok(R.GetEphemeralsResponse, { ephemerals: await getEphemerals(ctx, prefixPath) });
    }
    case OpCode.getAllChildrenNumber: {
      const { path } = R.PathRequest.read(r);
      return ok(R.GetAllChildrenNumberResponse, { totalNumber: await countDescendants(client, path) });
    }
    case OpCode.whoAmI:
      return ok(R.WhoAmIResponse, {
        clientInfo: ctx.authIds.map((a) => ({
          authScheme: a.scheme,
          user: a.scheme === 'digest' ? (a.id.split(':', 1)[0] ?? '') : a.id,
        })),
      });
    case OpCode.closeSession:
      await ctx.session.close('the client closed its session', ctx.session.conn);
      return { err: Err.OK, close: 'the client closed its session' };
    default:
      // reconfig, sasl, deleteContainer (server-internal), createSession and unknown opcodes.
      return { err: Err.UNIMPLEMENTED };
  }
}

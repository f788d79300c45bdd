/**
 * Applying one request to a chunk: admission by its session, then the operation it asks for —
 * handed to the tree, watch and session modules — or a refusal.
 *
 * Guarantee kept: every request gets exactly one outcome in zxid order (applied, refused with an
 * error reply, or dropped as a duplicate), and a malformed one is consumed with a `BADARGUMENTS`
 * reply rather than blocking the ordered queue.
 */
import { addIds, authenticate } from '../acl/check.js';
import { Perms } from '../acl/model.js';
import { FaaSKeeperError } from '../model/errors.js';
import type {
  MultiOpRequest,
  ReplyResult,
  Requester,
  SessionItem,
  WriteRequest,
} from '../protocol/messages.js';
import { decodeSessionKey, verifySignature } from '../session/auth.js';
import { closeSession, expireSession } from '../session/close.js';
import { ensureLease } from '../session/lease.js';
import { admit, openSession, useUpSeq } from '../session/lifecycle.js';
import { resumeSession } from '../session/resume.js';
import { type Actor, checkPerm, nodeItem } from '../tree/nodes.js';
import { setAcl } from '../tree/set-acl.js';
import { commitTxn, transaction } from '../tree/transaction.js';
import { expireTtl } from '../tree/ttl.js';
import { registerOneShot } from '../watch/one-shot.js';
import { addPersistent } from '../watch/persistent.js';
import { removeWatches } from '../watch/remove.js';
import type { Chunk } from './chunk.js';
import { type Incoming, openSealed } from './incoming.js';

/** Applies one decoded request (or refuses a malformed one) to the chunk. */
export async function applyRequest(chunk: Chunk, item: Incoming): Promise<void> {
  if (item.sealed !== undefined) {
    const owner = await chunk.overlay.get<SessionItem>('session', String(item.sealed.session));
    openSealed(item, owner === undefined ? undefined : keyOf(owner));
  }
  const request = item.request;
  if (request === undefined) {
    await refuse(chunk, item, item.poison?.problem ?? 'malformed request');
    return;
  }
  if (request.session === 0) {
    await applySystemRequest(chunk, request);
    return;
  }
  // A request that never left this process needs no MAC, nor the session read to check it.
  if (
    item.inProcess !== true &&
    !authentic(item, request, await chunk.overlay.get<SessionItem>('session', String(request.session)))
  ) {
    // Forged, altered or unsigned: dropped with no effect, no reply and the session untouched.
    item.poison = { problem: `request ${request.id} is not signed by session ${request.session}` };
    return;
  }
  if (request.op.type === 'openSession') {
    await openSession(chunk, request, request.op);
    return;
  }
  if (request.op.type === 'resumeSession') {
    await resumeSession(chunk, request, request.op);
    return;
  }
  if (!(await admit(chunk, request))) return;
  const to: Requester = { session: request.session, seq: request.seq };
  try {
    const op = request.op;
    if (op.type === 'setData' || op.type === 'create' || op.type === 'delete')
      await write(chunk, request, op, to);
    else await dispatch(chunk, request, to);
  } catch (error) {
    if (error instanceof FaaSKeeperError) chunk.reply(to, undefined, error);
    else throw error;
  }
}

/** Answers a request `BADARGUMENTS` without applying it (if it names whom to answer). */
export async function refuse(chunk: Chunk, item: Incoming, problem: string): Promise<void> {
  const to =
    item.poison?.to ??
    (item.request && item.request.session > 0
      ? { session: item.request.session, seq: item.request.seq }
      : undefined);
  if (to === undefined) return;
  // Only the session's own client may use up its seqs: a malformed request naming another session
  // is dropped unless it carries that session's signature.
  const session = await chunk.overlay.get<SessionItem>('session', String(to.session));
  if (session !== undefined && item.inProcess !== true && !verifySignature(keyOf(session), item.signed))
    return;
  const inc = to.inc ?? item.request?.inc ?? 0;
  // A replaced incarnation's request is dropped unanswered, as `admit` drops it: its seq is not the
  // session's any more, and its channel is gone.
  if (!(await useUpSeq(chunk, to.session, to.seq, inc))) return;
  // The current incarnation's channel is the session's route: no address of its own needed.
  chunk.reply(
    { session: to.session, seq: to.seq },
    undefined,
    new FaaSKeeperError('BADARGUMENTS', `BADARGUMENTS: ${problem}`),
  );
}

/**
 * Whether `request` was signed by its session's client: with the key in the session item, or, for
 * the open of a session not there yet, with the key the open carries. A request of a session that
 * is not there is let through: it is answered SESSIONEXPIRED without effect.
 */
function authentic(item: Incoming, request: WriteRequest, session: SessionItem | undefined): boolean {
  // A request that never left this process needs no MAC (see `Incoming.inProcess`).
  if (item.inProcess === true) return true;
  if (session !== undefined) return verifySignature(keyOf(session), item.signed);
  if (request.op.type !== 'openSession') return true;
  return verifySignature(decodeSessionKey(request.op.key), item.signed);
}

const keyOf = (session: SessionItem): Uint8Array | undefined =>
  session.key === undefined ? undefined : decodeSessionKey(session.key);

/** The admitted session's item (admit just read it, so this costs no store read). */
async function sessionItem(chunk: Chunk, session: number): Promise<SessionItem> {
  return (await chunk.overlay.get<SessionItem>('session', String(session)))!;
}

/** The reply to a create: the new node's path and Stat. */
async function createdReply(chunk: Chunk, path: string): Promise<ReplyResult> {
  const created = (await nodeItem(chunk, path))!.node!;
  return { type: 'create', path, stat: { ...created.stat } };
}

/**
 * The session's identities, from its item: the writer's record of its addAuth calls, which no
 * request can set any other way. Admission has just read the item.
 */
function actorOf(chunk: Chunk, session: number): Actor {
  return { session, ids: chunk.overlay.peek<SessionItem>('session', String(session))?.auth ?? [] };
}

type WriteOp = Extract<WriteRequest['op'], { type: 'create' | 'delete' | 'setData' }>;

/**
 * A create, delete or setData: the most frequent requests, apart from {@link dispatch}, whose
 * async frame (as large as its switch) every write would otherwise pay for. The reply is made at
 * once for a setData or delete (a create reads the new node first): no async callback, nor an
 * array pattern's iterator, on every write.
 */
function write(chunk: Chunk, request: WriteRequest, op: WriteOp, to: Requester): Promise<void> {
  return transaction(chunk, actorOf(chunk, request.session), [asMultiOp(op)], to, false, (results) => {
    const r = results[0]!;
    if (r.op === 'create') return createdReply(chunk, r.path);
    return r.op === 'setData' ? { type: 'setData', stat: r.stat } : { type: 'delete' };
  });
}

/**
 * `op` as a transaction's op. A setData (the most frequent) is written out field by field: a spread
 * with a field added is V8's slow path, on every write.
 */
function asMultiOp(op: WriteOp): MultiOpRequest {
  if (op.type !== 'setData') return { ...op, op: op.type } as MultiOpRequest;
  const { path, data, version } = op;
  return op.nullData === true
    ? { op: 'setData', path, data, version, nullData: true }
    : { op: 'setData', path, data, version };
}

async function dispatch(chunk: Chunk, request: WriteRequest, to: Requester): Promise<void> {
  const op = request.op;
  const actor = actorOf(chunk, request.session);
  switch (op.type) {
    case 'ping':
      // A client pings when its lease renewal found no lease: the session gets one (lease.ts).
      await ensureLease(chunk, await sessionItem(chunk, request.session));
      chunk.reply(to, { type: 'ping' });
      return;
    case 'sync':
      chunk.reply(to, { type: 'sync' });
      return;
    case 'create':
    case 'delete':
    case 'setData':
      await write(chunk, request, op, to);
      return;
    case 'multi':
      if (op.ops.length === 0) chunk.reply(to, { type: 'multi', results: [] });
      else
        await transaction(chunk, actor, op.ops, to, true, (results) => ({
          type: 'multi',
          results,
        }));
      return;
    case 'watchedRead': {
      // getData and getChildren need READ (exists needs nothing), checked before the watch is set.
      const node = (await nodeItem(chunk, op.path))?.node;
      // getACL needs READ or ADMIN (ZooKeeper 3.8).
      const perm = op.acl === true ? Perms.READ | Perms.ADMIN : Perms.READ;
      if (op.watch !== 'exists' && node !== undefined) checkPerm(actor, node.acl, perm, op.path);
      // Unwatched: a protected node's data or children, which its reader cannot read directly.
      if (op.unwatched !== true) await registerOneShot(chunk, request.session, op.path, op.watch);
      // The distributor answers with the node as of this point in zxid order (and a protected
      // node's children: its reader cannot list them).
      chunk.items.push({
        type: 'read',
        zxid: chunk.state.zxid,
        to,
        path: op.path,
        ...(op.watch === 'children' ? { children: true as const } : {}),
        ...(op.acl === true ? { aclOnly: true as const } : {}),
        ...(op.watch === 'exists' ? { statOnly: true as const } : {}),
      });
      return;
    }
    case 'setACL': {
      const before = chunk.overlay.checkpoint();
      const txn = chunk.nextTxn();
      try {
        const stat = await setAcl(chunk, actor, op.path, op.acl, op.version, txn);
        await commitTxn(chunk, txn, { ...to, result: { type: 'setACL', stat } });
      } catch (error) {
        chunk.overlay.rollback(before);
        throw error;
      }
      return;
    }
    case 'addAuth': {
      const ids = authenticate(op.scheme, op.auth, chunk.auth, request.session);
      const session = await sessionItem(chunk, request.session);
      chunk.overlay.set('session', String(request.session), {
        ...session,
        auth: addIds(session.auth ?? [], ids),
      });
      chunk.reply(to, { type: 'addAuth', ids });
      return;
    }
    case 'addWatch':
      await addPersistent(chunk, request.session, op.path, op.mode);
      chunk.reply(to, { type: 'addWatch' });
      return;
    case 'removeWatches':
      await removeWatches(chunk, request.session, op.path, op.classes);
      chunk.reply(to, { type: 'removeWatches' });
      return;
    case 'closeSession':
      await closeSession(chunk, request.session, 'CLOSED', to);
      return;
    default:
      throw new FaaSKeeperError('BADARGUMENTS', `BADARGUMENTS: ${op.type} is not a client request`);
  }
}

/** Requests of the heartbeat (session 0): it asks, the writer checks again before acting. */
async function applySystemRequest(chunk: Chunk, request: WriteRequest): Promise<void> {
  const op = request.op;
  if (op.type === 'expireSession') await expireSession(chunk, op);
  else if (op.type === 'expireTtl') await expireTtl(chunk, op);
}

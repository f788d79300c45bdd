/*
 * Typed request/reply pairs. Each request op a client sends has exactly one kind of successful
 * reply; this file is the one place that says which, and the one place a reply is checked against
 * its request. A reply of the wrong kind is a SYSTEMERROR (a broken deployment), never a silent cast.
 */

import { FaaSKeeperError, isErrorCode } from '../model/errors.js';
import type { ReplyError, ReplyResult, RequestOp } from '../protocol/messages.js';

/** The request ops a client sends (expiry ops come from the heartbeat, never from a client). */
export type ClientOp = Exclude<RequestOp, { type: 'expireSession' | 'expireTtl' }>;
/** The `type` of a {@link ClientOp}. */
export type ClientOpType = ClientOp['type'];
/** The request op of type `T`. */
export type OpOf<T extends ClientOpType> = Extract<ClientOp, { type: T }>;

/** For each request type, the `type` of its successful reply (as the writer and distributor send it). */
const REPLY_TYPE = {
  openSession: 'session',
  resumeSession: 'resumed',
  closeSession: 'closeSession',
  ping: 'ping',
  create: 'create',
  delete: 'delete',
  setData: 'setData',
  multi: 'multi',
  sync: 'sync',
  watchedRead: 'read',
  addWatch: 'addWatch',
  removeWatches: 'removeWatches',
  setACL: 'setACL',
  addAuth: 'addAuth',
} as const satisfies Record<ClientOpType, ReplyResult['type']>;

/** The successful reply to a request of type `T`: `ReplyFor<'create'>` is `{ type: 'create'; path; stat }`. */
export type ReplyFor<T extends ClientOpType> = Extract<ReplyResult, { type: (typeof REPLY_TYPE)[T] }>;

/**
 * `result` as the reply to a request of type `request`.
 * @throws FaaSKeeperError SYSTEMERROR when the reply is missing or of another kind.
 */
export function replyFor<T extends ClientOpType>(request: T, result: ReplyResult | undefined): ReplyFor<T> {
  const expected = REPLY_TYPE[request];
  if (result?.type !== expected)
    throw new FaaSKeeperError(
      'SYSTEMERROR',
      `SYSTEMERROR: a ${request} request got ${result === undefined ? 'an empty reply' : `a ${result.type} reply`}, expected ${expected}`,
    );
  // Checked just above: the reply's type is the one REPLY_TYPE pairs with the request.
  return result as ReplyFor<T>;
}

/** A reply's error as a FaaSKeeperError; a code this client does not know becomes SYSTEMERROR. */
export function replyError(e: ReplyError): FaaSKeeperError {
  const code = isErrorCode(e.code) ? e.code : 'SYSTEMERROR';
  return new FaaSKeeperError(code, e.message, {
    path: e.path,
    results: e.results?.map((r) => ({ code: isErrorCode(r.code) ? r.code : 'SYSTEMERROR' })),
  });
}

/**
 * What requests still waiting get when the session ends for this client: SESSIONMOVED when
 * another client resumed it, else SESSIONEXPIRED (expired, or this client closed).
 */
export function sessionEndedError(state: 'EXPIRED' | 'CLOSED', moved: boolean): FaaSKeeperError {
  if (moved) return new FaaSKeeperError('SESSIONMOVED', 'SESSIONMOVED: another client resumed the session');
  return new FaaSKeeperError(
    'SESSIONEXPIRED',
    state === 'EXPIRED' ? 'SESSIONEXPIRED: the session has expired' : 'SESSIONEXPIRED: the client is closed',
  );
}

/** Failures of a close that leave its ending to the heartbeat's expiry. */
const CLOSE_LEFT_TO_EXPIRY: ReadonlySet<string> = new Set([
  'CONNECTIONLOSS',
  'OPERATIONTIMEOUT',
  'SESSIONEXPIRED',
  'SESSIONMOVED',
]);

/**
 * Whether a failed close was refused by the writer (e.g. a close too large for one commit): the
 * session's ephemerals then stay, and the heartbeat's expiry would be refused alike.
 */
export function closeRefused(error: unknown): boolean {
  return !(error instanceof FaaSKeeperError) || !CLOSE_LEFT_TO_EXPIRY.has(error.code);
}

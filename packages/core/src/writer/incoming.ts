/**
 * Decoding the writer queue's messages, and the items a batch of requests will read.
 *
 * Guarantee kept: a malformed or hostile message never blocks the ordered queue — it is decoded
 * into a refusal (answered when it names its session and seq), never thrown.
 */
import { parentOf, ROOT } from '../model/path.js';
import type { ReceivedMessage } from '../ports/queue.js';
import type { ItemKey } from '../ports/system-store.js';
import { decodeMessage } from '../protocol/codec.js';
import { inProcessValue } from '../protocol/in-process.js';
import type { Requester, WriteRequest } from '../protocol/messages.js';
import { type Checked, checkRequest } from '../protocol/validate.js';
import { openRequest, type SignedText, sealedRequestOf, splitSignature } from '../session/auth.js';
import { nodeKey, sessionKey } from './keys.js';

/** A received message: the request it holds, or why it cannot be applied. */
export type Incoming = {
  message: ReceivedMessage;
  /** The text the request was decoded from and the MAC it came with (checked on admission). */
  signed?: SignedText;
  /**
   * The request came as a value through an in-memory queue (protocol/in-process.ts): made by a
   * client in this process, it carries no MAC, and none is needed: no one outside the process can
   * make such a message, and code inside it can read every session key anyway.
   */
  inProcess?: true;
  request?: WriteRequest;
  poison?: { problem: string; to?: Requester };
  /**
   * A request sealed under its session's key (an offloaded body, session/auth.ts): opened with
   * {@link openSealed} once the session's item is read, before it is applied.
   */
  sealed?: { session: number; box: Uint8Array };
};

/** Decodes and checks one message. */
export function decodeIncoming(message: ReceivedMessage): Incoming {
  const local = inProcessValue(message);
  // Checked against the schema all the same: the client's request is still input.
  if (local !== undefined) return fromChecked(message, checkRequest(local), { inProcess: true });
  let raw: unknown;
  const signed = splitSignature(message.body);
  try {
    raw = decodeMessage(signed.text);
  } catch {
    // Not JSON: nothing in it says whom to answer, so it is refused without a reply.
    return { message, poison: { problem: 'request is not valid JSON' } };
  }
  const sealed = sealedRequestOf(raw);
  if (sealed !== undefined) return { message, sealed };
  return fromChecked(message, checkRequest(raw), { signed });
}

/**
 * Opens a sealed request in place with its session's key (`undefined`: the session is gone), so
 * that it is then checked and applied like any other. One that does not open — altered, sealed
 * under another key, or for another session — is dropped unanswered like a request without a
 * valid MAC: no one may learn from it or use up the session's seqs with it.
 */
export function openSealed(item: Incoming, key: Uint8Array | undefined): void {
  const sealed = item.sealed;
  if (sealed === undefined) return;
  delete item.sealed;
  let opened: Incoming | undefined;
  try {
    if (key !== undefined)
      opened = decodeIncoming({ ...item.message, body: openRequest(key, sealed.session, sealed.box) });
  } catch {
    // The box did not open: `opened` stays undefined, and the request is dropped below.
  }
  if (opened === undefined || opened.sealed !== undefined || opened.request?.session !== sealed.session) {
    item.poison = { problem: `a sealed request of session ${sealed.session} does not open` };
    return;
  }
  Object.assign(item, opened, { message: item.message });
}

/** The incoming message of a checked request, with how it was authenticated. */
function fromChecked(
  message: ReceivedMessage,
  checked: Checked,
  auth: { signed: SignedText } | { inProcess: true },
): Incoming {
  if (checked.ok) return { message, ...auth, request: checked.request };
  const to: Requester | undefined =
    checked.session !== undefined && checked.seq !== undefined
      ? { session: checked.session, seq: checked.seq }
      : undefined;
  if (to !== undefined && checked.inc !== undefined) to.inc = checked.inc;
  return {
    message,
    ...auth,
    poison: to === undefined ? { problem: checked.problem } : { problem: checked.problem, to },
  };
}

/** The items applying `items` reads first: their sessions, nodes and (but for a setData) the nodes' parents. */
export function prefetchKeys(items: readonly Incoming[]): ItemKey[] {
  const keys: ItemKey[] = [];
  for (const { request, sealed } of items) {
    if (sealed !== undefined) keys.push(sessionKey(sealed.session));
    if (request === undefined) continue;
    if (request.session > 0) keys.push(sessionKey(request.session));
    const op = request.op;
    const paths: string[] = [];
    switch (op.type) {
      case 'setData':
        // A setData changes its node alone: its parent's item is not read (a read unit saved).
        keys.push(nodeKey(op.path));
        break;
      case 'create':
      case 'delete':
      case 'watchedRead':
      case 'expireTtl':
        paths.push(op.path);
        break;
      case 'multi':
        for (const o of op.ops) paths.push(o.path);
        break;
      case 'expireSession':
        keys.push(sessionKey(op.target));
        break;
      default:
        break;
    }
    for (const p of paths) {
      keys.push(nodeKey(p));
      if (p !== ROOT) keys.push(nodeKey(parentOf(p)));
    }
  }
  return keys;
}

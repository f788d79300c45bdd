/**
 * Checks what arrives on a queue or channel against the message's schema (`messages.ts`). The
 * writer queue is reachable by every client, so its input is untrusted: anything malformed becomes
 * a clear BADARGUMENTS reply to its sender (when one can be named) and never an exception that
 * would block the queue.
 */
import * as v from 'valibot';
import { decodeMessage } from './codec.js';
import { type NodeRecord, NodeRecordSchema, type WriteRequest, WriteRequestSchema } from './messages.js';

/** The outcome of {@link checkRequest}: the request, or why it is refused and whom to tell. */
export type Checked =
  | { ok: true; request: WriteRequest }
  | { ok: false; problem: string; session?: number; seq?: number; inc?: number };

// The first problem is enough for the sender, and stopping there bounds the work a hostile
// message can cause.
const FIRST_ONLY = { abortEarly: true } as const;

/** `op.ops[1].path` for an issue's path: where in the message the problem is. */
function where(issue: v.BaseIssue<unknown>): string {
  let at = '';
  for (const item of issue.path ?? []) {
    const key = item.key;
    at += typeof key === 'number' ? `[${key}]` : `${at === '' ? '' : '.'}${String(key)}`;
  }
  return at;
}

/** An issue's message and, when it is inside the message, where. */
function located(issue: v.BaseIssue<unknown>): string {
  return issue.path === undefined ? issue.message : `${issue.message} (at ${where(issue)})`;
}

/**
 * The refusal message of an issue: the schema's message, and where it is when that is inside the
 * op (a top-level field's message names its field already).
 */
function issueProblem(issue: v.BaseIssue<unknown>): string {
  return (issue.path?.length ?? 0) > 1 ? `${issue.message} (at ${where(issue)})` : issue.message;
}

const isSafeId = (x: unknown): x is number => typeof x === 'number' && Number.isSafeInteger(x) && x > 0;

/**
 * Checks a decoded writer-queue message. Never throws: whatever the input, the answer is a request
 * or a problem (a throw would fail the writer's batch and block the queue behind it). A refusal
 * names the sender when the message holds a client's session and seq, so it can be answered.
 */
export function checkRequest(raw: unknown): Checked {
  // An array passes valibot's object check; it is no more a request than a number is.
  if (Array.isArray(raw)) return { ok: false, problem: 'request must be an object' };
  let result: v.SafeParseResult<typeof WriteRequestSchema>;
  try {
    result = v.safeParse(WriteRequestSchema, raw, FIRST_ONLY);
  } catch (error) {
    // A getter or proxy in hand-built input could throw; decoded JSON never does. Refused all the same.
    return { ok: false, problem: `request could not be checked: ${String(error).slice(0, 100)}` };
  }
  if (result.success) return { ok: true, request: result.output };
  const issue = result.issues[0];
  const problem = issueProblem(issue);
  const o = raw !== null && typeof raw === 'object' ? (raw as Record<string, unknown>) : {};
  if (!isSafeId(o.session) || !isSafeId(o.seq)) return { ok: false, problem };
  // The sender's incarnation (a resumed session's client): its refusal counts only if it is current.
  return isSafeId(o.inc)
    ? { ok: false, problem, session: o.session, seq: o.seq, inc: o.inc }
    : { ok: false, problem, session: o.session, seq: o.seq };
}

/**
 * Decodes a message and checks it against `schema`.
 * @returns the checked message, or the problem (malformed encoding or a field that does not fit).
 */
export function decodeChecked<S extends v.GenericSchema>(
  schema: S,
  text: string,
): { ok: true; value: v.InferOutput<S> } | { ok: false; problem: string } {
  let raw: unknown;
  try {
    raw = decodeMessage(text);
  } catch (error) {
    return { ok: false, problem: `not a message: ${String(error).slice(0, 200)}` };
  }
  const result = v.safeParse(schema, raw, FIRST_ONLY);
  if (result.success) return { ok: true, value: result.output };
  return { ok: false, problem: located(result.issues[0]) };
}

/**
 * A decoded user-store record, checked against {@link NodeRecordSchema} before a reader trusts it.
 * @throws SyntaxError naming the bad field (a store adapter reports it as its own error).
 */
export function readNodeRecord(raw: unknown): NodeRecord {
  const result = v.safeParse(NodeRecordSchema, raw, FIRST_ONLY);
  if (result.success) return result.output;
  throw new SyntaxError(`not a node record: ${located(result.issues[0])}`);
}

/**
 * Replies that reached a client after it gave up on the request (a timeout, a lost connection):
 * they tell how writes of unknown outcome ended.
 */
import type { ChannelMessage } from '../../protocol/messages.js';
import type { HistoryRecorder } from '../linearizability/history.js';
import type { ZInput, ZOutput } from '../linearizability/znode-model.js';
import { DEFINITE, type UnresolvedWrite } from './random-ops.js';

/** The reply each write of the history gets when it succeeds. */
const REPLY_TYPE: Record<ZInput['op'], string> = {
  create: 'create',
  set: 'setData',
  delete: 'delete',
  multi: 'multi',
  get: 'read',
  exists: 'read',
};

/** A reply, stamped with the history tick at which the client received it. */
export interface LateReply {
  tick: number;
  message: ChannelMessage;
}

/**
 * Settles the writes of unknown outcome whose reply came later (keyed `session:seq`); without a
 * reply (the session ended first) they stay unknown. Returns how many it settled.
 */
export function settleLateReplies(
  history: HistoryRecorder<ZInput, ZOutput>,
  unresolved: readonly UnresolvedWrite[],
  lateReplies: ReadonlyMap<string, LateReply>,
): number {
  let settled = 0;
  for (const u of unresolved) {
    const late = lateReplies.get(`${u.session}:${u.seq}`);
    if (late === undefined || late.message.body.type !== 'reply') continue;
    settled++;
    const body = late.message.body;
    if (body.error !== undefined) {
      if (DEFINITE.has(body.error.code))
        history.resolve(u.op, {
          output: { type: 'error', code: body.error.code as 'NONODE' },
          return: late.tick,
        });
      else if (body.error.code === 'SESSIONEXPIRED') history.resolve(u.op, undefined);
    } else if (body.result !== undefined) {
      if (body.result.type !== REPLY_TYPE[u.op.input.op]) {
        // A reply of another kind under the op's seq (a ping's): the client gave the request up
        // unsent and sent a ping in its place, so that the session's seqs stay gapless. Not applied.
        history.resolve(u.op, undefined);
        continue;
      }
      const output: ZOutput =
        body.result.type === 'setData' ? { type: 'ok', version: body.result.stat.version } : { type: 'ok' };
      history.resolve(u.op, { output, return: late.tick });
    }
  }
  return settled;
}

import { describe, expect, expectTypeOf, it } from 'vitest';
import { channelInbox } from '../../src/client/channel-inbox.js';
import { rootStat } from '../../src/model/stat.js';
import { encodeMessage } from '../../src/protocol/codec.js';
import {
  type ChannelMessage,
  ChannelMessageSchema,
  type DistributorBatch,
  DistributorBatchSchema,
  type NodeRecord,
  NodeRecordSchema,
  PROTOCOL_VERSION,
  type WriteRequest,
} from '../../src/protocol/messages.js';
import { checkRequest, decodeChecked, readNodeRecord } from '../../src/protocol/validate.js';

const reply = (order: [number, number], seq: number): ChannelMessage => ({
  v: PROTOCOL_VERSION,
  order,
  zxid: order[0],
  wm: order[0],
  body: { type: 'reply', seq, result: { type: 'ping' } },
});

describe('types derived from the message schemas', () => {
  it('keep optional fields optional, never undefined (exactOptionalPropertyTypes)', () => {
    expectTypeOf<WriteRequest['ack']>().toEqualTypeOf<number | undefined>();
    expectTypeOf<{ ack: undefined }>().not.toMatchTypeOf<Pick<WriteRequest, 'ack'>>();
    expectTypeOf<{ nullData: undefined }>().not.toMatchTypeOf<Pick<NodeRecord, 'nullData'>>();
    expectTypeOf<NodeRecord['data']>().toEqualTypeOf<Uint8Array>();
    expectTypeOf<ChannelMessage['order']>().toEqualTypeOf<[number, number]>();
  });
});

describe('checkRequest on the WriteRequest schema', () => {
  const ok = { v: PROTOCOL_VERSION, id: 'a', session: 5, seq: 2, op: { type: 'ping' } };

  it('accepts a well-formed request and returns it with only the known fields', () => {
    const checked = checkRequest({ ...ok, extra: 'dropped' });
    expect(checked).toEqual({ ok: true, request: ok });
  });

  it('refuses what is not a request object, arrays included, with no one to answer', () => {
    for (const raw of [null, 42, 'ping', [], [ok]])
      expect(checkRequest(raw)).toEqual({ ok: false, problem: 'request must be an object' });
  });

  it("names a missing field of an op with the field's own message", () => {
    expect(checkRequest({ ...ok, op: { type: 'create', path: '/a', data: new Uint8Array() } })).toEqual({
      ok: false,
      problem: 'unknown create mode (undefined) (at op.mode)',
      session: 5,
      seq: 2,
    });
  });

  it('names the field of a refused multi op, and answers the sender', () => {
    const bad = {
      ...ok,
      op: {
        type: 'multi',
        ops: [
          { op: 'check', path: '/', version: -1 },
          { op: 'delete', path: '/x', version: 'v' },
        ],
      },
    };
    expect(checkRequest(bad)).toEqual({
      ok: false,
      problem: 'version must be an integer ≥ -1 (at op.ops[1].version)',
      session: 5,
      seq: 2,
    });
  });

  it('refuses a multi over 1000 ops without checking its ops', () => {
    const ops = Array.from({ length: 1001 }, () => ({ op: 'rename' }));
    const checked = checkRequest({ ...ok, op: { type: 'multi', ops } });
    expect(checked).toMatchObject({ ok: false, problem: 'a multi holds at most 1000 ops (at op.ops)' });
  });

  it('keeps system ops to session 0 and session 0 to system ops', () => {
    expect(checkRequest({ ...ok, op: { type: 'expireSession', target: 3 } })).toMatchObject({
      ok: false,
      problem: 'system requests come from the heartbeat only',
    });
    expect(checkRequest({ ...ok, session: 0 })).toEqual({ ok: false, problem: 'session 0 is reserved' });
    expect(checkRequest({ ...ok, seq: 0 })).toEqual({ ok: false, problem: 'seq starts at 1' });
  });

  it('never throws, even on input whose fields throw when read', () => {
    const hostile = new Proxy(
      {},
      {
        has: () => true,
        get: () => {
          throw new Error('boom');
        },
      },
    );
    expect(checkRequest(hostile)).toMatchObject({
      ok: false,
      problem: expect.stringMatching(/could not be checked/),
    });
  });
});

describe('decodeChecked', () => {
  const batch: DistributorBatch = {
    v: PROTOCOL_VERSION,
    batch: 3,
    zxid: 7,
    ev: 6,
    items: [
      {
        type: 'txn',
        zxid: 7,
        writes: [{ path: '/a', put: true, stat: rootStat(), data: new Uint8Array([1]) }],
        events: [{ session: 5, type: 'NodeCreated', path: '/a', classes: ['data'] }],
        reply: { session: 5, seq: 1, result: { type: 'create', path: '/a', stat: rootStat() } },
      },
      { type: 'read', zxid: 7, to: { session: 5, seq: 2 }, path: '/a' },
    ],
  };

  it('reads back what the writer encodes', () => {
    expect(decodeChecked(DistributorBatchSchema, encodeMessage(batch))).toEqual({ ok: true, value: batch });
    const record: NodeRecord = {
      data: new Uint8Array(0),
      nullData: true,
      stat: rootStat(),
      txZxid: 4,
    };
    expect(decodeChecked(NodeRecordSchema, encodeMessage(record))).toEqual({ ok: true, value: record });
  });

  it('says where a batch is malformed', () => {
    const broken = { ...batch, items: [{ ...batch.items[1], to: { session: 'me', seq: 2 } }] };
    expect(decodeChecked(DistributorBatchSchema, encodeMessage(broken))).toEqual({
      ok: false,
      problem: 'a session id must be an integer ≥ 0 (at items[0].to.session)',
    });
    expect(decodeChecked(DistributorBatchSchema, '{not json')).toMatchObject({ ok: false });
  });
});

describe('readNodeRecord', () => {
  it('passes a stored record through and refuses a corrupt one, naming the field', () => {
    const record: NodeRecord = {
      data: new Uint8Array([7]),
      stat: rootStat(),
      txZxid: 3,
      ev: 2,
    };
    expect(readNodeRecord(structuredClone(record))).toEqual(record);
    expect(() => readNodeRecord({ ...record, stat: { ...rootStat(), mzxid: 'late' } })).toThrow(
      new SyntaxError('not a node record: stat.mzxid must be a number (at stat)'),
    );
    expect(() => readNodeRecord({ ...record, data: 'AAAA' })).toThrow(/data must be bytes \(at data\)/);
  });
});

describe('the client channel inbox', () => {
  it('reports a malformed message through its error path and goes on with the next', () => {
    const errors: unknown[] = [];
    const replies: number[] = [];
    const inbox = channelInbox({
      heard: () => {},
      watermark: () => {},
      event: () => {},
      expired: () => {},
      moved: () => {},
      reply: (r) => replies.push(r.seq),
      taken: () => {},
      error: (e) => errors.push(e),
    });
    const malformed = { ...reply([1, 0], 1), order: 'first' };
    expect(() =>
      inbox([
        encodeMessage(malformed),
        encodeMessage({ ...reply([1, 1], 2), body: { type: 'gossip' } }),
        'not a message',
        encodeMessage(reply([1, 2], 3)),
      ]),
    ).not.toThrow();
    expect(replies).toEqual([3]);
    expect(errors.map(String)).toEqual([
      'SyntaxError: unreadable channel message: order must be [batch, index] (at order)',
      'SyntaxError: unreadable channel message: unknown channel message "gossip" (at body.type)',
      expect.stringMatching(/^SyntaxError: unreadable channel message: not a message/),
    ]);
    expect(decodeChecked(ChannelMessageSchema, encodeMessage(reply([2, 0], 4))).ok).toBe(true);
  });
});

import { describe, expect, expectTypeOf, it } from 'vitest';
import { type ReplyFor, replyError, replyFor } from '../../src/client/replies.js';
import { FaaSKeeperError } from '../../src/model/errors.js';
import { rootStat } from '../../src/model/stat.js';
import type { NodeRecord, OpResult, ReplyResult } from '../../src/protocol/messages.js';

describe('typed request/reply pairs', () => {
  it('gives each request the type of its own reply', () => {
    expectTypeOf<ReplyFor<'create'>>().toEqualTypeOf<{
      type: 'create';
      path: string;
      stat: ReturnType<typeof rootStat>;
    }>();
    expectTypeOf<ReplyFor<'watchedRead'>>().toEqualTypeOf<{
      type: 'read';
      record: NodeRecord | null;
      children?: string[];
    }>();
    expectTypeOf<ReplyFor<'openSession'>>().toEqualTypeOf<{
      type: 'session';
      timeoutMs: number;
      key?: string;
    }>();
    expectTypeOf<ReplyFor<'multi'>>().toEqualTypeOf<{ type: 'multi'; results: OpResult[] }>();
  });

  it('passes a reply of the kind the request asks for through unchanged', () => {
    const created: ReplyResult = { type: 'create', path: '/a', stat: rootStat() };
    expect(replyFor('create', created)).toBe(created);
    const read: ReplyResult = { type: 'read', record: null };
    expect(replyFor('watchedRead', read)).toBe(read);
  });

  it('turns a reply of another kind, or none, into SYSTEMERROR', () => {
    const wrong = () => replyFor('setData', { type: 'delete' });
    expect(wrong).toThrow(FaaSKeeperError);
    expect(wrong).toThrow(/SYSTEMERROR: a setData request got a delete reply, expected setData/);
    expect(() => replyFor('ping', undefined)).toThrow(/ping request got an empty reply/);
  });

  it("keeps a reply error's code, and makes an unknown one SYSTEMERROR", () => {
    const known = replyError({ code: 'BADVERSION', message: 'BADVERSION: /a', path: '/a' });
    expect(known).toMatchObject({ code: 'BADVERSION', path: '/a' });
    const unknown = replyError({
      code: 'NOSUCHCODE' as never,
      message: 'odd',
      results: [{ code: 'OK' }, { code: 'WHAT' as never }],
    });
    expect(unknown.code).toBe('SYSTEMERROR');
    expect(unknown.results?.map((r) => r.code)).toEqual(['OK', 'SYSTEMERROR']);
  });
});

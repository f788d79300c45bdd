/** The ACL fields and ops of the write request schema: what the writer accepts before it checks rules. */
import { describe, expect, it } from 'vitest';
import { PROTOCOL_VERSION } from '../../src/protocol/messages.js';
import { checkRequest } from '../../src/protocol/validate.js';

const request = (op: unknown) => ({ v: PROTOCOL_VERSION, id: 'a', session: 5, seq: 2, op });
const problem = (op: unknown) => {
  const checked = checkRequest(request(op));
  return checked.ok ? 'ok' : checked.problem;
};
const open = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];

describe('ACLs in write requests', () => {
  it('accepts setACL, addAuth and a create with an ACL, and keeps only their known fields', () => {
    expect(problem({ type: 'setACL', path: '/a', acl: open, version: -1 })).toBe('ok');
    expect(problem({ type: 'addAuth', scheme: 'digest', auth: 'u:p' })).toBe('ok');
    expect(
      problem({ type: 'create', mode: 'PERSISTENT', path: '/a', data: new Uint8Array(0), acl: open }),
    ).toBe('ok');
    // A session's identities are the writer's record of its addAuth calls: no request field sets them.
    const checked = checkRequest(
      request({
        type: 'setData',
        path: '/a',
        data: new Uint8Array(0),
        version: -1,
        auth: [{ scheme: 'super', id: '' }],
      }),
    );
    expect(checked.ok && 'auth' in checked.request.op).toBe(false);
  });

  it('refuses malformed ACL entries and auth as BADARGUMENTS material', () => {
    expect(problem({ type: 'setACL', path: '/a', acl: 'world:anyone:r', version: -1 })).toMatch(
      /acl must be an array/,
    );
    expect(
      problem({ type: 'setACL', path: '/a', acl: [{ perms: 2 ** 31, id: open[0]!.id }], version: -1 }),
    ).toMatch(/32-bit/);
    expect(
      problem({ type: 'setACL', path: '/a', acl: [{ perms: 1, id: { scheme: 'world' } }], version: -1 }),
    ).toMatch(/needs an id/);
    expect(problem({ type: 'setACL', path: '/a', acl: open, version: -2 })).toMatch(/version/);
    expect(problem({ type: 'addAuth', scheme: 'digest' })).toMatch(/needs auth/);
    expect(problem({ type: 'addAuth', scheme: 'digest', auth: 'x'.repeat(4097) })).toMatch(/over 4096/);
  });
});

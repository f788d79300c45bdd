import { describe, expect, it } from 'vitest';
import { generateDigest, Ids, Perms } from '../../index.js';
import type { ACL } from '../../protocol/messages.js';
import type { DeploymentTarget } from '../target.js';
import { expectError, guaranteeKit, text } from './helpers.js';

/**
 * ZooKeeper's ACLs on `target`: every write is checked by the writer, every read by the client
 * against the ACL the record carries — so this also proves that the target's stores keep a node's
 * ACL beside its data.
 */
export function describeAclsGuarantees(target: DeploymentTarget): void {
  describe(target.name, { timeout: target.testTimeoutMs }, () => {
    const kit = guaranteeKit(target);
    const owner: ACL = { perms: Perms.ALL, id: { scheme: 'digest', id: generateDigest('owner:pw') } };
    const worldRead: ACL = { perms: Perms.READ, id: { scheme: 'world', id: 'anyone' } };

    describe('ACLs (ZooKeeper 3.8)', () => {
      it('a session without WRITE cannot change a node, nor create or delete its children', async () => {
        const deployment = await kit.deploy();
        const a = await deployment.connect();
        await a.addAuth('digest', 'owner:pw');
        const b = await deployment.connect();
        await a.create('/guarded', 'v1', { acl: [owner, worldRead] });
        await a.create('/guarded/kid', '');
        const before = await a.getData('/guarded');
        await expectError(b.setData('/guarded', 'v2'), 'NOAUTH');
        await expectError(b.create('/guarded/other', ''), 'NOAUTH');
        await expectError(b.delete('/guarded/kid'), 'NOAUTH');
        await expectError(b.setACL('/guarded', Ids.OPEN_ACL_UNSAFE), 'NOAUTH');
        await expectError(b.multi([{ op: 'setData', path: '/guarded', data: 'v2' }]), 'NOAUTH');
        const after = await b.getData('/guarded');
        expect(text(after.data)).toBe('v1');
        expect(after.stat).toEqual(before.stat);
        expect((await b.getChildren('/guarded')).children).toEqual(['kid']);
        expect((await a.setData('/guarded', 'v2')).version).toBe(1);
      });

      it('a session without READ cannot obtain the data or children of a node', async () => {
        const deployment = await kit.deploy();
        const a = await deployment.connect();
        await a.addAuth('digest', 'owner:pw');
        const b = await deployment.connect();
        await a.create('/secret', 'hidden', { acl: [owner] });
        await expectError(b.getData('/secret'), 'NOAUTH');
        await expectError(b.getChildren('/secret'), 'NOAUTH');
        await expectError(b.getData('/secret', { watch: () => {} }), 'NOAUTH');
        await expectError(b.getACL('/secret'), 'NOAUTH');
        expect((await b.exists('/secret'))?.dataLength).toBe(6);
        expect(text((await a.getData('/secret')).data)).toBe('hidden');
        expect(await a.getACL('/secret')).toMatchObject({ acl: [owner], stat: { aversion: 0 } });
      });

      it('setACL needs ADMIN and the ACL version, and the new ACL is what readers see', async () => {
        const deployment = await kit.deploy();
        const a = await deployment.connect();
        await a.addAuth('digest', 'owner:pw');
        const b = await deployment.connect();
        await a.create('/doc', 'text', { acl: [owner] });
        await expectError(a.setACL('/doc', [owner, worldRead], 3), 'BADVERSION');
        expect((await a.setACL('/doc', [owner, worldRead], 0)).aversion).toBe(1);
        expect(text((await b.getData('/doc')).data)).toBe('text');
        expect((await b.getACL('/doc')).acl).toEqual([
          { perms: Perms.ALL, id: { scheme: 'digest', id: 'owner:x' } },
          worldRead,
        ]);
      });

      it('a node created without an ACL is open to everyone', async () => {
        const zk = await (await kit.deploy()).connect();
        await zk.create('/open', 'x');
        expect((await zk.getACL('/open')).acl).toEqual(Ids.OPEN_ACL_UNSAFE);
      });
    });
  });
}

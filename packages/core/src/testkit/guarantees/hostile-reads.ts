/**
 * The hostile-client cases about nodes without world READ: what the client's own cloud
 * credentials can read of them in the user store, through zone moves and deletes.
 */
import { expect, it } from 'vitest';
import type { FaaSKeeperClient } from '../../client/client.js';
import { generateDigest } from '../../index.js';
import type { ACL } from '../../protocol/messages.js';
import type { DeploymentTarget } from '../target.js';
import { expectError, text } from './helpers.js';
import type { Eavesdrop } from './hostile.js';

/** Text that must never show where a hostile client can look. */
export const secretText = 'top-secret-payload-';

/** Registers the protected-read cases in the calling `describe`. */
export function describeProtectedReadCases(
  target: DeploymentTarget,
  setUp: () => Promise<{ spy: Eavesdrop; victim: FaaSKeeperClient; mallory: FaaSKeeperClient }>,
  victimUnharmed: (victim: FaaSKeeperClient, path: string, from: number) => Promise<void>,
): void {
  /** Everything the open zone (the client's cloud credentials) shows of `path` and its children. */
  async function openView(spy: Eavesdrop, path: string): Promise<string> {
    const store = spy.store();
    const record = await store.get(path);
    const kids = await store.listChildren(path);
    return JSON.stringify({ record, data: text(record?.data ?? new Uint8Array(0)), kids });
  }

  it("a protected node's data and children cannot be read from the user store with the client's credentials, while its readers read them and exists stays direct", async () => {
    const { spy, victim, mallory } = await setUp();
    const owner: ACL = { perms: 31, id: { scheme: 'digest', id: generateDigest('owner:pw') } };
    await victim.addAuth('digest', 'owner:pw');
    await victim.create('/vault', `${secretText}data`, { acl: [owner] });
    await victim.create('/vault/alpha-secret-name', '');
    await victim.create('/vault/beta-secret-name', '', { acl: [owner] });
    await victim.delete('/vault/beta-secret-name');
    await victim.create('/vault/gamma-secret-name', '');
    await target.quiet();
    const seen = await openView(spy, '/vault');
    expect(seen).not.toContain(secretText);
    expect(seen).not.toContain('secret-name');
    expect(seen).not.toContain('digest');
    const stub = await spy.store().get('/vault');
    expect(stub?.protected).toBe(true);
    expect(stub?.data.length).toBe(0);
    expect(await spy.store().listChildren('/vault')).toEqual([]);
    // The functions' zone holds it (the stacks grant clients nothing there).
    expect(text((await spy.store().get('/vault', 'protected'))!.data)).toBe(`${secretText}data`);
    // Through the API: NOAUTH for mallory, the data and children for the owner.
    await expectError(mallory.getData('/vault'), 'NOAUTH');
    await expectError(mallory.getChildren('/vault'), 'NOAUTH');
    await expectError(mallory.getChildren('/vault', { watch: () => {} }), 'NOAUTH');
    expect((await mallory.exists('/vault'))?.numChildren).toBe(2);
    const read = await victim.getData('/vault');
    expect(text(read.data)).toBe(`${secretText}data`);
    expect(read.stat.numChildren).toBe(2);
    expect((await victim.getChildren('/vault')).children).toEqual(['alpha-secret-name', 'gamma-secret-name']);
    const watched = await victim.getChildren('/vault', { watch: () => {} });
    expect(watched.children).toEqual(['alpha-secret-name', 'gamma-secret-name']);
    expect((await victim.getACL('/vault')).acl).toEqual([owner]);
    // A world-readable child of a protected parent stays a direct read for anyone.
    expect((await mallory.getData('/vault/alpha-secret-name')).stat.version).toBe(0);
    await victimUnharmed(victim, '/vault', 0);
  });

  it('setACL moves a node between the readable and the protected store: no reader meets a missing node, and no data stays readable', async () => {
    const { spy, victim, mallory } = await setUp();
    const owner: ACL = { perms: 31, id: { scheme: 'digest', id: generateDigest('owner:pw') } };
    const open: ACL = { perms: 31, id: { scheme: 'world', id: 'anyone' } };
    await victim.addAuth('digest', 'owner:pw');
    await victim.create('/m', `${secretText}m`);
    await victim.create('/m/kid-one', '');
    await victim.create('/m/kid-two', '');
    let stop = false;
    const missing: string[] = [];
    // A reader of the node's existence and a reader of its data while it moves back and forth.
    const watcher = async () => {
      while (!stop) if ((await mallory.exists('/m')) === null) missing.push('exists');
    };
    const moving = async () => {
      for (let i = 0; i < 3; i++) {
        await victim.setACL('/m', [owner]);
        expect((await victim.getChildren('/m')).children).toEqual(['kid-one', 'kid-two']);
        await expectError(mallory.getData('/m'), 'NOAUTH');
        await expectError(mallory.getChildren('/m'), 'NOAUTH');
        await victim.setACL('/m', [open]);
        expect(text((await mallory.getData('/m')).data)).toBe(`${secretText}m`);
        expect((await mallory.getChildren('/m')).children).toEqual(['kid-one', 'kid-two']);
      }
      await victim.setACL('/m', [owner]);
      stop = true;
    };
    await Promise.all([watcher(), moving()]);
    expect(missing).toEqual([]);
    await target.quiet();
    const seen = await openView(spy, '/m');
    expect(seen).not.toContain(secretText);
    expect(seen).not.toContain('kid-');
    expect((await spy.store().listChildren('/m', 'protected')).length).toBe(2);
    // Back to world-readable: the protected zone keeps nothing of it.
    await victim.setACL('/m', [open]);
    await target.quiet();
    expect(await spy.store().get('/m', 'protected')).toBeUndefined();
    expect(await spy.store().listChildren('/m', 'protected')).toEqual([]);
    expect((await spy.store().listChildren('/m')).length).toBe(2);
    expect(text((await spy.store().get('/m'))!.data)).toBe(`${secretText}m`);
  });

  it('deleting a protected node removes it from both zones of the user store', async () => {
    const { spy, victim } = await setUp();
    const owner: ACL = { perms: 31, id: { scheme: 'digest', id: generateDigest('owner:pw') } };
    await victim.addAuth('digest', 'owner:pw');
    await victim.create('/gone', `${secretText}gone`, { acl: [owner] });
    await victim.create('/gone/kid', '', { acl: [owner] });
    await victim.delete('/gone/kid');
    await victim.delete('/gone');
    await target.quiet();
    for (const zone of ['open', 'protected'] as const) {
      expect(await spy.store().get('/gone', zone)).toBeUndefined();
      expect(await spy.store().get('/gone/kid', zone)).toBeUndefined();
      expect(await spy.store().listChildren('/gone', zone)).toEqual([]);
    }
    expect(await victim.exists('/gone')).toBeNull();
  });
}

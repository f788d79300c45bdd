import { describe, expect, it } from 'vitest';
import { CreateMode, MAX_DATA_BYTES, MAX_TTL_MS } from '../../index.js';
import type { DeploymentTarget } from '../target.js';
import { ChannelDelays, expectError, guaranteeKit, text } from './helpers.js';

/** Every error of API.md in its situation, with ZooKeeper's codes, on `target`. */
export function describeErrorsGuarantees(target: DeploymentTarget): void {
  describe(target.name, { timeout: target.testTimeoutMs }, () => {
    const kit = guaranteeKit(target);

    describe('errors of API.md, each in its situation', () => {
      it('fails create with NONODE when the parent does not exist', async () => {
        const zk = await (await kit.deploy()).connect();
        const error = await expectError(zk.create('/missing/child', 'x'), 'NONODE');
        // The missing node; a target whose errors carry no path reports the request's path.
        expect(error.path).toBe(target.errorPaths === false ? '/missing/child' : '/missing');
        expect(await zk.exists('/missing/child')).toBeNull();
      });

      it('fails getData, setData, delete and getChildren of a missing node with NONODE', async () => {
        const zk = await (await kit.deploy()).connect();
        await expectError(zk.getData('/nope'), 'NONODE');
        await expectError(zk.getChildren('/nope'), 'NONODE');
        await expectError(zk.setData('/nope', 'x'), 'NONODE');
        await expectError(zk.delete('/nope'), 'NONODE');
        // A watched read of a missing node fails the same way (it goes through the writer).
        await expectError(zk.getData('/nope', { watch: () => {} }), 'NONODE');
        expect(await zk.exists('/nope')).toBeNull();
      });

      it('fails create of an existing path with NODEEXISTS and leaves the node as it was', async () => {
        const zk = await (await kit.deploy()).connect();
        await zk.create('/a', 'first');
        await expectError(zk.create('/a', 'second'), 'NODEEXISTS');
        await expectError(zk.create('/', 'root'), 'NODEEXISTS');
        const { data, stat } = await zk.getData('/a');
        expect(text(data)).toBe('first');
        expect(stat.version).toBe(0);
      });

      it('fails a setData or delete with a wrong version with BADVERSION and changes nothing', async () => {
        const zk = await (await kit.deploy()).connect();
        await zk.create('/v', 'zero');
        await zk.setData('/v', 'one');
        const before = await zk.getData('/v');
        expect(before.stat.version).toBe(1);
        await expectError(zk.setData('/v', 'bad', { version: 0 }), 'BADVERSION');
        await expectError(zk.setData('/v', 'bad', { version: 7 }), 'BADVERSION');
        await expectError(zk.delete('/v', { version: 0 }), 'BADVERSION');
        const after = await zk.getData('/v');
        expect(text(after.data)).toBe('one');
        expect(after.stat).toEqual(before.stat);
        // The right version still works: nothing moved underneath.
        expect((await zk.setData('/v', 'two', { version: 1 })).version).toBe(2);
      });

      it('fails delete of a node with children with NOTEMPTY and keeps both', async () => {
        const zk = await (await kit.deploy()).connect();
        await zk.create('/p');
        await zk.create('/p/c');
        await expectError(zk.delete('/p'), 'NOTEMPTY');
        expect((await zk.getChildren('/p')).children).toEqual(['c']);
      });

      it('fails create under an ephemeral node with NOCHILDRENFOREPHEMERALS', async () => {
        const zk = await (await kit.deploy()).connect();
        await zk.create('/eph', '', { mode: CreateMode.EPHEMERAL });
        await expectError(zk.create('/eph/child'), 'NOCHILDRENFOREPHEMERALS');
        await expectError(
          zk.create('/eph/seq-', '', { mode: CreateMode.EPHEMERAL_SEQUENTIAL }),
          'NOCHILDRENFOREPHEMERALS',
        );
        expect((await zk.getChildren('/eph')).children).toEqual([]);
      });

      const badPaths: [string, string][] = [
        ['an empty path', ''],
        ['a relative path', 'a'],
        ['a relative path with a slash', 'a/b'],
        ['a trailing slash', '/a/'],
        ['an empty segment (//)', '/a//b'],
        ['a leading empty segment', '//a'],
        ['a . segment', '/a/./b'],
        ['a .. segment', '/a/../b'],
        ['a lone . segment', '/.'],
        ['a lone .. segment', '/..'],
        ['a NUL character', '/a\u0000b'],
        ['the control character U+0001', '/a\u0001'],
        ['the control character U+001F', '/a\u001f'],
        ['DEL (U+007F)', '/a\u007f'],
        ['the C1 control U+0085', '/a\u0085b'],
        ['the C1 control U+009F', '/a\u009f'],
        ['a lone surrogate U+D800', '/a\ud800'],
        ['a surrogate pair (an astral character)', '/a\ud83d\ude00'],
        ['the private-use U+E000', '/a\ue000'],
        ['the private-use U+F8FF', '/a\uf8ff'],
        ['the special U+FFF0', '/a\ufff0'],
        ['the noncharacter U+FFFF', '/a\uffff'],
      ];

      for (const [what, path] of badPaths) {
        it(`refuses ${what} with BADARGUMENTS in every operation`, async () => {
          const zk = await (await kit.deploy()).connect();
          await expectError(zk.create(path, 'x'), 'BADARGUMENTS');
          await expectError(zk.getData(path), 'BADARGUMENTS');
          await expectError(zk.exists(path), 'BADARGUMENTS');
          await expectError(zk.getChildren(path), 'BADARGUMENTS');
          await expectError(zk.setData(path, 'x'), 'BADARGUMENTS');
          await expectError(zk.delete(path), 'BADARGUMENTS');
          await expectError(zk.multi([{ op: 'create', path }]), 'BADARGUMENTS');
          await expectError(
            zk.addWatch(path, () => {}, 'PERSISTENT'),
            'BADARGUMENTS',
          );
          await expectError(zk.sync(path), 'BADARGUMENTS');
        });
      }

      it('accepts the allowed unicode around the forbidden ranges', async () => {
        const zk = await (await kit.deploy()).connect();
        // Just outside the forbidden ranges: ' ' (0x20), 'ÿ' (0xff), U+F900 and U+FFEF.
        for (const path of ['/a b', '/\u00ff', '/\uf900', '/\uffef', '/.a', '/a..']) {
          expect(await zk.create(path)).toBe(path);
        }
      });

      it('refuses writes under the reserved /zookeeper with BADARGUMENTS, and answers its reads as ZooKeeper', async () => {
        const zk = await (await kit.deploy()).connect();
        await expectError(zk.create('/zookeeper'), 'BADARGUMENTS');
        await expectError(zk.create('/zookeeper/x'), 'BADARGUMENTS');
        await expectError(
          zk.create('/zookeeper/seq-', '', { mode: CreateMode.PERSISTENT_SEQUENTIAL }),
          'BADARGUMENTS',
        );
        await expectError(zk.setData('/zookeeper', 'x'), 'BADARGUMENTS');
        await expectError(zk.delete('/zookeeper'), 'BADARGUMENTS');
        await expectError(zk.multi([{ op: 'create', path: '/zookeeper/m' }]), 'BADARGUMENTS');
        expect(await zk.exists('/zookeeper/x')).toBeNull();
        // Reads answer as ZooKeeper 3.8's: /zookeeper holds config and quota, all with empty data.
        expect((await zk.getChildren('/zookeeper')).children).toEqual(['config', 'quota']);
        expect((await zk.getData('/zookeeper/config')).data).toEqual(new Uint8Array(0));
        expect((await zk.exists('/zookeeper/quota'))?.numChildren).toBe(0);
        // A name that only starts with "zookeeper" is not reserved.
        expect(await zk.create('/zookeeperish')).toBe('/zookeeperish');
      });

      it('refuses data over 1 MiB with BADARGUMENTS and accepts exactly 1 MiB', async () => {
        const zk = await (await kit.deploy()).connect();
        const tooBig = new Uint8Array(MAX_DATA_BYTES + 1);
        await expectError(zk.create('/big', tooBig), 'BADARGUMENTS');
        expect(await zk.exists('/big')).toBeNull();
        await zk.create('/big', 'small');
        await expectError(zk.setData('/big', tooBig), 'BADARGUMENTS');
        await expectError(zk.multi([{ op: 'setData', path: '/big', data: tooBig }]), 'BADARGUMENTS');
        expect(text((await zk.getData('/big')).data)).toBe('small');
        const max = new Uint8Array(MAX_DATA_BYTES).fill(7);
        const stat = await zk.setData('/big', max);
        expect(stat.dataLength).toBe(MAX_DATA_BYTES);
        const read = (await zk.getData('/big')).data;
        // Compared as a Buffer: a deep equality over a million elements would dominate the run time.
        expect(Buffer.from(read).equals(Buffer.from(max))).toBe(true);
      });

      it('refuses an unknown create mode with BADARGUMENTS', async () => {
        const zk = await (await kit.deploy()).connect();
        await expectError(zk.create('/m', '', { mode: 'BOGUS' as CreateMode }), 'BADARGUMENTS');
        await expectError(
          zk.multi([{ op: 'create', path: '/m', mode: 'BOGUS' as CreateMode }]),
          'BADARGUMENTS',
        );
        expect(await zk.exists('/m')).toBeNull();
      });

      it('refuses a bad TTL with BADARGUMENTS', async () => {
        const zk = await (await kit.deploy()).connect();
        const ttl = CreateMode.PERSISTENT_WITH_TTL;
        await expectError(zk.create('/t', '', { mode: ttl }), 'BADARGUMENTS');
        for (const ttlMs of [0, -1, 1.5, Number.NaN, MAX_TTL_MS + 1]) {
          await expectError(zk.create('/t', '', { mode: ttl, ttlMs }), 'BADARGUMENTS');
        }
        await expectError(
          zk.create('/t', '', { mode: CreateMode.PERSISTENT_SEQUENTIAL_WITH_TTL, ttlMs: 0 }),
          'BADARGUMENTS',
        );
        // A TTL is only for TTL modes.
        await expectError(zk.create('/t', '', { mode: CreateMode.PERSISTENT, ttlMs: 1000 }), 'BADARGUMENTS');
        await expectError(zk.create('/t', '', { ttlMs: 1000 }), 'BADARGUMENTS');
        expect(await zk.exists('/t')).toBeNull();
        expect(await zk.create('/t', '', { mode: ttl, ttlMs: MAX_TTL_MS })).toBe('/t');
      });

      it('refuses a bad version argument with BADARGUMENTS', async () => {
        const zk = await (await kit.deploy()).connect();
        await zk.create('/bv');
        await expectError(zk.setData('/bv', 'x', { version: -2 }), 'BADARGUMENTS');
        await expectError(zk.delete('/bv', { version: 1.5 }), 'BADARGUMENTS');
        expect((await zk.getData('/bv')).stat.version).toBe(0);
      });

      it('refuses to delete the root with BADARGUMENTS', async () => {
        const zk = await (await kit.deploy()).connect();
        await expectError(zk.delete('/'), 'BADARGUMENTS');
        expect(await zk.exists('/')).not.toBeNull();
      });
    });

    describe('errors of an unreachable deployment', () => {
      it('fails a read with CONNECTIONLOSS while the client is cut off', async () => {
        const { deployment, connect } = await kit.deploy();
        const zk = await connect();
        await zk.create('/r', 'x');
        deployment.partition(zk);
        await expectError(zk.getData('/r'), 'CONNECTIONLOSS');
        await expectError(zk.exists('/r'), 'CONNECTIONLOSS');
        deployment.heal(zk);
        expect(text((await zk.getData('/r')).data)).toBe('x');
      });

      it('fails a write that could not be sent within the operation timeout with CONNECTIONLOSS, unapplied', async () => {
        const { deployment, clock, connect } = await kit.deploy({
          operationTimeoutMs: 2000,
          sessionTimeoutMs: 30_000,
        });
        const [zk, other] = await Promise.all([connect(), connect()]);
        deployment.partition(zk);
        const write = expectError(zk.create('/never'), 'CONNECTIONLOSS');
        await kit.advance(clock, 2100);
        await write;
        deployment.heal(zk);
        await zk.sync('/');
        expect(await other.exists('/never')).toBeNull();
      });

      it('fails a write whose reply does not come within the operation timeout with OPERATIONTIMEOUT', async () => {
        const channels = new ChannelDelays(kit);
        const { clock, connect } = await kit.deploy({
          operationTimeoutMs: 2000,
          sessionTimeoutMs: 30_000,
          wrapClientChannel: channels.wrapClientChannel,
        });
        const zk = await connect({ sessionId: 4242 });
        const other = await connect();
        channels.hold(4242);
        const write = expectError(zk.create('/slow', 'x'), 'OPERATIONTIMEOUT');
        // The write goes through: only its reply is late (held on the way to the client).
        await kit.eventually(() => channels.heldCount(4242) > 0, 'the reply to reach the held channel');
        await kit.advance(clock, 2100);
        await write;
        // A timeout says nothing about the outcome: here the write did take effect.
        await other.sync('/');
        expect(await other.exists('/slow')).not.toBeNull();
        channels.release(4242);
      });
    });
  });
}

import { describe, expect, it } from 'vitest';
import { CreateMode, type NodeRecord, type Stat } from '../../index.js';
import { interceptPort, PORT_METHODS } from '../faults/intercept.js';
import type { DeploymentTarget } from '../target.js';
import { guaranteeKit, text } from './helpers.js';

/** Stat fields follow ZooKeeper's rules, and zxids strictly increase, on `target`. */
export function describeStatGuarantees(target: DeploymentTarget): void {
  describe(target.name, { timeout: target.testTimeoutMs }, () => {
    const kit = guaranteeKit(target);

    describe('Stat fields follow ZooKeeper', () => {
      it('sets every Stat field of a new node as ZooKeeper does', async () => {
        const { clock, connect } = await kit.deploy();
        const zk = await connect();
        const created = clock.now();
        await zk.create('/n', 'four');
        const { stat } = await zk.getData('/n');
        expect(stat.czxid).toBeGreaterThan(0);
        expect(stat).toEqual({
          czxid: stat.czxid,
          mzxid: stat.czxid,
          pzxid: stat.czxid,
          ctime: created,
          mtime: created,
          version: 0,
          cversion: 0,
          aversion: 0,
          ephemeralOwner: 0,
          dataLength: 4,
          numChildren: 0,
        } satisfies Stat);
        expect(await zk.exists('/n')).toEqual(stat);
        expect((await zk.getChildren('/n')).stat).toEqual(stat);
      });

      it('sets ephemeralOwner to the owning session and dataLength to the byte length', async () => {
        const zk = await (await kit.deploy()).connect();
        await zk.create('/e', 'héllo', { mode: CreateMode.EPHEMERAL });
        const stat = (await zk.exists('/e'))!;
        expect(stat.ephemeralOwner).toBe(zk.sessionNumber);
        expect(String(stat.ephemeralOwner)).toBe(zk.sessionId);
        expect(stat.dataLength).toBe(6); // 'é' is two bytes in UTF-8
      });

      it('setData bumps version, mzxid and mtime and keeps czxid, ctime, pzxid and cversion', async () => {
        const { clock, connect } = await kit.deploy();
        const zk = await connect();
        await zk.create('/n', 'a');
        const before = (await zk.exists('/n'))!;
        await clock.advance(1234);
        const returned = await zk.setData('/n', 'longer');
        const after = (await zk.getData('/n')).stat;
        expect(returned).toEqual(after);
        expect(after).toEqual({
          ...before,
          mzxid: after.mzxid,
          mtime: before.mtime + 1234,
          version: 1,
          dataLength: 6,
        });
        expect(after.mzxid).toBeGreaterThan(before.mzxid);
        expect(after.pzxid).toBe(before.czxid);
        expect((await zk.setData('/n', '')).version).toBe(2);
        expect((await zk.exists('/n'))!.dataLength).toBe(0);
      });

      it("a child's create and delete change the parent's cversion, pzxid and numChildren, not its mzxid or version", async () => {
        const { clock, connect } = await kit.deploy();
        const zk = await connect();
        await zk.create('/p', 'data');
        const p0 = (await zk.exists('/p'))!;
        await clock.advance(500);

        await zk.create('/p/c', 'x');
        const child = (await zk.exists('/p/c'))!;
        const p1 = (await zk.exists('/p'))!;
        expect(p1).toEqual({ ...p0, cversion: 1, pzxid: child.czxid, numChildren: 1 });

        await zk.create('/p/d');
        const d = (await zk.exists('/p/d'))!;
        const p2 = (await zk.exists('/p'))!;
        expect(p2).toEqual({ ...p0, cversion: 2, pzxid: d.czxid, numChildren: 2 });

        // A child's data change is not a change of the parent.
        await zk.setData('/p/c', 'y');
        expect(await zk.exists('/p')).toEqual(p2);

        await zk.delete('/p/c');
        const p3 = (await zk.exists('/p'))!;
        expect(p3).toEqual({ ...p0, cversion: 3, pzxid: p3.pzxid, numChildren: 1 });
        // The delete got a zxid of its own, after the child's last change.
        expect(p3.pzxid).toBeGreaterThan((await zk.exists('/p/d'))!.czxid);
        await zk.create('/later');
        expect((await zk.exists('/later'))!.czxid).toBeGreaterThan(p3.pzxid);
        expect(p3.mzxid).toBe(p0.mzxid);
        expect(p3.version).toBe(0);
        expect(p3.mtime).toBe(p0.mtime);
      });

      it("the parent's data change moves its mzxid but not its pzxid or cversion", async () => {
        const zk = await (await kit.deploy()).connect();
        await zk.create('/p');
        await zk.create('/p/c');
        const before = (await zk.exists('/p'))!;
        const after = await zk.setData('/p', 'x');
        expect(after.pzxid).toBe(before.pzxid);
        expect(after.cversion).toBe(before.cversion);
        expect(after.numChildren).toBe(1);
        expect(after.mzxid).toBeGreaterThan(before.pzxid);
      });

      it('zxids strictly increase across all writes, from several clients', async () => {
        const { connect } = await kit.deploy();
        const clients = await Promise.all([connect(), connect(), connect()]);
        const [a, b, c] = clients as [(typeof clients)[0], (typeof clients)[0], (typeof clients)[0]];
        await a.create('/z', '0');

        // Sequential writes alternating between clients: each later write has a larger zxid.
        const seen: number[] = [];
        seen.push((await a.setData('/z', '1')).mzxid);
        await b.create('/z/b');
        seen.push((await b.exists('/z/b'))!.czxid);
        seen.push((await c.setData('/z', '2')).mzxid);
        await a.delete('/z/b');
        seen.push((await c.exists('/z'))!.pzxid);
        seen.push((await b.setData('/z', '3')).mzxid);
        for (let i = 1; i < seen.length; i++) expect(seen[i]!).toBeGreaterThan(seen[i - 1]!);

        // Concurrent writes: every write gets its own zxid, and each client's in issue order.
        const perClient = await Promise.all(
          clients.map(async (zk, i) => {
            await zk.create(`/z/${i}`);
            const issued = Array.from({ length: 10 }, (_, k) => zk.setData(`/z/${i}`, String(k)));
            return (await Promise.all(issued)).map((s) => s.mzxid);
          }),
        );
        for (const zxids of perClient)
          for (let i = 1; i < zxids.length; i++) expect(zxids[i]!).toBeGreaterThan(zxids[i - 1]!);
        const all = perClient.flat();
        expect(new Set(all).size).toBe(all.length);
        expect(Math.min(...all)).toBeGreaterThan(seen[seen.length - 1]!);
      });

      it('stores exactly the bytes given, even of a view into a larger buffer, and empty data by default', async () => {
        const zk = await (await kit.deploy()).connect();
        const backing = new Uint8Array([9, 9, 1, 2, 3, 9, 9]);
        await zk.create('/view', backing.subarray(2, 5));
        const view = await zk.getData('/view');
        expect([...view.data]).toEqual([1, 2, 3]);
        expect(view.stat.dataLength).toBe(3);
        await zk.create('/empty');
        const empty = await zk.getData('/empty');
        expect(empty.data).toBeInstanceOf(Uint8Array);
        expect(empty.data.byteLength).toBe(0);
        expect(empty.stat.dataLength).toBe(0);
        // A child's create keeps the parent's data as it was.
        await zk.create('/view/child');
        expect([...(await zk.getData('/view')).data]).toEqual([1, 2, 3]);
      });
    });

    describe("ZooKeeper's null data", () => {
      it('null data reads back as null, empty data as empty, both with dataLength 0', async () => {
        const zk = await (await kit.deploy()).connect();
        const created = await zk.createWithStat('/null', null);
        await zk.create('/empty', '');
        await zk.create('/absent');
        const nul = await zk.getData('/null');
        expect(nul).toEqual({ data: new Uint8Array(0), stat: created.stat, nullData: true });
        expect(nul.stat.dataLength).toBe(0);
        for (const path of ['/empty', '/absent']) {
          const read = await zk.getData(path);
          expect('nullData' in read).toBe(false);
          expect(read.data.byteLength).toBe(0);
          expect(read.stat.dataLength).toBe(0);
        }
        expect((await zk.exists('/null'))!.dataLength).toBe(0);
        // A read that sets a watch goes through the writer and the distributor: the same answer.
        const watched = await zk.getData('/null', { watch: () => undefined });
        expect(watched.nullData).toBe(true);
        expect('nullData' in (await zk.getData('/empty', { watch: () => undefined }))).toBe(false);
        // A child's create rewrites the parent's record without its data: the null stays.
        await zk.create('/null/child', 'c');
        expect((await zk.getData('/null')).nullData).toBe(true);
        expect('nullData' in (await zk.getData('/null/child'))).toBe(false);
      });

      it('setData from null to bytes and back: bytes clear null, null replaces bytes, empty bytes are not null', async () => {
        const zk = await (await kit.deploy()).connect();
        await zk.create('/n', null);
        const toBytes = await zk.setData('/n', 'x');
        const bytes = await zk.getData('/n');
        expect('nullData' in bytes).toBe(false);
        expect(text(bytes.data)).toBe('x');
        expect(bytes.stat).toEqual(toBytes);
        expect(toBytes.dataLength).toBe(1);
        const toNull = await zk.setData('/n', null, { version: 1 });
        expect(toNull).toMatchObject({ version: 2, dataLength: 0 });
        expect(await zk.getData('/n')).toEqual({ data: new Uint8Array(0), stat: toNull, nullData: true });
        await zk.setData('/n', new Uint8Array(0));
        const empty = await zk.getData('/n');
        expect('nullData' in empty).toBe(false);
        expect(empty.stat).toMatchObject({ version: 3, dataLength: 0 });
      });

      it('multi create and setData with null data read back as null, in one transaction with other ops', async () => {
        const zk = await (await kit.deploy()).connect();
        await zk.create('/s', 'bytes');
        await zk.multi([
          { op: 'create', path: '/m', data: null },
          // Rewrites /m's record in the same transaction (a child added): its null data stays.
          { op: 'create', path: '/m/c', data: 'c' },
          { op: 'create', path: '/e' },
          { op: 'setData', path: '/s', data: null },
        ]);
        expect((await zk.getData('/m')).nullData).toBe(true);
        expect(text((await zk.getData('/m/c')).data)).toBe('c');
        expect('nullData' in (await zk.getData('/e'))).toBe(false);
        const s = await zk.getData('/s');
        expect(s).toEqual({ data: new Uint8Array(0), stat: s.stat, nullData: true });
        expect(s.stat.dataLength).toBe(0);
        await zk.multi([{ op: 'setData', path: '/s', data: 'back' }]);
        expect('nullData' in (await zk.getData('/s'))).toBe(false);
      });

      it('a redelivered writer batch and a retried distributor batch keep null data', async () => {
        // Armed for the writes below only: the writer dies after committing and handing its batch
        // on (its retry hands the same batch again); the distributor dies after writing records,
        // before the watermark or the record that closes the batch in its place (its retry writes
        // them all again from the batch).
        const crash = { writer: false, watermark: false };
        const { connect } = await kit.deploy({
          wrapHandler: (name, handler) =>
            name !== 'writer'
              ? handler
              : async (messages, context) => {
                  const result = await handler(messages, context);
                  if (crash.writer && messages.length > 0) {
                    crash.writer = false;
                    throw new Error('injected: the writer dies after its batch is committed');
                  }
                  return result;
                },
          wrap: {
            userStore: (store) =>
              interceptPort(store, PORT_METHODS.userStore, (method, args, call) => {
                const closing = method === 'put' && (args[1] as NodeRecord | undefined)?.complete === true;
                if ((method === 'putWatermark' || closing) && crash.watermark) {
                  crash.watermark = false;
                  return Promise.reject(new Error('injected: the distributor dies before the watermark'));
                }
                return call(args);
              }),
          },
        });
        const zk = await connect();
        await zk.create('/keep', 'bytes');
        crash.writer = true;
        crash.watermark = true;
        await zk.multi([
          { op: 'create', path: '/r', data: null },
          { op: 'setData', path: '/keep', data: null },
        ]);
        expect(crash).toEqual({ writer: false, watermark: false });
        crash.watermark = true;
        await zk.create('/r/child', null);
        expect(crash.watermark).toBe(false);
        for (const path of ['/r', '/keep', '/r/child']) {
          const read = await zk.getData(path);
          expect(read.nullData, path).toBe(true);
          expect(read.stat.dataLength, path).toBe(0);
        }
        expect((await zk.exists('/keep'))!.version).toBe(1);
      });
    });
  });
}
